"""How a model is named where space is short: one rule for every tab, title and summary."""

from __future__ import annotations

LONGEST = 40  # characters: a column header, a box title or half a status bar at 1366 px


def short_name(name: str, longest: int = LONGEST) -> str:
    """A folder by its last part ("/tmp/x/bert/" -> "bert", "C:\\m\\roberta" -> "roberta");
    a hub id ("google/bert_uncased") as it is, since its owner is part of what it names;
    either cut in the middle to `longest` characters, keeping both ends.

    The full name belongs in a tooltip beside it: two folders may end the same way."""
    if is_folder(name):
        name = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or name
    if len(name) <= longest:
        return name
    head = (longest - 1) // 2
    return f"{name[:head]}…{name[len(name) - (longest - 1 - head):]}"


def is_folder(name: str) -> bool:
    """A path on this computer (absolute, home- or dot-relative, or a Windows drive), not a hub id."""
    return name.startswith(("/", "~", ".")) or (len(name) > 2 and name[1] == ":" and name[2] in "\\/")
