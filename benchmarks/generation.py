"""Text generation: our sampler against the lab's loop, side by side. `python benchmarks/generation.py`

Same model (bert-base-shaped, random weights: the same compute as bert-base-cased), same
settings: batch 10, 20 generated tokens ([CLS] + 20 + [SEP] = 22), 100 iterations of
parallel-sequential sampling (the lab's uniform_sequential_generation), temperature 1.0,
decay 0.95 per sweep.

- ours: `explorer.engine.generation.generate`, consumed to the end (including turning every
  step's batch into text, which the GUI and the CLI need).
- lab, as written: a re-implementation of the lab's loop that behaves as it does: the batch
  as Python lists, a Python loop over the samples to mask and to write back, a full forward
  with logits over the whole vocabulary at every position, torch Categorical sampling,
  autograd left on (the lab never enters no_grad) and the model loaded with
  output_attentions=True (so eager attention that returns its weights), printing sample 1
  every 20 iterations (into a buffer here).
- lab, kind: the same loop with the advantages ours has and the lab did not take: the very
  same model object (sdpa attention, no attention weights) and torch.no_grad(). The gap
  that is left is the algorithm: the MLM head at one position instead of all, no lists.

Runs are interleaved (ours, lab, lab-kind, ours, ...), after one short warm-up each. These are
measurements, not tests. Prints a Markdown table; writes benchmarks/results/generation.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
CACHED_MODEL = RESULTS / "model-bert-base"

BATCH, LENGTH, ITERATIONS = 10, 20, 100
TEMPERATURE, DECAY = 1.0, 0.95
PRINT_EVERY = 20


def model_folder(given: str | None) -> Path:
    from explorer.engine.synthetic import make_model

    if given:
        return Path(given)
    if (CACHED_MODEL / "config.json").is_file() and any(CACHED_MODEL.glob("*.safetensors")):
        return CACHED_MODEL
    RESULTS.mkdir(parents=True, exist_ok=True)
    return make_model(RESULTS / "model-bert-base-generation", "bert", "base")


# --- the lab's loop, re-implemented --------------------------------------------------------
def words(tokens: list[str]) -> str:
    """The lab's printer: glue "##" pieces to the word before, join with spaces."""
    out: list[str] = []
    for t in tokens:
        if t.startswith("##") and out:
            out[-1] += t[2:]
        else:
            out.append(t)
    return " ".join(out)


def lab_loop(model: Any, tokenizer: Any, *, iterations: int, seed: int, grad: bool, out: io.StringIO) -> list[list[str]]:
    """The lab's uniform_sequential_generation with seed text "[CLS]" and max_len 1 + LENGTH."""
    import contextlib

    import numpy as np
    import torch

    np.random.seed(seed)
    torch.manual_seed(seed)
    seed_text = [tokenizer.cls_token]
    seed_len = len(seed_text)
    max_len = seed_len + LENGTH
    start = seed_text + [tokenizer.mask_token] * (max_len - seed_len) + [tokenizer.sep_token]
    batch = [tokenizer.convert_tokens_to_ids(list(start)) for _ in range(BATCH)]
    temperature = TEMPERATURE
    positions = None
    context = contextlib.nullcontext() if grad else torch.no_grad()
    with context:
        for it in range(iterations):
            if it % (max_len - seed_len) == 0:
                if it > 0:
                    temperature *= DECAY
                positions = np.random.permutation(max_len - seed_len)
            col = seed_len + positions[it % len(positions)]
            for row in range(BATCH):
                batch[row][col] = tokenizer.mask_token_id
            logits = model(torch.tensor(batch, device=model.device))[0]  # [B, T, vocab]: every position
            dist = torch.distributions.Categorical(logits=logits[:, col] / temperature)
            new = dist.sample().tolist()
            for row in range(BATCH):
                batch[row][col] = new[row]
            if it == 0 or (it + 1) % PRINT_EVERY == 0:
                out.write(f"iter {it + 1}\t(temp {temperature:.2f})\t{words(tokenizer.convert_ids_to_tokens(batch[0]))}\n")
    return [tokenizer.convert_ids_to_tokens(b) for b in batch]


# --- ours ----------------------------------------------------------------------------------
def ours(lm: Any, *, iterations: int, seed: int) -> Any:
    from explorer.engine.generation import generate
    from explorer.core.generation_params import GenerationParams
    from explorer.core.jobs import run_to_end

    params = GenerationParams(
        seed_text="", length=LENGTH, batch_size=BATCH, temperature=TEMPERATURE, temperature_decay=DECAY,
        max_iter=iterations, strategy="parallel-sequential", seed=seed,
    )
    return run_to_end(generate(lm, params))


