"""`bert-explorer generate`: sample text from a masked LM (Wang & Cho 2019).

Progress goes to stderr; the samples (one per line, or the JSON contract) to stdout. Ctrl+C
stops the chain and still prints the samples as they stand, with exit code 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator
from typing import Any

from explorer.commands import CliError, add_model_options, drive, load_model, print_json, with_load_warnings
from explorer.commands.params_cli import add_arguments, from_args

ORDER = 30
EXIT_INTERRUPTED = 130


def register(sub: argparse._SubParsersAction) -> None:
    from explorer.core.generation_params import GenerationParams

    g = sub.add_parser(
        "generate",
        help="sample text from the model, one token at a time (Wang & Cho 2019)",
        description="Sample text from a masked LM: start from the seed text and masks, then re-mask "
        "and re-sample positions, cooling the temperature after every sweep.",
    )
    add_arguments(g, GenerationParams)  # every option, its range and help, as GenerationParams declares it
    add_model_options(g)
    g.add_argument("--json", action="store_true", help='print {"model", "params", "samples", "iterations", "seconds"}')
    g.set_defaults(func=run)


def _params(args: argparse.Namespace) -> Any:
    from explorer.core.generation_params import GenerationParams

    params = from_args(GenerationParams, args)
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
