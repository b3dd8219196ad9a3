"""All of BERT Explorer's benchmarks in one command: `python benchmarks/run.py`.

Prints a Markdown table and writes the numbers to benchmarks/results/latest.json.
These are measurements, not tests: nothing here fails on a slow number.

1. Fill-mask latency, ours (`explorer.engine.fill_mask.fill_mask`) against the transformers
   `pipeline("fill-mask")` running the SAME model object: 16 tokens / 1 mask and
   64 tokens / 3 masks, top_k=10, runs interleaved (ours, pipeline, ours, ...).
2. UI-thread stalls in the real window (offscreen), measured with a 5 ms heartbeat QTimer:
   while the inference thread starts (imports torch), while it loads the model, and while
   fill-mask requests arrive like typing (one every 30-60 ms). The GUI part runs in a child
   process so that torch is imported on the model thread, as in the app.
3. The attention tab (`explorer.qt.tabs.attention.view.AttentionView`, offscreen, sized like the tab
   in the window, in a child process): the first draw of a new sentence's result and switching
   layers, at 32, 128 and 512 tokens (real results of the model, several sentences each); and
   the compute behind it, `explorer.engine.attention.attention` at 32 tokens (what the model
   thread does for the tab).

The model is bert-base-shaped with random weights (same compute as bert-base-cased), built
once by explorer.engine.synthetic.make_model and cached in benchmarks/results/model-bert-base.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
CACHED_MODEL = RESULTS / "model-bert-base"
GUI_MARKER = "GUI_RESULT "
FEATURE_BENCHMARKS = ("joint.py", "generation.py", "lama.py", "finetune.py", "distributed.py", "corpus_memory.py", "demo_quality.py", "precision.py")
ATTENTION_MARKER = "ATTENTION_RESULT "

# Word tokens from explorer.engine.synthetic.WORDS only (no ## pieces, no [UNK]).
# 16 tokens with [CLS] and [SEP], one mask.
SENTENCE_16 = "The cat sat on the [MASK] in the big old house with a dog"
# 64 tokens with [CLS] and [SEP], three masks.
SENTENCE_64 = (
    "The cat sat on the [MASK] in the big old house with a dog . "
    "She was born in Paris , France , and her grandmother wrote a [MASK] about the river . "
    "He went to school in London , England , and they came to see the [MASK] after work one night . "
    "It was a very good year for me"
)
# The GUI benchmark "types" this, one character per request, after the prefix.
TYPING_PREFIX = "The cat sat on the [MASK]"
TYPING_REST = (
    " in the big old house with a dog near the river, and she said that the small child "
    "went to school in London with her grandmother every week."
)

# LoadProgress stages (explorer.engine.models.load_steps): each is yielded BEFORE its work.
STAGE_NAMES = {
    "resolve": "resolve",
    "tokenizer": "tokenizer",
    "weights": "weights (from_pretrained)",
    "device": "to(device), MaskedLM",
    "ready": "finish",
}

# Attention: 30 words of explorer.engine.synthetic.WORDS, 32 tokens with [CLS] and [SEP].
SENTENCE_32 = (
    "The cat sat on the mat in the big old house with a dog . "
    "She was born in Paris , and her grandmother wrote a book about music ."
)
ATTENTION_TOKENS = (32, 128, 512)  # bert-base reads at most 512
ATTENTION_VIEW_SIZE = (1250, 650)  # about the attention tab in the window (1100-1300 wide)

TOP_K = 10
UI_GOAL_MS = 50.0
HEARTBEAT_MS = 5
FIRST_DRAW_GOAL_MS = 500.0
LAYER_SWITCH_GOAL_MS = 100.0


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def summary_ms(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "median_ms": statistics.median(ms),
        "p90_ms": percentile(ms, 90),
        "min_ms": min(ms),
        "max_ms": max(ms),
        "samples_ms": [round(x, 3) for x in ms],
    }


# --- the model ---------------------------------------------------------------------------
def model_folder(args: argparse.Namespace, tmp: Path) -> tuple[Path, str]:
    from explorer.engine.synthetic import make_model

    if args.model:
        return Path(args.model), "given"
    if args.no_cache:
        return make_model(tmp / "model-bert-base", arch="bert", shape="base"), "built (temp)"
    if (CACHED_MODEL / "config.json").is_file() and any(CACHED_MODEL.glob("*.safetensors")):
        return CACHED_MODEL, "cached"
    RESULTS.mkdir(parents=True, exist_ok=True)
    building = RESULTS / "model-bert-base.building"
    shutil.rmtree(building, ignore_errors=True)
    make_model(building, arch="bert", shape="base")
    shutil.rmtree(CACHED_MODEL, ignore_errors=True)
    building.rename(CACHED_MODEL)
    return CACHED_MODEL, "built"


# --- 1 and 2: fill-mask latency ----------------------------------------------------------
def bench_fill_mask(lm: Any, pipe: Any, text: str, runs: int, warmup: int) -> dict[str, Any]:
    from explorer.engine.fill_mask import fill_mask

    n_tokens = len(lm.tokenizer(text)["input_ids"])
    n_masks = text.count(lm.mask_token)

    def ours() -> Any:
        return fill_mask(lm, text, TOP_K)

    def reference() -> Any:
        return pipe(text)

    for _ in range(warmup):
        ours()
        reference()
    t_ours: list[float] = []
    t_ref: list[float] = []
    clock = time.perf_counter
    for _ in range(runs):
        t0 = clock()
        ours()
        t1 = clock()
        reference()
        t2 = clock()
        t_ours.append(t1 - t0)
        t_ref.append(t2 - t1)

    # Same answers? (a sanity check on what is being compared, not a test)
    mine = [[c.token_id for c in m.candidates] for m in ours().masks]
    theirs = reference()
    if n_masks == 1:
        theirs = [theirs]
    theirs_ids = [[int(c["token"]) for c in mask] for mask in theirs]
    s_ours, s_ref = summary_ms(t_ours), summary_ms(t_ref)
    return {
        "text": text,
        "tokens": n_tokens,
        "masks": n_masks,
        "top_k": TOP_K,
        "ours": s_ours,
        "pipeline": s_ref,
        "ratio_median": s_ref["median_ms"] / s_ours["median_ms"],
        "ratio_p90": s_ref["p90_ms"] / s_ours["p90_ms"],
        "same_top_k_as_pipeline": mine == theirs_ids,
    }


def run_engine(model_dir: Path, runs: int, warmup: int) -> dict[str, Any]:
    import torch
    from transformers import pipeline

    from explorer.engine import models

    t0 = time.perf_counter()
    lm = models.load(str(model_dir))
    load_s = time.perf_counter() - t0
    pipe = pipeline("fill-mask", model=lm.model, tokenizer=lm.tokenizer, top_k=TOP_K)
    out: dict[str, Any] = {"load_s": load_s, "torch_threads": torch.get_num_threads()}
    for key, text, want_tokens, want_masks in (
        ("fill_mask_16", SENTENCE_16, 16, 1),
        ("fill_mask_64", SENTENCE_64, 64, 3),
    ):
        got = len(lm.tokenizer(text)["input_ids"])
        if got != want_tokens or text.count(lm.mask_token) != want_masks:
            raise SystemExit(f"benchmark sentence for {key} has {got} tokens, expected {want_tokens}: fix it")
        print(f"  {key}: {warmup} warm-up + {runs} interleaved runs each ...", file=sys.stderr, flush=True)
        out[key] = bench_fill_mask(lm, pipe, text, runs, warmup)
    return out


# --- 3: UI-thread stalls (child process) -------------------------------------------------
def gui_child(model_dir: str, requests: int, seed: int, timeout_s: float, compare: bool = False) -> int:
    """Runs in its own process; prints one line GUI_RESULT {json}. With compare, a second
    copy of the model is opened in the compare slot first, so both answer every keystroke."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    t_import = time.perf_counter()
    from PySide6.QtCore import QObject, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from explorer.qt.shell.app import create_window

    import_s = time.perf_counter() - t_import
    torch_on_ui_thread = "torch" in sys.modules  # should be False: the model thread imports it

    app = QApplication.instance() or QApplication(sys.argv[:1])
    rng = random.Random(seed)
    rest = TYPING_REST
    while len(rest) < requests:
        rest += TYPING_REST
    texts = [TYPING_PREFIX + rest[: i + 1] for i in range(requests)]
    delays = [rng.randint(30, 60) for _ in range(requests)]

    class Bench(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.phase = "startup"
            self.ticks: list[tuple[float, str]] = []
            self.marks: dict[str, float] = {}
            self.results_in_typing = 0
            self.computed_in_typing = 0
            self.stages: list[tuple[float, str]] = []
            self.sent = 0
            self.error: str | None = None
            self.window: Any = None
            self.close_ms = float("nan")
            self.heartbeat = QTimer(self)
            self.heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
            self.heartbeat.setInterval(HEARTBEAT_MS)
            self.heartbeat.timeout.connect(self.beat)

        def stage(self, name: str) -> None:  # model thread
            self.stages.append((time.perf_counter(), name))

        def count_computed(self, result: object) -> None:  # model thread
            if type(result).__name__ == "FillMaskResult" and self.phase == "typing":
                self.computed_in_typing += 1

        def beat(self) -> None:
            self.ticks.append((time.perf_counter(), self.phase))

        def set_phase(self, phase: str) -> None:
            self.marks[phase] = time.perf_counter()
            self.phase = phase

        def start(self) -> None:
            t0 = time.perf_counter()
            self.window = create_window(model=model_dir)
            self.window.show()
            self.marks["create_window_ms"] = (time.perf_counter() - t0) * 1000
            c = self.window.controller
            # Worker-side timestamps (DirectConnection: these run on the model thread), so a
            # stall can be blamed on the loading stage that was running when it began.
            direct = Qt.ConnectionType.DirectConnection
            c.thread.ready.connect(lambda _s: self.stage("import transformers, resolve"), direct)
            c.thread.progress.connect(lambda _id, step: self.stage(STAGE_NAMES.get(step.stage, step.stage)) if hasattr(step, "stage") else None, direct)
            c.thread.resultReady.connect(lambda _id, result: self.count_computed(result), direct)
            c.sessionReady.connect(lambda: self.set_phase("load"))
            c.main.loaded.connect(self.on_loaded)
            c.main.failed.connect(lambda msg, _cause: self.finish(f"model failed: {msg}"))
            self.window.predictions.answered.connect(self.on_result)
            if compare:
                self.window.predictions.other.answered.connect(self.on_result)
            self.marks["t0"] = time.perf_counter()
            self.stages.insert(0, (self.marks["t0"], "session (import torch)"))
            self.set_phase("startup")
            self.beat()
            self.heartbeat.start()

        def on_loaded(self, info: Any) -> None:
            if compare and not self.window.controller.compare.has_model:
                self.window.controller.compare.loaded.connect(self.on_loaded)
                self.window.compare_with(model_dir)  # both models then answer each request
                return
            # The window now asks for the start text's predictions itself (first_result).
            self.set_phase("first_result")
            if compare:
                self.window.editor.settle()

        def both_answered(self, text: str) -> bool:
            other = self.window.predictions.other
            return not compare or (other.result is not None and other.result.text == text
                                   and self.window.fill_mask.result is not None
                                   and self.window.fill_mask.result.text == text)

        def on_result(self, result: Any) -> None:
            if self.phase == "first_result":
                if not self.both_answered(result.text):
                    return
                self.set_phase("idle")
                QTimer.singleShot(500, self.type_next)
            elif self.phase == "typing":
                self.results_in_typing += 1
                if self.sent == len(texts) and result.text == texts[-1] and self.both_answered(result.text):
                    self.marks["last_result"] = time.perf_counter()
                    self.set_phase("done")
                    QTimer.singleShot(100, lambda: self.finish(None))

        def type_next(self) -> None:
            if self.phase == "idle":
                self.set_phase("typing")
            if self.phase != "typing" or self.sent >= len(texts):
                return
            text = texts[self.sent]
            self.sent += 1
            if self.sent == len(texts):
                self.marks["last_request"] = time.perf_counter()
            self.window.predictions.ask(text, TOP_K)
            if self.sent < len(texts):
                QTimer.singleShot(delays[self.sent], self.type_next)

        def finish(self, error: str | None) -> None:
            if self.phase == "closed":
                return
            self.error = self.error or error
            self.heartbeat.stop()
            self.set_phase("closed")
            if self.window is not None:
                t0 = time.perf_counter()
                self.window.close()
                self.close_ms = (time.perf_counter() - t0) * 1000
            app.quit()

    bench = Bench()
    QTimer.singleShot(0, bench.start)
    QTimer.singleShot(int(timeout_s * 1000), lambda: bench.finish(f"timed out after {timeout_s:.0f} s in phase {bench.phase}"))
    app.exec()

    # Each gap counts for the phase it started in and, if different, the one it ended in.
    gaps: dict[str, list[float]] = {}
    for (t_prev, p_prev), (t_cur, p_cur) in zip(bench.ticks, bench.ticks[1:]):
        g = (t_cur - t_prev) * 1000
        gaps.setdefault(p_prev, []).append(g)
        if p_cur != p_prev:
            gaps.setdefault(p_cur, []).append(g)

    # Startup and load stalls by the loading stage the model thread was in when they began.
    stages = sorted(bench.stages)
    by_stage: dict[str, list[float]] = {}
    for (t_prev, p_prev), (t_cur, _p) in zip(bench.ticks, bench.ticks[1:]):
        if p_prev not in ("startup", "load"):
            continue
        current = stages[0][1] if stages else "?"
        for t_stage, name in stages:
            if t_stage <= t_prev:
                current = name
        by_stage.setdefault(current, []).append((t_cur - t_prev) * 1000)
    t_first = stages[0][0] if stages else 0.0
    stage_report = {
        name: {
            "started_at_ms": (t - t_first) * 1000,
            "max_gap_ms": max(by_stage[name]) if by_stage.get(name) else None,
            "gaps_over_goal": sum(1 for x in by_stage.get(name, []) if x > UI_GOAL_MS),
        }
        for t, name in stages
    }

    def stats(phase: str) -> dict[str, Any]:
        g = gaps.get(phase, [])
        if not g:
            return {"n": 0}
        return {
            "n": len(g),
            "max_ms": max(g),
            "p99_ms": percentile(g, 99),
            "p50_ms": percentile(g, 50),
            "over_goal": sum(1 for x in g if x > UI_GOAL_MS),
            "worst_5_ms": sorted((round(x, 1) for x in g), reverse=True)[:5],
        }

    m = bench.marks

    def span(a: str, b: str) -> float:
        return (m[b] - m[a]) * 1000 if a in m and b in m else float("nan")

    import torch

    out = {
        "error": bench.error,
        "heartbeat_ms": HEARTBEAT_MS,
        "requests": requests,
        "request_interval_ms": [30, 60],
        "qt_import_s": import_s,
        "torch_imported_on_ui_thread": torch_on_ui_thread,
        "torch_threads_on_model_thread": torch.get_num_threads(),
        "create_window_ms": m.get("create_window_ms", float("nan")),
        "startup_ms": span("t0", "load"),  # session built on the model thread (imports torch)
        "load_ms": span("load", "first_result"),  # sessionReady -> modelLoaded
        "first_result_ms": span("first_result", "idle"),
        "typing_ms": span("typing", "last_result"),
        "last_request_to_result_ms": span("last_request", "last_result"),
        "results_computed_while_typing": bench.computed_in_typing,
        "results_shown_while_typing": bench.results_in_typing,
        "load_stages": stage_report,
        "close_window_ms": bench.close_ms,
        "gaps": {p: stats(p) for p in ("startup", "load", "first_result", "idle", "typing")},
    }
    print(GUI_MARKER + json.dumps(out), flush=True)
    return 0 if bench.error is None else 1


def run_child(what: str, marker: str, args: list[str], timeout_s: float) -> dict[str, Any]:
    """Run this script with `args` in a new process; its result is the line starting with marker."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"error": f"{what} benchmark process did not end within {timeout_s:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker):])
    sys.stderr.write(proc.stdout + proc.stderr)
    return {"error": f"{what} benchmark exited with code {proc.returncode} and no result"}


def run_gui(model_dir: Path, requests: int, seed: int, timeout_s: float, compare: bool = False) -> dict[str, Any]:
    args = ["--gui-child", str(model_dir), "--requests", str(requests), "--seed", str(seed), "--timeout", str(timeout_s)]
    args += ["--gui-compare"] if compare else []
    return run_child("GUI", GUI_MARKER, args, timeout_s + 60)


# --- 4: the attention tab (child process) ------------------------------------------------
def attention_sentences(count: int, tokens: int, seed: int) -> list[str]:
    """`count` different word sequences from synthetic.WORDS, `tokens` tokens with [CLS]/[SEP]."""
    from explorer.engine.synthetic import WORDS

    words = list(dict.fromkeys(WORDS))
    rng = random.Random(f"{seed}-{tokens}")
    texts: list[str] = []
    while len(texts) < count:
        text = " ".join(rng.choice(words) for _ in range(tokens - 2))
        if text not in texts and text != SENTENCE_32:
            texts.append(text)
    return texts


def attention_child(model_dir: str, sentences: int, cycles: int, runs: int, warmup: int, seed: int) -> int:
    """Runs in its own process; prints one line ATTENTION_RESULT {json}.

    Everything runs on the main thread here: the engine calls are timed on their own (in the
    app they run on the model thread), the view's calls are what the UI thread does.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from PySide6.QtWidgets import QApplication

    import torch

    from explorer.engine import models
    from explorer.engine.attention import attention
    from explorer.qt.tabs.attention.view import AttentionView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    clock = time.perf_counter

    def settle(ms: float) -> None:
        """Let Qt run (paints, the canvas's resize timer) for `ms` before the next timing."""
        end = clock() + ms / 1000
        while True:
            app.processEvents()
            if clock() >= end:
                return
            time.sleep(0.005)

    out: dict[str, Any] = {"error": None, "view_size": list(ATTENTION_VIEW_SIZE), "sentences": sentences,
                           "layer_cycles": cycles, "torch_threads": torch.get_num_threads()}
    lm = models.load(model_dir)
    import gc

    gc.freeze()  # as the app does once a model has loaded (explorer/qt/shell/app.py)

    def n_tokens(text: str) -> int:
        return len(lm.tokenizer(text)["input_ids"])

    if n_tokens(SENTENCE_32) != 32:
        out["error"] = f"SENTENCE_32 has {n_tokens(SENTENCE_32)} tokens, expected 32: fix it"
        print(ATTENTION_MARKER + json.dumps(out), flush=True)
        return 1

    # (d) The compute: attention(lm, text) at 32 tokens, warmed up.
    print(f"  attention() 32 tokens: {warmup} warm-up + {runs} runs ...", file=sys.stderr, flush=True)
    for _ in range(warmup):
        attention(lm, SENTENCE_32)
    times = []
    for _ in range(runs):
        t0 = clock()
        attention(lm, SENTENCE_32)
        times.append(clock() - t0)
    out["engine_32"] = {"text": SENTENCE_32, "tokens": 32, **summary_ms(times)}

    view = AttentionView()
    view.resize(*ATTENTION_VIEW_SIZE)
    view.show()
    settle(300)  # the canvas reaches its size and its resize timer fires (nothing to redo yet)
    canvas = view.canvas
    out["canvas_px"] = [canvas.width(), canvas.height()]

    # The first result ever shown in this process: matplotlib and font caches are cold.
    result = attention(lm, SENTENCE_32)
    t0 = clock()
    view.set_result(result)
    out["cold_first_draw_ms"] = (clock() - t0) * 1000
    settle(50)

    for size in ATTENTION_TOKENS:
        texts = attention_sentences(sentences, size, seed)
        bad = [n for n in map(n_tokens, texts) if n != size]
        if bad:
            out["error"] = f"a {size}-token benchmark sentence has {bad[0]} tokens: fix attention_sentences"
            break
        print(f"  attention tab {size} tokens: {sentences} sentences, {cycles} x {lm.model.config.num_hidden_layers} "
              "layer switches ...", file=sys.stderr, flush=True)
        computes: list[float] = []
        draws: list[float] = []
        paints: list[float] = []
        rebuilds = 0
        for text in texts:
            result = None  # the view still holds the previous one; at 512 tokens each is ~150 MB
            t0 = clock()
            result = attention(lm, text)
            computes.append(clock() - t0)
            before = canvas.full_draws
            t0 = clock()
            view.set_result(result)  # (a) a new sentence: the figure is rebuilt and drawn in full
            draws.append(clock() - t0)
            rebuilds += canvas.full_draws - before
            t0 = clock()
            app.processEvents()  # the paint the full draw scheduled (update(), not repaint())
            paints.append(clock() - t0)
            settle(20)

        # (b) Switching layers: every layer, `cycles` times, in order (the image data only).
        settle(150)
        layers = result.num_layers
        order = [*range(1, layers), 0] * cycles
        if view.layer.value() != 0:
            view.layer.setValue(0)
            settle(20)
        switches: list[float] = []
        full_before = canvas.full_draws
        for layer in order:
            t0 = clock()
            view.layer.setValue(layer)  # blits: its repaint() is synchronous, so it is timed here
            switches.append(clock() - t0)
            app.processEvents()
        out[f"tokens_{size}"] = {
            "tokens": size,
            "layers": layers,
            "heads": result.num_heads,
            "attention_compute": summary_ms(computes),
            "first_draw": summary_ms(draws),
            "paint_after_first_draw": summary_ms(paints),
            "full_draws_on_new_sentence": rebuilds,
            "layer_switch": summary_ms(switches),
            "full_draws_during_switches": canvas.full_draws - full_before,
        }
        settle(20)
    view.close()
    print(ATTENTION_MARKER + json.dumps(out), flush=True)
    return 0 if out["error"] is None else 1


def run_attention(model_dir: Path, sentences: int, cycles: int, runs: int, warmup: int, seed: int,
                  timeout_s: float) -> dict[str, Any]:
    args = ["--attention-child", str(model_dir), "--sentences", str(sentences), "--layer-cycles", str(cycles),
            "--runs", str(runs), "--warmup", str(warmup), "--seed", str(seed)]
    return run_child("Attention", ATTENTION_MARKER, args, timeout_s + 60)


class CpuWatch:
    """How busy the machine was with OTHER processes while a benchmark ran (Linux only).

    Busy time of all CPUs from /proc/stat minus this process's and its children's CPU time,
    as a share of the cores' capacity over the wall time. Other load skews every number here.
    """

    def __init__(self) -> None:
        self.t0, self.busy0, self.own0 = time.perf_counter(), self._busy(), self._own()

    @staticmethod
    def _busy() -> float | None:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        except (OSError, ValueError, IndexError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def other_share(self) -> float | None:
        busy = self._busy()
        if busy is None or self.busy0 is None:
            return None
        wall = time.perf_counter() - self.t0
        other = (busy - self.busy0) - (self._own() - self.own0)
        return max(0.0, other) / (wall * (os.cpu_count() or 1)) if wall > 0 else None


# --- report ------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    import PySide6
    import torch
    import transformers

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": affinity,
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "pyside6": PySide6.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gpu": torch.cuda.is_available(),
    }


def fmt(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    return f"{x:.{digits}f}"


def table(res: dict[str, Any]) -> str:
    rows = ["| benchmark | ours | reference | ratio (ref/ours) |", "|---|---:|---:|---:|"]
    eng = res.get("engine", {})
    for key in ("fill_mask_16", "fill_mask_64"):
        r = eng.get(key)
        if not r:
            continue
        name = f"fill-mask {r['tokens']} tokens, {r['masks']} mask{'s' if r['masks'] > 1 else ''}, top {r['top_k']}"
        rows.append(
            f"| {name}: median ms (ref: transformers pipeline) | {fmt(r['ours']['median_ms'])} | "
            f"{fmt(r['pipeline']['median_ms'])} | {fmt(r['ratio_median'], 2)}× |"
        )
        rows.append(
            f"| {name}: p90 ms | {fmt(r['ours']['p90_ms'])} | {fmt(r['pipeline']['p90_ms'])} | {fmt(r['ratio_p90'], 2)}× |"
        )
    gui = res.get("gui", {})
    g = gui.get("gaps", {})

    def goal_row(name: str, value: Any, goal_ms: float = UI_GOAL_MS) -> str:
        ratio = f"{goal_ms / value:.2f}×" if isinstance(value, (int, float)) and value > 0 else "n/a"
        return f"| {name} | {fmt(value)} | goal < {goal_ms:.0f} | {ratio} |"

    def info_row(name: str, value: Any, digits: int = 0) -> str:
        return f"| {name} | {fmt(value, digits)} | | |"

    if g:
        n = gui.get("requests")
        rows.append(goal_row(f"UI stall while typing ({n} requests, 30-60 ms apart): max gap ms", g.get("typing", {}).get("max_ms")))
        rows.append(goal_row("UI stall while typing: p99 gap ms", g.get("typing", {}).get("p99_ms")))
        # Startup and load by the model thread's stage when each stall began (see load_stages).
        stages = {k: v["max_gap_ms"] for k, v in gui.get("load_stages", {}).items() if v.get("max_gap_ms") is not None}
        first = next(iter(gui.get("load_stages", {})), None)
        rows.append(goal_row("UI stall while the model thread starts (imports torch): max gap ms", stages.pop(first, None)))
        worst = max(stages, key=lambda k: stages[k]) if stages else None
        where = f" (worst during: {worst})" if worst else ""
        rows.append(goal_row(f"UI stall while the model loads: max gap ms{where}", stages.get(worst)))
        rows.append(goal_row("UI stall idle (heartbeat baseline): max gap ms", g.get("idle", {}).get("max_ms")))
        rows.append(info_row("window shown → model loaded, ms", _sum(gui.get("startup_ms"), gui.get("load_ms"))))
        rows.append(info_row("last request → its result shown, ms", gui.get("last_request_to_result_ms")))
        rows.append(info_row(f"results computed while typing (of {n} requests; latest wins)", gui.get("results_computed_while_typing")))
    gc_gaps = res.get("gui_compare", {}).get("gaps", {})
    if gc_gaps:
        rows.append(goal_row("Compare mode, two models answering while typing: max gap ms", gc_gaps.get("typing", {}).get("max_ms")))
        rows.append(goal_row("Compare mode, two models answering while typing: p99 gap ms", gc_gaps.get("typing", {}).get("p99_ms")))
        rows.append(info_row("results shown while typing (stale ones are dropped)", gui.get("results_shown_while_typing")))
        rows.append(info_row("window.close() (stops the model thread), ms", gui.get("close_window_ms")))
    att = res.get("attention", {})
    e32 = att.get("engine_32")
    if e32:
        rows.append(info_row(f"attention() {e32['tokens']} tokens (the model thread's compute): median ms", e32["median_ms"], 1))
        rows.append(info_row(f"attention() {e32['tokens']} tokens: p90 ms", e32["p90_ms"], 1))
    if att.get("cold_first_draw_ms") is not None:
        rows.append(goal_row("attention tab: very first draw in the process (cold caches), ms",
                             att["cold_first_draw_ms"], FIRST_DRAW_GOAL_MS))
    switches = full_draws = 0
    for size in ATTENTION_TOKENS:
        a = att.get(f"tokens_{size}")
        if not a:
            continue
        d, s = a["first_draw"], a["layer_switch"]
        tab = f"attention tab {size} tokens"
        rows.append(goal_row(f"{tab}: first draw of a new sentence (set_result), median ms of {d['n']}",
                             d["median_ms"], FIRST_DRAW_GOAL_MS))
        rows.append(goal_row(f"{tab}: first draw, max ms", d["max_ms"], FIRST_DRAW_GOAL_MS))
        rows.append(goal_row(f"{tab}: layer switch (layer.setValue), median ms of {s['n']}",
                             s["median_ms"], LAYER_SWITCH_GOAL_MS))
        rows.append(info_row(f"{tab}: layer switch, p90 ms", s["p90_ms"], 1))
        if size != 32:
            rows.append(info_row(f"attention() {size} tokens: median ms of {a['attention_compute']['n']}",
                                 a["attention_compute"]["median_ms"]))
        switches += s["n"]
        full_draws += a["full_draws_during_switches"]
    if switches:
        rows.append(info_row(f"attention tab: full draws during the {switches} layer switches (blits only: 0)", full_draws))
    return "\n".join(rows)


def _sum(a: Any, b: Any) -> Any:
    return a + b if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run all BERT Explorer benchmarks.")
    parser.add_argument("--runs", type=int, default=30,
                        help="timed runs per latency benchmark: fill-mask (interleaved) and attention() (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up calls of each before timing (default 3)")
    parser.add_argument("--requests", type=int, default=40, help="fill-mask requests in the UI benchmark (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the typing rhythm and of the attention sentences")
    parser.add_argument("--sentences", type=int, default=5,
                        help="different sentences drawn at each size in the attention benchmark (default 5)")
    parser.add_argument("--layer-cycles", type=int, default=3,
                        help="times through all layers in the attention benchmark's layer switches (default 3)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="give up on each UI benchmark (stalls, attention) after about this many s")
    parser.add_argument("--model", help="use this model folder instead of the cached bert-base-shaped one")
    parser.add_argument("--no-cache", action="store_true", help="build the model in a temp folder, do not cache it")
    parser.add_argument("--skip-engine", action="store_true", help="skip the fill-mask latency benchmarks")
    parser.add_argument("--skip-gui", action="store_true", help="skip the UI-stall benchmark (the whole window)")
    parser.add_argument("--skip-attention", action="store_true", help="skip the attention benchmarks (engine and tab)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json", help="where the JSON goes")
    parser.add_argument("--core-only", action="store_true",
                        help="skip the feature benchmarks run after the table (generation.py, lama.py, finetune.py, distributed.py, corpus_memory.py, demo_quality.py)")
    parser.add_argument("--gui-child", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--gui-compare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--attention-child", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.gui_child:
        return gui_child(args.gui_child, args.requests, args.seed, args.timeout, args.gui_compare)
    if args.attention_child:
        return attention_child(args.attention_child, max(1, args.sentences), max(1, args.layer_cycles),
                               max(1, args.runs), args.warmup, args.seed)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    started = time.perf_counter()
    res: dict[str, Any] = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="bert-explorer-bench-") as tmp:
        t0 = time.perf_counter()
        print("model: preparing a bert-base-shaped model ...", file=sys.stderr, flush=True)
        folder, how = model_folder(args, Path(tmp))
        res["model"] = {"folder": str(folder), "how": how, "prepare_s": time.perf_counter() - t0}
        res["other_cpu_load"] = {}
        if not args.skip_engine:
            print("fill-mask latency: ours vs transformers pipeline ...", file=sys.stderr, flush=True)
            watch = CpuWatch()
            res["engine"] = run_engine(folder, args.runs, args.warmup)
            res["other_cpu_load"]["engine"] = watch.other_share()
            import gc

            gc.collect()
        if not args.skip_gui:
            print(f"UI stalls: offscreen window, {args.requests} requests ...", file=sys.stderr, flush=True)
            watch = CpuWatch()
            res["gui"] = run_gui(folder, args.requests, args.seed, args.timeout)
            res["other_cpu_load"]["gui"] = watch.other_share()
            print("UI stalls in compare mode: two models answering every request ...", file=sys.stderr, flush=True)
            watch = CpuWatch()
            res["gui_compare"] = run_gui(folder, args.requests, args.seed, args.timeout, compare=True)
            res["other_cpu_load"]["gui_compare"] = watch.other_share()
        if not args.skip_attention:
            print(f"attention: attention() and the attention tab at {', '.join(map(str, ATTENTION_TOKENS))} tokens ...",
                  file=sys.stderr, flush=True)
            watch = CpuWatch()
            res["attention"] = run_attention(folder, args.sentences, args.layer_cycles, args.runs, args.warmup,
                                             args.seed, args.timeout)
            res["other_cpu_load"]["attention"] = watch.other_share()
    res["total_s"] = time.perf_counter() - started

    m = res["machine"]
    print(
        f"\nMachine: {m['cpu'] or 'unknown CPU'}, {m['cores']} cores ({m['usable_cores']} usable), "
        f"torch {m['torch']} ({m['torch_threads']} threads), transformers {m['transformers']}, "
        f"PySide6 {m['pyside6']}, Python {m['python']}, GPU: {'yes' if m['gpu'] else 'no'}"
    )
    what = "given folder" if res["model"]["how"] == "given" else f"bert-base-shaped, random weights, {res['model']['how']}"
    print(f"Model: {what}: {res['model']['folder']}\n")
    print(table(res))
    eng = res.get("engine", {})
    for key in ("fill_mask_16", "fill_mask_64"):
        if key in eng and not eng[key]["same_top_k_as_pipeline"]:
            print(f"\nnote: {key}: our top-{TOP_K} differs from the pipeline's")
    busy = {k: v for k, v in res["other_cpu_load"].items() if v is not None}
    if busy:
        shares = ", ".join(f"{k} {v:.0%}" for k, v in busy.items())
        print(f"\nOther processes used this share of the CPUs meanwhile: {shares}.", end="")
        if max(busy.values()) > 0.10:
            print(" That is a lot: these numbers are skewed; run again on a quiet machine.", end="")
        print()
    if res.get("gui", {}).get("error"):
        print(f"\nUI benchmark problem: {res['gui']['error']}")
    att = res.get("attention", {})
    for size in ATTENTION_TOKENS:
        a = att.get(f"tokens_{size}")
        if a and a["full_draws_on_new_sentence"] != a["first_draw"]["n"]:
            print(f"\nnote: attention tab {size} tokens: {a['full_draws_on_new_sentence']} full draws for "
                  f"{a['first_draw']['n']} new sentences (each should be one)")
    if att.get("error"):
        print(f"\nAttention benchmark problem: {att['error']}")
    print(f"\nTotal {res['total_s']:.0f} s. Numbers: {args.output}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    from explorer.core import strict_json

    # Strict JSON: a measurement that did not happen (NaN) becomes null.
    args.output.write_text(strict_json.dumps(res, indent=2) + "\n", encoding="utf-8")
    failed = res.get("gui", {}).get("error") or res.get("attention", {}).get("error")
    if not args.core_only:
        # One command for every benchmark: the feature scripts print tables of their own.
        for script in FEATURE_BENCHMARKS:
            print(f"\n## {script}\n", flush=True)
            failed = subprocess.run([sys.executable, str(HERE / script)], check=False).returncode != 0 or failed
    return 1 if failed else 0  # could not measure; slow numbers never fail


if __name__ == "__main__":
    sys.exit(main())
