"""The UI's one way to the model: submits to the inference thread, drops stale answers.

Panels never see request ids; they get the newest result of each kind and nothing older.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from explorer.qt.shell.inference import InferenceThread, default_session_factory

log = logging.getLogger(__name__)


class ExplorerController(QObject):
    sessionReady = Signal()
    devicesFound = Signal(list)
    modelLoading = Signal(str)  # the model's name
    modelProgress = Signal(object)  # LoadProgress
    modelLoaded = Signal(object)  # ModelInfo
    modelFailed = Signal(str, str)  # message, cause (inference.CAUSE_*: what a way out must fix)
    fillMaskReady = Signal(object)  # FillMaskResult
    fillMaskFailed = Signal(str)
    attentionReady = Signal(object)  # AttentionResult
    attentionFailed = Signal(str)
    busyChanged = Signal(str, bool)  # kind, busy
    # Long jobs of any other kind (generation, LAMA, ...): tabs listen for their own kind.
    jobProgress = Signal(str, object)  # kind, the step the job yielded
    jobFinished = Signal(str, object)  # kind, the job's return value
    jobFailed = Signal(str, str)  # kind, message
    jobCancelled = Signal(str)  # kind

    def __init__(self, session_factory: Callable[[], Any] = default_session_factory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = InferenceThread(session_factory)
        self.thread.ready.connect(self._on_ready)
        self.thread.resultReady.connect(self._on_result)
        self.thread.progress.connect(self._on_progress)
        self.thread.failed.connect(self._on_failed)
        self.thread.cancelled.connect(self._on_cancelled)
        self._latest: dict[str, int] = {}
        self._model_info: Any = None
        self._pending_fill: tuple[str, int] | None = None
        self._shut_down = False

    def start(self) -> None:
        self.thread.start()

    @property
    def model_info(self) -> Any:
        return self._model_info

    def _submit(self, kind: str, call: Callable[[Any], Any], *, interactive: bool) -> int:
        request_id = self.thread.submit(kind, call, interactive=interactive)
        self._latest[kind] = request_id
        self.busyChanged.emit(kind, True)
        return request_id

    def _is_latest(self, kind: str, request_id: int) -> bool:
        return self._latest.get(kind) == request_id

    # --- requests ---------------------------------------------------------------------
    def load_model(self, name: str, device: str = "auto", dtype: str = "auto", *, fallback: bool = False) -> None:
        """Load in the background; with fallback, the demo model if `name` cannot be had."""
        self.thread.cancel_kind("load")
        self.modelLoading.emit(name)
        self._submit("load", lambda s: s.load(name, device, dtype, fallback=fallback), interactive=False)

    def request_fill_mask(self, text: str, top_k: int) -> None:
        if self._model_info is None:
            self._pending_fill = (text, top_k)  # asked again once a model is there
            return
        self._submit("fill_mask", lambda s: s.fill_mask(text, top_k), interactive=True)

    def request_attention(self, text: str) -> None:
        if self._model_info is not None:  # once a model loads, the view asks again
            self._submit("attention", lambda s: s.attention(text), interactive=True)

    def request(self, kind: str, call: Callable[[Any], Any]) -> int:
        """An interactive request of any other kind: latest wins, served between job steps.

        The answer comes as jobFinished(kind, result) or jobFailed(kind, message). Returns 0
        (and does nothing) while no model is loaded.
        """
        if self._model_info is None:
            return 0
        return self._submit(kind, call, interactive=True)

    def run_job(self, kind: str, call: Callable[[Any], Any]) -> int:
        """A long job on the inference thread: `call(session)` returns a generator of steps.

        Answers come as jobProgress / jobFinished / jobFailed / jobCancelled with this kind.
        A job of the same kind that is still queued or running is cancelled first.
        """
        self.thread.cancel_kind(kind)
        return self._submit(kind, call, interactive=False)

    def jobs_in_flight(self) -> list[str]:
        """Kinds of the long jobs running or queued (a model load among them), not cancelled."""
        return self.thread.job_kinds()

    @property
    def has_model(self) -> bool:
        return self._model_info is not None

    def cancel(self, kind: str) -> None:
        self.thread.cancel_kind(kind)

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        self._shut_down = True
        return self.thread.stop(timeout_ms)

    # --- answers (UI thread) ----------------------------------------------------------
    def _on_ready(self, session: Any) -> None:
        self.sessionReady.emit()
        self._submit("devices", lambda s: s.devices(), interactive=True)

    def _on_result(self, request_id: int, kind: str, result: Any) -> None:
        if not self._is_latest(kind, request_id):
            return  # stale: a newer request of this kind is on its way
        self.busyChanged.emit(kind, False)
        if kind == "devices":
            self.devicesFound.emit(list(result))
        elif kind == "load":
            self._model_info = result
            self.modelLoaded.emit(result)
            if self._pending_fill is not None:
                text, k = self._pending_fill
                self._pending_fill = None
                self.request_fill_mask(text, k)
        elif kind == "fill_mask":
            self.fillMaskReady.emit(result)
        elif kind == "attention":
            self.attentionReady.emit(result)
        else:
            self.jobFinished.emit(kind, result)

    def _on_progress(self, request_id: int, kind: str, step: Any) -> None:
        if not self._is_latest(kind, request_id):
            return
        if kind == "load":
            self.modelProgress.emit(step)
        else:
            self.jobProgress.emit(kind, step)

    def _on_failed(self, request_id: int, kind: str, message: str, cause: str = "") -> None:
        if request_id and not self._is_latest(kind, request_id):
            return
        self.busyChanged.emit(kind, False)
        if kind in ("load", "start"):
            self.modelFailed.emit(message, cause)
        elif kind == "fill_mask":
            self.fillMaskFailed.emit(message)
        elif kind == "attention":
            self.attentionFailed.emit(message)
        elif kind == "devices":
            log.warning("could not list devices: %s", message)
        else:
            self.jobFailed.emit(kind, message)

    def _on_cancelled(self, request_id: int, kind: str) -> None:
        if self._is_latest(kind, request_id):
            self.busyChanged.emit(kind, False)
            self.jobCancelled.emit(kind)
