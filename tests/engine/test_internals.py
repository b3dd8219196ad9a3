"""The forward pass recomputed by hand (lab 002) equals transformers' own, family by family."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from explorer.core.internals import ARRAY_STEPS, STEP_NAMES, TOLERANCE_FLOAT32
from explorer.core.errors import InvalidParameterError
from explorer.engine.internals import UnsupportedModelError, internals
from explorer.engine.masks import CAUSAL
from explorer.engine.tokens import encode

TEXT = "The cat sat on the mat."


def _model_pass(lm, text, mask_4d=None):
    ids = torch.tensor([encode(lm, text).ids])
    kwargs = {"input_ids": ids, "output_hidden_states": True, "output_attentions": True}
    if mask_4d is not None:
        kwargs["attention_mask"] = mask_4d
    with lm.eager_attention(), torch.inference_mode():
        return lm.model.base_model(**kwargs)


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_hand_computation_equals_transformers(lms, arch):
    lm = lms[arch]
    out = _model_pass(lm, TEXT)  # transformers' defaults: its own positions, token types, mask
    for layer in range(lm.num_layers):
        r = internals(lm, TEXT, layer=layer, head=5)
        assert r.ok and r.max_abs_diff["hidden_states"] < TOLERANCE_FLOAT32 and r.max_abs_diff["attentions"] < TOLERANCE_FLOAT32
        np.testing.assert_allclose(r.layer_input, out.hidden_states[layer][0].numpy(), atol=1e-5)
        np.testing.assert_allclose(r.arrays["layer_output"], out.hidden_states[layer + 1][0].numpy(), atol=1e-5)
        np.testing.assert_allclose(r.arrays["probs"], out.attentions[layer][0, 5].numpy(), atol=1e-5)
    np.testing.assert_allclose(r.embeddings["normalized"], out.hidden_states[0][0].numpy(), atol=1e-5)
    assert r.family == arch


def test_roberta_positions_start_after_padding_idx(roberta):
    r = internals(roberta, TEXT, 0, 0)
    pad = roberta.model.config.pad_token_id
    assert r.position_ids == tuple(range(pad + 1, pad + 1 + len(r.ids)))


def test_distilbert_has_no_token_types(lms):
    r = internals(lms["distilbert"], TEXT, 0, 0)
    assert not r.has_token_types and not r.embeddings["token_type"].any()
    assert any("token type" in n for n in r.notes)


def test_distilbert_sinusoidal_positions(model_dirs, tmp_path):
    from explorer.engine import models

    folder = tmp_path / "distil-sin"
    shutil.copytree(model_dirs["distilbert"], folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["sinusoidal_pos_embds"] = True
    (folder / "config.json").write_text(json.dumps(cfg))
    r = internals(models.load(str(folder)), TEXT, 1, 0)
    assert r.ok, r.max_abs_diff


def test_shapes_and_arrays(bert):
    r = internals(bert, TEXT, layer=1, head=2)
    t, h, d, big_d = len(r.ids), bert.num_heads, r.head_size, r.hidden_size
    assert h == 12 and d * h == big_d
    shapes = r.shapes()
    assert list(shapes) == list(STEP_NAMES)
    assert shapes["query"] == [1, h, t, d] and shapes["scores"] == [1, h, t, t] and shapes["sum"] == [1, t, big_d]
    assert r.shape_text("probs") == f"B × H × S × S = 1 × {h} × {t} × {t}"
    for step in ARRAY_STEPS:
        assert r.arrays[step].shape == tuple(shapes[step][-2:]), step
    np.testing.assert_allclose(r.arrays["probs"].sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(r.embeddings["sum"], r.embeddings["word"] + r.embeddings["position"] + r.embeddings["token_type"], atol=1e-5)
    assert r.hidden_norms.shape == (bert.num_layers + 1, t)
    assert r.cosine_next.shape == (bert.num_layers, t)
    np.testing.assert_allclose(r.cosine_final[-1], 1.0, atol=1e-5)
    assert set(r.embedding_norms()) == {"word", "position", "token_type", "sum", "normalized"}


def test_causal_mask_matches_the_model_run_causal(bert):
    r = internals(bert, TEXT, layer=0, head=0, mask=CAUSAL)
    assert r.ok
    assert not np.triu(r.arrays["probs"], 1).any()
    assert not np.triu(r.mask_allowed, 1).any() and r.mask_allowed[np.tril_indices(len(r.ids))].all()
    assert any("not trained" in n for n in r.notes)


def test_out_of_range_layer_and_head(bert):
    with pytest.raises(InvalidParameterError, match="Layer 2"):
        internals(bert, TEXT, layer=2, head=0)
    with pytest.raises(InvalidParameterError, match="Head 12"):
        internals(bert, TEXT, layer=0, head=12)


def test_unsupported_architecture(bert, monkeypatch):
    monkeypatch.setattr(bert.model.config, "model_type", "albert")
    with pytest.raises(UnsupportedModelError, match="not supported for this model"):
        internals(bert, TEXT, 0, 0)


def test_session_op(bert):
    from explorer.engine.session import ModelOps

    assert ModelOps(bert).internals(TEXT, 0, 1).head == 1
