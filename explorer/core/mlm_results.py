"""Results of the MLM lab (masking + loss, and the layer lens), as they cross to GUI and CLI.

Frozen dataclasses of Python values and numpy arrays only, like explorer.core.results:
the Qt side reads them without torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.core.subwords import WORDPIECE_CONVENTION, SubwordConvention


@dataclass(frozen=True)
class MaskedToken:
    """One position the masking chose, and how the model did on it."""

    index: int  # position in the token sequence
    original_id: int
    original: str  # display form of the true token
    input_id: int  # what the model was shown there
    input: str
    treatment: str  # mlm_params.MASKED, RANDOM or KEPT
    predicted_id: int  # argmax of the model's distribution
    predicted: str  # display form
    predicted_token: str  # the tokenizer's own form, e.g. "##ing" or "Ġthe"
    predicted_prob: float
    p_true: float  # the model's probability of the true token
    loss: float  # -log p_true: this position's share of the MLM loss

    @property
    def correct(self) -> bool:
        return self.predicted_id == self.original_id


@dataclass(frozen=True)
class MaskDemoResult:
    """A passage masked at a rate, run with labels at the masked positions only."""

    model: str
    text: str
    rate: float
    seed: int
    bert_rule: bool  # 80/10/10 on, or every chosen token became the mask token
    tokens: tuple[str, ...]  # the tokenizer's own tokens of the passage
    display: tuple[str, ...]  # the same, as a person reads them
    ids: tuple[int, ...]
    special: tuple[bool, ...]
    offsets: tuple[tuple[int, int], ...]  # characters of `text`; (0, 0) for special tokens
    input_ids: tuple[int, ...]  # what the model read
    input_tokens: tuple[str, ...]
    input_display: tuple[str, ...]
    masked: tuple[MaskedToken, ...]
    loss: float  # transformers' own MLM loss: the mean of the masked positions' losses
    accuracy: float  # share of masked positions whose argmax is the true token
    warnings: tuple[str, ...] = field(default_factory=tuple)
    subwords: SubwordConvention = WORDPIECE_CONVENTION  # the model's: which shown pieces carry a mark

    @property
    def masked_positions(self) -> tuple[int, ...]:
        return tuple(m.index for m in self.masked)

    def reconstruction(self) -> tuple[str, ...]:
        """The passage as the model fills it in: its argmax at every masked position."""
        shown = list(self.display)
        for m in self.masked:
            shown[m.index] = m.predicted
        return tuple(shown)

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON contract (issue 6); tokens as the tokenizer spells them."""
        return {
            "tokens": list(self.tokens),
            "masked_positions": list(self.masked_positions),
            "input_tokens": list(self.input_tokens),
            "predictions": [m.predicted_token for m in self.masked],
            "loss": self.loss,
            "accuracy": self.accuracy,
        }


@dataclass(frozen=True, eq=False)
class LayerLensResult:
    """The MLM head read at one position after the embeddings and after every layer."""

    model: str
    input_ids: tuple[int, ...]  # the sequence it was computed for (to drop stale answers)
    position: int
    input_token: str  # what the model read at the position
    true_id: int | None  # the token that was there before masking, when known
    true_token: str | None
    layer_names: tuple[str, ...]  # "embeddings", "layer 1", ... "layer N"
    top_tokens: tuple[tuple[str, ...], ...]  # per layer, the top k, best first
    top_ids: Any  # np.ndarray int64 (layers + 1, k)
    top_probs: Any  # np.ndarray float32 (layers + 1, k)
    final_id: int  # the top-1 after the last layer: the model's prediction
    final_token: str
    final_probs: Any  # np.ndarray float32 (layers + 1,): p(final prediction) at each layer
    final_ranks: Any  # np.ndarray int64 (layers + 1,): its rank at each layer, 1 = top
    true_probs: Any = None  # np.ndarray (layers + 1,) or None: p(true token) at each layer
    true_ranks: Any = None

    @property
    def num_readouts(self) -> int:
        return len(self.layer_names)

    def to_json(self) -> dict[str, Any]:
        layers = []
        for i, name in enumerate(self.layer_names):
            row: dict[str, Any] = {
                "layer": name,
                "top": [
                    {"token": t, "token_id": int(tid), "prob": float(p)}
                    for t, tid, p in zip(self.top_tokens[i], self.top_ids[i], self.top_probs[i])
                ],
                "final_prob": float(self.final_probs[i]),
                "final_rank": int(self.final_ranks[i]),
            }
            if self.true_probs is not None:
                row["true_prob"] = float(self.true_probs[i])
                row["true_rank"] = int(self.true_ranks[i])
            layers.append(row)
        return {
            "position": self.position,
            "input_token": self.input_token,
            "true_token": self.true_token,
            "final_token": self.final_token,
            "layers": layers,
        }
