"""BERT's forward pass recomputed by hand from the weights (lab 002), checked against the model.

Every step is a plain tensor operation as the lab writes it: embeddings = word + position +
token type, LayerNorm; per layer Q, K, V split into heads, QKᵀ/√d, + mask, softmax, · V,
heads concatenated, dense + residual + LayerNorm, then GELU feed-forward + residual +
LayerNorm. The whole pass is recomputed (every layer, every head), so the largest difference
from the model's own hidden states and attentions says whether the recipe is the model.

The families name their modules differently; one adapter each reads the same parts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from explorer.core.errors import ExplorerError, InvalidParameterError
from explorer.core.internals import (
    TOLERANCE_FLOAT32,
    TOLERANCE_LOW_PRECISION,
    InternalsResult,
)
from explorer.core.precisions import EXACT
from explorer.engine.masks import BIDIRECTIONAL, CAUSAL, attention_bias, check_mode
from explorer.engine.models import MaskedLM
from explorer.engine.tokens import encode


class UnsupportedModelError(ExplorerError):
    """The model's architecture has no adapter here."""


@dataclass(frozen=True)
class LayerParts:
    query: torch.nn.Linear
    key: torch.nn.Linear
    value: torch.nn.Linear
    attention_dense: torch.nn.Linear
    attention_norm: torch.nn.LayerNorm
    ffn_in: torch.nn.Linear
    activation: Callable[[torch.Tensor], torch.Tensor]
    ffn_out: torch.nn.Linear
    output_norm: torch.nn.LayerNorm


@dataclass(frozen=True)
class Adapter:
    """Where one family keeps each part, and how it numbers positions."""

    family: str
    word: Callable[[Any], torch.nn.Embedding]
    position: Callable[[Any], torch.nn.Embedding]
    token_type: Callable[[Any], torch.nn.Embedding | None]
    embedding_norm: Callable[[Any], torch.nn.LayerNorm]
    layers: Callable[[Any], list[LayerParts]]
    position_ids: Callable[[Any, torch.Tensor], torch.Tensor]


def _bert_layers(base: Any) -> list[LayerParts]:
    return [
        LayerParts(
            query=lay.attention.self.query, key=lay.attention.self.key, value=lay.attention.self.value,
            attention_dense=lay.attention.output.dense, attention_norm=lay.attention.output.LayerNorm,
            ffn_in=lay.intermediate.dense, activation=lay.intermediate.intermediate_act_fn,
            ffn_out=lay.output.dense, output_norm=lay.output.LayerNorm,
        )
        for lay in base.encoder.layer
    ]


def _distilbert_layers(base: Any) -> list[LayerParts]:
    return [
        LayerParts(
            query=lay.attention.q_lin, key=lay.attention.k_lin, value=lay.attention.v_lin,
            attention_dense=lay.attention.out_lin, attention_norm=lay.sa_layer_norm,
            ffn_in=lay.ffn.lin1, activation=lay.ffn.activation, ffn_out=lay.ffn.lin2,
            output_norm=lay.output_layer_norm,
        )
        for lay in base.transformer.layer
    ]


def _from_zero(base: Any, ids: torch.Tensor) -> torch.Tensor:
    return torch.arange(ids.shape[1], device=ids.device)[None, :].expand_as(ids)


def _after_padding_idx(base: Any, ids: torch.Tensor) -> torch.Tensor:
    """RoBERTa: positions count from padding_idx + 1; pads keep padding_idx."""
    pad = int(base.embeddings.padding_idx)
    real = ids.ne(pad).int()
    return (torch.cumsum(real, dim=1) * real).long() + pad


BERT = Adapter(
    family="bert",
    word=lambda b: b.embeddings.word_embeddings,
    position=lambda b: b.embeddings.position_embeddings,
    token_type=lambda b: b.embeddings.token_type_embeddings,
    embedding_norm=lambda b: b.embeddings.LayerNorm,
    layers=_bert_layers,
    position_ids=_from_zero,
)
ROBERTA = Adapter(
    family="roberta",
    word=BERT.word, position=BERT.position, token_type=BERT.token_type, embedding_norm=BERT.embedding_norm,
    layers=_bert_layers,
    position_ids=_after_padding_idx,
)
DISTILBERT = Adapter(
    family="distilbert",
    word=lambda b: b.embeddings.word_embeddings,
    position=lambda b: b.embeddings.position_embeddings,  # learned, or sinusoidal written into the table
    token_type=lambda b: None,
    embedding_norm=lambda b: b.embeddings.LayerNorm,
    layers=_distilbert_layers,
    position_ids=_from_zero,
)
ADAPTERS = {
    "bert": BERT,
    "roberta": ROBERTA,
    "xlm-roberta": ROBERTA,
    "camembert": ROBERTA,
    "distilbert": DISTILBERT,
}
SUPPORTED = "BERT, RoBERTa (and XLM-RoBERTa, CamemBERT) and DistilBERT"


