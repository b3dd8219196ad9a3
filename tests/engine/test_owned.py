"""Which folders the app may replace: only a model folder it wrote, or one with nothing else in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from explorer.core.owned import CARD, MARKER, is_model_folder, is_ours, mark_ours, owner_gone, replace_refusal


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake home folder with a person's files in it."""
    folder = tmp_path / "home"
    (folder / "Documents").mkdir(parents=True)
    (folder / ".bashrc").write_text("mine")
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: folder))
    return folder


def model_folder(folder: Path, *extra: str) -> Path:
    folder.mkdir(parents=True)
    for name in ("model.safetensors", "tokenizer.json", "vocab.txt", *extra):
        (folder / name).write_text("{}")
    (folder / "config.json").write_text('{"model_type": "bert"}')
    return folder


@pytest.mark.parametrize("files", [
    {"README.md": "# my notes", "config.json": '{"theme": "dark"}'},  # the audit's notes folder
    {"config.json": '{"theme": "dark"}', "model.safetensors": "x"},  # a config that names no model
    {"config.json": '{"model_type": "bert"}', "vocab.txt": "a", "README.md": "notes"},  # no weights
    {"config.json": "[1, 2]", "pytorch_model.bin": "x"},
    {"config.json": "not json", "model.safetensors": "x"},
])
def test_files_with_model_file_names_are_not_a_model_folder(tmp_path, home, files):
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    assert not is_model_folder(folder)
    assert replace_refusal(folder) is not None
    assert {p.name: p.read_text() for p in folder.iterdir()} == files


def test_a_new_an_empty_and_a_model_folder_may_be_replaced(tmp_path, home):
    assert replace_refusal(tmp_path / "new") is None
    (tmp_path / "empty").mkdir()
    assert replace_refusal(tmp_path / "empty") is None
    assert replace_refusal(model_folder(tmp_path / "hub-model", "model-00001-of-00002.safetensors")) is None
    assert replace_refusal(model_folder(tmp_path / "ours", CARD)) is None  # an older save: its card only
    marked = tmp_path / "marked"  # saved by this app: its marker lists what it wrote
    marked.mkdir()
    (marked / "weights.bin").write_text("x")
    mark_ours(marked, "model", files=["weights.bin"])
    assert replace_refusal(marked) is None


def test_a_model_folder_of_ours_with_a_persons_file_added_is_not_replaced(tmp_path, home):
    ours = model_folder(tmp_path / "ours", CARD)
    mark_ours(ours, "model", files=sorted(p.name for p in ours.iterdir()))
    (ours / "my-notes.txt").write_text("mine")
    assert "not a model folder this app saved" in replace_refusal(ours)
    older = model_folder(tmp_path / "older", CARD, "my-notes.txt")  # an older save: a card, no marker
    assert replace_refusal(older) is not None


@pytest.mark.parametrize("where", ["~", "~/", "home", "home/.", "home-parent"])
def test_the_home_folder_and_what_holds_it_are_never_replaced(tmp_path, home, where, monkeypatch):
    monkeypatch.chdir(tmp_path)
    given = {"home": str(home), "home/.": f"{home}/.", "home-parent": str(home.parent)}.get(where, where)
    reason = replace_refusal(given)
    assert reason and "home folder" in reason and "never replaced" in reason


def test_the_working_folder_and_a_filesystem_root_are_never_replaced(tmp_path, home, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for given in (".", str(work), "./"):
        assert "is your working folder" in replace_refusal(given)
    assert "never replaced" in replace_refusal("..")  # it holds the working folder (and the home)
    assert "filesystem root" in replace_refusal("/")
    (work / "empty").mkdir()
    assert replace_refusal("empty") is None  # inside the working folder is fine


def test_a_folder_holding_what_the_run_reads_is_never_replaced(tmp_path, home):
    data = model_folder(tmp_path / "work" / "data")  # a model folder, even: the corpus is in it
    corpus = data / "corpus.txt"
    corpus.write_text("text")
    assert "corpus.txt" in replace_refusal(data, keep=[corpus])
    assert "corpus.txt" in replace_refusal(tmp_path / "work", keep=[corpus])  # and what holds it
    base = model_folder(tmp_path / "base")
    assert replace_refusal(base, keep=[corpus, base]) is not None  # the base model the run reads


def test_a_persons_folder_a_file_and_a_link_are_never_replaced(tmp_path, home):
    mixed = model_folder(tmp_path / "mixed", "notes.txt")
    assert "not a model folder this app saved" in replace_refusal(mixed)
    nested = model_folder(tmp_path / "nested")
    (nested / "sub").mkdir()
    assert replace_refusal(nested) is not None
    (tmp_path / "file").write_text("x")
    assert "is a file" in replace_refusal(tmp_path / "file")
    (tmp_path / "link").symlink_to(model_folder(tmp_path / "target"))
    assert "symbolic link" in replace_refusal(tmp_path / "link")
    no_config = tmp_path / "no-config"
    no_config.mkdir()
    (no_config / "model.safetensors").write_text("x")
    assert replace_refusal(no_config) is not None
    assert not is_model_folder(no_config)


def test_markers_and_their_owners(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    assert not is_ours(folder) and not owner_gone(folder)  # unmarked: never judged gone
    mark_ours(folder, "partial", target="x")
    assert is_ours(folder) and is_ours(folder, "partial") and not is_ours(folder, "model")
    assert not owner_gone(folder)  # this process is alive
    (folder / MARKER).write_text('{"kind": "partial", "pid": %d, "host": "%s"}' % (2**22 + 12345, os.uname().nodename))
    assert owner_gone(folder)  # no such process
    (folder / MARKER).write_text("not json")
    assert not is_ours(folder)
