"""Attention weights for a text: eager attention switched on for this request only.

sdpa (the fast default) returns no weights, so the model switches to eager for the
forward pass and back afterwards; logits are the same either way.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.core.attention_math import head_average, rollout
from explorer.engine.models import MaskedLM
from explorer.core.results import AttentionResult
from explorer.engine.tokens import encode


def attention(lm: MaskedLM, text: str) -> AttentionResult:
    warnings: list[str] = []
    if not text.strip():
        warnings.append("The text is empty: type a sentence to see where its tokens attend.")
    enc = encode(lm, text)
    if enc.full_length > lm.max_length:
        warnings.append(
            f"The text has {enc.full_length} tokens but {lm.name} reads at most {lm.max_length}: "
            "attention is shown for the part it reads."
        )
    ids = torch.tensor([enc.ids], device=lm.device)
    mask = torch.ones_like(ids)
    with lm.eager_attention(), torch.inference_mode():
        out = lm.model.base_model(input_ids=ids, attention_mask=mask, output_attentions=True)
    # (layers, 1, heads, T, T) -> (layers, heads, T, T)
    weights = torch.stack(out.attentions)[:, 0].float().cpu().numpy().astype(np.float32)
    tok = lm.tokenizer
    boundary = {i for i in (tok.cls_token_id, tok.sep_token_id, tok.bos_token_id, tok.eos_token_id) if i is not None}
    return AttentionResult(
        model=lm.name,
        text=text,
        tokens=enc.tokenization.display,
        special=tuple(i in boundary for i in enc.ids),
        weights=weights,
        average=head_average(weights),
        rollout=rollout(weights),
        warnings=tuple(warnings),
    )
