"""Scaling out on this machine: `python benchmarks/distributed.py` (about 4 minutes on 2 cores).

`bert-explorer lama` and `bert-explorer finetune` run as a person runs them: one process
(with 1 thread, and with 2), and under `torchrun --nproc_per_node 2` (one thread each,
torchrun's default). Every command is timed from the outside, twice: a short run and a long
one, and the difference is what the extra work costs, so the fixed costs (starting Python,
importing torch, loading the model, joining the process group, saving) cancel out.

- LAMA: the shipped SQuAD subset (305 facts) on a bert-base-shaped model with random weights
  and a vocabulary that holds the SQuAD words (benchmarks/lama.py builds it); `--limit 8`
  against all 305 facts, batch 32.
- Fine-tuning: a small BERT (4 layers, hidden 256; benchmarks/finetune.py's shape), chunks of
  128 tokens; 2 steps against 12. One process takes batch 8; two processes take batch 4 each
  (the same 8 chunks a step), and batch 8 each (16 a step).

Prints a Markdown table; numbers, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from finetune import SHAPES, build, print_table, write_corpus  # noqa: E402  (benchmarks/finetune.py)
from lama import base_model, word_vocab_model  # noqa: E402  (benchmarks/lama.py)

from explorer.paths import LAMA_SAMPLE  # noqa: E402


def env(threads: int) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return {**clean, "OMP_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}


def command(args: list[str], processes: int) -> list[str]:
    if processes == 1:
        return [sys.executable, "-m", "explorer", *args]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
            "-m", "explorer", *args]


def timed(args: list[str], processes: int, threads: int) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run(command(args, processes), capture_output=True, text=True, env=env(threads))
    took = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(args[:2])} failed: {done.stderr[-2000:]}")
    return took, json.loads(done.stdout)


SETUPS = (("1 process, 1 thread", 1, 1), ("1 process, 2 threads", 1, 2), ("2 processes (torchrun), 1 thread each", 2, 1))


def bench_lama(model: Path) -> list[tuple[str, float, float]]:
    rows = []
    common = ["lama", str(LAMA_SAMPLE), "--model", str(model), "--batch-size", "32", "--json"]
    for name, processes, threads in SETUPS:
        short, _ = timed([*common, "--limit", "8"], processes, threads)
        full, report = timed(common, processes, threads)
        facts = report["overall"]["n"] + sum(report["dropped"].values())
        rows.append((name, full - short, (facts - 8) / (full - short)))
    return rows


def bench_finetune(model: Path, corpus: Path, root: Path) -> list[tuple[str, float, float]]:
    rows = []
    setups = [
        ("1 process, 1 thread, batch 8", 1, 1, 8),
        ("1 process, 2 threads, batch 8", 1, 2, 8),
        ("2 processes (torchrun), 1 thread each, batch 4 each (8 a step)", 2, 1, 4),
        ("2 processes (torchrun), 1 thread each, batch 8 each (16 a step)", 2, 1, 8),
    ]
    for i, (name, processes, threads, batch) in enumerate(setups):
        common = ["finetune", str(corpus), "--model", str(model), "--chunk-size", "128", "--batch-size", str(batch),
                  "--seed", "0", "--json"]
        short, _ = timed([*common, "--max-steps", "2", "--out", str(root / f"s{i}")], processes, threads)
        long, result = timed([*common, "--max-steps", "12", "--out", str(root / f"l{i}")], processes, threads)
        per_step = (long - short) / 10
        rows.append((name, per_step, result["effective_batch_size"] / per_step))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    from explorer.core.lama_data import read

    facts = read(str(LAMA_SAMPLE)).facts
    lama_model = word_vocab_model(base_model(), [f.sentence for f in facts] + [f.obj_label for f in facts])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = write_corpus(root / "corpus.txt")
        arch, sizes = SHAPES["small BERT (4 layers, hidden 256)"]
        build(root / "small", arch, sizes)
        lama_rows = bench_lama(lama_model)
        ft_rows = bench_finetune(root / "small", corpus, root)
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores\n")
    print_table("| LAMA, the SQuAD subset less 8 facts (bert-base shape, batch 32) | seconds | facts/s |",
                [(name, f"{seconds:.2f}", f"{rate:.1f}") for name, seconds, rate in lama_rows])
    print()
    print_table("| fine-tuning, small BERT, 128-token chunks | s per step | chunks/s |",
                [(name, f"{seconds:.2f}", f"{rate:.1f}") for name, seconds, rate in ft_rows])


if __name__ == "__main__":
    main()
