"""The CLI's subcommands, one module each, found by `explorer.cli` on its own.

Each module has `register(subparsers)`. Engine modules are imported inside the commands,
so that `bert-explorer --help` does not wait for torch.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

from explorer import DEFAULT_MODEL
from explorer.core.precisions import ALL_PRECISIONS, AUTO, EXACT, precisions_said

EXIT_USAGE = 2  # bad arguments, or a model that cannot be found or loaded
EXIT_FAILED = 1

R = TypeVar("R")


class CliError(Exception):
    """Ends the command with one line on stderr and the given exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def quiet_libraries() -> None:
    # Their progress bars and advice would mix with our output on stderr.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


DEMO_HINT = "(--model demo opens the small model bundled with the app.)"


def _warn_fallback(args: argparse.Namespace, notice: str) -> None:
    args.load_warnings = [*getattr(args, "load_warnings", []), notice]
    print(f"warning: {notice}", file=sys.stderr)


def load_model(args: argparse.Namespace) -> Any:
    """The MaskedLM named by --model/--device/--dtype, or a CliError that says why not.

    Without --model: the default model, or the bundled demo model when the default is
    neither cached nor reachable (with a warning, also in the JSON's `warnings`). A model
    named explicitly is never swapped for another: its failure is the command's.
    """
    from explorer.engine import models
    from explorer.core.errors import ExplorerError, ModelLoadError
    from explorer.core.jobs import run_to_end

    quiet_libraries()
    try:
        if args.model is None:
            lm = run_to_end(models.load_or_demo(DEFAULT_MODEL, args.device, args.dtype))
            if lm.notice:
                _warn_fallback(args, lm.notice)
        else:
            # Beside a model already open (compare): refused before its weights are read if it won't fit.
            lm = run_to_end(models.load_steps(args.model, args.device, args.dtype, check_room=getattr(args, "beside", False)))
    except ExplorerError as exc:
        raise CliError(_with_hint(args, exc) if isinstance(exc, ModelLoadError) else str(exc)) from exc
    args.precision = lm.precision
    return lm


def _with_hint(args: argparse.Namespace, exc: Exception) -> str:
    """A named model that cannot be opened: point at the one that always can."""
    return f"{exc} {DEMO_HINT}" if args.model not in (None, "demo") else str(exc)


def resolve_model_source(args: argparse.Namespace) -> tuple[str, str]:
    """(folder, name) of --model without loading it, falling back as load_model does."""
    from explorer.engine import models
    from explorer.core.errors import ModelLoadError

    if args.model is not None:
        try:
            return drive(models.resolve_source(args.model), label="model"), args.model
        except ModelLoadError as exc:
            raise CliError(_with_hint(args, exc)) from exc
    try:
        return drive(models.resolve_source(DEFAULT_MODEL), label="model"), DEFAULT_MODEL
    except ModelLoadError as exc:
        _warn_fallback(args, models.fallback_notice(exc))
        return drive(models.resolve_source("demo"), label="model"), "demo"


def with_load_warnings(args: argparse.Namespace, payload: dict) -> dict:
    """The JSON payload with a `warnings` list that starts with any model fallback, and the
    model's precision as "dtype" when it is not the exact float32 (bfloat16, int8, float16)."""
    payload = {**payload, "warnings": list(getattr(args, "load_warnings", [])) + list(payload.get("warnings", []))}
    precision = getattr(args, "precision", EXACT)
    return payload if precision == EXACT else {**payload, "dtype": precision}


# --- argument types: each option's range is declared once, where the option is added, and
# checked as the arguments are parsed, so nothing runs (no model loads) with a value out of it.


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _range_words(lo: float | None, hi: float | None, lo_open: bool = False) -> str:
    from explorer.core.params import range_words  # the words every range message uses

    return range_words(lo, hi, low_open=lo_open)


def int_in(lo: int | None, hi: int | None) -> Callable[[str], int]:
    """An argparse type: a whole number in [lo, hi] (None: no bound on that side)."""

    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:  # also a number of more than 4300 digits
            raise argparse.ArgumentTypeError(f"must be a whole number {_range_words(lo, hi)}, got {_quoted(text)}") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"must be {_range_words(lo, hi)}, got {_quoted(text)}")
        return value

    return whole_number


