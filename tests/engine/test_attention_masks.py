"""Lab 000's attention masks: causal (each token sees itself and its left) and padding (a
batch of two sentences, the pads seen by no one), checked against transformers' own models
called directly with the same 4D mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.core.mask_modes import PAD_LABEL
from explorer.engine.attention import attention, padded_attention
from explorer.engine.fill_mask import NOT_TRAINED_THIS_WAY, fill_mask
from explorer.engine.masks import BIDIRECTIONAL, CAUSAL, attention_bias
from explorer.engine.session import ModelOps
from explorer.engine.tokens import encode

TEXT = "Nice to [MASK] you. The cat sat on the mat."
RIGHT_CONTEXT = "The [MASK] sat on the mat with a cat and a dog."
SHORT = "The cat sat."


def _eager_attentions(lm, ids: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """transformers' model itself, eager, with `mask` (2D or 4D) as its attention_mask."""
    lm.model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = lm.model.base_model(input_ids=ids, attention_mask=mask, output_attentions=True)
    finally:
        lm.model.set_attn_implementation("sdpa")
    return torch.stack(out.attentions).numpy()


def _ids(lm, text: str) -> torch.Tensor:
    return torch.tensor([encode(lm, text).ids])


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_causal_weights_are_zero_above_the_diagonal_in_every_layer_and_head(lms, arch):
    lm = lms[arch]
    r = attention(lm, TEXT, mask=CAUSAL)
    t = len(r.tokens)
    assert r.weights.shape == (lm.num_layers, 12, t, t)
    above = np.triu(np.ones((t, t), dtype=bool), k=1)
    assert (r.weights[:, :, above] == 0.0).all()
    assert (r.weights[:, :, ~above] > 0.0).all()  # on and below it, every token is seen
    np.testing.assert_allclose(r.weights.sum(axis=-1), 1.0, atol=1e-5)
    assert r.mask == CAUSAL and NOT_TRAINED_THIS_WAY in r.warnings


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_causal_weights_equal_transformers_with_the_same_4d_mask(lms, arch):
    lm = lms[arch]
    ids = _ids(lm, TEXT)
    bias = attention_bias(torch.ones_like(ids), CAUSAL, lm.dtype)
    ref = _eager_attentions(lm, ids, bias)[:, 0]
    np.testing.assert_allclose(attention(lm, TEXT, mask=CAUSAL).weights, ref, atol=1e-6)


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_bidirectional_is_exactly_todays_2d_path(lms, arch):
    lm = lms[arch]
    ids = _ids(lm, TEXT)
    ref = _eager_attentions(lm, ids, torch.ones_like(ids))[:, 0]
    default, explicit = attention(lm, TEXT), attention(lm, TEXT, mask=BIDIRECTIONAL)
    np.testing.assert_array_equal(default.weights, ref)
    np.testing.assert_array_equal(explicit.weights, ref)
    assert default.mask == BIDIRECTIONAL and NOT_TRAINED_THIS_WAY not in default.warnings
    a, b = fill_mask(lm, TEXT, 10), fill_mask(lm, TEXT, 10, mask=BIDIRECTIONAL)
    assert a == b and a.mask == BIDIRECTIONAL
    assert "mask" not in a.to_json()  # the stable JSON contract as it was


def _reference_top(lm, text: str, bias: torch.Tensor | None, k: int) -> list[int]:
    enc = encode(lm, text)
    ids = torch.tensor([enc.ids])
    with torch.no_grad():
        logits = lm.model(input_ids=ids, attention_mask=bias if bias is not None else torch.ones_like(ids)).logits
    return logits[0, enc.mask_positions[0]].softmax(-1).topk(k).indices.tolist()


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_causal_changes_the_predictions_as_transformers_does(lms, arch):
    lm = lms[arch]
    before = fill_mask(lm, RIGHT_CONTEXT, 10)
    after = fill_mask(lm, RIGHT_CONTEXT, 10, mask=CAUSAL)
    ids = _ids(lm, RIGHT_CONTEXT)
    bias = attention_bias(torch.ones_like(ids), CAUSAL, lm.dtype)
    assert [c.token_id for c in after.masks[0].candidates] == _reference_top(lm, RIGHT_CONTEXT, bias, 10)
    assert [c.token_id for c in before.masks[0].candidates] == _reference_top(lm, RIGHT_CONTEXT, None, 10)
    assert [c.token_id for c in after.masks[0].candidates] != [c.token_id for c in before.masks[0].candidates]
    assert after.mask == CAUSAL and NOT_TRAINED_THIS_WAY in after.warnings
    assert after.to_json()["mask"] == CAUSAL


