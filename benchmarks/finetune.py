"""Fine-tuning throughput on this machine: `python benchmarks/finetune.py`.

Tokens per second through the real training loop (explorer.engine.finetune: forward,
backward, AdamW, collator) for a small BERT (4 layers, hidden 256: BERT-mini's shape) and
a DistilBERT-shaped model (6 layers, hidden 768), random weights (same cost as trained ones).
Batch 8 x 128 tokens. Prints a Markdown table; numbers, not a test.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.engine.finetune import finetune  # noqa: E402
from explorer.core.finetune_params import FinetuneParams  # noqa: E402
from explorer.engine.synthetic import WORDS, write_bert_tokenizer  # noqa: E402

SHAPES = {
    "small BERT (4 layers, hidden 256)": ("bert", dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024)),
    "DistilBERT-shaped (6 layers, hidden 768)": ("distilbert", dict(dim=768, n_layers=6, n_heads=12, hidden_dim=3072)),
}


def build(folder: Path, arch: str, sizes: dict) -> None:
    from transformers import BertConfig, BertForMaskedLM, DistilBertConfig, DistilBertForMaskedLM

    vocab = write_bert_tokenizer(folder, 30522, lowercase=arch == "distilbert")
    if arch == "bert":
        model = BertForMaskedLM(BertConfig(vocab_size=vocab, max_position_embeddings=512, **sizes))
    else:
        model = DistilBertForMaskedLM(DistilBertConfig(vocab_size=vocab, max_position_embeddings=512, **sizes))
    model.save_pretrained(folder)


def write_corpus(path: Path) -> Path:
    """400 lines of the synthetic vocabulary's words, each line the list rotated."""
    path.write_text("\n".join(" ".join(WORDS[(i * 7) % len(WORDS):] + WORDS[: (i * 7) % len(WORDS)]) for i in range(400)))
    return path


def print_table(header: str, rows: list[tuple[str, ...]]) -> None:
    """A Markdown table: the header row, right-aligned number columns, the rows."""
    print(header)
    print("|---" + "|---:" * (header.count("|") - 2) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def measure(model_dir: Path, corpus: Path, out: Path, steps: int) -> tuple[float, float]:
    params = FinetuneParams(corpus=str(corpus), out=str(out), chunk_size=128, batch_size=8, max_steps=steps, seed=0)
    times: list[float] = []
    last = None
    for step in finetune(params, str(model_dir), "bench"):
        if step.phase == "train":
            now = time.perf_counter()
            if last is not None:
                times.append(now - last)
            last = now
    warm = times[2:] or times  # the first steps pay for allocation
    per_step = sum(warm) / len(warm)
    return 8 * 128 / per_step, per_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = write_corpus(root / "corpus.txt")
        rows = []
        for name, (arch, sizes) in SHAPES.items():
            folder = root / arch
            build(folder, arch, sizes)
            tps, per_step = measure(folder, corpus, root / f"out-{arch}", args.steps)
            rows.append((name, tps, per_step))
    print(f"\n{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}\n")
    print_table("| model | tokens/s (training) | s per step (8 x 128 tokens) |",
                [(name, f"{tps:,.0f}", f"{per_step:.2f}") for name, tps, per_step in rows])


if __name__ == "__main__":
    main()