def finite_float(lo: float | None, hi: float | None, *, lo_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in [lo, hi], or (lo, hi] with lo_open; never inf or nan."""

    def number(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number {_range_words(lo, hi, lo_open)}, got {_quoted(text)}")
        if lo is not None and (value < lo or (lo_open and value == lo)) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"must be {_range_words(lo, hi, lo_open)}, got {_quoted(text)}")
        return value

    return number


positive = int_in(1, None)


def seed() -> Callable[[str], int]:
    """An argparse type: a random seed, as torch and numpy take it (explorer.core.params)."""
    from explorer.core.params import MAX_SEED

    return int_in(0, MAX_SEED)


def text(value: str) -> str:
    """An argparse type for text and names: valid UTF-8 only (Python hands bytes that are not
    UTF-8 in argv over as lone surrogates, which no tokenizer or file can take)."""
    from explorer.core.output_paths import not_utf8

    problem = not_utf8(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}: check the terminal's or the file's encoding")
    return value


def output_path(value: str | None, option: str, suffixes: tuple[str, ...]) -> Path | None:
    """The checked path to write (explorer.core.output_paths), or a CliError that says why not."""
    from explorer.core.errors import InvalidParameterError
    from explorer.core.output_paths import check_output_path

    if value is None:
        return None
    try:
        return check_output_path(value, option, suffixes)
    except InvalidParameterError as exc:
        raise CliError(str(exc)) from exc


def input_file(value: str | None, option: str) -> Path | None:
    """The checked file to read, or a CliError that says why not."""
    from explorer.core.errors import InvalidParameterError
    from explorer.core.output_paths import check_input_file

    if value is None:
        return None
    try:
        return check_input_file(value, option)
    except InvalidParameterError as exc:
        raise CliError(str(exc)) from exc


@contextlib.contextmanager
def writing(path: str) -> Iterator[None]:
    """Around a write (atomic: explorer.core.output_paths): a full disk or a folder that
    became read-only ends the command with one line that names the file."""
    try:
        yield
    except OSError as exc:
        raise CliError(f"Could not write '{path}': {exc.strerror or exc}. It was left as it was.", EXIT_FAILED) from exc


def strict_payload(payload: Any) -> Any:
    """The payload as strict JSON takes it (explorer.core.strict_json): a number that is not
    finite becomes null, and a dict's `warnings` says so."""
    from explorer.core.strict_json import finite, not_finite_warning

    clean, replaced = finite(payload)
    if replaced and isinstance(clean, dict):
        clean["warnings"] = [*clean.get("warnings", []), not_finite_warning(replaced)]
    return clean


def print_json(payload: Any, *, indent: int | None = None) -> None:
    """Print strict JSON (strict_payload); never NaN or Infinity, which JSON has not."""
    print(json.dumps(strict_payload(payload), ensure_ascii=False, allow_nan=False, indent=indent))


def add_model_options(p: argparse.ArgumentParser, *, model: bool = True) -> None:
    """--model, --device, --dtype; model=False for a command that names its models otherwise."""
    if model:
        p.add_argument("--model", default=None, type=text, help=(
            f"hub id, local folder, or 'demo' (default: {DEFAULT_MODEL}, or the bundled demo model when "
            "that is neither cached nor reachable)"))
    p.add_argument("--device", default="auto", type=text, help="auto (cuda > mps > cpu), cpu, cuda or mps")
    p.add_argument("--dtype", default="auto", type=precision, help=PRECISION_HELP)


PRECISION_HELP = precisions_said()


def precision(value: str) -> str:
    """An argparse type for --dtype: a precision's name; whether the device runs it is the load's check."""
    name = text(value).strip().lower()
    if name not in (AUTO, *ALL_PRECISIONS):
        raise argparse.ArgumentTypeError(f"'{value}' is not a precision: use {PRECISION_HELP}")
    return name


_joined: list[Any] = []  # the World this process joined (a torchrun launch), once it has


def join_launch(args: argparse.Namespace) -> Any:
    """Under a torchrun launch of more than one process: join its process group, on this
    rank's device (args.device becomes it), and return the World; else None. Called once every
    argument and file has been checked, so a typo is said once, by rank 0, and costs nothing."""
    from explorer.core.world import launch_from

    launch = launch_from()
    if not launch.distributed:
        return None
    from explorer.core.errors import ExplorerError
    from explorer.engine.distributed import start

    try:
        world = start(launch, args.device)
    except ExplorerError as exc:
        raise CliError(str(exc)) from exc
    args.device = world.device
    _joined.append(world)
    return world


def joined_launch() -> bool:
    """This process has joined a launch's process group: its failures are its own to say."""
    return bool(_joined)


def leave_launch(*, together: bool = False) -> None:
    """Leave the launch's process group. `together` (the command succeeded, so every rank is
    ending too): wait for the others first, so that no rank tears its connections down while
    another still uses them."""
    if _joined:
        from explorer.engine.distributed import finish

        if together:
            _joined[0].barrier()
        finish()
        _joined.clear()


def drive(steps: Generator[Any, None, R], *, label: str = "", stream: Any = None) -> R:
    """Run a long job (a generator of steps with done/total/message) to its end, with a
    progress line on stderr. Ctrl+C closes the generator, so the job cleans up after itself.
    """
    stream = stream or sys.stderr
    live = stream.isatty()
    start = time.monotonic()
    last_print = 0.0
    try:
        while True:
            try:
                step = next(steps)
            except StopIteration as done:
                if live:
                    stream.write("\n")
                return done.value
            now = time.monotonic()
            if not live and now - last_print < 2.0:
                continue  # a log file gets a line every 2 s, not one per step
            last_print = now
            stream.write(("\r" if live else "") + progress_line(step, now - start, label) + ("" if live else "\n"))
            stream.flush()
    finally:
        steps.close()


def progress_line(step: Any, elapsed: float, label: str = "") -> str:
    done, total = getattr(step, "done", 0), getattr(step, "total", 0)
    message = getattr(step, "message", "")
    parts = [label if len(label) <= 40 else label[:39] + "…"] if label else []  # a label never hides the rest
    if total:
        width = 24
        filled = int(width * min(done / total, 1.0))
        parts.append(f"[{'#' * filled}{'.' * (width - filled)}] {done:g}/{total:g}")
        if done:
            left = elapsed * (total - done) / done
            parts.append(f"{left:.0f}s left")
    if message:
        parts.append(message)
    return "  ".join(parts)[:160].ljust(80)
