"""`bert-explorer finetune`: JSON, the saved folder, refusals before training."""

from __future__ import annotations

import json

from explorer.cli import main


def test_finetune_json_and_a_folder_that_opens(capsys, bert_dir, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(["the cat sat on the mat . the dog sat on the mat ."] * 100))
    out = tmp_path / "adapted"
    code = main(["finetune", str(corpus), "--out", str(out), "--model", str(bert_dir), "--chunk-size", "32",
                 "--max-steps", "20", "--lr", "1e-3", "--json"])
    stdout, _ = capsys.readouterr()
    assert code == 0
    data = json.loads(stdout)
    assert set(data) == {"model", "out", "steps", "perplexity_before", "perplexity_after", "warnings"}
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
    assert code == 2 and "exists and is not empty" in err and len(err.strip().splitlines()) == 1
    code = main(["finetune", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "new"), "--model", "/no/model"])
    assert code == 2 and "does not exist" in capsys.readouterr()[1]
