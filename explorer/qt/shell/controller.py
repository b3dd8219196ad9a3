"""The UI's one way to the models: job handles, and one ModelSlot per open model.

Every request returns a `Job`, a handle with its own signals (as napari's `create_worker`
does): whoever asked listens to it, and nobody filters other people's answers. Interactive
requests are latest-wins per lane: a newer one on the same lane supersedes the older, whose
handle then stays silent, so a view only ever hears its newest answer.

A `ModelSlot` is one named model (`main`, `compare`): its load, its info, and the requests
made of it. A view built for a slot works the same for either model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtCore import QObject, Signal

from explorer.core.slots import COMPARE, MAIN, SLOTS
from explorer.qt.shell.inference import InferenceThread, default_session_factory

log = logging.getLogger(__name__)


class Job(QObject):
    """One request's answer. Exactly one of finished/failed/cancelled ends a job that is not
    superseded; `ended` follows it, for views that only track being busy."""

    progress = Signal(object)  # the step a long job yielded
    finished = Signal(object)  # its result (a long job's return value)
    failed = Signal(str, str)  # message, cause (inference.CAUSE_*: what a way out must fix)
    cancelled = Signal()
    ended = Signal()

    def __init__(
        self,
        controller: ExplorerController,
        request_id: int,
        *,
        label: str = "",
        slot: str | None = None,
        stopping_loses: str = "",
    ) -> None:
        super().__init__()  # no parent: a handle lives while someone holds it, not for the app's life
        self._controller = controller
        self.request_id = request_id
        self.label = label  # what the status line calls it while it runs ("Generating")
        self.slot = slot  # the model it runs on: loading another into that slot waits for it
        self.stopping_loses = stopping_loses  # said when a model switch would stop it
        self.done = False
        self.superseded = False

    @property
    def running(self) -> bool:
        return not (self.done or self.superseded)

    def cancel(self) -> None:
        if self.running:
            self._controller.thread.cancel(self.request_id)


class ModelSlot(QObject):
    """One named model: loading it, what it is, and the requests made of it."""

    loading = Signal(str)  # the model's name
    progress = Signal(object)  # LoadProgress
    loaded = Signal(object)  # ModelInfo
    failed = Signal(str, str)  # message, cause
    closed = Signal()

    def __init__(self, controller: ExplorerController, name: str) -> None:
        super().__init__(controller)
        self.name = name
        self._controller = controller
        self._info: Any = None
        self._load: Job | None = None

    @property
    def info(self) -> Any:
        """The ModelInfo of the model open in this slot, or None."""
        return self._info

    @property
    def has_model(self) -> bool:
        return self._info is not None

    @property
    def is_loading(self) -> bool:
        return self._load is not None and self._load.running

    def load(self, model: str, device: str = "auto", dtype: str = "auto", *, fallback: bool = False) -> Job:
        """Load in the background; the slot's old model answers until the new one is ready.
        With fallback, the demo model if `model` cannot be had (start-up)."""
        if self._load is not None:
            self._load.cancel()
        slot = self.name
        self.loading.emit(model)
        # No label: a load's own progress messages speak for it, in the slot's signals.
        job = self._controller.run_job(lambda s: s.load(model, device, dtype, fallback=fallback, slot=slot))
        job.progress.connect(self.progress)
        job.finished.connect(self._on_loaded)
        job.failed.connect(self.failed)
        self._load = job
        return job

    def close(self) -> None:
        """Close this slot's model (a compare model the person no longer wants); the jobs
        running on it stop first."""
        if self._load is not None:
            self._load.cancel()
        for job in self._controller.jobs_in_flight():
            if job.slot == self.name:
                job.cancel()
        if self._info is None:
            return
        self._info = None
        slot = self.name
        self._controller.run_job(lambda s: s.unload(slot))
        self.closed.emit()

    def _on_loaded(self, info: Any) -> None:
        self._info = info
        self.loaded.emit(info)

    def request(self, call: Callable[[Any], Any], *, lane: Hashable) -> Job | None:
        """An interactive request: `call(ops)` with the operations on this slot's model.
        Latest wins on (slot, lane). None (and nothing asked) while no model is open."""
        if self._info is None:
            return None
        slot = self.name
        return self._controller.request(lambda s: call(s.on(slot)), lane=(slot, lane), slot=slot)

    def run_job(self, call: Callable[[Any], Any], *, label: str, stopping_loses: str = "") -> Job:
        """A long job on this slot's model: `call(ops)` returns a generator of steps."""
        slot = self.name
        return self._controller.run_job(lambda s: call(s.on(slot)), label=label, slot=slot, stopping_loses=stopping_loses)


