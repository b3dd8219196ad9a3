"""Attention masks as BERT's attention adds them: what each token may look at.

BERT is trained bidirectional: every token sees every other (padding aside). Lab 000 shows two
other masks: causal (a token sees itself and the tokens to its left only, as GPT reads) and
padding (a batch of sentences of different lengths, the pads seen by no one). The model was
never trained with a causal mask; showing what it does with one is the lesson.

A mask here is the additive bias transformers takes as a prepared 4D attention mask
(batch, 1, queries, keys): 0 where attention is allowed, the dtype's lowest number where not
(masking_utils returns a 4D mask as it is, for eager and SDPA attention alike).
"""

from __future__ import annotations

import torch

from explorer.core.errors import InvalidParameterError

from explorer.core.mask_modes import BIDIRECTIONAL, CAUSAL, MASK_MODES  # noqa: F401 (the engine's names for them)


def check_mode(mode: str) -> None:
    """The one check of a mask mode (InvalidParameterError, a ValueError, that names the choices)."""
    if mode not in MASK_MODES:
        raise InvalidParameterError(f"The mask mode must be one of {', '.join(MASK_MODES)}, not {mode!r}.")


def attention_bias(
    padding: torch.Tensor, mode: str = BIDIRECTIONAL, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """The 4D additive mask (batch, 1, T, T) for a 2D padding mask (batch, T; 1 = a real token)
    under `mode`. A pad query row keeps its own position, so no softmax row is all -inf (NaN)."""
    check_mode(mode)
    batch, length = padding.shape
    allowed = padding[:, None, None, :].bool().expand(batch, 1, length, length)
    if mode == CAUSAL:
        allowed = allowed & torch.ones(length, length, dtype=torch.bool, device=padding.device).tril()
    allowed = allowed | torch.eye(length, dtype=torch.bool, device=padding.device)
    bias = torch.zeros(batch, 1, length, length, dtype=dtype, device=padding.device)
    return bias.masked_fill(~allowed, torch.finfo(dtype).min)
