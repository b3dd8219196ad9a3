"""A Python API for notebooks: the CLI's operations on one loaded model.

    from explorer import Explorer
    ex = Explorer("bert-base-cased")
    ex.fill_mask("Paris is the [MASK] of France.")        # FillMaskResult, a table in Jupyter
    ex.attention("The cat sat.").plot(layer=1)             # a matplotlib Figure
    ex.compare("bert-base-uncased", "Paris is the [MASK] of France.")   # CompareResult
    ex.joint_fill("The [MASK] [MASK] is in Paris.", beam=5)   # JointResult: the masks filled together
    ex.score("The keys are here.", "The keys is here.")       # ScoreResult: each sentence's PLL

The results are the CLI's own types (their `to_json()` is its JSON) and show inline in
Jupyter through `_repr_html_` / `_repr_png_`. torch loads when the first model does.
"""

from __future__ import annotations

import logging
from typing import Any

from explorer import DEFAULT_MODEL
from explorer.core.compare import CompareResult
from explorer.core.joint import JointParams, JointResult, ScoreResult
from explorer.core.results import AttentionResult, FillMaskResult, ModelInfo

log = logging.getLogger(__name__)
DEFAULT_TOP_K = 10  # as `fill-mask --top-k`


class Explorer:
    """One model, loaded as the CLI loads it (explorer.engine.models).

    `model=None` opens the default model, or the bundled demo model when that is neither
    cached nor reachable (the notice is logged and kept in `info.notice`); a model named
    explicitly is never swapped for another: its failure is an exception that says why.
    """

    def __init__(
        self, model: str | None = None, *, device: str = "auto", dtype: str = "auto", _beside: bool = False
    ) -> None:
        from explorer.core.jobs import run_to_end
        from explorer.engine import models

        self.device, self.dtype = device, dtype
        if model is None:
            self._lm = run_to_end(models.load_or_demo(DEFAULT_MODEL, device, dtype))
            if self._lm.notice:
                log.warning("%s", self._lm.notice)
        else:
            # Beside another model (compare): refused before its weights are read if it won't fit.
            self._lm = run_to_end(models.load_steps(model, device, dtype, check_room=_beside))
        self._other: tuple[str, Explorer] | None = None  # the last model compared with, kept for the next call

    @property
    def info(self) -> ModelInfo:
        return self._lm.info()

    @property
    def mask_token(self) -> str:
        """The model's own spelling of the mask; "[MASK]" and "<mask>" are both accepted."""
        return self._lm.mask_token

    @property
    def lm(self) -> Any:
        """The engine's MaskedLM (model, tokenizer, device), for going further in torch."""
        return self._lm

    def fill_mask(self, text: str, top_k: int = DEFAULT_TOP_K) -> FillMaskResult:
        """The model's top-k guesses for every mask in `text` (as `bert-explorer fill-mask`)."""
        from explorer.engine.fill_mask import fill_mask

        return fill_mask(self._lm, text, _positive(top_k))

    def attention(self, text: str) -> AttentionResult:
        """Attention weights of every layer and head; `.plot(layer=, head=)` draws them."""
        from explorer.engine.attention import attention

        return attention(self._lm, text)

    def joint_fill(self, text: str, **params: Any) -> JointResult:
        """The masks of `text` filled together, best first, beside each mask's own best guess
        (as `fill-mask --joint`); params as JointParams: beam, results, order, max_pieces."""
        from explorer.engine.joint import joint_fill

        return joint_fill(self._lm, text, JointParams(**params))

    def score(self, *sentences: str) -> ScoreResult:
        """Each sentence's per-token log-probability and PLL (as `bert-explorer score`)."""
        from explorer.engine.scoring import score_sentences

        return score_sentences(self._lm, list(sentences))

    def compare(self, other: str | Explorer, text: str, top_k: int = DEFAULT_TOP_K) -> CompareResult:
        """This model (A) and `other` (B: a name, loaded with this one's device and dtype and
        kept for the next call, or an Explorer) on the same text (as `bert-explorer compare`)."""
        from explorer.engine.compare import compare_fill_mask

        return compare_fill_mask(self._lm, self._explorer_for(other)._lm, text, _positive(top_k))

    def _explorer_for(self, other: str | Explorer) -> Explorer:
        if isinstance(other, Explorer):
            return other
        if self._other is None or self._other[0] != other:
            self._other = None  # the one before is let go before the next loads
            self._other = (other, Explorer(other, device=self.device, dtype=self.dtype, _beside=True))
        return self._other[1]

    def __repr__(self) -> str:
        info = self.info
        return f"Explorer({info.name!r}: {info.architecture} on {info.device}, {info.dtype})"


def _positive(top_k: int) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k must be a whole number of at least 1, got {top_k!r}")
    return top_k
