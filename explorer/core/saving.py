"""Saving a folder in place of another so that no moment of the swap loses either one.

The new folder is written in full under a hidden name beside the target (".NAME.partial-*",
marked as this app's), then the folder it replaces is moved aside (".NAME.old-*", marked,
its own marker kept inside the new one to put back), the new one is moved in, and the old
one deleted. A run killed between the two moves leaves no NAME: the next save to NAME, or
the next check of it, moves the old folder back. Folders of this app whose writer has ended
are removed then too; a folder without our marker is never touched. Opening NAME as a model
recovers it too (explorer.engine.models.resolve_source), and every finished save clears the
leftovers of dead saves to the other folders beside it whose swap was over (sweep). Standard
library only, so the GUI's checks recover a folder the same way.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

from explorer.core.errors import ExplorerError
from explorer.core.owned import MARKER, is_ours, mark_ours, marker, owner_gone, write_marker

log = logging.getLogger(__name__)

PARTIAL = "partial"  # a folder being written
OLD = "old"  # a folder moved aside, to be deleted once its replacement is in place

# Hidden folders this process is writing or swapping right now: another thread's check
# (the GUI's, during a save) must not take them for the leftovers of a dead run.
_ACTIVE: set[str] = set()


class SaveError(ExplorerError):
    """A folder could not be written (no room, no permission); what was there is as it was."""


def _leftovers(target: Path, kind: str) -> list[Path]:
    """This app's hidden `kind` folders for `target`, newest first (never an unmarked one)."""
    prefix = f".{target.name}.{kind}-"
    try:
        names = [entry.name for entry in os.scandir(target.parent) if entry.name.startswith(prefix)]
    except OSError:
        return []
    found = [
        target.parent / name for name in names
        if is_ours(target.parent / name, kind) and (marker(target.parent / name) or {}).get("target") == target.name
    ]
    return sorted(found, key=lambda f: _created(f), reverse=True)


def _created(folder: Path) -> float:
    created = (marker(folder) or {}).get("created")
    return float(created) if isinstance(created, (int, float)) else 0.0


def _stale(folder: Path) -> bool:
    """Its writer has ended: another process that is gone, or this one, no longer writing it."""
    record = marker(folder) or {}
    if record.get("pid") == os.getpid() and record.get("host") == socket.gethostname():
        return str(folder) not in _ACTIVE
    return owner_gone(folder)


def _put_back_marker(folder: Path, record: dict | None) -> None:
    """The marker `folder` had before it was moved aside (none, if it had none)."""
    if record is None:
        (folder / MARKER).unlink(missing_ok=True)
    else:
        write_marker(folder, record)


def recover(target: str | os.PathLike[str]) -> list[str]:
    """Undo what an interrupted save to `target` left; what was done, in words.

    A missing `target` with a folder of ours moved aside from it (its writer gone) gets that
    folder back: a person's model is never lost to a kill. Hidden folders of ours whose
    writer has ended are removed: a half-written one always, one moved aside only once
    `target` holds a folder of ours (so the swap had finished).
    """
    target = Path(target)
    done: list[str] = []
    try:
        olds = [f for f in _leftovers(target, OLD) if _stale(f)]
        if olds and not os.path.lexists(target):
            back = olds.pop(0)
            previous = (marker(back) or {}).get("previous")
            os.rename(back, target)
            _put_back_marker(target, previous if isinstance(previous, dict) else None)
            done.append(f"put '{target}' back from '{back.name}', where an interrupted save had left it")
        if olds and is_ours(target):
            for old in olds:
                shutil.rmtree(old)
                done.append(f"removed '{old.name}', left by an interrupted save")
        for partial in _leftovers(target, PARTIAL):
            if _stale(partial):
                shutil.rmtree(partial)
                done.append(f"removed '{partial.name}', a save that never finished")
    except OSError as exc:  # a check must not fail for it: the save will say what is wrong
        log.warning("could not clean up after an interrupted save to %s: %s", target, exc)
    for line in done:
        log.warning("%s", line)
    return done