# --- measuring -----------------------------------------------------------------------------
class CpuWatch:
    """Share of the machine's CPU capacity used by OTHER processes meanwhile (Linux)."""

    def __init__(self) -> None:
        self.t0, self.busy0, self.own0 = time.perf_counter(), self._busy(), self._own()

    @staticmethod
    def _busy() -> float | None:
        try:
            f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
        except (OSError, ValueError):
            return None
        return (f[0] + f[1] + f[2] + f[5] + f[6]) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own() -> float:
        t = os.times()
        return t.user + t.system

    def other_share(self) -> float | None:
        busy = self._busy()
        wall = time.perf_counter() - self.t0
        if busy is None or self.busy0 is None or wall <= 0:
            return None
        return max(0.0, (busy - self.busy0) - (self._own() - self.own0)) / (wall * (os.cpu_count() or 1))


def timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="timed runs of each (default 2; ~45 s each)")
    parser.add_argument("--iterations", type=int, default=ITERATIONS)
    parser.add_argument("--model", help="a model folder (default: the cached bert-base-shaped one)")
    parser.add_argument("--skip-as-written", action="store_true", help="leave out the lab as written")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (default: torch's choice). 1 keeps the numbers steady when other "
                        "processes share the cores: two threads on a busy 2-core machine wait on each other")
    args = parser.parse_args(argv)

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import torch
    import transformers
    from transformers import AutoModelForMaskedLM

    from explorer.engine import models

    if args.threads:
        torch.set_num_threads(args.threads)
    folder = model_folder(args.model)
    print(f"model: {folder}", file=sys.stderr)
    lm = models.load(str(folder), device="cpu")
    as_written = None
    if not args.skip_as_written:
        as_written = AutoModelForMaskedLM.from_pretrained(folder, attn_implementation="eager", output_attentions=True).eval()
    tok = lm.tokenizer
    sink = io.StringIO()
    contenders: dict[str, Any] = {
        "ours": lambda n, s: ours(lm, iterations=n, seed=s),
        "lab, kind (no_grad, same model object)": lambda n, s: lab_loop(lm.model, tok, iterations=n, seed=s, grad=False, out=sink),
    }
    if as_written is not None:
        contenders["lab, as written (autograd on, output_attentions)"] = (
            lambda n, s: lab_loop(as_written, tok, iterations=n, seed=s, grad=True, out=sink)
        )
    for name, fn in contenders.items():  # warm-up: first calls allocate and pick kernels
        fn(5, 0)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    watch = CpuWatch()
    for run in range(args.runs):
        for name, fn in contenders.items():
            seconds = timed(lambda: fn(args.iterations, run + 1))
            times[name].append(seconds)
            print(f"run {run + 1}: {name}: {seconds:.2f} s", file=sys.stderr)
    other = watch.other_share()

    sampled = BATCH * args.iterations  # one position of each sample per iteration
    ours_s = statistics.median(times["ours"])
    rows = []
    for name, ts in times.items():
        s = statistics.median(ts)
        rows.append({"name": name, "seconds": s, "best": min(ts), "runs": ts, "tokens_per_s": sampled / s, "ratio": s / ours_s})
    report = {
        "settings": {"batch": BATCH, "length": LENGTH, "iterations": args.iterations, "strategy": "parallel-sequential",
                     "temperature": TEMPERATURE, "decay": DECAY, "runs": args.runs, "model": str(folder)},
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                    "transformers": transformers.__version__, "python": platform.python_version()},
        "other_cpu_share": other,
        "results": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "generation.json").write_text(json.dumps(report, indent=2))

    print(f"\nGeneration: batch {BATCH} x {LENGTH} tokens, {args.iterations} iterations, parallel-sequential, "
          f"bert-base-shaped, CPU ({torch.get_num_threads()} threads), median of {args.runs} runs\n")
    print("| | seconds (median) | best | ms / iteration | tokens sampled / s | time ÷ ours |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['name']} | {r['seconds']:.1f} | {r['best']:.1f} | {1000 * r['seconds'] / args.iterations:.0f} | "
              f"{r['tokens_per_s']:.1f} | {r['ratio']:.2f}× |")
    if other is not None:
        print(f"\nOther processes used {100 * other:.0f}% of the CPU meanwhile.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
