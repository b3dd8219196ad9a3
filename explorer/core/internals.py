"""BERT's forward pass step by step (lab 002): what the Internals tab and CLI show.

The engine (explorer.engine.internals) recomputes one sentence's forward pass from the
weights with plain tensor operations, and checks it against what the model returns; the
result is plain numpy arrays for one sentence (the batch of one dropped: T × D, T × d, T × T),
with each step's shape written the lab's way (B × S × D, B × H × S × d, B × H × S × S).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explorer.core.precisions import EXACT

# Largest difference allowed between the hand computation and the model's own outputs.
TOLERANCE_FLOAT32 = 1e-4
TOLERANCE_LOW_PRECISION = 5e-2  # float16, bfloat16, int8: rounding alone reaches 1e-2 after a few layers

# The steps in the order of the computation: key, what it is, its shape the lab's way.
STEPS: tuple[tuple[str, str, str], ...] = (
    ("input_ids", "token ids", "B × S"),
    ("word", "word (token) embeddings", "B × S × D"),
    ("position", "position embeddings", "B × S × D"),
    ("token_type", "token type (segment) embeddings", "B × S × D"),
    ("sum", "word + position + token type", "B × S × D"),
    ("normalized", "LayerNorm(sum) = hidden_states[0]", "B × S × D"),
    ("layer_input", "the layer's input = hidden_states[L]", "B × S × D"),
    ("query", "Q = input · W_Q + b, split into heads", "B × H × S × d"),
    ("key", "K = input · W_K + b, split into heads", "B × H × S × d"),
    ("value", "V = input · W_V + b, split into heads", "B × H × S × d"),
    ("scores", "raw scores Q·Kᵀ / √d", "B × H × S × S"),
    ("mask", "the mask added to the scores", "B × 1 × S × S"),
    ("probs", "softmax(scores + mask) = attention weights", "B × H × S × S"),
    ("context", "context = weights · V", "B × H × S × d"),
    ("concat", "heads concatenated", "B × S × D"),
    ("attention_dense", "output dense (concat · W_O + b)", "B × S × D"),
    ("attention_output", "LayerNorm(dense + layer input)", "B × S × D"),
    ("intermediate", "intermediate = GELU(· W_1 + b)", "B × S × I"),
    ("ffn_output", "FFN output dense (· W_2 + b)", "B × S × D"),
    ("layer_output", "LayerNorm(FFN + attention output) = hidden_states[L+1]", "B × S × D"),
)
STEP_NAMES = tuple(key for key, _, _ in STEPS)
STEP_TITLES = {key: title for key, title, _ in STEPS}
STEP_SHAPES = {key: shape for key, _, shape in STEPS}
# The arrays of one sentence, as the CLI's JSON and --npz carry them.
ARRAY_STEPS = (
    "query", "key", "value", "scores", "probs", "context", "concat", "attention_dense",
    "attention_output", "intermediate", "ffn_output", "layer_output",
)
EMBEDDING_PARTS = ("word", "position", "token_type", "sum", "normalized")


@dataclass(frozen=True, eq=False)
class InternalsResult:
    """One sentence's forward pass, recomputed by hand, at one layer and head."""

    model: str
    family: str  # "bert", "roberta", "distilbert": the adapter that read the weights
    text: str
    tokens: tuple[str, ...]  # as shown to a person
    ids: tuple[int, ...]
    position_ids: tuple[int, ...]
    token_type_ids: tuple[int, ...]
    layer: int
    head: int
    num_layers: int
    num_heads: int
    hidden_size: int  # D
    head_size: int  # d = D / H
    intermediate_size: int  # I
    mask_mode: str  # "bidirectional" or "causal"
    has_token_types: bool  # False for DistilBERT (its token_type part is zeros)
    embeddings: dict[str, Any]  # EMBEDDING_PARTS -> (T, D)
    layer_input: Any  # (T, D)
    arrays: dict[str, Any]  # ARRAY_STEPS -> (T, d) / (T, T) / (T, D) / (T, I), this layer and head
    mask_allowed: Any  # (T, T) bool: where a query (row) may look at a key (column)
    hidden_norms: Any  # (layers + 1, T): each token's hidden-state norm, embeddings first
    cosine_next: Any  # (layers, T): cosine of a token's representation between layers l and l+1
    cosine_final: Any  # (layers + 1, T): cosine of a token's representation with the last layer's
    # "hidden_states", "attentions": hand vs the model (in a precision other than float32 the hidden
    # states relative to each layer's largest value above 1: rounding grows with the values; see notes)
    max_abs_diff: dict[str, float]
    tolerance: float
    dtype: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def relative(self) -> bool:
        """Whether max_abs_diff["hidden_states"] is relative to each layer's largest value (in
        any precision but the exact one, where rounding grows with the values) or absolute."""
        return self.dtype != EXACT

    @property
    def ok(self) -> bool:
        return all(np.isfinite(v) and v < self.tolerance for v in self.max_abs_diff.values())

    def array(self, step: str) -> Any:
        """Any step's values for this sentence, by its key in STEPS."""
        if step == "input_ids":
            return np.asarray(self.ids, dtype=np.int64)
        if step in self.embeddings:
            return self.embeddings[step]
        if step == "layer_input":
            return self.layer_input
        if step == "mask":
            return np.where(self.mask_allowed, 0.0, -np.inf).astype(np.float32)
        return self.arrays[step]

    def shapes(self) -> dict[str, list[int]]:
        """Each step's shape with the batch of one: [B, S, D], [B, H, S, d], [B, H, S, S]."""
        b, s, h = 1, len(self.ids), self.num_heads
        d, big_d, i = self.head_size, self.hidden_size, self.intermediate_size
        dims = {
            "B": b, "S": s, "H": h, "d": d, "D": big_d, "I": i, "1": 1,
        }
        return {key: [dims[part] for part in shape.split(" × ")] for key, shape in STEP_SHAPES.items()}

    def shape_text(self, step: str) -> str:
        """"B × H × S × d = 1 × 12 × 7 × 64"."""
        lab = STEP_SHAPES[step]
        return f"{lab} = {' × '.join(str(n) for n in self.shapes()[step])}"

    def embedding_norms(self) -> dict[str, Any]:
        """Each part's norm per token (T,): how much does position contribute?"""
        return {part: np.linalg.norm(values, axis=-1) for part, values in self.embeddings.items()}
