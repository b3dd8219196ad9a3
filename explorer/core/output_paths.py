"""Files the app writes for a person, and files it reads from them: checked before any work,
written whole or not at all.

A check says what is wrong with a path before a model loads (a missing or read-only
folder, a folder where a file belongs, a suffix the command does not write); a write goes
to a hidden temporary name beside the target and is renamed into place, so a failure never
leaves half a file, nor replaces a person's file with one. Standard library only: the CLI
checks paths before torch loads, and the window can use the same rules for its exports.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from explorer.core.errors import InvalidParameterError
from explorer.core.input_files import kind_of, path_problem


def _read_umask() -> int:
    # The only portable way to read it is to set it; done once, at import, before any thread.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def not_utf8(text: str) -> str | None:
    """Where `text` is not valid UTF-8, in words, or None when it is.

    Python turns bytes that are not UTF-8 in argv (or a file name) into lone surrogates;
    nothing downstream can encode them, so they are refused at the door."""
    for i, ch in enumerate(text):
        if "\ud800" <= ch <= "\udfff":
            code = ord(ch)
            what = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
            return f"is not valid UTF-8 ({what} at character {i + 1})"
    return None


def _shown(path: str) -> str:
    return repr(path) if not_utf8(path) is None else ascii(path)


def _kind(mode: int) -> str:
    return "a folder" if stat.S_ISDIR(mode) else kind_of(mode)


def _check_text(path: str, option: str) -> None:
    if not path or not path.strip():
        raise InvalidParameterError(f"{option}: the path is empty.")
    if "\0" in path:
        raise InvalidParameterError(f"{option}: the path has a NUL character in it.")
    problem = not_utf8(path)
    if problem:
        raise InvalidParameterError(f"{option} {_shown(path)} {problem}: rename the file or folder.")


def check_output_path(path: str, option: str, suffixes: tuple[str, ...]) -> Path:
    """The file `path` (as given: ~ expanded, a symbolic link followed) if the command may
    write it there, or InvalidParameterError naming `option` and what to do.

    `suffixes` are what the command writes (".png", ".svg"); the check is case-insensitive.
    """
    _check_text(path, option)
    given = _shown(path)
    target = Path(path).expanduser()
    wanted = " or ".join(suffixes)
    try:
        info: os.stat_result | None = os.stat(target)  # through a link, to what it points at
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        raise InvalidParameterError(f"{option} {given}: a part of the path before the name is a file, not a folder.") from None
    except OSError as exc:  # too long a name, a loop of links, a folder that may not be searched
        raise InvalidParameterError(f"{option} {given} cannot be checked: {exc.strerror or exc}.") from exc
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise InvalidParameterError(f"{option} {given} is {_kind(info.st_mode)}: give a file name that ends in {wanted}.")
    if suffixes and not target.name.lower().endswith(tuple(s.lower() for s in suffixes)):
        raise InvalidParameterError(f"{option} {given} must end in {wanted}: the files this command writes.")
    if info is not None:
        if not os.access(target, os.W_OK):
            raise InvalidParameterError(f"{option} {given} is read-only: give another name, or make it writable.")
    if target.is_symlink():
        target = Path(os.path.realpath(target))  # the new file goes where the link points
        # A link named r.jsonl that points at thesis.txt would replace the thesis: the file
        # written must be of a kind the command writes, whatever the link is called.
        if suffixes and not target.name.lower().endswith(tuple(s.lower() for s in suffixes)):
            raise InvalidParameterError(
                f"{option} {given} is a link to '{target}', which does not end in {wanted}: give the file itself."
            )
    parent = target.parent
    if not parent.is_dir():
        problem = "is a file, not a folder" if parent.exists() else "does not exist: create it first"
        raise InvalidParameterError(f"{option} {given}: '{parent}' {problem}.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidParameterError(f"{option} {given}: the folder '{parent}' is not writable; choose another folder.")
    return target


def check_input_file(path: str, option: str) -> Path:
    """An existing regular file, or InvalidParameterError naming `option` (input_files'
    rule: judged by stat() alone, never opened, since a named pipe would block the reader)."""
    _check_text(path, option)
    target = Path(path).expanduser()
    problem = path_problem(target)
    if problem is None and not os.access(target, os.R_OK):
        problem = "cannot be read (permission denied)"
    if problem:
        raise InvalidParameterError(f"{option} {_shown(path)} {problem}.")
    return target


def path_kind(path: str) -> str:
    """What is at `path` without opening it: "folder", "file", "missing", or what else it is
    ("a FIFO (named pipe)", "a device", ...), for messages that say more than "does not exist"."""
    try:
        info = os.stat(Path(path).expanduser())
    except (OSError, ValueError):
        return "missing"
    if stat.S_ISDIR(info.st_mode):
        return "folder"
    if stat.S_ISREG(info.st_mode):
        return "file"
    return _kind(info.st_mode)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A new hidden file beside `path`, with the same suffix (writers that pick a format by
    the name still work); renamed onto `path` when the block ends without an error, and
    removed when it does not. A symbolic link at `path` is followed: its target is replaced.
    """
    target = Path(path).expanduser()
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    mode = stat.S_IMODE(os.stat(target).st_mode) if target.is_file() else 0o666 & ~_UMASK
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:80]}.", suffix=f".partial{target.suffix}")
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        os.chmod(temp, mode)  # mkstemp makes it private; the result gets the usual mode
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **open_args: Any) -> Iterator[IO[Any]]:
    """An open file that becomes `path` only once it is written whole, flushed and synced."""
    with atomic_path(path) as temp, open(temp, mode, **open_args) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
