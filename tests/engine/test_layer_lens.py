"""The layer lens against fill-mask at the last layer and the model's own modules at the first."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.core.errors import InvalidParameterError
from explorer.engine.fill_mask import fill_mask
from explorer.engine.layer_lens import layer_lens
from explorer.engine.masking import mask_demo
from explorer.engine.tokens import encode

ARCHS = ["bert", "roberta", "distilbert"]
SENTENCES = ["The cat sat on the [MASK] .", "[MASK] is the capital of France.", "She wrote a [MASK] to her grandmother."]


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("text", SENTENCES)
def test_the_last_layer_equals_fill_masks_top_k(lms, arch, text):
    lm = lms[arch]
    enc = encode(lm, text)
    (position,) = enc.mask_positions
    lens = layer_lens(lm, enc.ids, position, top_k=5)
    (mask,) = fill_mask(lm, text, top_k=5).masks
    assert lens.top_ids[-1].tolist() == [c.token_id for c in mask.candidates]
    np.testing.assert_allclose(lens.top_probs[-1], [c.score for c in mask.candidates], atol=1e-5)
    assert lens.final_id == mask.candidates[0].token_id
    assert lens.final_probs[-1] == pytest.approx(mask.candidates[0].score, abs=1e-5)


@pytest.mark.parametrize("arch", ARCHS)
def test_one_readout_after_the_embeddings_and_after_every_layer(lms, arch):
    lm = lms[arch]
    enc = encode(lm, "The cat sat on the [MASK] .")
    lens = layer_lens(lm, enc.ids, enc.mask_positions[0])
    assert lens.layer_names == ("embeddings",) + tuple(f"layer {i}" for i in range(lm.num_layers))
    assert lens.top_probs.shape == (lm.num_layers + 1, 5) and len(lens.top_tokens) == lm.num_layers + 1
    assert lens.final_ranks[-1] == 1
    for row in range(lm.num_layers + 1):
        # The rank and probability of the final top-1 agree with that readout's own top-k.
        assert (lens.final_ranks[row] == 1) == (lens.top_ids[row, 0] == lens.final_id)
        assert lens.final_probs[row] <= lens.top_probs[row, 0] + 1e-7
        assert np.all(np.diff(lens.top_probs[row]) <= 1e-7)
    assert lens.input_token == lm.mask_token


def test_the_first_readout_is_the_head_on_the_embeddings_output(bert):
    enc = encode(bert, "The cat sat on the [MASK] .")
    position = enc.mask_positions[0]
    lens = layer_lens(bert, enc.ids, position)
    ids = torch.tensor([enc.ids])
    with torch.no_grad():
        embedded = bert.model.bert.embeddings(input_ids=ids)
        # BertOnlyMLMHead: transform (dense, activation, LayerNorm), then the decoder.
        probs = bert.model.cls(embedded)[0, position].softmax(-1)
    top_p, top_i = probs.topk(5)
    assert lens.top_ids[0].tolist() == top_i.tolist()
    np.testing.assert_allclose(lens.top_probs[0], top_p.numpy(), atol=1e-6)


@pytest.mark.parametrize("arch", ARCHS)
def test_following_the_true_token_of_a_masked_position(lms, arch):
    lm = lms[arch]
    demo = mask_demo(lm, "The cat sat on the mat and the dog sat by the house.", rate=0.3, seed=1)
    m = demo.masked[0]
    lens = layer_lens(lm, demo.input_ids, m.index, true_id=m.original_id)
    assert lens.true_token == m.original
    assert lens.true_probs[-1] == pytest.approx(m.p_true, abs=1e-5)
    assert lens.final_id == m.predicted_id
    assert (lens.true_ranks[-1] == 1) == m.correct
    data = lens.to_json()
    assert len(data["layers"]) == lm.num_layers + 1 and data["layers"][0]["layer"] == "embeddings"


@pytest.mark.parametrize("position", [-1, 99])
def test_a_position_outside_the_passage_is_refused(bert, position):
    enc = encode(bert, "The cat sat.")
    with pytest.raises(InvalidParameterError, match="outside"):
        layer_lens(bert, enc.ids, position)
