"""`bert-explorer`: the GUI by default, and one subcommand per feature for scripts.

The subcommands live in explorer/commands/, one module each; this file finds them, parses
the arguments and turns every failure into one line on stderr and an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Callable

from explorer import __version__, commands
from explorer.commands import EXIT_FAILED, EXIT_USAGE, CliError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bert-explorer",
        description="Look inside BERT-style masked language models. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = [importlib.import_module(f"explorer.commands.{m.name}") for m in pkgutil.iter_modules(commands.__path__)]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["gui", *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("BERT_EXPLORER_LOG", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CliError as exc:
        print(f"bert-explorer: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("bert-explorer: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `bert-explorer ... | head` closed our stdout: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # one clear line, never a traceback, for anything unforeseen
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        from explorer.engine.errors import ExplorerError

        code = EXIT_USAGE if isinstance(exc, (ExplorerError, ValueError)) else EXIT_FAILED
        print(f"bert-explorer: error: {exc}", file=sys.stderr)
        return code
