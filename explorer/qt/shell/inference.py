"""The one thread that owns the model.

The UI never waits on it: it submits requests and hears back through queued signals.

- Interactive requests (fill-mask while typing, attention for the current sentence) are
  latest-wins per lane: a newer one replaces a pending one on the same lane (a lane is
  whatever the asker names: a view, and the model slot it shows).
- Long jobs are generators, advanced one step at a time; pending interactive requests are
  served between steps, so typing stays live while a job runs. Cancel is a flag checked
  between steps.
- An exception becomes a `failed` signal and the thread goes on.
- A long interactive answer (a joint fill, scoring many sentences) gives way to a newer
  request (explorer.core.preemption): it stops between forward passes, the newer one is served,
  and it runs again afterwards unless its own lane has a newer request by then.

The session (which imports torch) is built on this thread, so the window can show before
torch has even loaded.
"""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Generator, Hashable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QThread, Signal

from explorer.core.errors import InvalidParameterError, ModelLoadError
from explorer.core.preemption import Preempted, preemptible
from explorer.sessions import new_session

log = logging.getLogger(__name__)

Call = Callable[[Any], Any]

# Every thread made, so that shutdown code and tests can make sure none is left running
# (Qt aborts the process when a running QThread is destroyed).
live_threads: weakref.WeakSet[InferenceThread] = weakref.WeakSet()


def default_session_factory() -> Any:
    return new_session()


@dataclass
class _Request:
    request_id: int
    call: Call
    lane: Hashable | None  # interactive requests: the newest on a lane replaces a pending one


@dataclass
class _RunningJob:
    request: _Request
    steps: Generator[Any, None, Any]


# What a failure was about, so the window can offer a way out that fits it.
CAUSE_SETTINGS = "settings"  # a parameter was refused (a device or precision this machine lacks)
CAUSE_MODEL = "model"  # the model could not be found or loaded
CAUSE_OTHER = ""


def describe_error(exc: BaseException) -> str:
    """One line a person can read: our own errors carry their message already."""
    from_engine = type(exc).__module__.startswith("explorer.")
    text = str(exc) or type(exc).__name__
    return text if from_engine else f"{type(exc).__name__}: {text}"


def error_cause(exc: BaseException) -> str:
    if isinstance(exc, InvalidParameterError):
        return CAUSE_SETTINGS
    if isinstance(exc, ModelLoadError):
        return CAUSE_MODEL
    return CAUSE_OTHER


