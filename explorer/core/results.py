"""Results that cross from the engine to the GUI and the CLI.

Frozen dataclasses of Python values and numpy arrays only: no tensors, so the Qt side
never needs torch to read them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from explorer.core.mask_modes import BIDIRECTIONAL, PAD_LABEL, PADDING
from explorer.core.model_names import short_name
from explorer.core.subwords import WORDPIECE_CONVENTION, SubwordConvention


@dataclass(frozen=True)
class ModelInfo:
    name: str
    source: str  # the local folder the weights came from
    architecture: str
    device: str
    dtype: str
    mask_token: str
    max_length: int
    num_layers: int
    num_heads: int
    vocab_size: int
    is_demo: bool = False  # the small model bundled with the app, not a real BERT
    notice: str = ""  # why this model was opened instead of the one asked for
    subwords: SubwordConvention = WORDPIECE_CONVENTION  # how its tokens mark word pieces

    @property
    def short_name(self) -> str:
        """The name where space is short (titles, columns, the status bar); `name` goes in the tooltip."""
        return short_name(self.name)


@dataclass(frozen=True)
class LoadProgress:
    stage: str  # "resolve", "download", "tokenizer", "weights", "device", "quantize", "ready"
    message: str
    done: float = 0.0
    total: float = 0.0  # 0 when the amount of work is unknown


@dataclass(frozen=True)
class Tokenization:
    """Wordpieces of a text, mapped back to characters of the text the user typed."""

    tokens: tuple[str, ...]
    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]  # (start, end) in the original text; (0, 0) for specials
    special: tuple[bool, ...]
    display: tuple[str, ...]  # what to show a person (byte-level BPE symbols decoded)

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class Candidate:
    token: str  # the vocabulary entry, e.g. "##ing" or "Ġthe"
    token_id: int
    score: float  # softmax over the whole vocabulary
    token_str: str  # tokenizer.decode([token_id]), as transformers' fill-mask pipeline says it
    text: str  # what to write into the sentence in place of the mask
    continues_word: bool  # "##ing", or RoBERTa's "ing" (no "Ġ"): glue it to the word before


@dataclass(frozen=True)
class MaskPrediction:
    index: int  # position of the mask in Tokenization.tokens
    char_start: int
    char_end: int
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class FillMaskResult:
    model: str
    device: str
    text: str
    tokenization: Tokenization
    masks: tuple[MaskPrediction, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    subwords: SubwordConvention = WORDPIECE_CONVENTION  # the model's, to label its pieces
    mask: str = BIDIRECTIONAL  # the attention mask it was computed under (core.mask_modes)

    def to_json(self) -> dict[str, Any]:
        """The CLI's stable JSON contract ("mask" only when not bidirectional, as trained)."""
        data: dict[str, Any] = {
            "model": self.model,
            "device": self.device,
            "tokens": list(self.tokenization.tokens),
            "masks": [
                {
                    "index": m.index,
                    "predictions": [
                        {"token": c.token, "token_id": c.token_id, "score": c.score}
                        for c in m.candidates
                    ],
                }
                for m in self.masks
            ],
            "warnings": list(self.warnings),
        }
        if self.mask != BIDIRECTIONAL:
            data["mask"] = self.mask
        return data

    def _repr_html_(self) -> str:
        """Jupyter shows the result inline (explorer.core.notebook_html)."""
        from explorer.core.notebook_html import fill_mask_html

        return fill_mask_html(self)


@dataclass(frozen=True)
class JobStep:
    """Progress of a long job, yielded after each unit of work."""

    done: int
    total: int
    message: str = ""
    payload: Any = None


def as_dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)


@dataclass(frozen=True, eq=False)
class AttentionResult:
    """Attention weights of every layer and head for one text."""

    model: str
    text: str
    tokens: tuple[str, ...]
    special: tuple[bool, ...]  # [CLS]/[SEP], <s>/</s>: what "hide special tokens" hides (not the mask)
    weights: Any  # np.ndarray, float32, (layers, heads, T, T); rows (queries) sum to 1
    average: Any  # np.ndarray, (layers, T, T): mean over heads
    rollout: Any  # np.ndarray, (layers, T, T): attention rollout through each layer
    warnings: tuple[str, ...] = field(default_factory=tuple)
    mask: str = BIDIRECTIONAL  # CAUSAL, or PADDING (one sentence of a padded batch of two)

    @property
    def num_layers(self) -> int:
        return int(self.weights.shape[0])

    @property
    def num_heads(self) -> int:
        return int(self.weights.shape[1])

    @property
    def pads(self) -> int:
        """The pads at the end of one sentence of a padded batch (0 for the longer one, and
        for any result not run padded)."""
        if self.mask != PADDING:
            return 0
        return next((n for n, token in enumerate(reversed(self.tokens)) if token != PAD_LABEL), len(self.tokens))

    def plot(self, layer: int = 0, head: int | None = None) -> Any:
        """A matplotlib Figure (explorer.plots, no pyplot) of one layer: the grid of heads, or
        one head large. A negative layer or head counts from the end."""
        from explorer.plots.heatmaps import layer_figure

        layer = _within(layer, self.num_layers, "layer")
        head = None if head is None else _within(head, self.num_heads, "head")
        title = f"{self.model} · layer {layer}" + ("" if head is None else f" · head {head}")
        return layer_figure(self.weights, self.tokens, layer, head, title=title)

    def _repr_png_(self) -> bytes:
        """The default plot (layer 0, every head) as PNG, for Jupyter."""
        import io

        buffer = io.BytesIO()
        self.plot().savefig(buffer, format="png")
        return buffer.getvalue()

    def _repr_html_(self) -> str:
        from explorer.core.notebook_html import attention_html

        return attention_html(self, self._repr_png_())


def _within(n: int, count: int, what: str) -> int:
    """n in 0..count-1, or counted from the end when negative; IndexError that says the range."""
    if not -count <= n < count:
        raise IndexError(f"There is no {what} {n}: this model has {count}, numbered 0 to {count - 1} (or -1 to -{count}).")
    return n % count
