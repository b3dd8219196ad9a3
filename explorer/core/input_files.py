"""Checks on a file a user names as input (a corpus, LAMA data), made before it is read.

Stdlib only, so the GUI can check a file before a run. A path is judged with stat() before
anything opens it: opening a FIFO would block until someone writes to it, and a device
(/dev/zero) never ends. Text is judged on its first SAMPLE_BYTES: NUL bytes, or more than
MAX_NOT_TEXT_SHARE of its characters undecodable as UTF-8 or control characters, say the
file is not text.
"""

from __future__ import annotations

import codecs
import errno
import json
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

SAMPLE_BYTES = 64 * 1024
MAX_NOT_TEXT_SHARE = 0.10
# C0 and C1 control characters, less the whitespace that text holds (tab, newlines, form feed).
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_UTF16_32_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32", codecs.BOM_UTF32_BE: "UTF-32",  # before UTF-16: FF FE starts both
    codecs.BOM_UTF16_LE: "UTF-16", codecs.BOM_UTF16_BE: "UTF-16",
}


def kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def path_problem(path: Path, *, folder_ok: bool = False) -> str | None:
    """Why `path` cannot be read as a file (or a folder, when folder_ok), or None.

    stat() only: nothing is opened. The reason is a phrase to follow the quoted path."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a loop of symbolic links"
        if exc.errno == errno.ENOTDIR:
            return "does not exist (a part of the path before it is a file)"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "cannot be read (permission denied)"
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISREG(mode) or (folder_ok and stat.S_ISDIR(mode)):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    return f"is {kind_of(mode)}, not a file{' or folder' if folder_ok else ''}"


def json_object(path: Path, max_bytes: int = 10_000_000) -> dict:
    """The JSON object in a small regular file (a model's config.json, say), or {} when it is
    missing, not a regular file (never opened: a FIFO would block), larger than `max_bytes`
    (no config is), not JSON, or not an object."""
    if path_problem(path) is not None:
        return {}
    try:
        if os.stat(path).st_size > max_bytes:
            return {}
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def not_text_reason(sample: bytes) -> str | None:
    """Why bytes from the start of a file are not UTF-8 text, or None (a phrase after "is")."""
    for bom, name in _UTF16_32_BOMS.items():
        if sample.startswith(bom):
            return f"{name} text: save it as UTF-8"
    if b"\x00" in sample:
        return "a binary file, not text (it holds NUL bytes)"
    # A character cut at the sample's end is not counted as undecodable.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(sample, final=False)
    if not text:
        return None
    return _too_many_bad(not_text_count(text), len(text), "at its start")


def not_text_count(text: str) -> int:
    """Characters of decoded text that no text holds: undecodable bytes (U+FFFD) and control characters."""
    return text.count("\ufffd") + len(_CONTROL.findall(text))


def not_text_share_reason(texts: Iterable[str]) -> str | None:
    """Why decoded text as a whole is not text (over MAX_NOT_TEXT_SHARE undecodable or control
    characters), or None: a file whose start is text but whose rest is binary is caught here."""
    bad = total = 0
    for text in texts:
        bad += not_text_count(text)
        total += len(text)
    return _too_many_bad(bad, total, "in it")


def _too_many_bad(bad: int, total: int, where: str) -> str | None:
    if total and bad > MAX_NOT_TEXT_SHARE * total:
        return (
            f"not UTF-8 text: {bad / total:.0%} of the characters {where} are undecodable bytes or "
            f"control characters (more than {MAX_NOT_TEXT_SHARE:.0%})"
        )
    return None


def read_sample(path: Path) -> bytes:
    """The first SAMPLE_BYTES of a regular file (checked with path_problem first)."""
    with open(path, "rb") as handle:
        return handle.read(SAMPLE_BYTES)


MAX_LINES_BYTES = 10_000_000  # a file of sentences to score: far more than anyone scores at once


def read_text_lines(path: Path) -> list[str]:
    """The non-blank lines of a small UTF-8 text file, stripped; InvalidParameterError that says
    why not (not a regular file, too large, not text, unreadable)."""
    from explorer.core.errors import InvalidParameterError

    problem = path_problem(path)
    try:
        if problem is None and os.stat(path).st_size > MAX_LINES_BYTES:
            problem = f"is larger than {MAX_LINES_BYTES // 1_000_000} MB"
        if problem is None:
            problem = not_text_reason(read_sample(path))
            problem = problem and f"is {problem}"
        if problem is None:
            lines = Path(path).read_text(encoding="utf-8-sig", errors="replace").splitlines()
            problem = not_text_share_reason(lines)
            problem = problem and f"is {problem}"
            if problem is None:
                return [line.strip() for line in lines if line.strip()]
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc})"
    raise InvalidParameterError(f"'{path}' {problem}.")
