"""The one thread that owns the model.

The UI never waits on it: it submits requests and hears back through queued signals.

- Interactive requests (fill-mask while typing, attention for the current sentence) are
  latest-wins per kind: a newer one replaces a pending one of the same kind.
- Long jobs are generators, advanced one step at a time; pending interactive requests are
  served between steps, so typing stays live while a job runs. Cancel is a flag checked
  between steps.
- An exception becomes a `failed` signal and the thread goes on.

The session (which imports torch) is built on this thread, so the window can show before
torch has even loaded.
"""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QThread, Signal

from explorer.core.errors import InvalidParameterError, ModelLoadError
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
    kind: str
    call: Call
    interactive: bool


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
    resultReady = Signal(int, str, object)  # request_id, kind, result (a job's return value too)
    progress = Signal(int, str, object)  # request_id, kind, the step a job yielded
    failed = Signal(int, str, str, str)  # request_id, kind, message, cause (CAUSE_*)
    cancelled = Signal(int, str)  # request_id, kind

    def __init__(self, session_factory: Callable[[], Any] = default_session_factory, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("inferenceThread")
        self._factory = session_factory
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._interactive: OrderedDict[str, _Request] = OrderedDict()
        self._jobs: deque[_Request] = deque()
        self._cancelled: set[int] = set()
        self._running: _RunningJob | None = None
        self._quitting = False
        self.session: Any = None
        live_threads.add(self)

    # --- called from the UI thread -------------------------------------------------------
    def submit(self, kind: str, call: Call, *, interactive: bool = False) -> int:
        """Queue `call(session)`. Returns the request id its answer will carry."""
        request = _Request(next(self._ids), kind, call, interactive)
        with self._cond:
            if self._quitting:
                return request.request_id
            if interactive:
                self._interactive.pop(kind, None)  # latest wins
                self._interactive[kind] = request
            else:
                self._jobs.append(request)
            self._cond.notify()
        return request.request_id

    def cancel(self, request_id: int) -> None:
        with self._cond:
            self._cancelled.add(request_id)
            self._cond.notify()

    def cancel_kind(self, kind: str) -> None:
        with self._cond:
            for req in list(self._jobs) + list(self._interactive.values()):
                if req.kind == kind:
                    self._cancelled.add(req.request_id)
            if self._running and self._running.request.kind == kind:
                self._cancelled.add(self._running.request.request_id)
            self._cond.notify()

    def job_kinds(self) -> list[str]:
        """The kinds of the job running and of those queued (not cancelled), in order."""
        with self._cond:
            queued = [self._running.request] if self._running is not None else []
            queued += self._jobs
            return [r.kind for r in queued if r.request_id not in self._cancelled]

    def busy_with(self, kind: str) -> bool:
        with self._cond:
            running = self._running is not None and self._running.request.kind == kind
            return running or any(r.kind == kind for r in self._jobs)

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
            self._fail(0, "start", exc)
            return
        self.ready.emit(self.session)
        while True:
            with self._cond:
                while not (self._quitting or self._interactive or self._jobs or self._running):
                    self._cond.wait()
                if self._quitting:
                    break
                pending = list(self._interactive.values())
                self._interactive.clear()
            for request in pending:
                self._serve_interactive(request)
            self._advance_job()
        if self._running is not None:
            self._running.steps.close()
            self._running = None

    def _fail(self, request_id: int, kind: str, exc: BaseException) -> None:
        self.failed.emit(request_id, kind, describe_error(exc), error_cause(exc))

    def _take_cancel(self, request_id: int) -> bool:
        with self._cond:
            if request_id in self._cancelled:
                self._cancelled.discard(request_id)
                return True
            return False

    def _serve_interactive(self, request: _Request) -> None:
        if self._take_cancel(request.request_id):
            self.cancelled.emit(request.request_id, request.kind)
            return
        try:
            result = request.call(self.session)
        except Exception as exc:
            log.debug("request %s (%s) failed", request.request_id, request.kind, exc_info=True)
            self._fail(request.request_id, request.kind, exc)
            return
        self.resultReady.emit(request.request_id, request.kind, result)

    def _advance_job(self) -> None:
        """Start the next job or run one step of the current one."""
        if self._running is None:
            with self._cond:
                if not self._jobs or self._quitting:
                    return
                request = self._jobs.popleft()
            if self._take_cancel(request.request_id):
                self.cancelled.emit(request.request_id, request.kind)
                return
            try:
                started = request.call(self.session)
            except Exception as exc:
                self._fail(request.request_id, request.kind, exc)
                return
            if not isinstance(started, Generator):
                self.resultReady.emit(request.request_id, request.kind, started)
                return
            self._running = _RunningJob(request, started)
            return
        job = self._running
        request = job.request
        if self._take_cancel(request.request_id):
            job.steps.close()
            self._running = None
            self.cancelled.emit(request.request_id, request.kind)
            return
        try:
            step = next(job.steps)
        except StopIteration as done:
            self._running = None
            self.resultReady.emit(request.request_id, request.kind, done.value)
            return
        except Exception as exc:
            self._running = None
            log.debug("job %s (%s) failed", request.request_id, request.kind, exc_info=True)
            self._fail(request.request_id, request.kind, exc)
            return
        self.progress.emit(request.request_id, request.kind, step)
