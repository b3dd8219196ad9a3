"""`bert-explorer finetune CORPUS --out DIR`: adapt a masked LM to your own text."""

from __future__ import annotations

import argparse
import json

from explorer import DEFAULT_MODEL
from explorer.commands import CliError, drive, positive, quiet_libraries, resolve_model_source, with_load_warnings
from explorer.core.finetune_checks import SEED_MAX

ORDER = 60


def register(sub: argparse._SubParsersAction) -> None:
    ft = sub.add_parser(
        "finetune",
        help="continue masked-LM training on your own text; perplexity before and after",
        description="CORPUS is a .txt file (one document per line, or paragraphs separated by blank lines), "
        "or a .jsonl / .csv file with a text column.",
    )
    ft.add_argument("corpus", metavar="CORPUS")
    ft.add_argument("--out", required=True, metavar="DIR", help="where to save the adapted model (a new or empty folder)")
    ft.add_argument("--overwrite", action="store_true", help=(
        "replace --out when it holds a model: one this app saved, or a model folder with nothing else in it "
        "(never any other folder)"))
    ft.add_argument("--model", default=None, help=(
        f"base model: hub id, local folder or 'demo' (default: {DEFAULT_MODEL}, or the demo model when "
        "that is neither cached nor reachable)"))
    ft.add_argument("--device", default="auto")
    ft.add_argument("--text-column", default="text", help="the column holding the text (.jsonl / .csv)")
    ft.add_argument("--documents", choices=["auto", "lines", "paragraphs"], default="auto", help=".txt: how documents are separated")
    ft.add_argument("--validation", type=float, default=0.1, help="share held out to measure perplexity (default 0.1)")
    ft.add_argument("--chunk-size", type=positive, default=128)
    ft.add_argument("--mlm-probability", type=float, default=0.15)
    ft.add_argument("--whole-word", action="store_true", help="mask whole words, not single wordpieces")
    length = ft.add_mutually_exclusive_group()
    length.add_argument("--max-steps", type=positive, default=None)
    length.add_argument("--epochs", type=float, default=1.0)
    ft.add_argument("--lr", type=float, default=5e-5)
    ft.add_argument("--batch-size", type=positive, default=8)
    ft.add_argument("--grad-accum", type=positive, default=1, help="batches per optimizer step")
    ft.add_argument("--eval-every", type=int, default=0, help="measure perplexity every N steps (0: before and after only)")
    ft.add_argument("--seed", type=int, default=42, help=f"0 to {SEED_MAX:,} (default 42)")
    ft.add_argument("--json", action="store_true")
    ft.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from explorer.core.errors import ExplorerError
    from explorer.engine.finetune import check_params, finetune
    from explorer.core.finetune_checks import OutOfRange
    from explorer.core.finetune_params import FinetuneParams

    params = FinetuneParams(
        corpus=args.corpus, out=args.out, base_model=args.model or "", text_column=args.text_column,
        doc_mode=args.documents, validation=args.validation, chunk_size=args.chunk_size,
        mlm_probability=args.mlm_probability, whole_word=args.whole_word, max_steps=args.max_steps,
        epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, grad_accum=args.grad_accum,
        eval_every=args.eval_every, seed=args.seed, overwrite=args.overwrite,
    )
    quiet_libraries()
    try:
        check_params(params)  # before anything slow, so a typo costs nothing
        source, name = resolve_model_source(args)
        result = drive(finetune(params, source, name, args.device), label="training")
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
        print(f"perplexity before: {result.perplexity_before:.2f}")
        print(f"perplexity after:  {result.perplexity_after:.2f}")
        for warning in result.warnings:  # they qualify the perplexities above
            print(f"note: {warning}")
        print(f"saved to {result.out}  (open it with: bert-explorer --model {result.out})")
    return 0
