"""The progress row stays usable whatever a job reports."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from explorer.qt.widgets.job_bar import LABEL_MAX, JobBar


def test_a_long_finish_message_is_shortened_not_squeezing_the_bar(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    bar = JobBar(host)
    bar.resize(900, 30)
    host.show()
    qtbot.waitExposed(host)
    message = "done: 40 steps, saved to " + "/home/teacher/very/deep/folder" * 8 + "/model"
    bar.finish(message)
    bar.layout().activate()
    assert bar.label.text() == message  # nothing is lost: the whole text is there and in the tooltip
    assert bar.label.toolTip() == message
    assert bar.label.width() <= LABEL_MAX
    assert bar.bar.width() >= 900 - LABEL_MAX - bar.stop.width() - 30
    bar.finish("done")
    assert bar.label.toolTip() == ""


def test_the_tooltip_follows_whether_the_line_is_cut_at_its_width_now(qtbot):
    bar = JobBar()
    qtbot.addWidget(bar)
    bar.resize(900, 30)
    bar.show()
    qtbot.waitExposed(bar)
    message = "done: 40 steps, saved to /home/teacher/model"
    bar.finish(message)
    bar.layout().activate()
    assert bar.label.fontMetrics().horizontalAdvance(message) < bar.label.width()
    assert bar.label.toolTip() == ""
    bar.label.resize(bar.label.fontMetrics().horizontalAdvance(message) // 2, bar.label.height())
    assert bar.label.toolTip() == message
