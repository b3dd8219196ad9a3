"""Precision on the CPU, one table: `python benchmarks/precision.py` (about 10 minutes on 2 cores).

For float32, bfloat16 and int8 (ours: per-token activations, per-channel weights, SmoothQuant,
explorer/engine/int8.py) and, for reference, torch.ao's naive dynamic int8 (every Linear, one
scale per tensor, 7-bit activations):
- speed on a bert-base-shaped model (random weights, the cost of bert-base-cased): one
  forward with the MLM head at one position per row, as fill-mask runs it, at 1 x 16
  (fill-mask), 10 x 22 (generation) and 32 x 16 (a LAMA batch), rounds interleaved across
  the precisions, each a few forwards in a row (as the app runs one precision), the best
  forward reported (speed()); the time to load in that precision and the model's bytes in memory;
- fidelity on the demo model (real trained weights): on the 119 cloze sentences of
  benchmarks/demo_cloze*.jsonl, the share whose top guess equals float32's and the mean
  overlap of the top 10; LAMA's SQuAD subset P@1 (lab protocol).
Then, in the fastest faithful precision (top-1 >= 95% and top-10 >= 90%): fill-mask at 16
tokens against transformers' pipeline in float32, and generation and LAMA against the lab's
loops (benchmarks/generation.py, benchmarks/lama.py), side by side.

`--device cuda`: the same on a GPU for float32, float16, bfloat16 and float16 without CUDA
graphs (engine/graphs.py), every timing after torch.cuda.synchronize(); the fidelity is then
float16's and bfloat16's against float32 on the GPU (the issue's goal: float16 top-1 >= 99%).

A measurement, not a test. Other load on the machine slows every variant alike (interleaved),
and only ever slows a run (the best is reported).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from explorer.core.jobs import run_to_end  # noqa: E402
from explorer.engine import models  # noqa: E402

NAIVE = "int8, torch.ao naive"
NO_GRAPHS = "float16, no CUDA graphs"
PRECISIONS_ON = {"cpu": ("float32", "bfloat16", "int8"), "cuda": ("float32", "float16", "bfloat16")}
REFERENCE_ON = {"cpu": NAIVE, "cuda": NO_GRAPHS}  # the row each device's own precisions are read against
SHAPES = ((1, 16), (10, 22), (32, 16))
GOAL = {"top1": 0.95, "top10": 0.90}
BLOCK = 3  # forwards in a row per precision and round
RESULTS = HERE / "results"


def naive_int8(path: str) -> models.MaskedLM:
    from torch.ao.quantization import quantize_dynamic

    lm = models.load(path, "cpu", "float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantized = quantize_dynamic(lm.model, {torch.nn.Linear}, dtype=torch.qint8)
    out = models.from_objects(quantized, lm.tokenizer, lm.name, "cpu")
    out.precision = NAIVE
    return out


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def load(path: str, precision: str, device: str = "cpu") -> tuple[models.MaskedLM, float]:
    started = time.perf_counter()
    if precision == NAIVE:
        lm = naive_int8(path)
    elif precision == NO_GRAPHS:
        lm = models.load(path, device, "float16")
        lm.graphs = None
    else:
        lm = models.load(path, device, precision)
    sync(device)
    return lm, time.perf_counter() - started


def model_bytes(lm: models.MaskedLM) -> int:
    from explorer.engine.int8 import Int8Linear

    total = sum(t.numel() * t.element_size() for t in lm.model.parameters())
    total += sum(t.numel() * t.element_size() for t in lm.model.buffers())
    for m in lm.model.modules():
        if isinstance(m, Int8Linear):
            total += m.in_features * m.out_features + 12 * m.out_features  # int8 weights, scales, bias
        elif type(m).__name__ == "Linear" and m.__module__.startswith("torch.ao"):
            total += m.in_features * m.out_features + 4 * m.out_features
    return total


def forward(lm: models.MaskedLM, batch: int, length: int) -> None:
    ids = torch.randint(1000, 2000, (batch, length), device=lm.device)
    rows = torch.arange(batch, device=lm.device)
    with torch.inference_mode():
        lm.mlm_logits(ids, torch.ones_like(ids), rows, torch.full((batch,), length // 2, device=lm.device))
    sync(lm.device)


def speed(path: str, variants: tuple[str, ...], rounds: int, device: str = "cpu") -> dict[str, dict[str, Any]]:
    """Per shape and precision: the best forward (`_ms`) and the median (`_median_ms`) over
    `rounds` interleaved rounds of BLOCK forwards in a row each.

    In a row, as the app runs them (one precision at a time): right after other precisions'
    forwards a precision runs slower for a while (measured on 2 cores: int8 at 1 x 16 took
    21.6 ms alone, 29.2 ms just after float32's forwards, 21.7 ms again later), which is the
    benchmark's switching, not the precision. The best time is the reported one, as for the
    whole-feature runs (best_of): other load on a shared machine only ever slows a run."""
    out: dict[str, dict[str, Any]] = {}
    lms = {}
    for v in variants:
        lm, seconds = load(path, v, device)
        lms[v] = lm
        out[v] = {"load_s": seconds, "bytes": model_bytes(lm)}
    for batch, length in SHAPES:
        for v in variants:
            for _ in range(2):
                forward(lms[v], batch, length)
        times = timings({v: (lambda lm=lms[v]: forward(lm, batch, length)) for v in variants}, rounds, device, BLOCK)
        for v in variants:
            out[v][f"{batch}x{length}_ms"] = min(times[v]) * 1e3
            out[v][f"{batch}x{length}_median_ms"] = statistics.median(times[v]) * 1e3
    return out


def cloze_logits(lm: models.MaskedLM, texts: list[str]) -> list[torch.Tensor]:
    from explorer.engine.fill_mask import forward as fm_forward
    from explorer.engine.fill_mask import preprocess

    out = []
    with torch.inference_mode():
        for text in texts:
            enc, _ = preprocess(lm, text)
            out.append(fm_forward(lm, [enc])[0].float())  # bidirectional, as trained
    return out


def fidelity(variants: tuple[str, ...], device: str = "cpu") -> dict[str, dict[str, Any]]:
    from demo_quality import CLOZE, CLOZE_DEV, lama_squad, read_cloze

    texts = [row["text"] for row in read_cloze(CLOZE) + read_cloze(CLOZE_DEV)]
    reference = cloze_logits(models.load("demo", device, "float32"), texts)
    out = {}
    for v in variants:
        lm, _ = load("demo", v, device)
        got = cloze_logits(lm, texts)
        reference = [r.to(g.device) for r, g in zip(reference, got)]
        top1 = statistics.mean(float(a.argmax() == b.argmax()) for a, b in zip(reference, got))
        top10 = statistics.mean(
            len(set(a.topk(10).indices.tolist()) & set(b.topk(10).indices.tolist())) / 10 for a, b in zip(reference, got)
        )
        out[v] = {"sentences": len(texts), "top1_equal": top1, "top10_overlap": top10, "lama_squad_p@1": lama_squad(lm)["p@1"]}
    return out


def fill_mask_vs_pipeline(path: str, precision: str, rounds: int, device: str = "cpu") -> dict[str, float]:
    from run import SENTENCE_16
    from transformers import pipeline

    from explorer.engine.fill_mask import fill_mask

    ours = models.load(path, device, precision)
    exact = models.load(path, device, "float32")
    pipe = pipeline("fill-mask", model=exact.model, tokenizer=exact.tokenizer, device=device, top_k=10)
    calls = {"ours": lambda: fill_mask(ours, SENTENCE_16, 10), "pipeline": lambda: pipe(SENTENCE_16)}
    for call in calls.values():
        call()
    with torch.inference_mode():
        best = best_of(calls, rounds, device, block=BLOCK)
    return {name: seconds * 1e3 for name, seconds in best.items()}


def timings(runs: dict[str, Any], rounds: int, device: str = "cpu", block: int = 1) -> dict[str, list[float]]:
    """Each call's times (seconds) over `rounds` interleaved rounds of `block` calls in a row."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, call in runs.items():
            for _ in range(block):
                sync(device)
                started = time.perf_counter()
                call()
                sync(device)
                times[name].append(time.perf_counter() - started)
    return times


def best_of(runs: dict[str, Any], rounds: int = 2, device: str = "cpu", block: int = 1) -> dict[str, float]:
    """Each call's best time over `rounds` interleaved rounds of `block` calls in a row (load
    only ever slows a run)."""
    return {name: min(t) for name, t in timings(runs, rounds, device, block).items()}


def generation_vs_lab(path: str, precision: str, iterations: int, device: str = "cpu") -> dict[str, float]:
    import io

    from generation import lab_loop, ours

    lm = models.load(path, device, precision)
    exact = models.load(path, device, "float32")
    sink = io.StringIO()
    runs = {"ours": lambda: ours(lm, iterations=iterations, seed=1),
            "lab loop (no_grad, float32)": lambda: lab_loop(exact.model, exact.tokenizer, iterations=iterations, seed=1, grad=False, out=sink)}
    return best_of(runs, device=device)


def lama_vs_lab(precision: str, device: str = "cpu") -> dict[str, float]:
    from lama import base_model, lab_loop, ours, word_vocab_model

    from explorer.core import lama_data
    from explorer.paths import LAMA_SAMPLE

    facts = run_to_end(lama_data.read_steps(LAMA_SAMPLE.parent)).facts
    folder = word_vocab_model(base_model(), [f.sentence for f in facts])
    lm = models.load(str(folder), device, precision)
    exact = models.load(str(folder), device, "float32")
    sentences, labels = [f.sentence for f in facts], [f.obj_label for f in facts]
    runs = {"ours (batch 32)": lambda: ours(lm, facts, 32),
            "lab loop, lean (float32)": lambda: lab_loop(exact.model, exact.tokenizer, sentences, labels, lean=True)}
    return best_of(runs, device=device)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds per shape (each BLOCK forwards)")
    parser.add_argument("--quick", action="store_true", help="speed and fidelity only")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="cpu (default) or cuda")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    from run import CACHED_MODEL

    path = str(CACHED_MODEL)
    if not CACHED_MODEL.exists():
        from explorer.engine.synthetic import make_model

        make_model(CACHED_MODEL, "bert", "base")
    device = args.device
    precisions = PRECISIONS_ON[device]
    variants = (*precisions, REFERENCE_ON[device])
    table = speed(path, variants, args.rounds, device)
    for v, f in fidelity(variants, device).items():
        table[v].update(f)
    print("| precision | " + " | ".join(f"{b} x {t} ms (x float32)" for b, t in SHAPES)
          + " | top-1 = float32 | top-10 overlap | LAMA SQuAD P@1 | load s | memory MB |")
    print("|---|" + "---:|" * (len(SHAPES) + 5))
    base = table["float32"]
    for v in variants:
        row = table[v]
        cells = [f"{row[f'{b}x{t}_ms']:.1f} ({base[f'{b}x{t}_ms'] / row[f'{b}x{t}_ms']:.2f}x)" for b, t in SHAPES]
        cells += [f"{row['top1_equal']:.1%}", f"{row['top10_overlap']:.1%}", f"{row['lama_squad_p@1']:.1%}",
                  f"{row['load_s']:.1f}", f"{row['bytes'] / 2**20:.0f}"]
        print(f"| {v} | " + " | ".join(cells) + " |")
    faithful = [v for v in precisions if table[v]["top1_equal"] >= GOAL["top1"] and table[v]["top10_overlap"] >= GOAL["top10"]]
    fastest = min(faithful, key=lambda v: sum(table[v][f"{b}x{t}_ms"] for b, t in SHAPES))
    results: dict[str, Any] = {"device": device, "table": table, "fastest_faithful": fastest}
    print(f"\nfastest faithful precision: {fastest}")
    if not args.quick:
        fm = fill_mask_vs_pipeline(path, fastest, args.rounds * 2, device)
        print(f"fill-mask 16 tokens, top 10: ours ({fastest}) {fm['ours']:.1f} ms, transformers pipeline (float32) "
              f"{fm['pipeline']:.1f} ms: {fm['pipeline'] / fm['ours']:.2f}x")
        gen = generation_vs_lab(path, fastest, 20 if device == "cpu" else 100, device)
        g_ours, g_lab = gen["ours"], gen["lab loop (no_grad, float32)"]
        print(f"generation 10 x 20 tokens, {20 if device == 'cpu' else 100} iterations: ours ({fastest}) {g_ours:.2f} s, lab loop (float32, no_grad) "
              f"{g_lab:.2f} s: {g_lab / g_ours:.2f}x")
        lama = lama_vs_lab(fastest, device)
        l_ours, l_lab = lama["ours (batch 32)"], lama["lab loop, lean (float32)"]
        print(f"LAMA SQuAD 305 facts: ours ({fastest}, batch 32) {l_ours:.2f} s, lab loop lean (float32) {l_lab:.2f} s: "
              f"{l_lab / l_ours:.2f}x")
        results.update({"fill_mask_ms": fm, "generation_s": gen, "lama_s": lama})
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"precision-{device}.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
