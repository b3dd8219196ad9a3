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
        help="continue masked-LM training on your own text; perplexity before and after",
        description="CORPUS is a .txt file (one document per line, or paragraphs separated by blank lines), "
        "or a .jsonl / .csv file with a text column.",
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
    from explorer.core.finetune_checks import OutOfRange

    params = from_args(FinetuneParams, args, base_model=args.model or "")
    quiet_libraries()
    try:
        check_params(params)  # before anything slow, so a typo costs nothing
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
        print(f"fine-tuned {result.base_model} for {result.steps} steps "
              f"({result.train_chunks} training chunks, {result.validation_chunks} held out)")
        if result.world_size > 1:
            print(f"on {result.world_size} processes: {result.batch_size} chunks each per micro-batch, "
                  f"an effective batch of {result.effective_batch_size} chunks per step")
        print(f"perplexity before: {result.perplexity_before:.2f}")
        print(f"perplexity after:  {result.perplexity_after:.2f}")
        for warning in result.warnings:  # they qualify the perplexities above
            print(f"note: {warning}")
        print(f"saved to {result.out}  (open it with: bert-explorer --model {result.out})")
    return 0
