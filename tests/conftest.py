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


# Sentences of a small grammar, so a few steps of training give the model peaked, "trained-
# looking" guesses (a random model's are nearly flat, where any rounding changes the order).
TRAINED_SENTENCES = tuple(
    f"{who} {verb} {what} in {place} ."
    for who in ("the man", "the woman", "my grandmother", "the child", "she", "he")
    for verb, what in (("wrote", "a letter"), ("sat", "on the mat"), ("went", "to school"), ("made", "good food"))
    for place in ("Paris", "London", "Berlin")
)


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT trained for a few dozen steps on TRAINED_SENTENCES (seconds): the model
    the precisions are measured against, since their errors show only on peaked guesses."""
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from explorer.engine.synthetic import make_model

    folder = make_model(tmp_path_factory.mktemp("trained") / "bert", "bert", seed=3)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForMaskedLM.from_pretrained(folder).train()
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    enc = tokenizer(list(TRAINED_SENTENCES), padding=True, return_tensors="pt")
    special = torch.tensor([[t in tokenizer.all_special_ids for t in row] for row in enc["input_ids"].tolist()])
    for _ in range(60):
        chosen = (torch.rand(enc["input_ids"].shape) < 0.2) & ~special
        labels = torch.where(chosen, enc["input_ids"], torch.tensor(-100))
        inputs = torch.where(chosen, torch.tensor(tokenizer.mask_token_id), enc["input_ids"])
        loss = model(input_ids=inputs, attention_mask=enc["attention_mask"], labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval().save_pretrained(folder)
    return folder
