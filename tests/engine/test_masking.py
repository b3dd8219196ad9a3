"""Masking and the MLM loss, against transformers' own loss computed here from the model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer.core.errors import InvalidParameterError
from explorer.engine.masking import IGNORE_INDEX, mask_demo, plan_masks, replacement_pool
from explorer.core.mlm_params import KEPT, LAB_PASSAGE, MASKED, RANDOM

TEXT = "The cat sat on the mat. She wrote a letter to her grandmother in Paris, and the dog sat by the house."
ARCHS = ["bert", "roberta", "distilbert"]


def binomial_bounds(n: int, p: float, sigmas: float = 5.0) -> tuple[float, float]:
    """An interval a binomial count leaves with probability < 1e-6 (5 standard deviations)."""
    half = sigmas * math.sqrt(n * p * (1 - p))
    return n * p - half, n * p + half


def reference_loss(lm, result) -> tuple[float, np.ndarray]:
    """transformers' loss and logits for the result's input, with labels built here."""
    ids = torch.tensor([result.input_ids])
    labels = torch.full_like(ids, IGNORE_INDEX)
    for pos in result.masked_positions:
        labels[0, pos] = result.ids[pos]
    with torch.no_grad():
        out = lm.model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels)
    return float(out.loss), out.logits[0].float().numpy()


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("bert_rule", [True, False])
def test_loss_equals_transformers_loss(lms, arch, bert_rule):
    lm = lms[arch]
    result = mask_demo(lm, TEXT, rate=0.3, seed=4, bert_rule=bert_rule)
    loss, logits = reference_loss(lm, result)
    assert result.loss == pytest.approx(loss, abs=1e-5)
    # The loss is the mean over masked positions of -log p(true), each reported on its own.
    assert np.mean([m.loss for m in result.masked]) == pytest.approx(loss, abs=1e-5)
    for m in result.masked:
        probs = torch.tensor(logits[m.index]).softmax(-1).numpy()
        assert m.p_true == pytest.approx(float(probs[m.original_id]), abs=1e-6)
        assert m.loss == pytest.approx(-math.log(m.p_true), rel=1e-4)
        assert m.predicted_id == int(probs.argmax())
        assert m.predicted_prob == pytest.approx(float(probs.max()), abs=1e-6)
    assert result.accuracy == pytest.approx(np.mean([m.correct for m in result.masked]))


@pytest.mark.parametrize("arch", ARCHS)
def test_input_is_the_original_changed_only_at_masked_positions(lms, arch):
    lm = lms[arch]
    result = mask_demo(lm, TEXT, rate=0.5, seed=1)
    chosen = set(result.masked_positions)
    for i, (orig, shown) in enumerate(zip(result.ids, result.input_ids)):
        if i not in chosen:
            assert orig == shown
    for m in result.masked:
        assert m.input_id == result.input_ids[m.index] and m.original_id == result.ids[m.index]
        if m.treatment == MASKED:
            assert m.input_id == lm.mask_token_id
        elif m.treatment == KEPT:
            assert m.input_id == m.original_id
        else:
            assert m.treatment == RANDOM and m.input_id not in lm.special_ids


@pytest.mark.parametrize("arch", ARCHS)
def test_special_tokens_are_never_masked(lms, arch):
    lm = lms[arch]
    for seed in range(10):
        result = mask_demo(lm, TEXT, rate=1.0, seed=seed)
        specials = {i for i, s in enumerate(result.special) if s}
        assert specials >= {0, len(result.tokens) - 1}  # [CLS] ... [SEP], <s> ... </s>
        assert not specials & set(result.masked_positions)
        # At rate 1 every other token is chosen.
        assert set(result.masked_positions) == set(range(len(result.tokens))) - specials


def test_a_typed_mask_is_neither_chosen_nor_scored(bert):
    result = mask_demo(bert, "The [MASK] sat on the mat .", rate=1.0)
    typed = result.tokens.index("[MASK]")
    assert typed not in result.masked_positions
    assert any("not scored" in w for w in result.warnings)


def test_the_rate_holds_on_a_long_text():
    n, rate = 20_000, 0.15
    maskable = np.ones(n, dtype=bool)
    maskable[[0, n - 1]] = False  # [CLS] and [SEP]
    plan = plan_masks(
        np.arange(n) % 50 + 10, maskable, rate, np.random.default_rng(7),
        bert_rule=True, mask_id=4, replacement_ids=np.arange(10, 60),
    )
    low, high = binomial_bounds(n - 2, rate)
    assert low <= len(plan.positions) <= high
    assert 0 not in plan.positions and n - 1 not in plan.positions


def test_the_rate_holds_with_the_model_over_many_draws(bert):
    # The tiny model reads 64 tokens; 100 passages' worth of draws make a long text.
    chosen = maskable = 0
    for seed in range(100):
        r = mask_demo(bert, TEXT, rate=0.15, seed=seed)
        chosen += len(r.masked)
        maskable += sum(not s for s in r.special)
    low, high = binomial_bounds(maskable, 0.15)
    assert low <= chosen <= high


def test_80_10_10_proportions_over_many_draws(bert):
    pool = replacement_pool(bert)
    counts = {MASKED: 0, RANDOM: 0, KEPT: 0}
    total = 0
    for seed in range(40):
        ids = np.arange(1000) % 80 + 5
        plan = plan_masks(
            ids, np.ones(1000, dtype=bool), 0.5, np.random.default_rng(seed),
            bert_rule=True, mask_id=bert.mask_token_id, replacement_ids=pool,
        )
        for t in plan.treatments:
            counts[t] += 1
        total += len(plan.positions)
    for treatment, share in ((MASKED, 0.8), (RANDOM, 0.1), (KEPT, 0.1)):
        low, high = binomial_bounds(total, share)
        assert low <= counts[treatment] <= high, (treatment, counts, total)


def test_without_the_rule_every_chosen_token_is_masked(lms):
    for lm in lms.values():
        r = mask_demo(lm, TEXT, rate=0.6, seed=2, bert_rule=False)
        assert r.masked and all(m.treatment == MASKED and m.input_id == lm.mask_token_id for m in r.masked)
        # The rule changes what the model reads, not which positions the seed picks.
        assert r.masked_positions == mask_demo(lm, TEXT, rate=0.6, seed=2, bert_rule=True).masked_positions


def test_random_replacements_are_never_special_tokens(bert):
    pool = set(replacement_pool(bert).tolist())
    assert pool and not pool & bert.special_ids


def test_random_replacements_are_never_unused_vocabulary_slots(demo_lm):
    # bert-base's vocabulary reserves [unused0]..[unused993]; a replacement there shows nothing.
    pool = replacement_pool(demo_lm).tolist()
    tokens = demo_lm.tokenizer.convert_ids_to_tokens(pool)
    unused = demo_lm.tokenizer.convert_tokens_to_ids(["[unused0]", "[unused993]"])
    assert not any(t.startswith("[unused") for t in tokens)
    assert not set(unused) & set(pool)
    assert {"the", "cat", "##ing"} <= set(tokens) and len(tokens) > 29_000


def test_same_seed_same_masks_and_other_seeds_others(bert):
    first = mask_demo(bert, LAB_PASSAGE, seed=11)
    again = mask_demo(bert, LAB_PASSAGE, seed=11)
    assert first.masked_positions == again.masked_positions
    assert first.input_ids == again.input_ids and first.loss == again.loss
    others = {mask_demo(bert, LAB_PASSAGE, seed=s).masked_positions for s in range(12, 17)}
    assert len(others | {first.masked_positions}) > 1


def test_no_seed_draws_one_and_records_it(bert):
    r = mask_demo(bert, TEXT, seed=None)
    assert mask_demo(bert, TEXT, seed=r.seed).input_ids == r.input_ids


def test_a_short_text_always_gets_a_mask(bert):
    for seed in range(50):
        r = mask_demo(bert, "The cat", rate=0.01, seed=seed)
        assert len(r.masked) == 1 and math.isfinite(r.loss)


def test_reconstruction_fills_the_masked_positions_with_the_argmax(bert):
    r = mask_demo(bert, TEXT, rate=0.4, seed=3)
    rebuilt = r.reconstruction()
    masked = {m.index: m for m in r.masked}
    for i, token in enumerate(rebuilt):
        assert token == (masked[i].predicted if i in masked else r.display[i])


def test_json_contract(bert):
    r = mask_demo(bert, TEXT, seed=5)
    data = r.to_json()
    assert set(data) == {"tokens", "masked_positions", "input_tokens", "predictions", "loss", "accuracy"}
    assert len(data["tokens"]) == len(data["input_tokens"])
    assert len(data["predictions"]) == len(data["masked_positions"])
    assert bert.tokenizer.convert_tokens_to_ids(data["predictions"]) == [m.predicted_id for m in r.masked]


def test_a_long_passage_is_cut_with_a_warning(bert):
    r = mask_demo(bert, LAB_PASSAGE)
    assert len(r.tokens) == bert.max_length
    assert any("reads at most" in w for w in r.warnings)


@pytest.mark.parametrize("rate", [0, -0.1, 1.01, float("nan")])
def test_a_rate_outside_0_1_is_refused(bert, rate):
    with pytest.raises(InvalidParameterError, match="rate"):
        mask_demo(bert, TEXT, rate=rate)


@pytest.mark.parametrize("text", ["", "   ", "[MASK]"])
def test_nothing_to_mask_is_refused(bert, text):
    with pytest.raises(InvalidParameterError):
        mask_demo(bert, text)
