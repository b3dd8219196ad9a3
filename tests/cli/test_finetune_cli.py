"""`bert-explorer finetune`: JSON, the saved folder, refusals before training."""

from __future__ import annotations

import errno
import json
import math
import os
from pathlib import Path

import pytest

from explorer.cli import main


def test_finetune_json_and_a_folder_that_opens(capsys, bert_dir, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(["the cat sat on the mat . the dog sat on the mat ."] * 100))
    out = tmp_path / "adapted"
    code = main(["finetune", str(corpus), "--out", str(out), "--model", str(bert_dir), "--chunk-size", "32",
                 "--max-steps", "20", "--lr", "1e-3", "--json"])
    stdout, _ = capsys.readouterr()
    assert code == 0
    data = json.loads(stdout, parse_constant=lambda constant: pytest.fail(f"{constant} is not JSON"))
    assert set(data) == {"model", "out", "steps", "perplexity_before", "perplexity_after", "losses", "batch_size",
                         "world_size", "effective_batch_size", "warnings"}
    assert len(data["losses"]) == 20 and data["world_size"] == 1 and data["effective_batch_size"] == data["batch_size"]
    # Every line of the corpus is the same one: no held-out line is unseen, and it says so.
    assert len(data["warnings"]) == 1 and "also occur in the training text" in data["warnings"][0]
    assert data["steps"] == 20 and data["perplexity_after"] < data["perplexity_before"]
    assert data["out"] == str(out.resolve())
    code = main(["fill-mask", "the cat sat on the [MASK] .", "--model", str(out), "--json"])
    assert code == 0 and json.loads(capsys.readouterr()[0])["masks"]


def test_finetune_refuses_before_loading_anything(capsys, tmp_path):
    out = tmp_path / "full"
    out.mkdir()
    (out / "x").write_text("x")
    corpus = tmp_path / "c.txt"
    corpus.write_text("text\n")
    # The model name does not exist: if it were loaded first, the error would be about it.
    code = main(["finetune", str(corpus), "--out", str(out), "--model", "/no/model"])
    _, err = capsys.readouterr()
    assert code == 2 and "not a model folder this app saved" in err and len(err.strip().splitlines()) == 1
    code = main(["finetune", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "new"), "--model", "/no/model"])
    assert code == 2 and "does not exist" in capsys.readouterr()[1]


REPETITIVE = "the cat sat on the mat . the dog sat on the mat ."
QUICK = ["--max-steps", "2", "--batch-size", "4", "--chunk-size", "32"]


