"""`bert-explorer compare`: two `fill-mask --json` runs side by side, and their agreement.

The reference for the agreement is transformers' own fill-mask pipeline, read the way a person
reads it (a "##" piece, or a RoBERTa token without its leading space, is glued to the word
before), with the sets counted by hand.
"""

from __future__ import annotations

import json
import re

import pytest
from transformers import pipeline

from explorer.cli import main

TEXT = "Paris is the [MASK] of France."
TWO_MASKS = "The [MASK] sat on the [MASK] ."


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_of(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("pair", [("bert", "roberta"), ("roberta", "distilbert")])
@pytest.mark.parametrize("text", [TEXT, TWO_MASKS])
def test_compare_json_is_two_fill_mask_runs(capsys, model_dirs, pair, text):
    a, b = (str(model_dirs[arch]) for arch in pair)
    data = json_of(capsys, "compare", text, "--models", a, b, "--top-k", "5", "--json")
    assert set(data) == {"text", "results", "agreement", "warnings"}
    assert data["text"] == text and data["warnings"] == []
    expected = [json_of(capsys, "fill-mask", text, "--model", m, "--top-k", "5", "--json") for m in (a, b)]
    assert data["results"] == expected
    masks = text.count("[MASK]")
    assert [len(r["masks"]) for r in data["results"]] == [masks, masks]  # "[MASK]" works for RoBERTa too
    assert [g["index"] for g in data["agreement"]] == list(range(masks))


def _reference_words(model_dir: str, text: str, k: int) -> list[list[tuple[str, bool]]]:
    """Each mask's top-k as (word, glued to the word before), from transformers' pipeline: a
    WordPiece piece says so with "##", a byte-level BPE token starts a word with a space."""
    pipe = pipeline("fill-mask", model=model_dir, device="cpu")
    tok = pipe.tokenizer
    byte_level = "Ġthe" in tok.get_vocab()
    out = pipe(text.replace("[MASK]", tok.mask_token), top_k=k)
    per_mask = [out] if out and isinstance(out[0], dict) else out

    def read(s: str) -> tuple[str, bool]:
        if s in tok.all_special_tokens:
            return s, False
        if byte_level:
            return s.strip(), not s.startswith(" ")
        return (s[2:], True) if s.startswith("##") else (s.strip(), False)

    return [[read(p["token_str"]) for p in mask] for mask in per_mask]


@pytest.mark.parametrize("pair", [("bert", "distilbert"), ("bert", "roberta"), ("bert", "bert")])
def test_agreement_equals_a_brute_force_set_count(capsys, model_dirs, pair):
    a, b = (str(model_dirs[arch]) for arch in pair)
    k = 60  # large enough that random tiny models share some of their top-k
    data = json_of(capsys, "compare", TWO_MASKS, "--models", a, b, "--top-k", str(k), "--json")
    ref_a, ref_b = _reference_words(a, TWO_MASKS, k), _reference_words(b, TWO_MASKS, k)
    expected = []
    for index, (words_a, words_b) in enumerate(zip(ref_a, ref_b)):
        shared = [w for w in set(words_a) if w in set(words_b)]
        expected.append({
            "index": index,
            "same_top1": words_a[0] == words_b[0],
            "topk_overlap": pytest.approx(len(shared) / max(len(set(words_a)), len(set(words_b)))),
        })
    assert data["agreement"] == expected
    if pair == ("bert", "bert"):
        assert all(g["same_top1"] and g["topk_overlap"] == 1.0 for g in data["agreement"])
    if pair == ("bert", "distilbert"):  # same vocabulary: the check is not vacuous
        assert any(0.0 < g["topk_overlap"] < 1.0 for g in data["agreement"])


@pytest.mark.parametrize("models", [["one"], ["one", "two", "three"]])
def test_models_must_be_exactly_two(capsys, model_dirs, models):
    names = [str(model_dirs["bert"])] * len(models)
    code, out, err = run(capsys, "compare", TEXT, "--models", *names, "--json")
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1
    assert lines[0].startswith("bert-explorer: error:") and "exactly two" in lines[0] and str(len(models)) in lines[0]


def test_models_is_required_and_said_in_one_line(capsys):
    code, out, err = run(capsys, "compare", TEXT)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--models" in err


def test_a_missing_model_is_one_line_that_names_it(capsys, model_dirs, tmp_path):
    missing = tmp_path / "nothing-here"
    code, out, err = run(capsys, "compare", TEXT, "--models", str(model_dirs["bert"]), str(missing))
    assert code == 2 and out == "" and err.count("\n") == 1 and str(missing) in err


def test_human_output_puts_both_top_k_side_by_side(capsys, model_dirs):
    a, b = str(model_dirs["bert"]), str(model_dirs["roberta"])
    code, out, err = run(capsys, "compare", TWO_MASKS, "--models", a, b, "--top-k", "3")
    assert code == 0, err
    data = json_of(capsys, "compare", TWO_MASKS, "--models", a, b, "--top-k", "3", "--json")
    assert f"A: {a}" in out and f"B: {b}" in out
    for g in data["agreement"]:
        same = "same top-1" if g["same_top1"] else "different top-1"
        assert f"mask {g['index'] + 1}: {same}, top-3 overlap {g['topk_overlap']:.0%}" in out
    ranks = [line.split()[0] for line in out.splitlines() if re.match(r" +\d+\. ", line)]
    assert ranks == ["1.", "2.", "3."] * 2


def test_a_second_model_that_would_not_fit_is_refused_before_loading(capsys, model_dirs, monkeypatch):
    from explorer.engine import memory

    monkeypatch.setattr(memory, "free_bytes", lambda _device: 1000)  # a machine almost out of memory
    code, out, err = run(capsys, "compare", "A [MASK] .", "--models", str(model_dirs["bert"]), str(model_dirs["roberta"]))
    assert code == 2 and out == ""
    line = err.strip()
    assert "\n" not in line and "needs about" in line and "free" in line


def test_notebook_compare_checks_room_for_the_second_model(model_dirs, monkeypatch):
    from explorer import Explorer
    from explorer.engine import memory

    ex = Explorer(str(model_dirs["bert"]))
    monkeypatch.setattr(memory, "free_bytes", lambda _device: 1000)
    with pytest.raises(memory.NotEnoughMemoryError, match="needs about"):
        ex.compare(str(model_dirs["roberta"]), "A [MASK] .")
