"""`fill-mask --joint` and `score`: the JSON contracts, and bad input refused with exit 2."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.cli import main
from explorer.core.joint import JointParams
from explorer.engine.joint import joint_fill
from explorer.engine.scoring import score_sentences


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


TEXT = "The [MASK] sat on the [MASK]."


def test_joint_json_contract(capsys, bert_dir, bert):
    code, out, err = run(capsys, "fill-mask", TEXT, "--model", str(bert_dir), "--joint", "--beam", "3", "--results", "4", "--json")
    assert code == 0, err
    data = json.loads(out)
    expected = joint_fill(bert, TEXT, JointParams(beam=3, results=4))
    assert len(data["masks"]) == 2  # the per-mask view stays as fill-mask prints it
    assert [j["token_ids"] for j in data["joint"]] == [list(f.token_ids) for f in expected.fillings]
    for record in data["joint"]:
        assert set(record) >= {"tokens", "token_ids", "score", "parts"}
        assert record["score"] == pytest.approx(sum(record["parts"]))
    assert data["independent"]["token_ids"] == list(expected.independent.token_ids)
    assert data["joint"][0]["score"] >= data["independent"]["score"]
    assert data["order"] == "confidence" and data["beam"] == 3


def test_pieces_implies_joint_and_says_the_ranking(capsys, bert_dir):
    code, out, err = run(capsys, "fill-mask", "The cat sat on the [MASK].", "--model", str(bert_dir), "--pieces", "2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["ranked_by"] == "mean log-probability per piece" and data["max_pieces"] == 2
    assert {len(j["token_ids"]) for j in data["joint"]} <= {1, 2}
    per_piece = [j["per_piece"] for j in data["joint"]]
    assert per_piece == sorted(per_piece, reverse=True)


def test_joint_human_output(capsys, bert_dir):
    code, out, _ = run(capsys, "fill-mask", TEXT, "--model", str(bert_dir), "--joint", "--order", "left-to-right")
    assert code == 0
    assert "joint fillings (beam 5, left-to-right order" in out and "each mask alone" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--beam", "0"], ["--beam", "x"], ["--results", "0"], ["--order", "random"], ["--pieces", "7"], ["--pieces", "-1"],
    ],
)
def test_bad_joint_options_exit_2_before_loading(capsys, argv):
    code, out, err = run(capsys, "fill-mask", TEXT, "--model", "/nowhere/at/all", *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_joint_without_a_mask_says_what_to_do(capsys):
    code, _, err = run(capsys, "fill-mask", "No mask here.", "--model", "/nowhere/at/all", "--joint")
    assert code == 2 and "put [MASK]" in err


def test_score_json_contract(capsys, bert_dir, bert):
    pair = ["The cat sat on the mat.", "The cat sat on the mats."]
    code, out, err = run(capsys, "score", *pair, "--model", str(bert_dir), "--json")
    assert code == 0, err
    data = json.loads(out)
    expected = score_sentences(bert, pair)
    assert data["model"] == str(bert_dir)
    for got, want in zip(data["sentences"], expected.sentences):
        assert set(got) == {"text", "tokens", "token_scores", "pll"}
        assert got["tokens"] == list(want.tokens)
        assert got["token_scores"][0] is None and got["token_scores"][-1] is None  # [CLS], [SEP]
        assert got["pll"] == pytest.approx(want.pll)


def test_score_reads_a_file_and_marks_the_preferred(capsys, bert_dir, tmp_path):
    file = tmp_path / "pairs.txt"
    file.write_text("The cat sat.\n\nThe cats sat.\n", encoding="utf-8")
    code, out, _ = run(capsys, "score", "--file", str(file), "--model", str(bert_dir))
    assert code == 0
    assert out.count("PLL") == 2 and out.count("<- preferred") == 1


@pytest.mark.parametrize("argv", [[], ["  "], ["--file", "/no/such/file.txt"], ["A.", "--file", "/"]])
def test_score_refuses_nothing_to_score(capsys, argv):
    code, out, err = run(capsys, "score", *argv, "--model", "/nowhere/at/all")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1


def test_score_refuses_a_binary_file(capsys, tmp_path):
    file = tmp_path / "x.txt"
    file.write_bytes(b"\x00\x01\x02" * 100)
    code, _, err = run(capsys, "score", "--file", str(file), "--model", "/nowhere/at/all")
    assert code == 2 and "binary" in err


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sentence=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(str.strip))
def test_score_any_text_gives_strict_json(capsys, bert_dir, sentence):
    # After "--" a sentence may start with "-" (argparse would take it for an option).
    code, out, err = run(capsys, "score", "--model", str(bert_dir), "--json", "--", sentence)
    assert code == 0, err
    json.loads(out, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
