"""How good is the bundled demo model? `python benchmarks/demo_quality.py [--model demo]`.

1. The everyday cloze set (benchmarks/demo_cloze.jsonl, written before the model was
   trained): P@1 and P@5, a hit being any of the sentence's accepted answers. The issue's
   goal is measured on it. Choices between builds (steps, rates, packing rank) are made on a
   second set of 60 sentences (benchmarks/demo_cloze_dev.jsonl, written after phase 4 but
   before any model saw it) and on held-out perplexity, not on the goal's set.
2. LAMA's SQuAD subset (resources/lama/Squad), lab protocol: P@1 and P@10.
3. Fill-mask latency at 16 tokens / 1 mask, top 10, against a bert-base-shaped model (random
   weights, the cost of bert-base-cased), interleaved runs in this one process.

A measurement, not a test. --model takes a folder too (e.g. a training checkpoint).
`--ranks full,128,64 --model FOLDER --work BUILD_DIR` compares packings of an unpacked trained
folder: for the folder itself and for its delta packed at each embedding rank (assembled as
the app does), the delta's size, both cloze sets and the perplexity on the build's held-out
sentences (phase 3's split, fixed masks).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from explorer.engine import models  # noqa: E402
from explorer.engine.fill_mask import fill_mask  # noqa: E402
from explorer.core.jobs import run_to_end  # noqa: E402

CLOZE = HERE / "demo_cloze.jsonl"
CLOZE_DEV = HERE / "demo_cloze_dev.jsonl"
# 16 tokens with [CLS] and [SEP] for each model's own tokenizer (the bert-base-shaped model
# knows only explorer.engine.synthetic.WORDS: the same sentence as benchmarks/run.py).
LATENCY_TEXTS = {
    "demo": "My grandmother said that a good cup of [MASK] makes every morning better.",
    "bert-base": "The cat sat on the [MASK] in the big old house with a dog",
}


def read_cloze(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def cloze(lm: models.MaskedLM, show: bool, path: Path = CLOZE, rows: list[dict] | None = None) -> dict:
    rows = read_cloze(path) if rows is None else rows
    at1 = at5 = echoes = 0
    for row in rows:
        guesses = [c.token for c in fill_mask(lm, row["text"], 5).masks[0].candidates]
        hit1, hit5 = guesses[0] in row["answers"], bool(set(guesses) & set(row["answers"]))
        at1 += hit1
        at5 += hit5
        # A first guess that repeats a word of the sentence ("The train leaves from the
        # [train]") is the small model's typical mistake: counted apart to watch it.
        echoes += guesses[0].lower() in re.findall(r"\w+", row["text"].replace("[MASK]", "").lower())
        if show:
            print(f"{'1' if hit1 else '5' if hit5 else '-'}  {row['text']:<60} {' '.join(guesses)}")
    n = len(rows)
    return {"sentences": n, "p@1": at1 / n, "p@5": at5 / n, "first_guess_repeats_the_sentence": echoes / n}


def lama_squad(lm: models.MaskedLM) -> dict:
    from explorer.core import lama_data
    from explorer.engine.lama import evaluate
    from explorer.paths import LAMA_SAMPLE

    data = run_to_end(lama_data.read_steps(LAMA_SAMPLE.parent))
    report = run_to_end(evaluate(lm, data.facts, "lab"))
    return {"facts": report.overall_facts.n, "p@1": report.overall_facts.p_at_1, "p@10": report.overall_facts.p_at_10}


@functools.cache
def _build_split(work: Path, seed: int) -> tuple:
    """The demo build's phase-3 sentences as its training saw them: tokenizer, parameters,
    the prepared chunks (validation: the held-out sentences not also trained on), and the
    training and held-out sentences themselves."""
    from transformers import AutoTokenizer

    from explorer.demo.build import train_params
    from explorer.engine import demo_model
    from explorer.core.corpus import split
    from explorer.engine.finetune import prepare

    p = train_params(work, 4, 1, seed)
    tokenizer = AutoTokenizer.from_pretrained(str(demo_model.base_folder()))  # every phase's vocabulary
    prepared = prepare(tokenizer, p)
    train_docs, val_docs = split(prepared.corpus.documents, p.validation, p.seed)
    return tokenizer, p, prepared, train_docs, val_docs


@functools.cache  # every packing of a build is scored on the same masks
def held_out_batches(work: Path, seed: int) -> tuple[list, list]:
    """The demo build's held-out sentences (phase 3's split for that build's seed, less those
    also among its training sentences), and as many of its training sentences that occur only
    once in the text (drawn with a fixed seed), each masked once with a fixed seed so every
    folder is scored on the same masks. The two perplexities apart say how much the model has
    learnt its sentences by heart."""
    import collections
    import random

    from explorer.engine.finetune import chunk, masked_batches

    tokenizer, p, prepared, train_docs, val_docs = _build_split(work, seed)
    counts = collections.Counter(prepared.corpus.documents)
    once = random.Random(0).sample([d for d in train_docs if counts[d] == 1], len(val_docs))
    trained_once = chunk(tokenizer, once, p.chunk_size, offsets=p.whole_word)
    return (masked_batches(tokenizer, prepared.val, p, seed=p.seed + 1),
            masked_batches(tokenizer, trained_once, p, seed=p.seed + 1))


@functools.cache
def held_out_cloze(work: Path, seed: int, common: int = 200) -> list[dict]:
    """A cloze set ~17 times the size of the written ones, from the build's unseen held-out
    sentences: in each (of four words or more) one word masked, drawn with a fixed seed among
    its words of three letters or more that are one token and not among the `common` most
    frequent tokens of the training sentences (so mostly content words, what people mask),
    the word itself the only answer. Large enough that a few points between builds are not
    noise (the written sets' 60 sentences move 1.7 points a sentence); but its sentences are
    the corpus's kind of text (chats, definitions, novels), not the everyday sentences of the
    goal, and one answer each makes its figures lower."""
    import random
    import re

    from explorer.engine.weighted_masking import token_counts

    tokenizer, _, prepared, _, val_docs = _build_split(work, seed)
    counts = token_counts(prepared.train, len(tokenizer), ordinary_only=True)
    frequent = set(counts.topk(common).indices.tolist())
    rng = random.Random(0)
    rows = []
    for text in val_docs:
        if len(re.findall(r"\w+", text)) < 4:
            continue
        # Not a piece of a contraction or a longer word: "couldn" of "couldn't" is no answer.
        words = [m for m in re.finditer(r"(?<![\w'’])[A-Za-z]{3,}(?![\w'’])", text)
                 if len(ids := tokenizer(m.group(), add_special_tokens=False)["input_ids"]) == 1 and ids[0] not in frequent]
        if words:
            m = rng.choice(words)
            rows.append({"text": text[: m.start()] + "[MASK]" + text[m.end() :], "answers": [m.group().lower()]})
    return rows


def packings(folder: Path, ranks: list[int | None], work: Path | None, seed: int) -> list[dict]:
    """The unpacked folder, then its delta with the word-embedding change at each rank (None:
    the full matrix), assembled as the app does."""
    import logging
    import shutil
    import tempfile

    from explorer.engine import demo_model

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # pack() logs the share each rank keeps

    def measure(what: str, model_folder: Path, size_mb: float | None) -> dict:
        lm = models.load(str(model_folder), dtype="float32")  # perplexities comparable on any device
        row = {"what": what, "delta_mb": size_mb, "cloze": cloze(lm, False), "cloze_dev": cloze(lm, False, CLOZE_DEV)}
        return {**row, **(held_out(lm, work, seed) if work is not None else {})}

    rows = [measure("unpacked", folder, None)]
    with tempfile.TemporaryDirectory() as tmp:
        for rank in ranks:
            what = "full matrix" if rank is None else f"rank {rank}"
            out = Path(tmp) / what.replace(" ", "-")
            delta = demo_model.pack(folder, out, embedding_rank=rank)
            (out / "model").mkdir()
            demo_model.assemble_into(out / "model", delta)
            rows.append(measure(what, out / "model", delta.stat().st_size / 1e6))
            shutil.rmtree(out)  # an assembled model is 90 MB
    return rows


def held_out(lm: models.MaskedLM, work: Path, seed: int) -> dict:
    """What the model makes of the build's text it was not trained on: perplexity (beside
    that of training sentences seen once) and the large held-out cloze set."""
    from explorer.engine.finetune import perplexity

    unseen, trained_once = held_out_batches(work, seed)
    return {
        "held_out_perplexity": perplexity(lm.model, unseen, lm.device),
        "trained_once_perplexity": perplexity(lm.model, trained_once, lm.device),
        "held_out_cloze": cloze(lm, False, rows=held_out_cloze(work, seed)),
    }


def latency(lms: dict[str, models.MaskedLM], runs: int) -> dict:
    times: dict[str, list[float]] = {name: [] for name in lms}
    for name, lm in lms.items():
        assert len(fill_mask(lm, LATENCY_TEXTS[name], 10).tokenization.tokens) == 16, name
        for _ in range(3):
            fill_mask(lm, LATENCY_TEXTS[name], 10)
    for _ in range(runs):  # interleaved, so both see the same machine
        for name, lm in lms.items():
            start = time.perf_counter()
            fill_mask(lm, LATENCY_TEXTS[name], 10)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="demo")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--show", action="store_true", help="print every cloze sentence with its top 5")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-lama", action="store_true")
    parser.add_argument(
        "--ranks", help="compare packings of the unpacked --model folder at these embedding ranks, e.g. full,128,64"
    )
    parser.add_argument("--work", type=Path, help="the demo build's work folder (its phase-3 corpus): adds the perplexity of its unseen sentences and of training sentences that occur once, and the held-out cloze set")
    parser.add_argument("--seed", type=int, default=42, help="the build's --seed (it picks the held-out sentences)")
    args = parser.parse_args()
    if args.ranks:
        if not (Path(args.model) / "model.safetensors").is_file():
            parser.error(f"--ranks needs --model to be an unpacked trained folder (no model.safetensors in {args.model})")
        try:
            ranks = [None if r.strip() == "full" else int(r) for r in args.ranks.split(",")]
        except ValueError:
            parser.error(f"--ranks takes 'full' or whole numbers, comma-separated: {args.ranks}")
        if any(r is not None and r < 1 for r in ranks):
            parser.error("a rank is at least 1")
        rows = packings(Path(args.model), ranks, args.work, args.seed)
        print(json.dumps({"model": args.model, "packings": rows}, indent=2))
        return 0
    lm = models.load(args.model, dtype="float32" if args.work else "auto")
    out: dict = {"model": args.model, "cloze": cloze(lm, args.show), "cloze_dev": cloze(lm, args.show, CLOZE_DEV)}
    if args.work is not None:
        out.update(held_out(lm, args.work, args.seed))
    if not args.skip_lama:
        out["lama_squad"] = lama_squad(lm)
    if not args.skip_latency:
        from explorer.engine.synthetic import make_model

        base_dir = HERE / "results" / "model-bert-base"
        if not (base_dir / "config.json").is_file():
            make_model(base_dir, arch="bert", shape="base")
        ms = latency({"demo": lm, "bert-base": models.load(str(base_dir))}, args.runs)
        out["latency_ms"] = {**ms, "ratio": ms["bert-base"] / ms["demo"]}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
