"""`fill-mask TEXT --causal` and `attention TEXT --causal`: lab 000's causal mask on the CLI."""

from __future__ import annotations

import json

import numpy as np

from explorer.cli import main
from explorer.engine.attention import attention
from explorer.engine.fill_mask import NOT_TRAINED_THIS_WAY, fill_mask

TEXT = "The [MASK] sat on the mat with a cat and a dog."


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fill_mask_causal_json_says_the_mask(capsys, bert_dir, bert):
    code, out, _ = run(capsys, "fill-mask", TEXT, "--model", str(bert_dir), "--top-k", "5", "--json", "--causal")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"model", "device", "tokens", "masks", "warnings", "mask"}
    assert data["mask"] == "causal" and NOT_TRAINED_THIS_WAY in data["warnings"]
    expected = fill_mask(bert, TEXT, 5, mask="causal")
    assert [p["token_id"] for p in data["masks"][0]["predictions"]] == [c.token_id for c in expected.masks[0].candidates]
    plain = fill_mask(bert, TEXT, 5)
    assert [p["token_id"] for p in data["masks"][0]["predictions"]] != [c.token_id for c in plain.masks[0].candidates]


def test_fill_mask_without_causal_keeps_the_contract(capsys, bert_dir):
    code, out, _ = run(capsys, "fill-mask", TEXT, "--model", str(bert_dir), "--json")
    assert code == 0 and "mask" not in json.loads(out)


def test_fill_mask_causal_human_output_says_it_and_warns(capsys, bert_dir):
    code, out, err = run(capsys, "fill-mask", TEXT, "--model", str(bert_dir), "--top-k", "3", "--causal")
    assert code == 0 and "mask: causal" in out and NOT_TRAINED_THIS_WAY in err


def test_causal_with_joint_exits_2_with_one_line(capsys, bert_dir):
    for extra in (["--joint"], ["--beam", "3"]):
        code, out, err = run(capsys, "fill-mask", TEXT, "--model", str(bert_dir), "--causal", *extra)
        lines = err.strip().splitlines()
        assert code == 2 and out == "" and len(lines) == 1
        assert "--causal and --joint" in lines[0] and lines[0].startswith("bert-explorer: error:")


def test_attention_causal_json_is_zero_above_the_diagonal(capsys, bert_dir, bert, tmp_path):
    npz = tmp_path / "causal.npz"
    code, out, _ = run(capsys, "attention", TEXT, "--model", str(bert_dir), "--layer", "1", "--json", "--causal", "--npz", str(npz))
    assert code == 0
    data = json.loads(out)
    assert data["mask"] == "causal" and NOT_TRAINED_THIS_WAY in data["warnings"]
    weights = np.array(data["weights"])
    t = len(data["tokens"])
    assert (weights[:, np.triu(np.ones((t, t), dtype=bool), 1)] == 0).all()
    np.testing.assert_allclose(weights, attention(bert, TEXT, mask="causal").weights[1], atol=1e-6)
    assert (np.triu(np.load(npz)["attentions"], 1) == 0).all()


def test_attention_without_causal_keeps_the_contract(capsys, bert_dir):
    code, out, _ = run(capsys, "attention", TEXT, "--model", str(bert_dir), "--json")
    assert code == 0 and "mask" not in json.loads(out)


def test_attention_causal_human_output(capsys, bert_dir):
    code, out, err = run(capsys, "attention", TEXT, "--model", str(bert_dir), "--causal")
    assert code == 0 and "mask: causal" in out and NOT_TRAINED_THIS_WAY in err
