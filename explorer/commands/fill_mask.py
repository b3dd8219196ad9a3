"""`bert-explorer fill-mask TEXT`: the model's top-k guesses for every mask."""

from __future__ import annotations

import argparse
import math
import sys

from explorer.commands import add_model_options, int_in, load_model, print_json, text, with_load_warnings

ORDER = 10
MAX_TOP_K = 1_000_000  # more than any vocabulary: the whole vocabulary is the most there is


def register(sub: argparse._SubParsersAction) -> None:
    fm = sub.add_parser("fill-mask", help="the model's top-k guesses for every mask in TEXT")
    fm.add_argument("text", metavar="TEXT", type=text, help='a sentence with [MASK] in it, e.g. "Nice to [MASK] you."')
    add_model_options(fm)
    fm.add_argument("--top-k", type=int_in(1, MAX_TOP_K), default=10, help="guesses per mask (default 10)")
    fm.add_argument("--json", action="store_true", help="print the stable JSON contract")
    fm.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from explorer.engine.fill_mask import fill_mask

    lm = load_model(args)
    result = fill_mask(lm, args.text, args.top_k)
    if args.json:
        print_json(with_load_warnings(args, result.to_json()), indent=2)
        return 0
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print("tokens: " + " ".join(result.tokenization.tokens))
    for n, mask in enumerate(result.masks, 1):
        print(f"\nmask {n} (token {mask.index}):")
        for rank, c in enumerate(mask.candidates, 1):
            bar = "#" * round(c.score * 40) if math.isfinite(c.score) else ""  # NaN: a model with broken weights
            print(f"  {rank:>3}. {c.token:<20} {c.score:8.4f}  {bar}")
    return 0
