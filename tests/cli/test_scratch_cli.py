"""`bert-explorer finetune --from-scratch`: a new model of a chosen size; bad sizes refused first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.cli import main

LINES = [f"the {a} sat on the {b} ." for a in ("cat", "dog", "bird", "fish") for b in ("mat", "rug", "log")] * 30


def corpus_in(folder: Path) -> Path:
    path = folder / "c.txt"
    path.write_text("\n".join(LINES))
    return path


def test_from_scratch_with_a_new_vocabulary_needs_no_base_model(capsys, tmp_path):
    out = tmp_path / "new"
    # The base model named does not exist: with a new vocabulary none is read.
    code = main(["finetune", str(corpus_in(tmp_path)), "--out", str(out), "--model", "/no/model",
                 "--from-scratch", "--size", "toy", "--new-vocab", "100", "--chunk-size", "16",
                 "--max-steps", "40", "--lr", "3e-3", "--json"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(stdout)
    scratch = data["from_scratch"]
    assert (scratch["layers"], scratch["hidden"], scratch["heads"], scratch["intermediate"]) == (4, 8, 2, 64)
    assert scratch["new_vocabulary"] and scratch["vocab_size"] <= 100
    assert data["perplexity_after"] < data["perplexity_before"]
    config = json.loads((out / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (4, 8, scratch["vocab_size"])
    code = main(["fill-mask", "the cat sat on the [MASK] .", "--model", str(out), "--json"])
    assert code == 0 and json.loads(capsys.readouterr()[0])["masks"]


def test_from_scratch_text_output_names_the_new_model(capsys, bert_dir, tmp_path):
    code = main(["finetune", str(corpus_in(tmp_path)), "--out", str(tmp_path / "new"), "--model", str(bert_dir),
                 "--from-scratch", "--layers", "1", "--hidden", "16", "--heads", "2", "--intermediate", "32",
                 "--chunk-size", "16", "--max-steps", "3"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "trained a new model (1 layers, hidden 16, 2 heads, intermediate 32)" in stdout
    assert "perplexity before:" in stdout and "perplexity after:" in stdout


@pytest.mark.parametrize("options, words", [
    (["--hidden", "30", "--heads", "4"], "not a multiple of the 4 attention heads"),
    (["--layers", "0"], "argument --layers: must be"),
    (["--new-vocab", "20"], "argument --new-vocab: must be"),
    (["--size", "huge"], "argument --size: invalid choice"),
    (["--heads", "0"], "argument --heads: must be"),
])
def test_bad_sizes_exit_2_with_one_line_before_anything_loads(capsys, tmp_path, options, words):
    out = tmp_path / "new"
    # The model does not exist: if anything were loaded first, the error would be about it.
    code = main(["finetune", str(corpus_in(tmp_path)), "--out", str(out), "--model", "/no/model",
                 "--from-scratch", *options])
    stdout, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2 and stdout == "" and len(lines) == 1 and words in lines[0], err
    assert "/no/model" not in err and not out.exists()


def test_size_options_without_from_scratch_are_refused(capsys, tmp_path):
    code = main(["finetune", str(corpus_in(tmp_path)), "--out", str(tmp_path / "o"), "--model", "/no/model",
                 "--hidden", "64"])
    err = capsys.readouterr()[1]
    assert code == 2 and "--hidden: only for a model trained from scratch (add --from-scratch)" in err
    assert len(err.strip().splitlines()) == 1


def test_a_new_vocabulary_is_refused_under_a_launch(capsys, tmp_path, monkeypatch):
    """Each torchrun process would train its own vocabulary: refused before any work."""
    for name, value in {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                        "MASTER_PORT": "29511"}.items():
        monkeypatch.setenv(name, value)
    code = main(["finetune", str(corpus_in(tmp_path)), "--out", str(tmp_path / "o"), "--from-scratch",
                 "--new-vocab", "500"])
    err = capsys.readouterr()[1]
    assert code == 2 and "--new-vocab trains a vocabulary in one process" in err
    assert not (tmp_path / "o").exists()
