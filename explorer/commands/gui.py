"""`bert-explorer gui` (also what runs with no command): the window."""

from __future__ import annotations

import argparse

from explorer import DEFAULT_MODEL
from explorer.commands import text

ORDER = 0


def register(sub: argparse._SubParsersAction) -> None:
    gui = sub.add_parser("gui", help="open the window (the default)")
    gui.add_argument("--model", default=None, type=text, help=f"hub id or local folder (default: {DEFAULT_MODEL})")
    gui.add_argument("--device", default="auto")
    gui.add_argument("--dtype", default="auto")
    gui.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from explorer.qt.app import main as gui_main

    argv = ["--device", args.device, "--dtype", args.dtype]
    if args.model:
        argv += ["--model", args.model]
    return gui_main(argv)
