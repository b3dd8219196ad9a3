"""Compare two models on one text: each model's fill-mask, then where they agree.

The text may spell the mask either way ("[MASK]" or "<mask>"): each model's tokenizer
rewrites it to its own (explorer.engine.tokens.MaskSpelling), so one sentence serves both.
"""

from __future__ import annotations

from explorer.core.compare import CompareResult
from explorer.engine.fill_mask import DEFAULT_TOP_K, fill_mask
from explorer.engine.models import MaskedLM


def compare_fill_mask(lm_a: MaskedLM, lm_b: MaskedLM, text: str, top_k: int = DEFAULT_TOP_K) -> CompareResult:
    """Both models' top-k for every mask of `text`, and their agreement mask by mask."""
    return CompareResult.of(text, fill_mask(lm_a, text, top_k), fill_mask(lm_b, text, top_k))
