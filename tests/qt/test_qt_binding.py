"""Guards against Qt binding releases that break this app."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class Source(QObject):
    sig = Signal(object)


def test_signal_emit_keeps_reference_counts():
    # PySide6 6.12.0 returned True from emit() without a reference: each emit took one from
    # Python's True, and after a few thousand results the app aborted in bool_dealloc.
    source = Source()
    received: list[int] = []
    source.sig.connect(received.append)
    before_true, before_false = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(2000):
        source.sig.emit(i)
    assert abs(sys.getrefcount(True) - before_true) < 50
    assert abs(sys.getrefcount(False) - before_false) < 50
    assert len(received) == 2000
