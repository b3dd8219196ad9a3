"""Shared fixtures: tiny models built from configs (12 heads, real loading code paths).

No test touches the network: models are written to temporary folders and loaded from there.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Before any Qt import: without a display Qt would abort the whole run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The demo model is assembled once per run, here, not in the person's own cache, and removed
# after the run (90 MB a run would pile up in the temporary folder).
if "BERT_EXPLORER_CACHE" not in os.environ:
    os.environ["BERT_EXPLORER_CACHE"] = tempfile.mkdtemp(prefix="bert-explorer-test-cache-")
    atexit.register(shutil.rmtree, os.environ["BERT_EXPLORER_CACHE"], True)

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from explorer.engine.synthetic import make_model

    root = tmp_path_factory.mktemp("models")
    return {arch: make_model(root / arch, arch) for arch in ("bert", "roberta", "distilbert")}


@pytest.fixture(scope="session")
def bert_dir(model_dirs: dict[str, Path]) -> Path:
    return model_dirs["bert"]


@pytest.fixture(scope="session")
def lms(model_dirs: dict[str, Path]) -> dict:
    from explorer.engine import models

    return {arch: models.load(str(path)) for arch, path in model_dirs.items()}


@pytest.fixture(scope="session")
def bert(lms: dict):
    return lms["bert"]


@pytest.fixture(scope="session")
def roberta(lms: dict):
    return lms["roberta"]


@pytest.fixture(scope="session")
def demo_lm():
    """The bundled demo model, assembled from the package and the committed delta."""
    from explorer.engine import models

    return models.load("demo")


@pytest.fixture(autouse=True)
def own_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test remembers its window's session in a file of its own (never the person's,
    never another test's), and leaves the zoom at 100%."""
    import sys

    monkeypatch.setenv("BERT_EXPLORER_SETTINGS", str(tmp_path_factory.mktemp("settings") / "settings.ini"))
    yield
    style = sys.modules.get("explorer.qt.widgets.style")
    if style is not None and style.font_scale() != 1.0:
        style.apply_zoom(1.0)