def sweep(parent: str | os.PathLike[str], skip: str | os.PathLike[str] | None = None) -> list[str]:
    """Clear what dead saves to other folders of `parent` left, where that folder is there
    (its swap finished, or never began): recover() for each such folder. A leftover whose
    folder is missing is left alone: it holds the person's model, and is put back under its
    own name when that folder is next opened or saved to, never by a save to another one.
    Only hidden folders with this app's marker naming their folder are looked at."""
    parent = Path(parent)
    try:
        names = [entry.name for entry in os.scandir(parent) if entry.name.startswith(".")]
    except OSError:
        return []
    targets = set()
    for name in names:
        if f".{PARTIAL}-" not in name and f".{OLD}-" not in name:
            continue
        target = (marker(parent / name) or {}).get("target")
        if (
            isinstance(target, str) and target not in ("", ".", "..") and "/" not in target and os.sep not in target
            and name.startswith((f".{target}.{PARTIAL}-", f".{target}.{OLD}-"))
        ):
            targets.add(target)
    done: list[str] = []
    for target in sorted(targets):
        folder = parent / target
        if (skip is None or folder != Path(skip)) and folder.is_dir() and not folder.is_symlink():
            done += recover(folder)
    return done


def reported_os_error(exc: BaseException, path: str | os.PathLike[str] | None = None) -> OSError | None:
    """The OSError a writer reported in words, or None: safetensors' writer reports a full disk
    as its own SafetensorError "... (os error 28)", which must read as a full disk, not as
    whatever else its caller would make of an error."""
    if isinstance(exc, OSError):
        return exc
    code = re.search(r"os error (\d+)", str(exc))
    if code is None:
        return None
    number = int(code[1])
    return OSError(number, os.strerror(number), *([str(path)] if path is not None else []))


def why_not_written(exc: OSError, folder: Path) -> str:
    """One line for a failed write: what happened, that nothing changed, what to do."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"No space left on the disk to save in '{folder}': nothing was saved. Free some space or choose another folder."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"No permission to write in '{folder}': nothing was saved. Choose another folder."
    return f"Could not save in '{folder}': {exc.strerror or exc}. Nothing was saved."


def replace_folder(
    target: str | os.PathLike[str],
    write: Callable[[Path], None],
    *,
    kind: str,
    refusal: Callable[[Path], str | None] | None = None,
) -> Path:
    """Write a folder with `write(folder)` and put it at `target`, replacing what is there.

    `refusal(target)`, asked once the new folder is written and before anything is moved,
    may stop the swap with a reason (what is at `target` may not be replaced). OSError on
    the way becomes SaveError; whatever fails, `target` is as it was and no half-written
    folder stays. The result is marked as this app's, of `kind`.
    """
    target = Path(target)
    recover(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.{PARTIAL}-", dir=target.parent))
    except OSError as exc:
        raise SaveError(why_not_written(exc, target.parent)) from exc
    _ACTIVE.add(str(partial))
    old: Path | None = None
    try:
        partial.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary folder
        mark_ours(partial, PARTIAL, target=target.name)
        write(partial)
        reason = refusal(target) if refusal else None
        if reason:
            raise SaveError(f"{reason} Nothing was saved.")
        previous = marker(target) if os.path.lexists(target) else None
        if os.path.lexists(target):
            old = target.with_name(f".{target.name}.{OLD}-{os.getpid()}-{partial.name.rsplit('-', 1)[-1]}")
            _ACTIVE.add(str(old))
            mark_ours(target, OLD, target=target.name, previous=previous)  # before the move: a kill
            try:                                                           # after it finds it marked
                os.rename(target, old)
            except BaseException:
                _put_back_marker(target, previous)
                old = None
                raise
        os.rename(partial, target)
    except BaseException as exc:
        if old is not None and not os.path.lexists(target):
            _roll_back(old, target)
        if isinstance(exc, OSError):
            raise SaveError(why_not_written(exc, target.parent)) from exc
        raise
    finally:
        _ACTIVE.discard(str(partial))
        if old is not None:
            _ACTIVE.discard(str(old))
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    try:
        # It was marked "partial": a folder of ours either way. The files it holds now are
        # what a later overwrite may replace (a person's file added since is not).
        mark_ours(target, kind, files=sorted(name for name in os.listdir(target) if name != MARKER))
    except OSError as exc:
        log.warning("saved %s, but could not mark it as %s: %s", target, kind, exc)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    sweep(target.parent, skip=target)  # only now: a failed save leaves everything as it was
    return target


def _roll_back(old: Path, target: Path) -> None:
    """Move the replaced folder back after a failed swap; if even that fails, the next
    recover() does it (the folder is marked, and no longer active)."""
    try:
        previous = (marker(old) or {}).get("previous")
        os.rename(old, target)
        _put_back_marker(target, previous if isinstance(previous, dict) else None)
    except OSError as exc:
        log.warning("could not move %s back to %s (the next run will): %s", old, target, exc)