def test_causal_leaves_a_mask_at_the_end_with_its_whole_left_context(bert):
    """The last mask before [SEP]: causal takes away only [SEP] to its right, so the
    guesses differ but the mask still reads the whole sentence before it."""
    text = "The cat sat on the [MASK]"
    after = fill_mask(bert, text, 5, mask=CAUSAL)
    ids = _ids(bert, text)
    bias = attention_bias(torch.ones_like(ids), CAUSAL, bert.dtype)
    assert [c.token_id for c in after.masks[0].candidates] == _reference_top(bert, text, bias, 5)


def test_an_unknown_mode_is_refused(bert):
    with pytest.raises(ValueError, match="mask mode"):
        attention(bert, TEXT, mask="sideways")
    with pytest.raises(ValueError, match="mask mode"):
        fill_mask(bert, TEXT, 5, mask="sideways")


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_padding_gives_the_pads_zero_weight(lms, arch):
    lm = lms[arch]
    long, short = padded_attention(lm, TEXT, SHORT)
    n_short, n_long = len(encode(lm, SHORT).ids), len(encode(lm, TEXT).ids)
    assert len(short.tokens) == len(long.tokens) == n_long
    assert short.tokens[n_short:] == (PAD_LABEL,) * (n_long - n_short)
    assert short.pads == n_long - n_short and long.pads == 0
    assert all(short.special[n_short:])
    assert (short.weights[..., n_short:] == 0.0).all()  # no one attends to a pad
    assert (short.weights[:, :, n_short:, :] == 0.0).all()  # and a pad's own row is left out
    np.testing.assert_allclose(short.weights[:, :, :n_short].sum(axis=-1), 1.0, atol=1e-5)
    assert short.mask == long.mask == "padding"


def test_padded_sentences_attend_as_they_do_alone(bert):
    long, short = padded_attention(bert, TEXT, SHORT)
    n = len(encode(bert, SHORT).ids)
    # A batch of two sums in another order than one sentence alone: equal to float32 rounding.
    np.testing.assert_allclose(short.weights[:, :, :n, :n], attention(bert, SHORT).weights, atol=1e-5)
    np.testing.assert_allclose(long.weights, attention(bert, TEXT).weights, atol=1e-5)


def test_padded_batch_equals_transformers_with_its_2d_padding_mask(bert):
    """The same batch given to transformers with the usual 2D padding mask: the real rows agree."""
    a, b = encode(bert, TEXT).ids, encode(bert, SHORT).ids
    ids = torch.zeros((2, len(a)), dtype=torch.long)
    padding = torch.zeros((2, len(a)), dtype=torch.long)
    ids[0], ids[1, : len(b)] = torch.tensor(a), torch.tensor(b)
    padding[0], padding[1, : len(b)] = 1, 1
    ref = _eager_attentions(bert, ids, padding)
    _long, short = padded_attention(bert, TEXT, SHORT)
    np.testing.assert_allclose(short.weights[:, :, : len(b)], ref[:, 1, :, : len(b)], atol=1e-6)


def test_model_ops_pass_the_mode_and_return_the_padded_sentence(bert):
    ops = ModelOps(bert)
    assert ops.attention(TEXT, CAUSAL).mask == CAUSAL
    assert ops.fill_mask(RIGHT_CONTEXT, 5, CAUSAL).mask == CAUSAL
    assert ops.attention(TEXT, padded_with=SHORT).text == SHORT  # the shorter one has the pads
    assert ops.attention(SHORT, padded_with=TEXT).text == SHORT
    assert ops.attention(SHORT, padded_with=SHORT).text == SHORT
