"""`bert-explorer generate`: sample text from a masked LM (Wang & Cho 2019).

Progress goes to stderr; the samples (one per line, or the JSON contract) to stdout. Ctrl+C
stops the chain and still prints the samples as they stand, with exit code 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator
from typing import Any

from explorer.commands import (
    CliError,
    add_model_options,
    drive,
    finite_float,
    int_in,
    load_model,
    print_json,
    seed,
    text,
    with_load_warnings,
)

ORDER = 30
EXIT_INTERRUPTED = 130


def register(sub: argparse._SubParsersAction) -> None:
    from explorer.core import generation_params as gp

    d = gp.GenerationParams()
    g = sub.add_parser(
        "generate",
        help="sample text from the model, one token at a time (Wang & Cho 2019)",
        description="Sample text from a masked LM: start from the seed text and masks, then re-mask "
        "and re-sample positions, cooling the temperature after every sweep.",
    )
    opt = g.add_argument
    opt("--seed-text", type=text, default=d.seed_text, metavar="T",
        help="text to start from (default: none); [MASK]s in it are filled too")
    opt("--length", type=int_in(1, gp.MAX_LENGTH), default=d.length, metavar="N",
        help=f"tokens to generate after the seed text (default {d.length})")
    opt("--batch-size", type=int_in(1, gp.MAX_BATCH_SIZE), default=d.batch_size, metavar="B",
        help=f"samples drawn together (default {d.batch_size})")
    opt("--temperature", type=finite_float(0.0, gp.MAX_TEMPERATURE, lo_open=True), default=d.temperature, metavar="T",
        help=f"above 0, at most {gp.MAX_TEMPERATURE:g}; lower is more certain (default {d.temperature:g})")
    opt("--temperature-decay", type=finite_float(0.0, gp.MAX_TEMPERATURE_DECAY, lo_open=True),
        default=d.temperature_decay, metavar="D",
        help=f"multiplies the temperature after each sweep, above 0, at most {gp.MAX_TEMPERATURE_DECAY:g} "
        f"(default {d.temperature_decay:g})")
    opt("--top-k", type=int_in(0, gp.MAX_TOP_K), default=d.top_k, metavar="K",
        help="sample among the K likeliest tokens; 0 = all (default)")
    opt("--burn-in", type=int_in(0, gp.MAX_ITER), default=d.burn_in, metavar="N",
        help="iterations on the full distribution before top-k applies (default 0)")
    opt("--max-iter", type=int_in(1, gp.MAX_ITER), default=d.max_iter, metavar="N",
        help=f"iterations to run (default {d.max_iter})")
    opt("--strategy", default=d.strategy, choices=gp.STRATEGIES, help=f"order of sampling (default {d.strategy})")
    opt("--seed", type=seed(), default=d.seed, metavar="S",
        help="random seed: the same seed on the same device gives the same samples")
    add_model_options(g)
    g.add_argument("--json", action="store_true", help='print {"model", "params", "samples", "iterations", "seconds"}')
    g.set_defaults(func=run)


def _params(args: argparse.Namespace) -> Any:
    from explorer.core.generation_params import GenerationParams

    params = GenerationParams(
        seed_text=args.seed_text,
        length=args.length,
        batch_size=args.batch_size,
        temperature=args.temperature,
        temperature_decay=args.temperature_decay,
        top_k=args.top_k,
        burn_in=args.burn_in,
        max_iter=args.max_iter,
        strategy=args.strategy,
        seed=args.seed,
    )
    problems = params.problems()
    if problems:  # before the model loads: no reason to wait for it to say this
        raise CliError(" ".join(problems))
    return params


def _remember_last(steps: Generator[Any, None, Any], last: list[Any]) -> Generator[Any, None, Any]:
    """Pass the steps through, keeping the latest in last[0] for an interrupted run."""
    try:
        while True:
            try:
                step = next(steps)
            except StopIteration as done:
                return done.value
            last[:] = [step]
            yield step
    finally:
        steps.close()


def _print(result: Any, args: argparse.Namespace) -> None:
    if args.json:
        print_json(with_load_warnings(args, result.to_json()), indent=2)
    else:
        for sample in result.samples:
            print(sample)
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    from explorer.core.errors import InvalidParameterError
    from explorer.engine.generation import generate
    from explorer.core.generation_params import GenerationResult

    params = _params(args)
    lm = load_model(args)
    try:
        steps = generate(lm, params)
    except InvalidParameterError as exc:
        raise CliError(str(exc)) from exc
    last: list[Any] = []
    try:
        result = drive(_remember_last(steps, last), label="generate")
    except KeyboardInterrupt:
        if not last:
            raise
        result = GenerationResult.from_step(lm.name, params, last[0], stopped=True)
        _print(result, args)
        print(f"bert-explorer: stopped after {result.iterations} of {params.max_iter} iterations", file=sys.stderr)
        return EXIT_INTERRUPTED
    _print(result, args)
    if not args.json:
        print(f"{result.iterations} iterations in {result.seconds:.1f} s", file=sys.stderr)
    return 0
