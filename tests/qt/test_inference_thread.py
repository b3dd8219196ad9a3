"""The model-owning thread, driven with a fake session (no torch needed)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from explorer.qt.shell.controller import ExplorerController
from explorer.qt.shell.inference import InferenceThread

WAIT_MS = 5000


@dataclass(frozen=True)
class FakeInfo:
    name: str
    mask_token: str = "[MASK]"


@dataclass(frozen=True)
class FakeResult:
    text: str


class FakeSession:
    def __init__(self) -> None:
        self.served: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def devices(self) -> list[str]:
        return ["cpu"]

    def load(self, name, device="auto", dtype="auto", *, fallback=False):
        yield "step"
        return FakeInfo(name)

    def fill_mask(self, text: str, top_k: int) -> FakeResult:
        self.gate.wait(10)
        self.served.append(text)
        return FakeResult(text)


@pytest.fixture
def thread(qtbot):
    session = FakeSession()
    t = InferenceThread(lambda: session)
    t.fake = session
    with qtbot.waitSignal(t.ready, timeout=WAIT_MS):
        t.start()
    yield t
    assert t.stop(2000), "the thread must stop within 2 s"
    assert t.isFinished()


def counting_job(log: list, n: int | None = None, gate: threading.Event | None = None):
    def job(session):
        i = 0
        while n is None or i < n:
            if gate is not None and i == 1:
                gate.wait(10)
            log.append(f"step {i}")
            i += 1
            yield i
        return "done"

    return job


@pytest.fixture
def loaded_controller(qtbot):
    """A controller on a fake session with a 'model' loaded; yields it, what it showed, the session."""
    session = FakeSession()
    controller = ExplorerController(lambda: session)
    shown: list[FakeResult] = []
    controller.fillMaskReady.connect(shown.append)
    with qtbot.waitSignal(controller.modelLoaded, timeout=WAIT_MS):
        controller.start()
        controller.load_model("fake")
    yield controller, shown, session
    assert controller.shutdown()


def test_ten_quick_requests_only_the_last_reaches_the_view(qtbot, loaded_controller):
    controller, shown, session = loaded_controller
    session.gate.clear()  # the first request blocks the worker while nine more arrive
    for i in range(10):
        controller.request_fill_mask(f"text {i}", 5)
    session.gate.set()
    qtbot.waitUntil(lambda: bool(shown) and shown[-1].text == "text 9", timeout=WAIT_MS)
    assert [r.text for r in shown] == ["text 9"]
    # The worker itself skipped the replaced requests: at most the first and the last ran.
    assert session.served[-1] == "text 9" and len(session.served) <= 2


def test_interactive_requests_are_served_between_job_steps(qtbot, thread):
    order: list[str] = []
    gate = threading.Event()
    job_id = thread.submit("job", counting_job(order, 3, gate))
    qtbot.waitUntil(lambda: order == ["step 0"], timeout=WAIT_MS)
    with qtbot.waitSignal(thread.resultReady, timeout=WAIT_MS, check_params_cb=lambda i, k, r: k == "job"):
        thread.submit("fill_mask", lambda s: order.append("interactive"), interactive=True)
        gate.set()
    assert order == ["step 0", "step 1", "interactive", "step 2"] or order == ["step 0", "interactive", "step 1", "step 2"]
    assert order.index("interactive") < order.index("step 2")
    assert job_id > 0


def test_job_reports_progress_and_its_return_value(qtbot, thread):
    steps: list[int] = []
    thread.progress.connect(lambda i, k, step: steps.append(step))
    with qtbot.waitSignal(thread.resultReady, timeout=WAIT_MS) as blocker:
        thread.submit("job", counting_job([], 4))
    assert blocker.args[1:] == ["job", "done"]
    assert steps == [1, 2, 3, 4]


def test_cancel_stops_a_job_within_one_step(qtbot, thread):
    log: list[str] = []
    progress: list[int] = []
    thread.progress.connect(lambda i, k, step: progress.append(step))
    job_id = thread.submit("job", counting_job(log))  # endless
    qtbot.waitUntil(lambda: len(progress) >= 3, timeout=WAIT_MS)
    with qtbot.waitSignal(thread.cancelled, timeout=WAIT_MS) as blocker:
        thread.cancel(job_id)
    assert blocker.args == [job_id, "job"]
    after = len(log)
    # The thread is idle again and still answers.
    with qtbot.waitSignal(thread.resultReady, timeout=WAIT_MS):
        thread.submit("fill_mask", lambda s: "alive", interactive=True)
    assert len(log) == after
    assert not thread.busy_with("job")


def test_an_exception_becomes_failed_and_the_worker_goes_on(qtbot, thread):
    def boom(session):
        raise ValueError("bad input")

    with qtbot.waitSignal(thread.failed, timeout=WAIT_MS) as blocker:
        request_id = thread.submit("fill_mask", boom, interactive=True)
    assert blocker.args == [request_id, "fill_mask", "ValueError: bad input", ""]

    def failing_job(session):
        yield 1
        raise RuntimeError("step two broke")

    with qtbot.waitSignal(thread.failed, timeout=WAIT_MS) as blocker:
        thread.submit("job", failing_job)
    assert "step two broke" in blocker.args[2]
    with qtbot.waitSignal(thread.resultReady, timeout=WAIT_MS) as blocker:
        thread.submit("fill_mask", lambda s: s.fill_mask("still here", 1), interactive=True)
    assert blocker.args[2].text == "still here"


def test_quit_during_a_job_is_prompt_and_clean(qtbot):
    t = InferenceThread(FakeSession)
    with qtbot.waitSignal(t.ready, timeout=WAIT_MS):
        t.start()
    progress: list[int] = []
    t.progress.connect(lambda i, k, step: progress.append(step))
    t.submit("job", counting_job([]))
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=WAIT_MS)
    assert t.stop(2000)
    assert t.isFinished()
    # Requests after quitting are ignored, not queued forever.
    t.submit("fill_mask", lambda s: None, interactive=True)
    assert not t.isRunning()


def test_session_that_cannot_start_reports_failed(qtbot):
    def broken_factory():
        raise ImportError("torch is missing")

    t = InferenceThread(broken_factory)
    with qtbot.waitSignal(t.failed, timeout=WAIT_MS) as blocker:
        t.start()
    assert "torch is missing" in blocker.args[2]
    assert t.stop(2000)


def test_stale_results_are_dropped_by_the_controller(qtbot, loaded_controller):
    controller, shown, _session = loaded_controller
    # A result that arrives for an older id is ignored even if the worker did send it.
    controller.request_fill_mask("new", 3)
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
    controller._on_result(1, "fill_mask", FakeResult("old"))
    assert [r.text for r in shown] == ["new"]


def test_controller_reports_any_job_kind_with_its_kind(qtbot, loaded_controller):
    controller, _shown, _session = loaded_controller
    steps: list[tuple[str, object]] = []
    controller.jobProgress.connect(lambda kind, step: steps.append((kind, step)))
    with qtbot.waitSignal(controller.jobFinished, timeout=WAIT_MS) as blocker:
        controller.run_job("generate", counting_job([], 3))
    assert blocker.args == ["generate", "done"]
    assert steps == [("generate", 1), ("generate", 2), ("generate", 3)]
    with qtbot.waitSignal(controller.jobFailed, timeout=WAIT_MS) as blocker:
        controller.run_job("lama", lambda s: (_ for _ in ()).throw(ValueError("broken line")))
    assert blocker.args == ["lama", "ValueError: broken line"]


def test_a_new_job_of_the_same_kind_replaces_the_running_one(qtbot, loaded_controller):
    controller, _shown, _session = loaded_controller
    progress: list[object] = []
    controller.jobProgress.connect(lambda kind, step: progress.append(step))
    controller.run_job("generate", counting_job([]))  # endless
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=WAIT_MS)
    with qtbot.waitSignal(controller.jobFinished, timeout=WAIT_MS) as blocker:
        controller.run_job("generate", lambda s: iter_then_return("second"))
    assert blocker.args == ["generate", "second"]


def iter_then_return(value):
    yield 0
    return value


def test_interactive_requests_of_any_kind_answer_with_their_kind(qtbot, loaded_controller):
    controller, _shown, _session = loaded_controller
    with qtbot.waitSignal(controller.jobFinished, timeout=WAIT_MS) as blocker:
        controller.request("lens", lambda s: "lens result")
    assert blocker.args == ["lens", "lens result"]
