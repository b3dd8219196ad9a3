"""LAMA evaluation speed: our batched `evaluate` against the lab's one-sentence-at-a-time loop.

`python benchmarks/lama.py` (about 2-4 minutes on 2 cores) prints a Markdown table.

The data is the shipped SQuAD subset (305 facts, explorer.paths.LAMA_SAMPLE); the model is
bert-base-shaped with random weights (same compute as bert-base-cased). The synthetic
tokenizer of explorer.engine.synthetic knows only ~200 words and spells every other word
letter by letter (41 tokens per sentence here instead of ~15 for bert-base-cased), which
would make every sequence three times too long. So by default the benchmark gives the same
weights a vocabulary that holds the SQuAD words (still 28,996 entries), and the sequences
have about bert-base-cased's length. `--letter-vocab` keeps the letter-by-letter one.

Compared, on the same sentences (Fact.sentence):
- lab loop, as written: `BertForMaskedLM(output_attentions=True)` (eager attention), one
  sentence per forward, logits for every position, no `no_grad`, attentions kept, softmax
  and top-10 at the mask. This is lab 000's cell, minus the tqdm bar.
- lab loop, lean: the same loop under `inference_mode`, sdpa attention, no attentions: the
  best a one-sentence-at-a-time loop does, so the speed-up is not flattered.
- ours: `explorer.engine.lama.evaluate(lm, facts, "lab", batch_size=B)`: sorted by length,
  padded batches, MLM head at the mask only, ranks over the whole vocabulary.

Each variant is warmed up on a few sentences, then timed over all facts in `--runs` rounds
through all variants (the best run counts: other load on the machine only ever slows a run
down, and interleaving spreads it over the variants alike).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import CACHED_MODEL, RESULTS, CpuWatch, machine  # noqa: E402  (benchmarks/run.py, not edited)

log = logging.getLogger("benchmarks.lama")
WORD_VOCAB_MODEL = RESULTS / "model-bert-base-squad-vocab"
WARMUP = 8
BASIC_SPLIT = re.compile(r"\w+|[^\w\s]")  # BERT's basic tokenizer: words and single punctuation marks


def base_model() -> Path:
    """The bert-base-shaped random model benchmarks/run.py caches (built here if missing)."""
    from explorer.engine.synthetic import make_model

    if (CACHED_MODEL / "config.json").is_file() and any(CACHED_MODEL.glob("*.safetensors")):
        return CACHED_MODEL
    RESULTS.mkdir(parents=True, exist_ok=True)
    building = CACHED_MODEL.with_name(CACHED_MODEL.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    make_model(building, arch="bert", shape="base")
    shutil.rmtree(CACHED_MODEL, ignore_errors=True)
    building.rename(CACHED_MODEL)
    return CACHED_MODEL


def word_vocab_model(base: Path, texts: Sequence[str]) -> Path:
    """The base model's weights with a vocabulary that holds every word of `texts`.

    The filler entries (tok123) of the synthetic vocabulary are replaced, so the size and the
    weights stay bert-base's and only the sequence lengths change.
    """
    from transformers import BertTokenizer

    folder = WORD_VOCAB_MODEL
    if (folder / "vocab.txt").is_file() and (folder / "model.safetensors").is_file():
        return folder
    vocab = (base / "vocab.txt").read_text(encoding="utf-8").splitlines()
    known = set(vocab)
    words = [w for w in dict.fromkeys(t for text in texts for t in BASIC_SPLIT.findall(text)) if w not in known]
    fillers = [i for i, tok in enumerate(vocab) if re.fullmatch(r"tok\d+", tok)]
    if len(words) > len(fillers):
        raise SystemExit(f"{len(words)} new words but only {len(fillers)} free vocabulary entries")
    for i, word in zip(fillers, words):
        vocab[i] = word
    building = folder.with_name(folder.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    (building / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizer(vocab=str(building / "vocab.txt"), do_lower_case=False).save_pretrained(building)
    for name in ("config.json", "model.safetensors"):
        shutil.copyfile(base / name, building / name)
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    return folder


# --- the lab's loop ------------------------------------------------------------------------
def lab_loop(model: Any, tokenizer: Any, sentences: Sequence[str], labels: Sequence[str], *, lean: bool) -> list[str]:
    """Lab 000's cell: one full forward per sentence, softmax and top-10 at the mask.

    As written (lean=False) it runs with autograd on and keeps every layer's attention, as the
    lab does for its show(); lean=True is the same loop without those costs.
    """
    import contextlib

    import torch

    mask_id = tokenizer.convert_tokens_to_ids(tokenizer.mask_token)
    results = []
    guard = torch.inference_mode() if lean else contextlib.nullcontext()
    with guard:
        for sentence, label in zip(sentences, labels):
            inp = torch.tensor([tokenizer.encode(sentence)], device=model.device)
            mask = inp == mask_id
            dict_out = model(inp)
            out, attn = dict_out["logits"], dict_out.get("attentions")
            probs, ids = out[mask].softmax(1).topk(10)
            probs = probs[0].tolist()
            tokens = tokenizer.convert_ids_to_tokens(ids[0].tolist())
            results.append({"sentence": sentence, "label": label, "top_tokens": tokens, "top_probs": probs,
                            "correct@1": tokens[0] == label, "attn": attn})
    return [r["top_tokens"][0] for r in results]


def ours(lm: Any, facts: Sequence[Any], batch_size: int) -> list[str]:
    from explorer.engine.lama import evaluate

    steps = evaluate(lm, facts, "lab", batch_size=batch_size)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return [r.top_tokens[0] for r in done.value.results]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--runs", type=int, default=3, help="rounds of timed passes over all facts; the best counts")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--model", type=Path, help="a model folder instead of the bert-base-shaped random one")
    parser.add_argument("--letter-vocab", action="store_true",
                        help="keep the synthetic letter-by-letter vocabulary (sequences ~3x too long)")
    parser.add_argument("--skip-as-written", action="store_true", help="skip the slowest variant")
    parser.add_argument("--output", type=Path, default=RESULTS / "lama.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

    import torch
    from transformers import AutoTokenizer, BertForMaskedLM

    if args.threads:
        torch.set_num_threads(args.threads)

    from explorer.core import lama_data

    from explorer.engine import models
    from explorer.paths import LAMA_SAMPLE

    facts = lama_data.read(LAMA_SAMPLE).facts
    sentences, labels = [f.sentence for f in facts], [f.obj_label for f in facts]
    if args.model:
        folder = args.model
    else:
        folder = base_model()
        if not args.letter_vocab:
            folder = word_vocab_model(folder, sentences + labels)
    lm = models.load(str(folder), device="cpu")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    lengths = [len(tokenizer.encode(s)) for s in sentences]
    log.info("%d facts, %.1f tokens per sentence (max %d), model %s, %d torch threads",
             len(facts), statistics.mean(lengths), max(lengths), folder, torch.get_num_threads())

    res: dict[str, Any] = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), "model": str(folder),
                           "facts": len(facts), "mean_tokens": statistics.mean(lengths), "variants": {}}
    lean_model = BertForMaskedLM.from_pretrained(folder, attn_implementation="sdpa").eval()
    variants: dict[str, Callable[[], list[str]]] = {
        "lab loop, lean": lambda: lab_loop(lean_model, tokenizer, sentences, labels, lean=True),
    }
    if not args.skip_as_written:
        lab_model = BertForMaskedLM.from_pretrained(folder, output_attentions=True, attn_implementation="eager").eval()
        variants["lab loop, as written"] = lambda: lab_loop(lab_model, tokenizer, sentences, labels, lean=False)
    for b in [1, *args.batch_sizes]:
        variants[f"ours, batch {b}"] = lambda b=b: ours(lm, facts, b)
    lab_loop(lean_model, tokenizer, sentences[:WARMUP], labels[:WARMUP], lean=True)
    if not args.skip_as_written:
        lab_loop(lab_model, tokenizer, sentences[:WARMUP], labels[:WARMUP], lean=False)
    for b in [1, *args.batch_sizes]:
        ours(lm, facts[:WARMUP], b)

    # Rounds through every variant, not all runs of one then the next: load from other
    # processes then hits them alike, and the best of each is taken.
    watch = CpuWatch()
    times: dict[str, list[float]] = {name: [] for name in variants}
    top1: dict[str, list[str]] = {}
    for round_ in range(args.runs):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            top1[name] = fn()
            times[name].append(time.perf_counter() - t0)
            log.info("round %d  %-22s %.2f s", round_ + 1, name, times[name][-1])
    res["other_cpu_load"] = watch.other_share()
    reference = top1["lab loop, lean"]
    for name, ts in times.items():
        best = min(ts)
        agree = None if name == "lab loop, lean" else sum(a == b for a, b in zip(reference, top1[name]))
        res["variants"][name] = {"best_s": best, "times_s": ts, "facts_per_s": len(facts) / best, "top1_agree": agree}

    v = res["variants"]
    best_name = min((n for n in v if n.startswith("ours") and n != "ours, batch 1"), key=lambda n: v[n]["best_s"])
    res["best"] = best_name
    lines = [
        f"LAMA SQuAD subset, {len(facts)} facts, bert-base-shaped model (random weights), "
        f"{res['mean_tokens']:.1f} tokens per sentence, {machine()['cpu']}, {torch.get_num_threads()} threads",
        "",
        "| variant | time (s) | facts/s | speed-up vs lab as written | vs lab lean | same top-1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in v.items():
        written = v.get("lab loop, as written", {}).get("best_s")
        lean = v["lab loop, lean"]["best_s"]
        agree = "–" if r["top1_agree"] is None else f"{r['top1_agree']}/{len(facts)}"
        mark = " **(best)**" if name == best_name else ""
        vs_written = "n/a" if written is None else f"{written / r['best_s']:.1f}x"
        lines.append(f"| {name}{mark} | {r['best_s']:.2f} | {r['facts_per_s']:.1f} | "
                     f"{vs_written} | {lean / r['best_s']:.1f}x | {agree} |")
    share = res["other_cpu_load"]
    lines += ["", f"Other processes used {share:.0%} of the CPUs meanwhile." if share is not None else ""]
    print("\n".join(lines))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
