"""Joint filling and sentence scoring against references computed straight from transformers:
the PLL recomputed one masked copy at a time, the brute-force optimum over a small vocabulary."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.errors import InvalidParameterError
from explorer.core.joint import MAX_JOINT_MASKS, JointParams
from explorer.engine.joint import joint_fill
from explorer.engine.scoring import score_sentences
from explorer.engine.synthetic import WORDS

TWO = "The [MASK] [MASK] is in Paris."
THREE = "She [MASK] a [MASK] to her [MASK] ."


def _ids(lm, text: str) -> list[int]:
    return lm.tokenizer(text.replace("[MASK]", lm.mask_token))["input_ids"]


def _log_p(lm, ids: list[int], position: int) -> torch.Tensor:
    """log p over the vocabulary at `position`: the whole model, every position, no shortcut."""
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([ids])).logits[0, position]
    return logits.float().log_softmax(-1)


def _pll(lm, ids: list[int], positions: list[int], filling: tuple[int, ...]) -> list[float]:
    """The PLL parts of a filling, by the definition: fill all, mask one, read its log p."""
    filled = list(ids)
    for p, t in zip(positions, filling):
        filled[p] = t
    parts = []
    for p, t in zip(positions, filling):
        row = filled.copy()
        row[p] = lm.mask_token_id
        parts.append(float(_log_p(lm, row, p)[t]))
    return parts


def _masks(lm, ids: list[int]) -> list[int]:
    return [i for i, t in enumerate(ids) if t == lm.mask_token_id]


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
@pytest.mark.parametrize("text", [TWO, THREE])
def test_joint_scores_are_the_pll_of_the_filling(lms, arch, text):
    lm = lms[arch]
    result = joint_fill(lm, text, JointParams(beam=3, results=4))
    ids = _ids(lm, text)
    positions = _masks(lm, ids)
    assert result.fillings
    for filling in [*result.fillings, result.independent]:
        assert len(filling.token_ids) == len(positions)
        assert filling.parts == pytest.approx(_pll(lm, ids, positions, filling.token_ids), abs=1e-4)
        assert filling.score == pytest.approx(sum(filling.parts), abs=1e-9)
    scores = [f.score for f in result.fillings]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_independent_filling_is_each_masks_argmax(lms, arch):
    lm = lms[arch]
    ids = _ids(lm, THREE)
    positions = _masks(lm, ids)
    result = joint_fill(lm, THREE, JointParams(beam=2))
    specials = list(lm.special_ids)
    expected = []
    for p in positions:
        logp = _log_p(lm, ids, p)
        logp[specials] = -math.inf  # a mask is never filled with [SEP] or [MASK]
        expected.append(int(logp.argmax()))
    assert result.independent.token_ids == tuple(expected)
    assert result.fillings[0].score >= result.independent.score


def _small_vocab(lm, n: int) -> list[int]:
    vocab = lm.tokenizer.get_vocab()
    return [vocab[w] for w in ["cat", "dog", "mat", "house", "car", "city", "book", "music"][:n]]


@pytest.mark.parametrize("order", ["confidence", "left-to-right"])
@pytest.mark.parametrize(("text", "width"), [(TWO, 6), (THREE, 36)])
def test_wide_beam_finds_the_brute_force_optimum(bert, text, width, order):
    """A beam as wide as the candidates (6 tokens; for three masks, every pair of them) keeps
    every partial filling, so the best it returns is the exhaustive optimum of the PLL."""
    allowed = _small_vocab(bert, 6)
    ids = _ids(bert, text)
    positions = _masks(bert, ids)
    brute = {f: sum(_pll(bert, ids, positions, f)) for f in itertools.product(allowed, repeat=len(positions))}
    best = max(brute, key=brute.get)
    result = joint_fill(bert, text, JointParams(beam=width, results=3, order=order), allowed=allowed)
    assert result.fillings[0].token_ids == best
    assert result.fillings[0].score == pytest.approx(brute[best], abs=1e-4)
    assert all(t in allowed for f in result.fillings for t in f.token_ids)


def test_left_to_right_with_beam_one_is_greedy(bert):
    ids = _ids(bert, THREE)
    positions = _masks(bert, ids)
    row, greedy = list(ids), []
    specials = list(bert.special_ids)
    for p in positions:
        logp = _log_p(bert, row, p)
        logp[specials] = -math.inf
        row[p] = int(logp.argmax())
        greedy.append(row[p])
    result = joint_fill(bert, THREE, JointParams(beam=1, results=5, order="left-to-right"))
    found = {f.token_ids for f in result.fillings}
    assert tuple(greedy) in found


def test_filled_text_writes_each_word_in_place(bert):
    result = joint_fill(bert, "The [MASK] sat on the [MASK].", JointParams(beam=2))
    for f in result.fillings:
        assert "[MASK]" not in f.text
        assert f.text.startswith("The ") and f.text.endswith(".")
        for word in f.words:
            assert word in f.text


def test_how_many_tokens_ranks_every_length_by_score_per_piece(bert):
    text = "The cat sat on the [MASK]."
    result = joint_fill(bert, text, JointParams(beam=3, results=30, max_pieces=3))
    lengths = {f.pieces for f in result.fillings}
    assert lengths == {1, 2, 3}
    per_piece = [f.per_piece for f in result.fillings]
    assert per_piece == sorted(per_piece, reverse=True)
    base = _ids(bert, text)
    p = _masks(bert, base)[0]
    for f in result.fillings:
        ids = base[:p] + [bert.mask_token_id] * f.pieces + base[p + 1 :]
        positions = list(range(p, p + f.pieces))
        assert f.parts == pytest.approx(_pll(bert, ids, positions, f.token_ids), abs=1e-4)
        assert f.per_piece == pytest.approx(f.score / f.pieces)
        assert len(f.words) == 1 and f.words[0] in f.text
    assert result.to_json()["ranked_by"] == "mean log-probability per piece"


def test_how_many_tokens_with_several_masks_says_so(bert):
    result = joint_fill(bert, TWO, JointParams(max_pieces=3))
    assert any("one mask" in w for w in result.warnings)
    assert all(f.pieces == 2 for f in result.fillings)


def test_no_mask_and_too_many_masks_are_said_not_searched(bert):
    assert joint_fill(bert, "No mask here.").fillings == ()
    many = " ".join(["[MASK]"] * (MAX_JOINT_MASKS + 1))
    result = joint_fill(bert, many)
    assert result.fillings == () and any(str(MAX_JOINT_MASKS) in w for w in result.warnings)


@pytest.mark.parametrize("bad", [dict(beam=0), dict(beam=201), dict(results=0), dict(order="random"), dict(max_pieces=7)])
def test_bad_parameters_are_refused_before_any_work(bert, bad):
    with pytest.raises(InvalidParameterError):
        joint_fill(bert, TWO, JointParams(**bad))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(st.sampled_from(WORDS[:60]), min_size=1, max_size=6),
    where=st.lists(st.integers(0, 6), min_size=1, max_size=3),
    beam=st.integers(1, 4),
    order=st.sampled_from(["confidence", "left-to-right"]),
)
def test_any_text_gives_sorted_finite_fillings_no_worse_than_independent(bert, words, where, beam, order):
    for i in sorted(where, reverse=True):
        words.insert(min(i, len(words)), "[MASK]")
    result = joint_fill(bert, " ".join(words), JointParams(beam=beam, results=beam * beam, order=order))
    assert result.fillings
    scores = [f.score for f in result.fillings]
    assert all(math.isfinite(s) for s in scores) and scores == sorted(scores, reverse=True)
    assert scores[0] >= result.independent.score - 1e-9
    assert all(f.pieces == len(where) for f in result.fillings)


# --- sentence scoring ------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_score_equals_one_token_at_a_time(lms, arch):
    lm = lms[arch]
    sentences = ["The cat sat on the mat.", "She wrote a letter to her grandmother."]
    result = score_sentences(lm, sentences)
    for text, scored in zip(sentences, result.sentences):
        ids = lm.tokenizer(text)["input_ids"]
        assert scored.tokens == tuple(lm.tokenizer.convert_ids_to_tokens(ids))
        for p, (token_id, score) in enumerate(zip(ids, scored.token_scores)):
            if token_id in lm.special_ids:
                assert score is None
                continue
            row = list(ids)
            row[p] = lm.mask_token_id
            assert score == pytest.approx(float(_log_p(lm, row, p)[token_id]), abs=1e-4)
        assert scored.pll == pytest.approx(sum(s for s in scored.token_scores if s is not None), abs=1e-9)
    assert result.preferred == max(range(2), key=lambda i: result.sentences[i].pll)
    data = result.to_json()
    assert data["sentences"][0]["token_scores"][0] is None and data["sentences"][0]["pll"] == result.sentences[0].pll


def test_minimal_pair_on_the_demo_model(demo_lm):
    """Real weights: the grammatical sentence of a minimal pair scores higher."""
    result = score_sentences(demo_lm, ["The keys to the cabinet are here.", "The keys to the cabinet is here."])
    assert result.preferred == 0


def test_scoring_refuses_nothing_to_score(bert):
    with pytest.raises(InvalidParameterError):
        score_sentences(bert, [])
    with pytest.raises(InvalidParameterError, match="Sentence 2"):
        score_sentences(bert, ["A cat.", "  "])


def test_a_joint_fill_gives_way_when_a_newer_request_waits(bert):
    """Served by the model thread inside preemptible(), the search stops at its next forward."""
    from explorer.core.preemption import Preempted, preemptible

    with preemptible(lambda: True), pytest.raises(Preempted):
        joint_fill(bert, TWO)
    with preemptible(lambda: False):
        assert joint_fill(bert, TWO).fillings  # nothing waits: it runs to the end
