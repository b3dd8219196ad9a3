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
        self.models: dict[str, str] = {}

    def devices(self) -> list[str]:
        return ["cpu"]

    def load(self, name, device="auto", dtype="auto", *, fallback=False, slot="main"):
        yield "step"
        self.models[slot] = name
        return FakeInfo(name)

    def unload(self, slot):
        self.models.pop(slot, None)

    def on(self, slot):
        if slot not in self.models:
            raise LookupError(f"nothing in {slot}")
        return FakeOps(self, self.models[slot])

    def fill_mask(self, text: str, top_k: int) -> FakeResult:
        self.gate.wait(10)
        self.served.append(text)
        return FakeResult(text)


class FakeOps:
    """What `session.on(slot)` gives: the operations on one model."""

    def __init__(self, session: FakeSession, model: str) -> None:
        self.session, self.model = session, model

    def fill_mask(self, text: str, top_k: int) -> FakeResult:
        return self.session.fill_mask(f"{self.model}: {text}", top_k)


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


def test_interactive_requests_are_served_between_job_steps(qtbot, thread):
    order: list[str] = []
    gate = threading.Event()
    job_id = thread.submit(counting_job(order, 3, gate))
    qtbot.waitUntil(lambda: order == ["step 0"], timeout=WAIT_MS)
    with qtbot.waitSignal(thread.resultReady, timeout=WAIT_MS, check_params_cb=lambda i, r: i == job_id):
        thread.submit(lambda s: order.append("interactive"), lane="view")
        gate.set()
    assert order == ["step 0", "step 1", "interactive", "step 2"] or order == ["step 0", "interactive", "step 1", "step 2"]
    assert order.index("interactive") < order.index("step 2")
    assert job_id > 0


def test_a_long_answer_gives_way_to_a_newer_request_then_runs_again(qtbot, thread):
    """A long interactive answer (a joint fill) stops at its next checkpoint when a newer
    request waits; the newer one is answered first, and the long one is asked again."""
    from explorer.core.preemption import checkpoint

    began, release = threading.Event(), threading.Event()
    tries: list[int] = []

    def long_answer(_session):
        tries.append(1)
        began.set()
        while not release.is_set():  # work in pieces, a checkpoint between each
            checkpoint()
            release.wait(0.001)
        return "long"

    def quick(_session):
        release.set()
        return "quick"

    answers: list[object] = []
    thread.resultReady.connect(lambda _i, r: answers.append(r))
    failures: list[str] = []
    thread.failed.connect(lambda _i, m, _c: failures.append(m))
    long_id = thread.submit(long_answer, lane="joint")
    qtbot.waitUntil(began.is_set, timeout=WAIT_MS)
    # Submitted inside the wait: the whole exchange can end before a wait begun after it
    # (the quick answer releases the long one, whose second run returns at once).
    with qtbot.waitSignal(thread.resultReady, timeout=WAIT_MS, check_params_cb=lambda i, r: i == long_id):
        thread.submit(quick, lane="fill-mask")
    assert answers == ["quick", "long"] and len(tries) == 2 and failures == []


def test_a_preempted_answer_is_not_asked_again_when_its_lane_has_a_newer_one(qtbot, thread):
    from explorer.core.preemption import checkpoint

    began, release = threading.Event(), threading.Event()

    def old(_session):
        began.set()
        while not release.is_set():
            checkpoint()
            release.wait(0.001)
        return "old"

    def new(_session):
        release.set()
        return "new"

    answers: list[object] = []
    thread.resultReady.connect(lambda _i, r: answers.append(r))
    thread.submit(old, lane="joint")
    qtbot.waitUntil(began.is_set, timeout=WAIT_MS)
    with qtbot.waitSignal(thread.resultReady, timeout=WAIT_MS, check_params_cb=lambda _i, r: r == "new"):
        thread.submit(new, lane="joint")  # inside the wait: its answer can come at once
    thread.submit(lambda _s: "after", lane="other")
    qtbot.waitUntil(lambda: "after" in answers, timeout=WAIT_MS)
    assert answers == ["new", "after"]  # the old one was replaced, never answered