def corpus_in(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "c.txt"
    corpus.write_text("\n".join([REPETITIVE] * 60))
    return corpus


def finetune(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["finetune", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def refused(code: int, out: str, err: str, *said: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr that says it."""
    lines = [line for line in err.splitlines() if line.startswith("bert-explorer: error:")]
    assert code == 2 and out == "" and len(lines) == 1 and lines[0] == err.strip().splitlines()[-1], err
    assert all(s in lines[0] for s in said), lines[0]


@pytest.mark.parametrize("where", ["home", "working folder", "corpus folder", "root"])
def test_overwrite_never_replaces_a_persons_folder(capsys, tmp_path, monkeypatch, where):
    """The issue's data loss: --out "~", --out ., --out the corpus's folder (and /), with
    --overwrite, each wiped a folder. Refused before the model loads (it does not exist)."""
    home, work = tmp_path / "home", tmp_path / "work"
    for folder in (home / "Documents", work):
        folder.mkdir(parents=True)
    (home / ".bashrc").write_text("mine")
    (home / "Documents" / "thesis.tex").write_text("mine")
    (work / "notes.txt").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    monkeypatch.chdir(work)
    corpus = corpus_in(tmp_path / "data")
    out, said = {"home": ("~", "home folder"), "working folder": (".", "working folder"),
                 "corpus folder": (str(corpus.parent), "c.txt"), "root": ("/", "filesystem root")}[where]
    refused(*finetune(capsys, corpus, "--out", out, "--overwrite", "--model", "/no/model"), said, "never replaced")
    assert (home / ".bashrc").read_text() == (home / "Documents" / "thesis.tex").read_text() == "mine"
    assert (work / "notes.txt").read_text() == "mine" and corpus.read_text().startswith(REPETITIVE)


def test_overwrite_never_replaces_the_home_folder_with_a_real_model_either(capsys, bert_dir, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    refused(*finetune(capsys, corpus_in(tmp_path), "--out", "~", "--overwrite", "--model", bert_dir, *QUICK), "home folder")
    assert sorted(p.name for p in home.iterdir()) == [".bashrc"] and (home / ".bashrc").read_text() == "mine"


@pytest.mark.parametrize(
    "option, value",
    [("--lr", "inf"), ("--lr", "nan"), ("--lr", "-1"), ("--epochs", "inf"), ("--epochs", "1e400"), ("--eval-every", "-1"),
     ("--validation", "nan"), ("--validation", "1"), ("--mlm-probability", "2"), ("--seed", "99999999999999999999999"),
     ("--seed", "-1"), ("--chunk-size", "4"), ("--chunk-size", "99999999999")],
)
def test_numbers_out_of_range_are_refused_by_option_before_anything_runs(capsys, tmp_path, option, value):
    args = [corpus_in(tmp_path), "--out", tmp_path / "o", "--model", "/no/model", option, value]
    code, out, err = finetune(capsys, *args)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and option in err, err
    assert not (tmp_path / "o").exists()


def test_a_run_that_diverges_exits_2_and_saves_nothing(capsys, bert_dir, tmp_path, monkeypatch):
    from explorer.engine import finetune as finetune_module

    real = finetune_module.masked_loss
    monkeypatch.setattr(finetune_module, "masked_loss",
                        lambda model, *a, **k: real(model, *a, **k) * (math.inf if model.training else 1))
    refused(*finetune(capsys, corpus_in(tmp_path), "--out", tmp_path / "o", "--model", bert_dir, *QUICK),
            "diverged", "Lower the learning rate")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]


@pytest.mark.parametrize(
    "failure, said",
    [(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "No space left"),
     (OSError(errno.EACCES, os.strerror(errno.EACCES)), "No permission"),
     # What safetensors raises on a full disk: its own error, not OSError.
     (Exception("Error while serializing: I/O error: No space left on device (os error 28)"), "No space left")],
)
def test_a_full_disk_or_a_refused_write_while_saving_keeps_the_old_model(capsys, bert_dir, tmp_path, monkeypatch, failure, said):
    from transformers import PreTrainedModel

    corpus, out = corpus_in(tmp_path), tmp_path / "o"
    assert finetune(capsys, corpus, "--out", out, "--model", bert_dir, *QUICK)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = PreTrainedModel.save_pretrained

    def fails_half_way(self, folder, *args, **kwargs):
        real(self, folder, *args, **kwargs)
        raise failure

    monkeypatch.setattr(PreTrainedModel, "save_pretrained", fails_half_way)
    refused(*finetune(capsys, corpus, "--out", out, "--overwrite", "--model", bert_dir, *QUICK, "--seed", "3"),
            "nothing was saved", said)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt", "o"]


def test_no_room_for_the_model_is_refused_before_training(capsys, bert_dir, tmp_path, monkeypatch):
    from explorer.core import finetune_checks

    monkeypatch.setattr(finetune_checks.shutil, "disk_usage", lambda path: type("usage", (), {"free": 1000}))
    code, out, err = finetune(capsys, corpus_in(tmp_path), "--out", tmp_path / "o", "--model", bert_dir, *QUICK)
    refused(code, out, err, "Not enough room")
    assert "reading and tokenizing" not in err and not (tmp_path / "o").exists()


def test_the_default_chunk_size_is_fitted_to_a_small_model_with_a_note(capsys, bert_dir, tmp_path):
    """A 64-position model and the default --chunk-size 128 crashed after reading the corpus."""
    code, out, _ = finetune(capsys, corpus_in(tmp_path), "--out", tmp_path / "o", "--model", bert_dir,
                            "--max-steps", "2", "--batch-size", "4", "--json")
    data = json.loads(out)
    assert code == 0 and "chunks of 64 tokens are used instead" in data["warnings"][0]
    assert json.loads((tmp_path / "o" / "explorer_card.json").read_text())["chunk_size"] == 64


@pytest.mark.parametrize("out, said", [("c.txt", "is a file"), ("c.txt/model", "is a file, not a folder")])
def test_an_output_folder_at_or_inside_the_corpus_file_is_refused(capsys, tmp_path, out, said):
    corpus = corpus_in(tmp_path)
    refused(*finetune(capsys, corpus, "--out", tmp_path / out, "--overwrite", "--model", "/no/model"), said)
    assert corpus.read_text().startswith(REPETITIVE)
