"""Attention weights for a text: eager attention switched on for this request only.

sdpa (the fast default) returns no weights, so the model switches to eager for the
forward pass and back afterwards; logits are the same either way.

Lab 000's masks: `mask=CAUSAL` reads the text left to right only (masks.attention_bias), and
`padded_attention` runs two sentences as one padded batch, the pads seen by no one.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.core.attention_math import head_average, rollout
from explorer.core.mask_modes import PAD_LABEL, PADDING
from explorer.engine.fill_mask import NOT_TRAINED_THIS_WAY
from explorer.engine.masks import BIDIRECTIONAL, attention_bias, check_mode
from explorer.engine.models import MaskedLM
from explorer.core.results import AttentionResult
from explorer.engine.tokens import Encoded, encode, pad_batch


def _read(lm: MaskedLM, text: str) -> tuple[Encoded, list[str]]:
    warnings: list[str] = []
    if not text.strip():
        warnings.append("The text is empty: type a sentence to see where its tokens attend.")
    enc = encode(lm, text)
    if enc.full_length > lm.max_length:
        warnings.append(
            f"The text has {enc.full_length} tokens but {lm.name} reads at most {lm.max_length}: "
            "attention is shown for the part it reads."
        )
    return enc, warnings


def _boundary(lm: MaskedLM) -> set[int]:
    tok = lm.tokenizer
    return {i for i in (tok.cls_token_id, tok.sep_token_id, tok.bos_token_id, tok.eos_token_id) if i is not None}


def _result(
    lm: MaskedLM, text: str, tokens: tuple[str, ...], special: tuple[bool, ...], weights: np.ndarray,
    warnings: list[str], mask: str,
) -> AttentionResult:
    return AttentionResult(
        model=lm.name,
        text=text,
        tokens=tokens,
        special=special,
        weights=weights,
        average=head_average(weights),
        rollout=rollout(weights),
        warnings=tuple(warnings),
        mask=mask,
    )


def attention(lm: MaskedLM, text: str, *, mask: str = BIDIRECTIONAL) -> AttentionResult:
    """`mask`: masks.BIDIRECTIONAL (as BERT was trained) or masks.CAUSAL (each token sees
    itself and its left only: every weight above the diagonal is 0)."""
    check_mode(mask)
    enc, warnings = _read(lm, text)
    ids = torch.tensor([enc.ids], device=lm.device)
    padding = torch.ones_like(ids)
    if mask != BIDIRECTIONAL:
        warnings.append(NOT_TRAINED_THIS_WAY)
    bias = padding if mask == BIDIRECTIONAL else attention_bias(padding, mask, lm.dtype)
    with lm.eager_attention(), torch.inference_mode():
        out = lm.model.base_model(input_ids=ids, attention_mask=bias, output_attentions=True)
    # (layers, 1, heads, T, T) -> (layers, heads, T, T)
    weights = torch.stack(out.attentions)[:, 0].float().cpu().numpy().astype(np.float32)
    boundary = _boundary(lm)
    return _result(
        lm, text, enc.tokenization.display, tuple(i in boundary for i in enc.ids), weights, warnings, mask
    )


def padded_attention(lm: MaskedLM, text_a: str, text_b: str) -> tuple[AttentionResult, AttentionResult]:
    """Both sentences run as one batch, the shorter padded on the right to the longer's length
    (as a DataLoader batch is): one AttentionResult per sentence, each of the batch's length,
    its pads labelled [PAD] (and special, so "hide special tokens" hides them too). No token
    attends to a pad: the pad columns are 0 in every layer and head, and a sentence's own
    weights are those it has alone. A pad's own row (it looks at itself only, masks.py) is
    left at 0: nothing reads what a pad computes."""
    (enc_a, warn_a), (enc_b, warn_b) = _read(lm, text_a), _read(lm, text_b)
    ids, padding, _ = pad_batch(lm, [enc_a.ids, enc_b.ids])
    length = ids.shape[1]
    ids, padding = ids.to(lm.device), padding.to(lm.device)
    bias = attention_bias(padding, BIDIRECTIONAL, lm.dtype)
    with lm.eager_attention(), torch.inference_mode():
        out = lm.model.base_model(input_ids=ids, attention_mask=bias, output_attentions=True)
    weights = torch.stack(out.attentions).float().cpu().numpy().astype(np.float32)  # (layers, 2, heads, T, T)
    boundary = _boundary(lm)
    results = []
    for b, (enc, text, warnings) in enumerate(((enc_a, text_a, warn_a), (enc_b, text_b, warn_b))):
        pads = length - len(enc.ids)
        tokens = tuple(enc.tokenization.display) + (PAD_LABEL,) * pads
        special = tuple(i in boundary for i in enc.ids) + (True,) * pads
        own = np.array(weights[:, b])
        own[:, :, len(enc.ids):, :] = 0.0  # a pad's own row: nothing reads what a pad computes
        results.append(_result(lm, text, tokens, special, own, warnings, PADDING))
    return results[0], results[1]