def test_job_reports_progress_and_its_return_value(qtbot, thread):
    steps: list[int] = []
    thread.progress.connect(lambda i, step: steps.append(step))
    with qtbot.waitSignal(thread.resultReady, timeout=WAIT_MS) as blocker:
        job_id = thread.submit(counting_job([], 4))
    assert blocker.args == [job_id, "done"]
    assert steps == [1, 2, 3, 4]


def test_cancel_stops_a_job_within_one_step(qtbot, thread):
    log: list[str] = []
    progress: list[int] = []
    thread.progress.connect(lambda i, step: progress.append(step))
    job_id = thread.submit(counting_job(log))  # endless
    qtbot.waitUntil(lambda: len(progress) >= 3, timeout=WAIT_MS)
    with qtbot.waitSignal(thread.cancelled, timeout=WAIT_MS) as blocker:
        thread.cancel(job_id)
    assert blocker.args == [job_id]
    after = len(log)
    # The thread is idle again and still answers.
    with qtbot.waitSignal(thread.resultReady, timeout=WAIT_MS):
        thread.submit(lambda s: "alive", lane="view")
    assert len(log) == after
    assert thread.job_ids() == []


def test_an_exception_becomes_failed_and_the_worker_goes_on(qtbot, thread):
    def boom(session):
        raise ValueError("bad input")

    with qtbot.waitSignal(thread.failed, timeout=WAIT_MS) as blocker:
        request_id = thread.submit(boom, lane="view")
    assert blocker.args == [request_id, "ValueError: bad input", ""]

    def failing_job(session):
        yield 1
        raise RuntimeError("step two broke")

    with qtbot.waitSignal(thread.failed, timeout=WAIT_MS) as blocker:
        thread.submit(failing_job)
    assert "step two broke" in blocker.args[1]
    with qtbot.waitSignal(thread.resultReady, timeout=WAIT_MS) as blocker:
        thread.submit(lambda s: s.fill_mask("still here", 1), lane="view")
    assert blocker.args[1].text == "still here"


def test_quit_during_a_job_is_prompt_and_clean(qtbot):
    t = InferenceThread(FakeSession)
    with qtbot.waitSignal(t.ready, timeout=WAIT_MS):
        t.start()
    progress: list[int] = []
    t.progress.connect(lambda i, step: progress.append(step))
    t.submit(counting_job([]))
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=WAIT_MS)
    assert t.stop(2000)
    assert t.isFinished()
    # Requests after quitting are ignored, not queued forever.
    t.submit(lambda s: None, lane="view")
    assert not t.isRunning()


def test_session_that_cannot_start_reports_failed(qtbot):
    def broken_factory():
        raise ImportError("torch is missing")

    t = InferenceThread(broken_factory)
    with qtbot.waitSignal(t.failed, timeout=WAIT_MS) as blocker:
        t.start()
    assert "torch is missing" in blocker.args[1]
    assert t.stop(2000)


@pytest.fixture
def loaded_controller(qtbot):
    """A controller on a fake session with a 'model' in the main slot; yields it and the session."""
    session = FakeSession()
    controller = ExplorerController(lambda: session)
    with qtbot.waitSignal(controller.main.loaded, timeout=WAIT_MS):
        controller.start()
        controller.main.load("fake")
    yield controller, session
    assert controller.shutdown()


def test_ten_quick_requests_only_the_last_is_answered(qtbot, loaded_controller):
    controller, session = loaded_controller
    shown: list[str] = []
    session.gate.clear()  # the first request blocks the worker while nine more arrive
    jobs = [controller.main.request(lambda m, i=i: m.fill_mask(f"text {i}", 5), lane="view") for i in range(10)]
    for job in jobs:
        job.finished.connect(lambda r: shown.append(r.text))
    session.gate.set()
    qtbot.waitUntil(lambda: shown == ["fake: text 9"], timeout=WAIT_MS)
    # The worker itself skipped the replaced requests: at most the first and the last ran.
    assert session.served[-1] == "fake: text 9" and len(session.served) <= 2
    assert all(j.superseded for j in jobs[:-1]) and jobs[-1].done


