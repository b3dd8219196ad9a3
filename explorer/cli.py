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
import time
from collections.abc import Callable
from typing import NoReturn

from explorer import __version__, commands
from explorer.commands import EXIT_FAILED, EXIT_USAGE, CliError, joined_launch, leave_launch
from explorer.core.errors import ExplorerError
from explorer.core.world import DISTRIBUTED_COMMANDS, launch_from


RANK_0_FIRST_S = 5.0  # under a launch, how long another rank lets rank 0 report a shared failure


class OneLineParser(argparse.ArgumentParser):
    """argparse's parser, with a usage error on one line (what is wrong, and where the help
    is) instead of the usage block: a script's log then holds the one line that matters."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see: {self.prog} --help)\n")


def one_line(message: object) -> str:
    """A message on one line: transformers and the OS put newlines in theirs. Spaces inside
    a line stay as they are (a path may hold two in a row)."""
    return " ".join(line.strip() for line in str(message).splitlines() if line.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="bert-explorer",
        description="Look inside BERT-style masked language models. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = [importlib.import_module(f"explorer.commands.{m.name}") for m in pkgutil.iter_modules(commands.__path__)]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        if hasattr(module, "register"):  # else a helper of the commands (params_cli)
            module.register(sub)
    return parser


def torn_down_by_exit() -> bool:
    """This process was one of a torchrun launch's (python -m explorer then ends it with
    os._exit). A launch whose variables are not valid never started its processes' work."""
    try:
        return launch_from().distributed
    except ExplorerError:
        return False


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["gui", *argv]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error already on stderr
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    try:
        launch = launch_from()
    except ExplorerError as exc:
        print(f"bert-explorer: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    streams = sys.stdout, sys.stderr
    errors = streams[1]  # kept through the silencing below: a rank's own failure is said here

    def say(line: str) -> None:
        if launch.main:
            print(line, file=errors)
            return
        if not joined_launch():
            # Every rank checks the same arguments, so rank 0 fails the same way and says so;
            # were this rank to end first, torchrun would stop rank 0 before it could. Wait:
            # torchrun ends this process once rank 0 has ended. Still here after that, the
            # failure is this rank's alone (a file missing on this machine), and it says it.
            time.sleep(RANK_0_FIRST_S)
        print(f"rank {launch.rank}: {line}", file=errors)

    if launch.distributed and args.command not in DISTRIBUTED_COMMANDS:
        say(f"bert-explorer: error: only {' and '.join(DISTRIBUTED_COMMANDS)} split their work across "
            f"torchrun's processes; run '{args.command}' without torchrun.")
        return EXIT_USAGE
    if not launch.main:  # rank 0 speaks for the launch; the others only say how they failed
        sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (closed below)

    logging.basicConfig(
        level=os.environ.get("BERT_EXPLORER_LOG", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    func: Callable[[argparse.Namespace], int] = args.func
    code = EXIT_FAILED
    try:
        code = func(args)
        return code
    except CliError as exc:
        say(f"bert-explorer: error: {one_line(exc)}")
        return exc.code
    except KeyboardInterrupt:  # under a launch, every rank stops together: rank 0 says so
        if launch.main:
            say("bert-explorer: stopped")
        return 130
    except BrokenPipeError:  # `bert-explorer ... | head` closed our stdout: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # one clear line, never a traceback, for anything unforeseen
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        code = EXIT_USAGE if isinstance(exc, (ExplorerError, ValueError)) else EXIT_FAILED
        say(f"bert-explorer: error: {one_line(exc) or type(exc).__name__}")
        return code
    finally:
        leave_launch(together=code == 0)
        if not launch.main:
            sys.stdout.close()
            sys.stdout, sys.stderr = streams
