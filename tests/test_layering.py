"""The layering rules: the engine never imports Qt; the Qt side never imports torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "explorer"
QT_MODULES = (
    "PySide6",
    "shiboken6",
    "matplotlib.backends.backend_qt",
    "matplotlib.backends.backend_qtagg",
    "matplotlib.backends.qt_compat",
    "explorer.qt",
)
TORCH_MODULES = ("torch", "transformers", "tokenizers", "safetensors")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{f.relative_to(folder)}:{line} imports {name}"
        for f in sorted(folder.rglob("*.py"))
        for line, name in imported_modules(f)
        if any(name == m or name.startswith(m + ".") for m in forbidden)
    ]


def test_engine_imports_no_qt():
    assert violations(PACKAGE / "engine", QT_MODULES) == []


def test_qt_imports_no_torch_or_transformers():
    assert violations(PACKAGE / "qt", TORCH_MODULES) == []


def test_qt_imports_only_the_torch_free_package():
    # The window reaches the engine only through the Session it is handed (explorer.sessions):
    # every operation is a Session method, asked of a model slot.
    assert violations(PACKAGE / "qt", ("explorer.engine", "explorer.commands", "explorer.cli", "explorer.notebook")) == []


def test_core_imports_neither_torch_nor_qt_nor_the_engine():
    assert violations(PACKAGE / "core", QT_MODULES + TORCH_MODULES + ("explorer.engine", "explorer.qt")) == []


def test_plots_import_neither_qt_nor_torch():
    # The CLI renders figures without Qt; the GUI draws them without torch.
    assert violations(PACKAGE / "plots", QT_MODULES + TORCH_MODULES) == []


def test_no_pyplot_anywhere():
    # pyplot keeps global figure state and picks a backend of its own; we own our Figures.
    assert violations(PACKAGE, ("matplotlib.pyplot",)) == []


def test_the_rules_would_catch_a_violation(tmp_path):
    (tmp_path / "bad.py").write_text("def f():\n    import torch\n    from PySide6 import QtCore\n")
    assert len(violations(tmp_path, TORCH_MODULES)) == 1
    assert len(violations(tmp_path, QT_MODULES)) == 1


@pytest.mark.parametrize(
    "module, absent",
    [
        ("explorer.engine.session", "PySide6"),
        ("explorer.engine.fill_mask", "PySide6"),
        # The window module must not pull torch in at import: it loads on the model thread.
        ("explorer.qt.shell.app", "torch"),
        ("explorer.plots.heatmaps", "torch"),
        ("explorer.plots.heatmaps", "PySide6"),
        ("explorer.cli", "torch"),
    ],
)
def test_importing_does_not_load_the_other_side(module, absent):
    code = f"import sys, {module}; print({absent!r} in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
