"""Which folders the app may delete or replace: only those it made and marked as its own.

A user's files are sacred. Every folder the app creates for itself (an assembled demo
model, a half-written save, a model it trained) carries a small marker file naming the
kind and the process that made it; clean-up and overwrite look for that marker and leave
everything else alone. Standard library only, so the GUI can check a folder before a run.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from explorer.core.input_files import json_object

MARKER = ".bert-explorer.json"  # inside a folder this app created
CARD = "explorer_card.json"  # the card of a model this app trained (older saves have only this)

# What a transformers model folder holds (save_pretrained of a model and its tokenizer, as
# the hub serves them). A folder with these and nothing else is a model folder, and a
# model folder may be replaced; a folder with anything else in it is a person's folder.
MODEL_FILE_NAMES = frozenset({
    "config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
    "pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "vocab.txt", "vocab.json", "merges.txt", "spiece.model", "spm.model", "tokenizer.model", "sentencepiece.bpe.model",
    "chat_template.jinja", "README.md", "training_args.bin", ".gitattributes", CARD, MARKER,
})
MODEL_FILE_PREFIXES = ("model-", "pytorch_model-")  # shards: model-00001-of-00002.safetensors
# Without weights and a config that names a model type, "config.json" and "README.md" are just
# a person's files that happen to have those names (a notes folder lost both to --overwrite).
WEIGHT_FILE_NAMES = frozenset({
    "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json",
    "tf_model.h5", "flax_model.msgpack",
})


def mark_ours(folder: Path, kind: str, **extra: Any) -> None:
    """Write the marker that says this app made `folder` (kind: "demo", "model", "partial", ...)."""
    write_marker(folder, {"kind": kind, "pid": os.getpid(), "host": socket.gethostname(), "created": time.time(), **extra})


def write_marker(folder: Path, record: dict[str, Any]) -> None:
    """Write `record` as `folder`'s marker, whole or not at all: a marker cut short by a kill
    would make the folder look like a person's, and it would then never be cleaned up."""
    staged = Path(folder) / f"{MARKER}.{os.getpid()}.tmp"
    staged.write_text(json.dumps(record, allow_nan=False), encoding="utf-8")
    os.replace(staged, Path(folder) / MARKER)


def marker(folder: Path) -> dict[str, Any] | None:
    """The marker's record, or None when the folder is not marked (or the marker is unreadable)."""
    try:
        record = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def is_ours(folder: Path, kind: str | None = None) -> bool:
    """Made by this app (and of this kind, when one is given); a symlink never is."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    record = marker(folder)
    return record is not None and (kind is None or record.get("kind") == kind)


def owner_gone(folder: Path) -> bool:
    """The process that marked `folder` has ended (or it was another machine's and is old).

    Unmarked folders are never "gone": they are not ours to judge."""
    record = marker(folder)
    if record is None:
        return False
    pid = record.get("pid")
    if record.get("host") != socket.gethostname():
        created = record.get("created")
        return isinstance(created, (int, float)) and time.time() - created > 24 * 3600
    return not isinstance(pid, int) or not process_alive(pid)


def process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM  # it exists, under another user
    return True


def _plain_files(folder: Path) -> list[str] | None:
    """The names in `folder` when every entry is a plain file (no folder, no link); else None."""
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return None
    if not all(entry.is_file() and not entry.is_symlink() for entry in entries):
        return None
    return [entry.name for entry in entries]


def only_what_we_wrote(folder: Path) -> bool:
    """Marked by this app with the files it wrote there, and holding nothing else since."""
    record = marker(folder)
    written = record.get("files") if record else None
    names = _plain_files(folder) if isinstance(written, list) and not Path(folder).is_symlink() else None
    return names is not None and set(names) <= {*written, MARKER}


def is_model_folder(folder: Path) -> bool:
    """A transformers model folder with nothing else in it: a config.json naming a model type,
    weights, and model files only."""
    names = _plain_files(folder)
    if names is None or "config.json" not in names:
        return False
    if not all(name in MODEL_FILE_NAMES or name.startswith(MODEL_FILE_PREFIXES) for name in names):
        return False
    if not any(name in WEIGHT_FILE_NAMES or name.startswith(MODEL_FILE_PREFIXES) for name in names):
        return False
    return _names_a_model_type(Path(folder) / "config.json")


def _names_a_model_type(config: Path) -> bool:
    model_type = json_object(config).get("model_type")
    return isinstance(model_type, str) and bool(model_type)


def _contains(folder: Path, path: Path) -> bool:
    return path == folder or folder in path.parents


def replace_refusal(out: str | os.PathLike[str], keep: Iterable[str | os.PathLike[str]] = ()) -> str | None:
    """Why the folder `out` may NOT be replaced by a newly saved model, or None if it may.

    It may be replaced when it does not exist, is empty, is a model folder this app wrote
    holding only what it wrote (its marker lists the files), or a transformers model folder
    with nothing else in it (an older save of this app: its card among them). Never the
    home folder, the working folder, a filesystem root, a folder holding any path in `keep`
    (the corpus being trained on), or a folder holding the home or working folder.
    """
    given = str(out)
    path = Path(out).expanduser()
    if path.is_symlink():
        return f"'{given}' is a symbolic link: give the folder itself."
    resolved = path.resolve()
    if resolved.exists() and not resolved.is_dir():
        return f"'{given}' is a file, not a folder."
    if resolved == Path(resolved.anchor):
        return f"'{given}' is a filesystem root: it is never replaced."
    home = Path.home().resolve()
    for what, protected in (("home folder", home), ("working folder", Path.cwd().resolve())):
        if _contains(resolved, protected):
            here = "is" if resolved == protected else "holds"
            return f"'{given}' {here} your {what}: it is never replaced. Save the model to a new folder."
    for item in keep:
        if _contains(resolved, Path(item).expanduser().resolve()):
            return f"'{given}' holds '{item}', which this run reads: it is never replaced. Save the model to a new folder."
    if not resolved.exists():
        return None
    try:
        empty = not any(resolved.iterdir())
    except OSError as exc:
        return f"'{given}' cannot be read: {exc.strerror or exc}."
    if empty or only_what_we_wrote(resolved) or is_model_folder(resolved):
        return None
    return (
        f"'{given}' is not a model folder this app saved (it holds other files): it is never replaced. "
        "Save the model to a new folder."
    )
