"""`bert-explorer fill-mask TEXT`: the model's top-k guesses for every mask."""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING

from explorer.commands import CliError, add_model_options, int_in, load_model, print_json, text, with_load_warnings
from explorer.commands.params_cli import add_arguments, from_args
from explorer.core.joint import JointParams
from explorer.core.mask_modes import BIDIRECTIONAL, CAUSAL

if TYPE_CHECKING:
    from explorer.core.joint import JointResult

ORDER = 10
MAX_TOP_K = 1_000_000  # more than any vocabulary: the whole vocabulary is the most there is


def register(sub: argparse._SubParsersAction) -> None:
    fm = sub.add_parser("fill-mask", help="the model's top-k guesses for every mask in TEXT")
    fm.add_argument("text", metavar="TEXT", type=text, help='a sentence with [MASK] in it, e.g. "Nice to [MASK] you."')
    add_model_options(fm)
    fm.add_argument("--top-k", type=int_in(1, MAX_TOP_K), default=10, help="guesses per mask (default 10)")
    fm.add_argument("--json", action="store_true", help="print the stable JSON contract")
    fm.add_argument("--causal", action="store_true", help="each token sees only itself and its left (a causal mask, "
                    "as GPT reads): what BERT loses without its right context; it was not trained this way")
    joint = fm.add_argument_group(
        "joint filling", "fill several masks together: each choice is read back by the model before the next, "
        "fillings are ranked by their pseudo-log-likelihood over the masks (the options below imply --joint)")
    joint.add_argument("--joint", action="store_true", help="also list the best joint fillings of all the masks")
    add_arguments(joint, JointParams)  # --beam, --results, --order, --pieces, as JointParams declares them
    fm.set_defaults(func=run)


def _joint_asked(args: argparse.Namespace) -> bool:
    """--joint, or any of its options given with a value other than the default."""
    return args.joint or from_args(JointParams, args) != JointParams()


def run(args: argparse.Namespace) -> int:
    from explorer.engine.fill_mask import fill_mask

    params = from_args(JointParams, args) if _joint_asked(args) else None
    if params is not None and "[MASK]" not in args.text and "<mask>" not in args.text:
        raise CliError("--joint fills masks: put [MASK] in TEXT where the model should guess.")
    if params is not None and args.causal:
        raise CliError("--causal and --joint do not go together: joint filling reads both ways; drop one of them.")
    lm = load_model(args)
    result = fill_mask(lm, args.text, args.top_k, mask=CAUSAL if args.causal else BIDIRECTIONAL)
    joint = None
    if params is not None:
        from explorer.engine.joint import joint_fill

        joint = joint_fill(lm, args.text, params)
    if args.json:
        data = result.to_json()
        if joint is not None:
            data.update(joint.to_json())
            data["warnings"] = list(dict.fromkeys([*result.warnings, *joint.warnings]))
        print_json(with_load_warnings(args, data), indent=2)
        return 0
    for warning in dict.fromkeys([*result.warnings, *(joint.warnings if joint else ())]):
        print(f"warning: {warning}", file=sys.stderr)
    print("tokens: " + " ".join(result.tokenization.tokens))
    if args.causal:
        print("mask: causal (each token sees only itself and its left)")
    for n, mask in enumerate(result.masks, 1):
        print(f"\nmask {n} (token {mask.index}):")
        for rank, c in enumerate(mask.candidates, 1):
            bar = "#" * round(c.score * 40) if math.isfinite(c.score) else ""  # NaN: a model with broken weights
            print(f"  {rank:>3}. {c.token:<20} {c.score:8.4f}  {bar}")
    if joint is not None:
        print_joint(joint)
    return 0


def print_joint(joint: "JointResult") -> None:
    print(f"\njoint fillings (beam {joint.beam}, {joint.order} order; ranked by {joint.ranked_by}):")
    per_piece = joint.max_pieces > 1
    if not joint.fillings:
        print("  none (see the warning above)")
    for rank, f in enumerate(joint.fillings, 1):
        score = f"{f.per_piece:8.3f}/piece" if per_piece else f"{f.score:8.3f}"
        print(f"  {rank:>3}. {score}  {f.text}   [{' '.join(f.tokens)}]")
    if joint.independent is not None:
        f = joint.independent
        print(f"  each mask alone: {f.score:8.3f}  {f.text}   [{' '.join(f.tokens)}]")
