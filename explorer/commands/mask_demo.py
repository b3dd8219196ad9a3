"""`bert-explorer mask-demo TEXT`: mask a passage as BERT is trained, and read the loss."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from explorer.commands import CliError, add_model_options, int_in, load_model, print_json, with_load_warnings
from explorer.commands.params_cli import add_arguments, from_args
from explorer.core.mlm_params import MaskDemoParams

ORDER = 40


def register(sub: argparse._SubParsersAction) -> None:
    md = sub.add_parser(
        "mask-demo",
        help="mask ~15%% of TEXT at random, run the model with labels, and show its loss and reconstruction",
    )
    add_arguments(md, MaskDemoParams)  # TEXT, --rate, --seed, --no-80-10-10, as MaskDemoParams declares them
    add_model_options(md)
    md.add_argument("--lens", type=int_in(0, None), metavar="POSITION", help="also show the layer lens at token POSITION (from 0)")
    md.add_argument("--json", action="store_true", help="print the JSON contract")
    md.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from explorer.core.errors import InvalidParameterError
    from explorer.core.mlm_params import check_text

    p = from_args(MaskDemoParams, args)  # the rate and the seed: checked as the arguments were parsed
    try:  # before the model loads: a typo should not cost seconds
        check_text(p.text)
    except InvalidParameterError as exc:
        raise CliError(str(exc)) from exc

    from explorer.engine.layer_lens import layer_lens
    from explorer.engine.masking import mask_demo

    lm = load_model(args)
    result = mask_demo(lm, p.text, rate=p.rate, seed=p.seed, bert_rule=p.bert_rule)
    lens = None
    if args.lens is not None:
        position = args.lens
        if not 0 <= position < len(result.tokens):
            n = len(result.tokens)
            raise CliError(f"--lens {position}: the passage has {n} tokens, numbered 0 to {n - 1}.")
        true_id = result.ids[position] if position in result.masked_positions else None
        lens = layer_lens(lm, result.input_ids, position, true_id=true_id)
    if args.json:
        data: dict[str, Any] = result.to_json()
        if lens is not None:
            data["lens"] = lens.to_json()
        data["warnings"] = list(result.warnings)
        print_json(with_load_warnings(args, data))
        return 0
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print_demo(result)
    if lens is not None:
        print()
        print_lens(lens)
    return 0


def print_demo(r: Any) -> None:
    rule = "80/10/10 rule" if r.bert_rule else "every chosen token masked"
    masked = f"{len(r.masked)} of {len(r.tokens)} tokens masked"
    print(f"{r.model}  ·  rate {r.rate:g}  ·  seed {r.seed}  ·  {rule}  ·  {masked}")
    marks = {m.index for m in r.masked}
    print("input:          " + " ".join(f"«{t}»" if i in marks else t for i, t in enumerate(r.input_display)))
    print("reconstruction: " + " ".join(f"«{t}»" if i in marks else t for i, t in enumerate(r.reconstruction())))
    print()
    width = max([8] + [len(t) for m in r.masked for t in (m.original, m.input, m.predicted)])
    print(f"  {'pos':>4}  {'original':<{width}}  {'input':<{width}}  {'prediction':<{width}}  {'p(true)':>8}  {'loss':>7}")
    for m in r.masked:
        ok = "ok" if m.correct else "wrong"
        print(
            f"  {m.index:>4}  {m.original:<{width}}  {m.input:<{width}}  {m.predicted:<{width}}  "
            f"{m.p_true:8.4f}  {m.loss:7.3f}  {ok}"
        )
    right = sum(m.correct for m in r.masked)
    print()
    print(f"loss {r.loss:.4f}  (transformers' MLM loss: the mean over the {len(r.masked)} masked positions)")
    print(f"accuracy {right}/{len(r.masked)} = {r.accuracy:.1%}")


def print_lens(lens: Any) -> None:
    true = f", true token {lens.true_token}" if lens.true_token is not None else ""
    print(f"layer lens at position {lens.position} (input {lens.input_token}{true}); final prediction: {lens.final_token}")
    name_w = max(len(n) for n in lens.layer_names)
    print(f"  {'read after':<{name_w}}  {'p(final)':>8}  {'rank':>6}  top {lens.top_probs.shape[1]}")
    for i, name in enumerate(lens.layer_names):
        top = ", ".join(f"{t} {p:.3f}" for t, p in zip(lens.top_tokens[i], lens.top_probs[i]))
        print(f"  {name:<{name_w}}  {lens.final_probs[i]:8.4f}  {lens.final_ranks[i]:>6}  {top}")
