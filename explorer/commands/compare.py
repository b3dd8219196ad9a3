"""`bert-explorer compare TEXT --models A B`: two models' top-k for every mask, side by side.

Each model's part of the JSON is exactly what `fill-mask TEXT --model X --json` prints for it;
`agreement` says per mask (in text order) whether the top-1 words match and how much of the
top-k the two share, compared by the word a person reads (explorer.core.compare).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from explorer.commands import (
    CliError,
    add_model_options,
    int_in,
    load_model,
    print_json,
    strict_payload,
    text,
    with_load_warnings,
)
from explorer.commands.fill_mask import MAX_TOP_K

if TYPE_CHECKING:
    from explorer.core.compare import CompareResult
    from explorer.core.results import Candidate, FillMaskResult

ORDER = 15
COLUMN = 30  # characters per model column in the human output


def register(sub: argparse._SubParsersAction) -> None:
    cp = sub.add_parser("compare", help="two models' top-k guesses for every mask in TEXT, side by side")
    cp.add_argument("text", metavar="TEXT", type=text, help='a sentence with [MASK] (or <mask>) in it')
    # Counted in run(): argparse's own "expected 2 arguments" would not say what to type.
    cp.add_argument("--models", nargs="+", metavar="MODEL", type=text, required=True,
                    help="the two models to compare: hub ids, local folders, or 'demo'")
    add_model_options(cp, model=False)
    cp.add_argument("--top-k", type=int_in(1, MAX_TOP_K), default=10, help="guesses per mask and model (default 10)")
    cp.add_argument("--json", action="store_true", help="print the stable JSON contract")
    cp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if len(args.models) != 2:
        raise CliError(
            f"--models takes exactly two models, got {len(args.models)}: e.g. --models bert-base-cased roberta-base"
        )
    from explorer.core.compare import CompareResult
    from explorer.engine.fill_mask import fill_mask

    # One namespace per model, as `fill-mask --model X` has it, so that each model's part of
    # the output is what that command prints, warnings included.
    per_model = [
        argparse.Namespace(**{**vars(args), "model": name, "load_warnings": [], "beside": n == 1})
        for n, name in enumerate(args.models)
    ]
    first = load_model(per_model[0])
    second = first if args.models[1] == args.models[0] else load_model(per_model[1])
    result = CompareResult.of(
        args.text, fill_mask(first, args.text, args.top_k), fill_mask(second, args.text, args.top_k)
    )
    if args.json:
        payload = result.to_json()
        payload["results"] = [strict_payload(with_load_warnings(ns, r)) for ns, r in zip(per_model, payload["results"])]
        print_json(payload, indent=2)
        return 0
    print_side_by_side(result)
    return 0


def print_side_by_side(result: CompareResult) -> None:
    """Per mask: agreement on one line, then rank, A's word and score, B's word and score;
    a * marks a word that is in the other model's top-k too."""
    from explorer.core.compare import word

    a, b = result.results
    for warning in [f"{r.model}: {w}" for r in (a, b) for w in r.warnings] + list(result.warnings):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"A: {a.model}\nB: {b.model}")
    for agree, ma, mb in zip(result.agreement, a.masks, b.masks):
        words = ({word(c) for c in ma.candidates}, {word(c) for c in mb.candidates})
        same = "same top-1" if agree.same_top1 else "different top-1"
        print(f"\nmask {agree.index + 1}: {same}, top-{max(len(ma.candidates), len(mb.candidates))} "
              f"overlap {agree.topk_overlap:.0%}")
        print(f"       {'A':<{COLUMN}}  B")
        for rank in range(max(len(ma.candidates), len(mb.candidates))):
            cells = [
                _cell(r, cands[rank], word(cands[rank]) in other) if rank < len(cands) else " " * COLUMN
                for r, cands, other in ((a, ma.candidates, words[1]), (b, mb.candidates, words[0]))
            ]
            print(f"  {rank + 1:>3}. {cells[0]}  {cells[1]}".rstrip())
    if result.agreement:
        print("\n* in the other model's top-k too")


def _cell(result: FillMaskResult, c: Candidate, shared: bool) -> str:
    shown = result.subwords.label(c.text, c.continues_word)  # "##ing" or "…ing": glued to the word before
    width = COLUMN - 10
    shown = shown if len(shown) <= width else shown[: width - 1] + "…"
    return f"{shown:<{width}}{'*' if shared else ' '}{c.score:9.4f}"
