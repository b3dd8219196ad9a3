"""The layer lens: the model's own MLM head read at one position after every layer.

The head (transform + LayerNorm + decoder for BERT) is trained on the last layer only, so
readings of earlier layers are a probe, not the model's answer; how the final prediction
climbs through them is what the lens shows. Layers are numbered from 0, as in the
attention tab and in transformers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from explorer.core.errors import ExplorerError, InvalidParameterError
from explorer.engine.masking import display_tokens
from explorer.core.mlm_params import LENS_TOP_K
from explorer.core.mlm_results import LayerLensResult
from explorer.engine.models import MaskedLM


class LensUnavailableError(ExplorerError):
    """The model's MLM head cannot be applied to the hidden states of other layers."""


def readout_names(num_layers: int) -> tuple[str, ...]:
    return ("embeddings",) + tuple(f"layer {i}" for i in range(num_layers))


def forward(lm: MaskedLM, input_ids: Sequence[int], position: int) -> torch.Tensor:
    """Probabilities over the vocabulary at `position`, one row per readout: [layers + 1, vocab]."""
    ids = torch.tensor([list(input_ids)], dtype=torch.long, device=lm.device)
    with torch.inference_mode():
        out = lm.model.base_model(input_ids=ids, attention_mask=torch.ones_like(ids), output_hidden_states=True)
        # hidden_states[0] is the embeddings' output, [i + 1] the output of layer i.
        states = torch.stack([h[0, position] for h in out.hidden_states])  # [layers + 1, hidden]
        try:
            logits = lm.logits_from_hidden(states)
        except LookupError as exc:
            raise LensUnavailableError(f"The layer lens is not available: {exc}") from exc
        return logits.float().softmax(dim=-1).cpu()


def _ranks(probs: torch.Tensor, token_id: int) -> np.ndarray:
    """1 + how many tokens the layer finds likelier than `token_id`: 1 means top."""
    p = probs[:, token_id : token_id + 1]
    return (1 + (probs > p).sum(dim=-1)).numpy().astype(np.int64)


def layer_lens(
    lm: MaskedLM,
    input_ids: Sequence[int],
    position: int,
    *,
    true_id: int | None = None,
    top_k: int = LENS_TOP_K,
) -> LayerLensResult:
    """Top-k per readout at `position` of `input_ids` (the sequence as the model reads it,
    masks included), and the probability and rank of the final top-1 at each readout.
    `true_id`, when given, is followed the same way."""
    if not input_ids:
        raise InvalidParameterError("The layer lens needs a tokenized passage.")
    if not 0 <= position < len(input_ids):
        n = len(input_ids)
        raise InvalidParameterError(f"Position {position} is outside the passage's {n} tokens (0 to {n - 1}).")
    probs = forward(lm, input_ids, position)
    k = max(1, min(int(top_k), probs.shape[-1]))
    top_p, top_i = probs.topk(k, dim=-1)
    final_id = int(top_i[-1, 0])
    _, shown_input = display_tokens(lm, [input_ids[position]])
    _, shown_final = display_tokens(lm, [final_id])
    top_tokens = tuple(display_tokens(lm, row)[1] for row in top_i.tolist())
    true_token = display_tokens(lm, [true_id])[1][0] if true_id is not None else None
    return LayerLensResult(
        model=lm.name,
        input_ids=tuple(int(i) for i in input_ids),
        position=position,
        input_token=shown_input[0],
        true_id=true_id,
        true_token=true_token,
        layer_names=readout_names(probs.shape[0] - 1),
        top_tokens=top_tokens,
        top_ids=top_i.numpy().astype(np.int64),
        top_probs=top_p.numpy().astype(np.float32),
        final_id=final_id,
        final_token=shown_final[0],
        final_probs=probs[:, final_id].numpy().astype(np.float32),
        final_ranks=_ranks(probs, final_id),
        true_probs=probs[:, true_id].numpy().astype(np.float32) if true_id is not None else None,
        true_ranks=_ranks(probs, true_id) if true_id is not None else None,
    )
