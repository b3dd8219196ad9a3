"""What every tab that runs long jobs shares: the slot it is built for, its one job, and
the message line that says what went wrong.

A tab starts a job on its slot (or the session), hands the handle to `follow`, and overrides
the `job_*` hooks it needs; the handle's signals reach only the tab that asked, and only for
its current job, so no tab filters anyone else's answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from explorer.qt.widgets.style import error_label_style

ERROR_STYLE = error_label_style()


class MessageLabel(QLabel):
    """A wrapped, selectable line under a tab's controls: an error in red, or a plain note."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_error(self, text: str) -> None:
        self.setText(text)
        self.setStyleSheet(ERROR_STYLE)
        self.show()

    def show_note(self, text: str) -> None:
        self.setText(text)
        self.setStyleSheet("")
        self.show()

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


class JobTab(QWidget):
    """Base of a tab that runs long jobs: follows the one job it started. Hooks to override:
    job_progress(step), job_finished(result), job_failed(message), job_cancelled(). The
    same answers go out as signals, for whoever watches the tab (tests, automation)."""

    jobProgress = Signal(object)
    jobFinished = Signal(object)
    jobFailed = Signal(str)
    jobCancelled = Signal()

    current_job: Any = None

    def follow(self, job: Any) -> Any:
        """Make `job` the tab's current job; answers of any earlier one are ignored."""
        self.current_job = job
        job.progress.connect(lambda step, j=job: self._if_current(j, self.job_progress, self.jobProgress, step))
        job.finished.connect(lambda result, j=job: self._if_current(j, self.job_finished, self.jobFinished, result))
        job.failed.connect(lambda message, _cause, j=job: self._if_current(j, self.job_failed, self.jobFailed, message))
        job.cancelled.connect(lambda j=job: self._if_current(j, self.job_cancelled, self.jobCancelled))
        return job

    def _if_current(self, job: Any, hook: Callable[..., None], signal: Any, *args: Any) -> None:
        if job is self.current_job:
            hook(*args)
            signal.emit(*args)

    @property
    def job_running(self) -> bool:
        return self.current_job is not None and self.current_job.running

    def cancel_job(self) -> None:
        if self.current_job is not None:
            self.current_job.cancel()

    def job_progress(self, step: Any) -> None:
        """A step of the current job (override)."""

    def job_finished(self, result: Any) -> None:
        """The current job's result (override)."""

    def job_failed(self, message: str) -> None:
        """The current job failed (override)."""

    def job_cancelled(self) -> None:
        """The current job stopped on request (override)."""
