"""Joint filling and sentence scoring: `python benchmarks/joint.py` (about a minute on 2 cores).

1. PLL of a 20-token sentence (bert-base shape, random weights): `explorer.engine.scoring`
   (one batched forward, a row per masked position) against the one-mask-at-a-time loop (a
   full forward per position, as a first implementation would write it); interleaved runs,
   median. Goal: at least 5x.
2. Joint filling of 3 masks, beam 5 (bert-base shape): `explorer.engine.joint.joint_fill`
   against the per-mask fill-mask of the same text; median.
3. On the demo model (real trained weights), the two-mask sentences of
   benchmarks/demo_two_masks.jsonl: how often the best joint filling differs from the
   independent one (each mask's argmax), and the mean PLL gain; a few examples to read.

Prints a Markdown table; numbers, not a test.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from lama import base_model  # noqa: E402  (benchmarks/lama.py: the cached bert-base-shaped model)

# 20 tokens with [CLS] and [SEP], words of explorer.engine.synthetic.WORDS only.
SENTENCE_20 = "The cat sat on the mat in the big old house with a dog and she said it was good"
JOINT_3 = "The [MASK] sat on the [MASK] in the big old house with a [MASK] ."


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def loop_pll(lm, text: str) -> float:
    """The reference: one full forward per token, the token masked, log p read at it."""
    import torch

    ids = lm.tokenizer(text)["input_ids"]
    total = 0.0
    with torch.inference_mode():
        for p, t in enumerate(ids):
            if t in lm.special_ids:
                continue
            row = list(ids)
            row[p] = lm.mask_token_id
            logits = lm.model(input_ids=torch.tensor([row])).logits[0, p]
            total += float(logits.log_softmax(-1)[t])
    return total


def speed(runs: int) -> list[tuple[str, str]]:
    from explorer.core.joint import JointParams
    from explorer.engine import models
    from explorer.engine.fill_mask import fill_mask
    from explorer.engine.joint import joint_fill
    from explorer.engine.scoring import score_sentence

    lm = models.load(str(base_model()), device="cpu")
    tokens = len(lm.tokenizer(SENTENCE_20)["input_ids"])
    assert abs(score_sentence(lm, SENTENCE_20).pll - loop_pll(lm, SENTENCE_20)) < 1e-2
    score_sentence(lm, SENTENCE_20), loop_pll(lm, SENTENCE_20)  # warm up
    batched, looped = [], []
    for _ in range(runs):  # interleaved: a busy moment of the machine hits both
        batched.append(median_ms(lambda: score_sentence(lm, SENTENCE_20), 1))
        looped.append(median_ms(lambda: loop_pll(lm, SENTENCE_20), 1))
    b, l_ = statistics.median(batched), statistics.median(looped)
    params = JointParams(beam=5)
    joint_fill(lm, JOINT_3, params), fill_mask(lm, JOINT_3)
    joint = median_ms(lambda: joint_fill(lm, JOINT_3, params), runs)
    single = median_ms(lambda: fill_mask(lm, JOINT_3), runs)
    masks = len(fill_mask(lm, JOINT_3).masks)
    return [
        (f"PLL of a {tokens}-token sentence, one batched forward ({tokens - 2} rows)", f"{b:.0f} ms"),
        ("PLL of the same sentence, one forward per token (reference loop)", f"{l_:.0f} ms"),
        ("batched speed-up", f"**{l_ / b:.1f}x**"),
        (f"joint fill, {masks} masks, beam 5 (confidence order)", f"{joint:.0f} ms"),
        ("per-mask fill-mask of the same text (for scale)", f"{single:.0f} ms"),
    ]


def quality(examples: int) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    from explorer.core.joint import JointParams
    from explorer.engine import models
    from explorer.engine.joint import joint_fill

    lm = models.load("demo", device="cpu")
    texts = [json.loads(line)["text"] for line in (HERE / "demo_two_masks.jsonl").read_text().splitlines() if line.strip()]
    differ, gains, shown = 0, [], []
    for text in texts:
        r = joint_fill(lm, text, JointParams(beam=5, results=1))
        best, ind = r.fillings[0], r.independent
        gains.append(best.score - ind.score)
        if best.token_ids != ind.token_ids:
            differ += 1
            if len(shown) < examples:
                shown.append((text, f"{ind.text} ({ind.score:.1f})", f"{best.text} ({best.score:.1f})"))
    rows = [
        ("two-mask sentences (demo model)", str(len(texts))),
        ("best joint filling differs from the independent one", f"{differ} ({differ / len(texts):.0%})"),
        ("mean PLL gain of the joint filling over the independent", f"{statistics.mean(gains):.2f} nats"),
    ]
    return rows, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--examples", type=int, default=8)
    args = parser.parse_args()
    import torch

    rows = speed(args.runs)
    more, shown = quality(args.examples)
    print(f"\n{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| measure | value |\n|---|---:|")
    for name, value in rows + more:
        print(f"| {name} | {value} |")
    print("\n| sentence | each mask alone (PLL) | joint (PLL) |\n|---|---|---|")
    for text, ind, best in shown:
        print(f"| {text} | {ind} | {best} |")


if __name__ == "__main__":
    main()
