"""Agreement of two fill-mask results (explorer.core.compare) on hand-made results, against
counts done by hand and a brute force over random lists of words."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.compare import Agreement, CompareResult, agreement
from explorer.core.results import Candidate, FillMaskResult, MaskPrediction, Tokenization


def cand(token: str, text: str, continues: bool = False, score: float = 0.1) -> Candidate:
    return Candidate(token=token, token_id=0, score=score, token_str=token, text=text, continues_word=continues)


def result(model: str, *masks: list[Candidate]) -> FillMaskResult:
    empty = Tokenization((), (), (), (), ())
    return FillMaskResult(model, "cpu", "t", empty, tuple(MaskPrediction(i, 0, 0, tuple(m)) for i, m in enumerate(masks)))


def test_words_match_across_vocabularies_not_tokens():
    bert = result("bert", [cand("Paris", "Paris"), cand("London", "London"), cand("##s", "s", True)])
    roberta = result("roberta", [cand("ĠParis", "Paris"), cand("s", "s", True), cand("ĠRome", "Rome")])
    # Paris and the glued "s" are shared; London and Rome are not: 2 of 3.
    assert agreement(bert, roberta) == [Agreement(0, True, 2 / 3)]


def test_a_piece_is_not_the_word_it_spells():
    a = result("a", [cand("s", "s", True)])
    b = result("b", [cand("Ġs", "s", False)])
    assert agreement(a, b) == [Agreement(0, False, 0.0)]


def test_k_is_the_larger_set_and_empty_is_zero():
    a = result("a", [cand("x", "x"), cand("y", "y"), cand("z", "z"), cand("w", "w")], [])
    b = result("b", [cand("x", "x")], [])
    assert agreement(a, b) == [Agreement(0, True, 0.25), Agreement(1, False, 0.0)]


def test_masks_are_matched_by_order_and_a_different_count_is_said():
    a = result("a", [cand("x", "x")], [cand("y", "y")], [cand("z", "z")])
    b = result("b", [cand("y", "y")])
    compared = CompareResult.of("t", a, b)
    assert compared.agreement == (Agreement(0, False, 0.0),)
    assert len(compared.warnings) == 1 and "a has 3 mask(s)" in compared.warnings[0] and "b has 1" in compared.warnings[0]
    assert CompareResult.of("t", a, a).warnings == ()


def test_json_contract():
    a = result("a", [cand("x", "x")])
    data = CompareResult.of("text", a, a).to_json()
    assert data == {
        "text": "text",
        "results": [a.to_json(), a.to_json()],
        "agreement": [{"index": 0, "same_top1": True, "topk_overlap": 1.0}],
        "warnings": [],
    }


WORDS = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), st.booleans()), max_size=6)


@given(st.lists(st.tuples(WORDS, WORDS), max_size=3))
def test_agreement_equals_a_brute_force(pairs):
    a = result("a", *[[cand(w, w, g) for w, g in wa] for wa, _ in pairs])
    b = result("b", *[[cand(w, w, g) for w, g in wb] for _, wb in pairs])
    got = agreement(a, b)
    assert [g.index for g in got] == list(range(len(pairs)))
    for g, (wa, wb) in zip(got, pairs):
        shared = sum(1 for w in set(wa) if w in wb)
        k = max(len(set(wa)), len(set(wb)))
        assert g.topk_overlap == pytest.approx(float(Fraction(shared, k)) if k else 0.0)
        assert g.same_top1 == bool(wa and wb and wa[0] == wb[0])
