"""`bert-explorer gui` (also what runs with no command): the window."""

from __future__ import annotations

import argparse

import os
import sys

from explorer import DEFAULT_MODEL
from explorer.commands import PRECISION_HELP, CliError, precision, text

ORDER = 0


def register(sub: argparse._SubParsersAction) -> None:
    gui = sub.add_parser("gui", help="open the window (the default)")
    gui.add_argument("--model", default=None, type=text, help=f"hub id or local folder (default: {DEFAULT_MODEL})")
    gui.add_argument("--device", default="auto")
    gui.add_argument("--dtype", default="auto", type=precision, help=PRECISION_HELP)
    gui.set_defaults(func=run)


def no_display_reason(env: dict[str, str] | os._Environ[str] = os.environ, platform: str = sys.platform) -> str | None:
    """Why the window cannot open here, or None. Without a display Qt aborts the process
    (SIGABRT, seven lines of plugin messages): say it in one line instead."""
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return (
        "No display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set). Run it on a "
        "desktop, or use the commands (bert-explorer --help lists them)."
    )


def run(args: argparse.Namespace) -> int:
    reason = no_display_reason()
    if reason:
        raise CliError(reason)
    from explorer.qt.shell.app import main as gui_main

    argv = ["--device", args.device, "--dtype", args.dtype]
    if args.model:
        argv += ["--model", args.model]
    return gui_main(argv)
