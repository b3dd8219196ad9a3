"""`bert-explorer mask-demo`: the JSON contract, human output, and exit codes."""

from __future__ import annotations

import json

import pytest

from explorer.cli import main
from explorer.engine.masking import mask_demo

TEXT = "The cat sat on the mat. She wrote a letter to her grandmother in Paris."


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract(capsys, bert_dir, bert):
    code, out, err = run(capsys, "mask-demo", TEXT, "--model", str(bert_dir), "--rate", "0.3", "--seed", "5", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) == {"tokens", "masked_positions", "input_tokens", "predictions", "loss", "accuracy", "warnings"}
    assert data["warnings"] == []
    assert all(isinstance(t, str) for t in data["tokens"] + data["input_tokens"] + data["predictions"])
    assert data["tokens"][0] == "[CLS]" and data["tokens"][-1] == "[SEP]"
    assert len(data["input_tokens"]) == len(data["tokens"])
    positions = data["masked_positions"]
    assert positions == sorted(positions) and all(isinstance(p, int) for p in positions)
    assert 0 not in positions and len(data["tokens"]) - 1 not in positions
    assert len(data["predictions"]) == len(positions)
    ref = mask_demo(bert, TEXT, rate=0.3, seed=5)
    assert positions == list(ref.masked_positions)
    assert data["input_tokens"] == list(ref.input_tokens)
    assert data["predictions"] == [m.predicted_token for m in ref.masked]
    assert data["loss"] == pytest.approx(ref.loss, abs=1e-6)
    assert data["accuracy"] == pytest.approx(ref.accuracy)


def test_same_seed_same_output_and_no_80_10_10(capsys, bert_dir):
    argv = ["mask-demo", TEXT, "--model", str(bert_dir), "--seed", "3", "--json"]
    first, again = json.loads(run(capsys, *argv)[1]), json.loads(run(capsys, *argv)[1])
    assert first == again
    code, out, _ = run(capsys, *argv, "--no-80-10-10")
    plain = json.loads(out)
    assert code == 0 and plain["masked_positions"] == first["masked_positions"]
    assert {plain["input_tokens"][p] for p in plain["masked_positions"]} == {"[MASK]"}


def test_roberta_json(capsys, model_dirs):
    code, out, _ = run(capsys, "mask-demo", TEXT, "--model", str(model_dirs["roberta"]), "--json")
    data = json.loads(out)
    assert code == 0 and data["tokens"][0] == "<s>" and data["masked_positions"]


def test_human_output(capsys, bert_dir, bert):
    code, out, _ = run(capsys, "mask-demo", TEXT, "--model", str(bert_dir))
    ref = mask_demo(bert, TEXT)
    assert code == 0
    assert f"loss {ref.loss:.4f}" in out and "accuracy" in out
    assert out.count("[MASK]") >= sum(m.treatment == "mask" for m in ref.masked)


def test_layer_lens(capsys, bert_dir, bert):
    ref = mask_demo(bert, TEXT, seed=2)
    position = ref.masked[0].index
    code, out, _ = run(capsys, "mask-demo", TEXT, "--model", str(bert_dir), "--seed", "2", "--lens", str(position))
    assert code == 0 and f"layer lens at position {position}" in out
    assert "embeddings" in out and f"layer {bert.num_layers - 1}" in out
    code, out, _ = run(capsys, "mask-demo", TEXT, "--model", str(bert_dir), "--seed", "2", "--lens", str(position), "--json")
    lens = json.loads(out)["lens"]
    assert code == 0 and lens["position"] == position and len(lens["layers"]) == bert.num_layers + 1
    assert lens["true_token"] == ref.masked[0].original
    assert lens["layers"][-1]["top"][0]["token_id"] == ref.masked[0].predicted_id


@pytest.mark.parametrize(
    "argv, message",
    [
        (["mask-demo", ""], "empty"),
        (["mask-demo", "   "], "empty"),
        (["mask-demo", TEXT, "--rate", "0"], "argument --rate: must be above 0"),
        (["mask-demo", TEXT, "--rate", "1.5"], "argument --rate: must be above 0 and at most 1"),
        (["mask-demo", TEXT, "--rate", "-0.2"], "argument --rate"),
        (["mask-demo", TEXT, "--rate", "nan"], "argument --rate: must be a finite number"),
        (["mask-demo", TEXT, "--rate", "inf"], "argument --rate: must be a finite number"),
        # issue 21: a negative seed was refused only after the model had loaded
        (["mask-demo", TEXT, "--seed", "-1"], "argument --seed: must be at least 0"),
        (["mask-demo", TEXT, "--seed", "99999999999999999999999"], "argument --seed"),
        (["mask-demo", TEXT, "--lens", "-1"], "argument --lens: must be at least 0"),
        (["mask-demo", "the \udcff\udcfe cat"], "argument TEXT: is not valid UTF-8"),
    ],
)
def test_bad_input_exits_2_with_one_line_before_loading(capsys, argv, message):
    # The model folder does not exist: the check must come first, or the message would name it.
    code, out, err = run(capsys, *argv, "--model", "/no/such/folder")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bert-explorer") and "error:" in lines[0] and message in lines[0]


def test_the_engine_refuses_a_seed_out_of_range(bert):
    # The window calls the engine directly: its own check stays.
    from explorer.core.errors import InvalidParameterError

    for bad in (-1, 2**63, 1.5, "3", True):
        with pytest.raises(InvalidParameterError, match="random seed"):
            mask_demo(bert, TEXT, seed=bad)


def test_a_lens_position_outside_the_passage_exits_2(capsys, bert_dir):
    code, out, err = run(capsys, "mask-demo", "The cat sat.", "--model", str(bert_dir), "--lens", "40")
    assert code == 2 and out == "" and "numbered 0 to" in err


def test_a_missing_model_exits_2(capsys):
    code, _, err = run(capsys, "mask-demo", TEXT, "--model", "/no/such/folder")
    assert code == 2 and "does not exist" in err