def test_a_superseded_handle_says_nothing_even_if_its_answer_arrives(qtbot, loaded_controller):
    controller, _session = loaded_controller
    heard: list[object] = []
    old = controller.main.request(lambda m: m.fill_mask("old", 3), lane="view")
    old.finished.connect(heard.append)
    new = controller.main.request(lambda m: m.fill_mask("new", 3), lane="view")
    with qtbot.waitSignal(new.finished, timeout=WAIT_MS):
        pass
    controller._on_result(old.request_id, FakeResult("old"))  # as if the worker had sent it
    assert heard == []


def test_lanes_and_slots_do_not_replace_each_other(qtbot, loaded_controller):
    controller, _session = loaded_controller
    with qtbot.waitSignal(controller.compare.loaded, timeout=WAIT_MS):
        controller.compare.load("other")
    answers: dict[str, str] = {}
    a = controller.main.request(lambda m: m.fill_mask("x", 1), lane="view")
    b = controller.compare.request(lambda m: m.fill_mask("x", 1), lane="view")
    c = controller.main.request(lambda m: m.fill_mask("y", 1), lane="lens")
    for name, job in (("a", a), ("b", b), ("c", c)):
        job.finished.connect(lambda r, name=name: answers.__setitem__(name, r.text))
    qtbot.waitUntil(lambda: len(answers) == 3, timeout=WAIT_MS)
    assert answers == {"a": "fake: x", "b": "other: x", "c": "fake: y"}


def test_a_slot_without_a_model_asks_nothing(qtbot, loaded_controller):
    controller, _session = loaded_controller
    assert controller.compare.request(lambda m: m.fill_mask("x", 1), lane="view") is None


def test_closing_a_slot_cancels_its_jobs_and_empties_it(qtbot, loaded_controller):
    controller, session = loaded_controller
    with qtbot.waitSignal(controller.compare.loaded, timeout=WAIT_MS):
        controller.compare.load("other")
    job = controller.compare.run_job(lambda m: counting_job([])(m), label="Counting")
    with qtbot.waitSignal(job.progress, timeout=WAIT_MS):
        pass
    with qtbot.waitSignal(job.cancelled, timeout=WAIT_MS), qtbot.waitSignal(controller.compare.closed, timeout=WAIT_MS):
        controller.compare.close()
    qtbot.waitUntil(lambda: "compare" not in session.models, timeout=WAIT_MS)
    assert not controller.compare.has_model and controller.main.has_model


def test_a_job_handle_reports_progress_result_and_failure(qtbot, loaded_controller):
    controller, _session = loaded_controller
    steps: list[object] = []
    started: list[object] = []
    controller.jobStarted.connect(started.append)
    job = controller.run_job(counting_job([], 3), label="Counting")
    job.progress.connect(steps.append)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as blocker:
        pass
    assert blocker.args == ["done"] and steps == [1, 2, 3] and started == [job] and job.done
    bad = controller.run_job(lambda s: (_ for _ in ()).throw(ValueError("broken line")))
    with qtbot.waitSignal(bad.failed, timeout=WAIT_MS) as blocker:
        pass
    assert blocker.args == ["ValueError: broken line", ""]


def test_jobs_wait_in_line_and_cancel_reaches_only_its_own(qtbot, loaded_controller):
    controller, _session = loaded_controller
    progress: list[object] = []
    first = controller.run_job(counting_job([]), label="Endless", slot="main", stopping_loses="nothing")
    first.progress.connect(progress.append)
    second = controller.run_job(lambda s: iter_then_return("second"), label="Second")
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=WAIT_MS)
    assert controller.jobs_in_flight() == [first, second]
    with qtbot.waitSignal(first.cancelled, timeout=WAIT_MS), qtbot.waitSignal(second.finished, timeout=WAIT_MS) as blocker:
        first.cancel()
    assert blocker.args == ["second"]
    assert controller.jobs_in_flight() == []


def iter_then_return(value):
    yield 0
    return value
