"""`bert-explorer finetune CORPUS --out DIR`: adapt a masked LM to your own text."""

from __future__ import annotations

import argparse
import json

from explorer import DEFAULT_MODEL
from explorer.commands import CliError, drive, join_launch, quiet_libraries, resolve_model_source, with_load_warnings
from explorer.commands.params_cli import add_arguments, from_args
from explorer.core.finetune_params import FinetuneParams

ORDER = 60


def register(sub: argparse._SubParsersAction) -> None:
    ft = sub.add_parser(
        "finetune",
        help="continue masked-LM training on your own text, or pre-train a new model from scratch; "
        "perplexity before and after",
        description="CORPUS is a .txt file (one document per line, or paragraphs separated by blank lines), "
        "or a .jsonl / .csv file with a text column. With --from-scratch, a new randomly initialised BERT of "
        "--size (or --layers/--hidden/--heads/--intermediate) is trained instead, with the base model's "
        "tokenizer or a new WordPiece vocabulary (--new-vocab SIZE).",
    )
    # Every option, its range and help, as FinetuneParams declares it; --max-steps or --epochs.
    add_arguments(ft, FinetuneParams, exclusive=[("max_steps", "epochs")])
    ft.add_argument("--model", default=None, help=(
        f"base model: hub id, local folder or 'demo' (default: {DEFAULT_MODEL}, or the demo model when "
        "that is neither cached nor reachable)"))
    ft.add_argument("--device", default="auto")
    ft.add_argument("--json", action="store_true")
    ft.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from explorer.core.errors import ExplorerError
    from explorer.engine.finetune import check_params, finetune
    from explorer.core.finetune_checks import OutOfRange, scratch_options_unused
    from explorer.core.world import launch_from

    params = from_args(FinetuneParams, args, base_model=args.model or "")
    unused = scratch_options_unused(params)
    if unused:
        raise CliError(unused)
    if params.from_scratch and params.new_vocab and launch_from().distributed:
        # Each process would train its own vocabulary; nothing makes them agree token for token.
        raise CliError("--new-vocab trains a vocabulary in one process: run it without torchrun, "
                       "or from scratch with the base model's tokenizer (leave --new-vocab out).")
    quiet_libraries()
    try:
        check_params(params)  # before anything slow, so a typo costs nothing
        if params.from_scratch and params.new_vocab:  # a new model and vocabulary: no base model is read
            source, name = None, ""
        else:
            source, name = resolve_model_source(args)
        # Under torchrun: every process trains on its share of each step; rank 0 alone prints and saves.
        world = join_launch(args)
        result = drive(finetune(params, source, name, args.device, world), label="training")
    except OutOfRange as exc:  # the engine says "the learning rate"; here it is --lr
        message = str(exc)
        raise CliError(f"--{exc.field.replace('_', '-')}: {message[0].lower()}{message[1:]}") from exc
    except ExplorerError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(with_load_warnings(args, result.to_json()), indent=2, allow_nan=False))
    else:
        done = "trained" if result.scratch else "fine-tuned"
        print(f"{done} {result.base_model} for {result.steps} steps "
              f"({result.train_chunks} training chunks, {result.validation_chunks} held out)")
        if result.scratch:
            print(f"vocabulary: {result.scratch['vocab_size']:,} tokens, {result.scratch['tokenizer']}")
        if result.world_size > 1:
            print(f"on {result.world_size} processes: {result.batch_size} chunks each per micro-batch, "
                  f"an effective batch of {result.effective_batch_size} chunks per step")
        print(f"perplexity before: {result.perplexity_before:.2f}")
        print(f"perplexity after:  {result.perplexity_after:.2f}")
        for warning in result.warnings:  # they qualify the perplexities above
            print(f"note: {warning}")
        print(f"saved to {result.out}  (open it with: bert-explorer --model {result.out})")
    return 0