class InferenceThread(QThread):
    """Serves requests against the session on its own thread. Signals carry request ids."""

    ready = Signal(object)  # the session, once built (torch is imported by then)
    resultReady = Signal(int, object)  # request_id, result (a job's return value too)
    progress = Signal(int, object)  # request_id, the step a job yielded
    failed = Signal(int, str, str)  # request_id, message, cause (CAUSE_*)
    cancelled = Signal(int)  # request_id

    def __init__(self, session_factory: Callable[[], Any] = default_session_factory, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("inferenceThread")
        self._factory = session_factory
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._interactive: OrderedDict[Hashable, _Request] = OrderedDict()
        self._jobs: deque[_Request] = deque()
        self._cancelled: set[int] = set()
        self._running: _RunningJob | None = None
        self._quitting = False
        self.session: Any = None
        live_threads.add(self)

    # --- called from the UI thread -------------------------------------------------------
    def submit(self, call: Call, *, lane: Hashable | None = None) -> int:
        """Queue `call(session)`: a long job, or with a lane an interactive request that
        replaces one still pending on that lane. Returns the id its answer will carry."""
        request = _Request(next(self._ids), call, lane)
        with self._cond:
            if self._quitting:
                return request.request_id
            if lane is not None:
                self._interactive.pop(lane, None)  # latest wins
                self._interactive[lane] = request
            else:
                self._jobs.append(request)
            self._cond.notify()
        return request.request_id

    def cancel(self, request_id: int) -> None:
        with self._cond:
            self._cancelled.add(request_id)
            self._cond.notify()

    def job_ids(self) -> list[int]:
        """The ids of the job running and of those queued (not cancelled), in order."""
        with self._cond:
            queued = [self._running.request] if self._running is not None else []
            queued += self._jobs
            return [r.request_id for r in queued if r.request_id not in self._cancelled]

    def stop(self, timeout_ms: int = 2000) -> bool:
        """Stop accepting, cancel everything, and wait (bounded) for the thread to end."""
        with self._cond:
            self._quitting = True
            self._interactive.clear()
            self._jobs.clear()
            self._cond.notify()
        if self.isRunning():
            self.wait(timeout_ms)
        return not self.isRunning()

    # --- the worker thread ---------------------------------------------------------------
    def run(self) -> None:
        try:
            self.session = self._factory()
        except Exception as exc:
            log.exception("could not start the inference session")
            self._fail(0, exc)
            return
        self.ready.emit(self.session)
        while True:
            with self._cond:
                while not (self._quitting or self._interactive or self._jobs or self._running):
                    self._cond.wait()
                if self._quitting:
                    break
            while (request := self._next_interactive()) is not None:
                self._serve_interactive(request)
            self._advance_job()
        if self._running is not None:
            self._running.steps.close()
            self._running = None

    def _fail(self, request_id: int, exc: BaseException) -> None:
        self.failed.emit(request_id, describe_error(exc), error_cause(exc))

    def _take_cancel(self, request_id: int) -> bool:
        with self._cond:
            if request_id in self._cancelled:
                self._cancelled.discard(request_id)
                return True
            return False

    def _next_interactive(self) -> _Request | None:
        """The oldest interactive request waiting (one at a time, so that one in progress can
        see whether a newer one waits), or None."""
        with self._cond:
            if self._quitting or not self._interactive:
                return None
            return self._interactive.popitem(last=False)[1]

    def _newer_waiting(self, request_id: int) -> bool:
        with self._cond:
            return self._quitting or any(r.request_id > request_id for r in self._interactive.values())

    def _serve_interactive(self, request: _Request) -> None:
        if self._take_cancel(request.request_id):
            self.cancelled.emit(request.request_id)
            return
        try:
            with preemptible(lambda: self._newer_waiting(request.request_id)):
                result = request.call(self.session)
        except Preempted:
            with self._cond:  # asked again after the newer ones, unless its lane has a newer request
                if not self._quitting and request.lane is not None and request.lane not in self._interactive:
                    self._interactive[request.lane] = request
            return
        except Exception as exc:
            log.debug("request %s failed", request.request_id, exc_info=True)
            self._fail(request.request_id, exc)
            return
        self.resultReady.emit(request.request_id, result)

    def _advance_job(self) -> None:
        """Start the next job or run one step of the current one."""
        if self._running is None:
            with self._cond:
                if not self._jobs or self._quitting:
                    return
                request = self._jobs.popleft()
            if self._take_cancel(request.request_id):
                self.cancelled.emit(request.request_id)
                return
            try:
                started = request.call(self.session)
            except Exception as exc:
                self._fail(request.request_id, exc)
                return
            if not isinstance(started, Generator):
                self.resultReady.emit(request.request_id, started)
                return
            self._running = _RunningJob(request, started)
            return
        job = self._running
        request = job.request
        if self._take_cancel(request.request_id):
            job.steps.close()
            self._running = None
            self.cancelled.emit(request.request_id)
            return
        try:
            step = next(job.steps)
        except StopIteration as done:
            self._running = None
            self.resultReady.emit(request.request_id, done.value)
            return
        except Exception as exc:
            self._running = None
            log.debug("job %s failed", request.request_id, exc_info=True)
            self._fail(request.request_id, exc)
            return
        self.progress.emit(request.request_id, step)
