"""`bert-explorer internals`: the JSON and --npz contracts, and a model it cannot read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.cli import main
from explorer.engine.internals import internals

TEXT = "The cat sat on the mat."


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_internals_json_and_npz(capsys, bert_dir, bert, tmp_path):
    npz = tmp_path / "steps.npz"
    code, out, _ = run(capsys, "internals", TEXT, "--model", str(bert_dir), "--layer", "1", "--head", "4",
                       "--npz", str(npz), "--json")
    assert code == 0
    data = json.loads(out)
    expected = internals(bert, TEXT, 1, 4)
    t, h, d, big_d = len(expected.ids), 12, expected.head_size, expected.hidden_size
    assert data["model"] == str(bert_dir) and data["tokens"] == list(expected.tokens)
    assert data["layer"] == 1 and data["head"] == 4
    assert data["shapes"]["query"] == [1, h, t, d] and data["shapes"]["scores"] == [1, h, t, t]
    assert data["shapes"]["layer_output"] == [1, t, big_d]
    assert set(data["embeddings"]) == {"word", "position", "token_type", "sum", "normalized"}
    assert np.array(data["embeddings"]["position"]).shape == (t, big_d)
    for key, shape in [("query", (t, d)), ("key", (t, d)), ("value", (t, d)), ("scores", (t, t)),
                       ("probs", (t, t)), ("context", (t, d)), ("attention_output", (t, big_d)),
                       ("intermediate", (t, expected.intermediate_size)), ("layer_output", (t, big_d))]:
        assert np.array(data[key]).shape == shape, key
    np.testing.assert_allclose(data["probs"], expected.arrays["probs"], atol=1e-6)
    assert set(data["max_abs_diff"]) == {"hidden_states", "attentions"}
    assert max(data["max_abs_diff"].values()) < 1e-4 and data["ok"] is True
    saved = np.load(npz)
    assert saved["query"].shape == (t, d) and saved["probs"].shape == (t, t)
    assert saved["embeddings_word"].shape == (t, big_d)
    np.testing.assert_allclose(saved["layer_output"], expected.arrays["layer_output"], atol=1e-6)
    assert list(saved["tokens"]) == list(expected.tokens)


def test_internals_human_output(capsys, model_dirs):
    code, out, _ = run(capsys, "internals", TEXT, "--model", str(model_dirs["distilbert"]), "--mask", "causal")
    assert code == 0
    assert "B × H × S × d = 1 × 12 ×" in out and "B × H × S × S" in out and ": OK" in out


@pytest.mark.parametrize("argv, message", [
    (["--layer", "2"], "Layer 2 does not exist"),
    (["--head", "12"], "Head 12 does not exist"),
    (["--layer", "-1"], "--layer"),
    (["--npz", "steps.txt"], ".npz"),
])
def test_internals_bad_arguments_exit_2(capsys, bert_dir, argv, message):
    code, _, err = run(capsys, "internals", "The cat.", "--model", str(bert_dir), *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_internals_unsupported_architecture_exits_2(capsys, tmp_path):
    from transformers import AlbertConfig, AlbertForMaskedLM

    from explorer.engine.synthetic import write_bert_tokenizer

    folder = tmp_path / "albert"
    vocab = write_bert_tokenizer(folder)
    config = AlbertConfig(vocab_size=vocab, embedding_size=16, hidden_size=48, num_hidden_layers=1,
                          num_attention_heads=12, intermediate_size=64, max_position_embeddings=64,
                          pad_token_id=0)
    AlbertForMaskedLM(config).save_pretrained(folder)
    code, out, err = run(capsys, "internals", "The cat.", "--model", str(folder), "--json")
    assert code == 2 and out == ""
    assert "not supported for this model" in err and len(err.strip().splitlines()) == 1
