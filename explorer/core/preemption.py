"""Long interactive answers give way to newer ones.

A joint fill of three masks on bert-base takes a second on a laptop CPU; asked after every
pause in typing, it would hold up the next keystroke's guesses for that long. The model thread
serves such a request inside `preemptible(newer_waiting)`, and the engine calls `checkpoint()`
between forward passes: when a newer request waits, the answer in progress stops (Preempted),
the newer one is served, and the stopped one is asked again unless a newer one replaced it.

Standard library only: the engine and the Qt side both use it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

_local = threading.local()


class Preempted(Exception):
    """A newer request is waiting: this answer stops here and is asked again later."""


@contextlib.contextmanager
def preemptible(newer_waiting: Callable[[], bool]) -> Iterator[None]:
    """Within this block, checkpoint() raises Preempted once newer_waiting() is true."""
    before = getattr(_local, "check", None)
    _local.check = newer_waiting
    try:
        yield
    finally:
        _local.check = before


def checkpoint() -> None:
    """Between two pieces of work: give way if a newer request waits (outside preemptible(), never)."""
    check = getattr(_local, "check", None)
    if check is not None and check():
        raise Preempted
