"""Every keyboard shortcut of the window, declared once: the menus take their keys from here
and Help ▸ Keyboard shortcuts lists them, so the cheat sheet cannot drift from the keys."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    name: str  # the menu action's (or the view's) own name for it
    keys: tuple[str, ...]  # QKeySequence strings, the first one shown in menus
    what: str
    where: str = "anywhere"


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("open_folder", ("Ctrl+O",), "Open a model folder"),
    Shortcut("export", ("Ctrl+E",), "Export the current view (heatmaps, LAMA results)"),
    Shortcut("quit", ("Ctrl+Q",), "Quit"),
    Shortcut("zoom_in", ("Ctrl+=", "Ctrl++"), "Zoom in: larger text, bars and labels"),
    Shortcut("zoom_out", ("Ctrl+-",), "Zoom out"),
    Shortcut("zoom_reset", ("Ctrl+0",), "Zoom back to 100%"),
    Shortcut("presentation", ("F5",), "Presentation mode: full screen, large, the sentence and one tab"),
    Shortcut("leave_presentation", ("Esc",), "Leave presentation mode", "presentation mode"),
    Shortcut("shortcuts", ("F1",), "This list of shortcuts"),
    Shortcut("insert_mask", ("Ctrl+M",), "Insert the model's mask token at the cursor", "the sentence"),
    Shortcut("layer_up", ("PgUp",), "The layer before", "Attention"),
    Shortcut("layer_down", ("PgDown",), "The next layer", "Attention"),
    Shortcut("find", ("Ctrl+F",), "Search the facts", "LAMA"),
    Shortcut("score", ("Ctrl+Return",), "Score the sentences", "Score"),
)
BY_NAME = {s.name: s for s in SHORTCUTS}


def keys(name: str) -> tuple[str, ...]:
    return BY_NAME[name].keys
