"""Attention weights, head average, rollout and hiding special tokens."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from explorer.engine.attention import attention
from explorer.core.attention_math import grid_shape, head_average, rollout, without_special

TEXT = "Nice to [MASK] you. The cat sat on the mat."


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_weights_equal_transformers_eager_attentions(lms, arch):
    lm = lms[arch]
    result = attention(lm, TEXT)
    enc = lm.tokenizer(TEXT.replace("[MASK]", lm.mask_token), return_tensors="pt")
    lm.model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            ref = lm.model(**{k: v for k, v in enc.items() if k != "token_type_ids" or arch == "bert"}, output_attentions=True).attentions
    finally:
        lm.model.set_attn_implementation("sdpa")
    ref = torch.stack(ref)[:, 0].numpy()
    assert result.weights.shape == ref.shape == (lm.num_layers, 12, len(result.tokens), len(result.tokens))
    np.testing.assert_allclose(result.weights, ref, atol=1e-6)
    assert result.weights.dtype == np.float32


def test_rows_sum_to_one_per_head(bert):
    w = attention(bert, TEXT).weights
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-5)


def test_the_model_is_back_on_its_fast_attention_afterwards(bert):
    before = bert.attention_implementation
    attention(bert, TEXT)
    assert bert.attention_implementation == before == "sdpa"


def test_special_marks_cls_and_sep_but_not_the_mask(bert, roberta):
    r = attention(bert, TEXT)
    assert [t for t, s in zip(r.tokens, r.special) if s] == ["[CLS]", "[SEP]"]
    r = attention(roberta, TEXT)
    assert [t for t, s in zip(r.tokens, r.special) if s] == ["<s>", "</s>"]


def test_average_and_rollout_come_with_the_result(bert):
    r = attention(bert, TEXT)
    np.testing.assert_allclose(r.average, r.weights.mean(axis=1), atol=1e-6)
    np.testing.assert_allclose(r.rollout, rollout(r.weights), atol=1e-6)


def reference_rollout(weights: np.ndarray) -> list[np.ndarray]:
    """Abnar & Zuidema written out plainly: 0.5 * mean-of-heads + 0.5 * I, multiplied through."""
    t = weights.shape[-1]
    out, flow = [], np.eye(t)
    for layer in weights:
        a = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(t)
        a = a / a.sum(axis=-1, keepdims=True)
        flow = a @ flow
        out.append(flow)
    return out


def random_attention(rng: np.random.Generator, layers: int, heads: int, t: int) -> np.ndarray:
    x = rng.random((layers, heads, t, t)) ** 3
    return (x / x.sum(-1, keepdims=True)).astype(np.float32)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(2, 12), st.integers(0, 2**31))
def test_rollout_shape_rows_and_reference(layers, heads, t, seed):
    w = random_attention(np.random.default_rng(seed), layers, heads, t)
    r = rollout(w)
    assert r.shape == (layers, t, t)
    np.testing.assert_allclose(r.sum(-1), 1.0, atol=1e-5)
    for got, want in zip(r, reference_rollout(w)):
        np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(head_average(w).sum(-1), 1.0, atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 12).flatmap(lambda t: st.tuples(st.just(t), arrays(bool, t))), st.integers(0, 2**31))
def test_hiding_special_tokens_renormalises_rows(t_special, seed):
    t, special = t_special
    if special.all():
        special[0] = False
    m = random_attention(np.random.default_rng(seed), 1, 2, t)[0]
    hidden = without_special(m, special)
    keep = ~special
    assert hidden.shape == (2, keep.sum(), keep.sum())
    sums = hidden.sum(-1)
    np.testing.assert_allclose(sums[sums > 0], 1.0, atol=1e-5)
    # Proportions between the shown tokens are unchanged.
    sub = m[:, keep][:, :, keep]
    np.testing.assert_allclose(hidden * sub.sum(-1, keepdims=True), sub, atol=1e-6)


def test_a_row_that_attended_only_to_specials_becomes_zeros():
    m = np.array([[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]]], dtype=np.float32)
    out = without_special(m, [True, False, False])
    np.testing.assert_allclose(out[0], [[0.0, 0.0], [0.375, 0.625]], atol=1e-6)


@pytest.mark.parametrize("heads, shape", [(12, (3, 4)), (16, (4, 4)), (8, (2, 4)), (6, (2, 3)), (1, (1, 1)), (7, (3, 3))])
def test_grid_adapts_to_the_head_count(heads, shape):
    assert grid_shape(heads) == shape
    rows, cols = grid_shape(heads)
    assert rows * cols >= heads


def test_long_input_is_cut_to_the_model_and_says_so(bert):
    r = attention(bert, "the cat " * 200)
    assert r.weights.shape[-1] == bert.max_length
    assert "reads at most" in r.warnings[0]