class ExplorerController(QObject):
    sessionReady = Signal()
    devicesFound = Signal(list)
    jobStarted = Signal(object)  # a long Job with a label: the status line follows it

    def __init__(self, session_factory: Callable[[], Any] = default_session_factory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = InferenceThread(session_factory)
        self.thread.ready.connect(self._on_ready)
        self.thread.resultReady.connect(self._on_result)
        self.thread.progress.connect(self._on_progress)
        self.thread.failed.connect(self._on_failed)
        self.thread.cancelled.connect(self._on_cancelled)
        self._jobs: dict[int, Job] = {}
        self._lanes: dict[Hashable, Job] = {}
        self.slots = {name: ModelSlot(self, name) for name in SLOTS}
        self._shut_down = False

    @property
    def main(self) -> ModelSlot:
        return self.slots[MAIN]

    @property
    def compare(self) -> ModelSlot:
        return self.slots[COMPARE]

    def start(self) -> None:
        self.thread.start()

    # --- requests ---------------------------------------------------------------------
    def request(self, call: Callable[[Any], Any], *, lane: Hashable, slot: str | None = None) -> Job:
        """`call(session)` as an interactive request: served between job steps; a newer
        request on the same lane supersedes this one (its handle then says nothing)."""
        job = Job(self, self.thread.submit(call, lane=lane), slot=slot)
        previous = self._lanes.get(lane)
        if previous is not None and previous.running:
            previous.superseded = True
            self._forget(previous)
        self._lanes[lane] = job
        self._jobs[job.request_id] = job
        return job

    def run_job(
        self, call: Callable[[Any], Any], *, label: str = "", slot: str | None = None, stopping_loses: str = ""
    ) -> Job:
        """A long job: `call(session)` returns a generator of steps (or a result at once).
        Queued behind the job running now; `Job.cancel()` stops it within one step."""
        job = Job(self, self.thread.submit(call), label=label, slot=slot, stopping_loses=stopping_loses)
        self._jobs[job.request_id] = job
        if label:
            self.jobStarted.emit(job)
        return job

    def jobs_in_flight(self) -> list[Job]:
        """The long jobs running or queued (a model load among them), not cancelled."""
        return [self._jobs[i] for i in self.thread.job_ids() if i in self._jobs]

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        self._shut_down = True
        return self.thread.stop(timeout_ms)

    # --- answers (UI thread) ----------------------------------------------------------
    def _forget(self, job: Job) -> None:
        self._jobs.pop(job.request_id, None)

    def _end(self, request_id: int) -> Job | None:
        job = self._jobs.pop(request_id, None)
        if job is None or job.superseded:
            return None  # stale: a newer request on its lane is on its way
        job.done = True
        return job

    def _on_ready(self, session: Any) -> None:
        self.sessionReady.emit()
        job = self.request(lambda s: s.devices(), lane="devices")
        job.finished.connect(lambda found: self.devicesFound.emit(list(found)))
        job.failed.connect(lambda message, _cause: log.warning("could not list devices: %s", message))

    def _on_result(self, request_id: int, result: Any) -> None:
        job = self._end(request_id)
        if job is not None:
            job.finished.emit(result)
            job.ended.emit()

    def _on_progress(self, request_id: int, step: Any) -> None:
        job = self._jobs.get(request_id)
        if job is not None and not job.superseded:
            job.progress.emit(step)

    def _on_failed(self, request_id: int, message: str, cause: str = "") -> None:
        if request_id == 0:  # the session itself could not start: no model can load
            self.main.failed.emit(message, cause)
            return
        job = self._end(request_id)
        if job is not None:
            job.failed.emit(message, cause)
            job.ended.emit()

    def _on_cancelled(self, request_id: int) -> None:
        job = self._end(request_id)
        if job is not None:
            job.cancelled.emit()
            job.ended.emit()