def adapter_for(lm: MaskedLM) -> Adapter:
    """The model's adapter, or UnsupportedModelError that says which models are supported."""
    cfg = lm.model.config
    kind = str(getattr(cfg, "model_type", ""))
    adapter = ADAPTERS.get(kind)
    problem = ""
    if adapter is None:
        problem = f"its architecture ({type(lm.model).__name__}) is not one the hand computation knows"
    elif getattr(cfg, "position_embedding_type", "absolute") not in (None, "absolute"):
        problem = f"it uses {cfg.position_embedding_type} position embeddings (only absolute ones are recomputed)"
    elif getattr(cfg, "is_decoder", False):
        problem = "it is configured as a decoder"
    if problem:
        raise UnsupportedModelError(
            f"Internals are not supported for this model ({lm.name}): {problem}. Supported: {SUPPORTED}."
        )
    return adapter


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """B × S × (H·d) -> B × H × S × d (the lab's transpose_for_scores)."""
    b, s, _ = x.shape
    return x.view(b, s, heads, -1).permute(0, 2, 1, 3)


def _linear(layer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    if not isinstance(layer, torch.nn.Linear):  # an int8 layer: its arithmetic is the quantization's, run as the model runs it
        return layer(x)
    out = x @ layer.weight.float().T
    return out + layer.bias.float() if layer.bias is not None else out


def _layer_norm(norm: torch.nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + norm.eps) * norm.weight.float() + norm.bias.float()


def _layer_by_hand(parts: LayerParts, x: torch.Tensor, bias: torch.Tensor, heads: int) -> dict[str, torch.Tensor]:
    """One encoder layer, step by step; every intermediate kept (B × ... tensors)."""
    q = _split_heads(_linear(parts.query, x), heads)  # B × H × S × d
    k = _split_heads(_linear(parts.key, x), heads)
    v = _split_heads(_linear(parts.value, x), heads)
    d = q.shape[-1]
    scores = q @ k.transpose(-1, -2) / math.sqrt(d)  # B × H × S × S
    probs = torch.softmax(scores + bias, dim=-1)
    context = probs @ v  # B × H × S × d
    b, h, s, _ = context.shape
    concat = context.permute(0, 2, 1, 3).reshape(b, s, h * d)  # B × S × D
    dense = _linear(parts.attention_dense, concat)
    attention_output = _layer_norm(parts.attention_norm, dense + x)
    intermediate = parts.activation(_linear(parts.ffn_in, attention_output))  # B × S × I
    ffn_output = _linear(parts.ffn_out, intermediate)
    layer_output = _layer_norm(parts.output_norm, ffn_output + attention_output)
    return {
        "query": q, "key": k, "value": v, "scores": scores, "probs": probs, "context": context,
        "concat": concat, "attention_dense": dense, "attention_output": attention_output,
        "intermediate": intermediate, "ffn_output": ffn_output, "layer_output": layer_output,
    }


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy().astype(np.float32)


def _cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.cosine_similarity(a, b, dim=-1, eps=1e-12)


def internals(lm: MaskedLM, text: str, layer: int = 0, head: int = 0, mask: str = BIDIRECTIONAL) -> InternalsResult:
    """The forward pass of `text` by hand, with the details of `layer` (its input is
    hidden_states[layer]) and `head`, and the largest difference from the model's own pass
    run with the same mask."""
    adapter = adapter_for(lm)
    check_mode(mask)
    num_layers, num_heads = lm.num_layers, lm.num_heads
    if not 0 <= layer < num_layers:
        raise InvalidParameterError(
            f"Layer {layer} does not exist: {lm.name} has {num_layers} layers, numbered 0 to {num_layers - 1}."
        )
    if not 0 <= head < num_heads:
        raise InvalidParameterError(
            f"Head {head} does not exist: {lm.name} has {num_heads} heads per layer, numbered 0 to {num_heads - 1}."
        )
    notes: list[str] = []
    exact = lm.precision == EXACT  # else the hidden states are compared relative to their size
    enc = encode(lm, text)
    if enc.full_length > lm.max_length:
        notes.append(f"The text has {enc.full_length} tokens but {lm.name} reads at most {lm.max_length}: "
                     "the steps are shown for the part it reads.")
    base = lm.model.base_model
    device = lm.device
    ids = torch.tensor([enc.ids], device=device)
    padding = torch.ones_like(ids)
    position_ids = adapter.position_ids(base, ids)
    token_type_ids = torch.zeros_like(ids)
    type_table = adapter.token_type(base)
    if type_table is None:
        notes.append(f"{lm.name} has no token type embeddings ({adapter.family}): that part is zeros.")
    if mask == CAUSAL:
        notes.append("Causal mask: each token sees itself and the tokens to its left only. "
                     f"{lm.name} was not trained this way (it reads both directions): this shows what it does with it.")

    with torch.inference_mode():
        # The model's own pass, same ids, positions and mask.
        model_bias = attention_bias(padding, mask, lm.dtype)
        kwargs: dict[str, Any] = {"input_ids": ids, "attention_mask": model_bias,
                                  "output_hidden_states": True, "output_attentions": True}
        if type_table is not None:
            kwargs["token_type_ids"] = token_type_ids
        with lm.eager_attention():
            out = base(**kwargs)

        # By hand, in float32, from the weights.
        word = adapter.word(base).weight.float()[ids]
        position = adapter.position(base).weight.float()[position_ids]
        token_type = type_table.weight.float()[token_type_ids] if type_table is not None else torch.zeros_like(word)
        summed = word + position + token_type
        hidden = _layer_norm(adapter.embedding_norm(base), summed)
        bias = attention_bias(padding, mask, torch.float32)
        hand_hidden = [hidden]
        hand_probs = []
        chosen: dict[str, torch.Tensor] = {}
        for index, parts in enumerate(adapter.layers(base)):
            steps = _layer_by_hand(parts, hidden, bias, num_heads)
            if index == layer:
                chosen = steps
                layer_input = hidden
            hidden = steps["layer_output"]
            hand_hidden.append(hidden)
            hand_probs.append(steps["probs"])

        model_hidden = [h.float() for h in out.hidden_states]
        model_probs = [a.float() for a in out.attentions]
        if exact:
            diff_hidden = max(float((a - b).abs().max()) for a, b in zip(hand_hidden, model_hidden))
        else:  # rounding grows with the values: each layer's difference relative to its largest value (when > 1)
            diff_hidden = max(float((a - b).abs().max() / max(1.0, float(b.abs().max())))
                              for a, b in zip(hand_hidden, model_hidden))
            notes.append(f"In {lm.precision} the hidden states are compared relative to each layer's largest "
                         "value (above 1), since rounding grows with the values; attentions as they are.")
        diff_probs = max(float((a - b).abs().max()) for a, b in zip(hand_probs, model_probs))
        if len(model_hidden) != len(hand_hidden) or len(model_probs) != len(hand_probs):
            diff_hidden = diff_probs = float("inf")

        stack = torch.stack([h[0] for h in hand_hidden])  # (L+1) × S × D
        norms = stack.norm(dim=-1)
        cos_next = _cosine(stack[:-1], stack[1:])
        cos_final = _cosine(stack, stack[-1:].expand_as(stack))

        arrays = {}
        for key, value in chosen.items():
            if value.dim() == 4:  # B × H × S × ?: this head
                arrays[key] = _np(value[0, head])
            else:
                arrays[key] = _np(value[0])

    tolerance = TOLERANCE_FLOAT32 if exact else TOLERANCE_LOW_PRECISION
    return InternalsResult(
        model=lm.name,
        family=adapter.family,
        text=text,
        tokens=enc.tokenization.display,
        ids=tuple(enc.ids),
        position_ids=tuple(int(i) for i in position_ids[0].tolist()),
        token_type_ids=tuple(int(i) for i in token_type_ids[0].tolist()),
        layer=layer,
        head=head,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_size=int(word.shape[-1]),
        head_size=int(arrays["query"].shape[-1]),
        intermediate_size=int(arrays["intermediate"].shape[-1]),
        mask_mode=mask,
        has_token_types=type_table is not None,
        embeddings={
            "word": _np(word[0]), "position": _np(position[0]), "token_type": _np(token_type[0]),
            "sum": _np(summed[0]), "normalized": _np(hand_hidden[0][0]),
        },
        layer_input=_np(layer_input[0]),
        arrays=arrays,
        mask_allowed=(bias[0, 0] == 0).cpu().numpy(),
        hidden_norms=_np(norms),
        cosine_next=_np(cos_next),
        cosine_final=_np(cos_final),
        max_abs_diff={"hidden_states": diff_hidden, "attentions": diff_probs},
        tolerance=tolerance,
        dtype=lm.precision,
        notes=tuple(notes),
    )
