"""Two models' MLM-lab answers on the same passage, rate, seed and rule (no torch here).

The masking plan (engine.masking.plan_masks) is drawn from the seed over each model's own
tokens: one uniform draw per token, kept where the token is not special and the draw is under
the rate. So two models whose tokenizers cut the passage into the same pieces mask the same
positions, with the same 80/10/10 treatments; two tokenizers that cut it differently (BERT's
WordPiece, RoBERTa's byte-level BPE) mask different pieces, and their losses average over
different tokens.
"""

from __future__ import annotations

from explorer.core.mlm_results import MaskDemoResult
from explorer.core.model_names import short_name

SAME_MASKING = "same tokens, same masks: the losses compare directly"
SAME_PIECES_OTHER_SWAPS = (
    "same tokens and masked positions, but the random replacements differ (different vocabularies)"
)
DIFFERENT_TOKENIZERS = (
    "different tokenizers: the same seed masks different pieces; losses are not strictly comparable"
)


def same_pieces(a: MaskDemoResult, b: MaskDemoResult) -> bool:
    """Both tokenizers cut the passage into the same pieces (same ids, same special tokens):
    then the seed masks the same positions with the same treatments."""
    return a.ids == b.ids and a.special == b.special


def masking_note(a: MaskDemoResult, b: MaskDemoResult) -> str:
    """Whether the two losses are over the same masked tokens, shown the same way."""
    if not same_pieces(a, b):
        return DIFFERENT_TOKENIZERS
    # Same positions and treatments by construction; a random replacement is drawn from each
    # model's own vocabulary, so it matches only where the vocabularies do.
    return SAME_MASKING if a.input_ids == b.input_ids else SAME_PIECES_OTHER_SWAPS


def compare_summary(a: MaskDemoResult, b: MaskDemoResult) -> str:
    """Two lines: each model's loss and accuracy, then whether they are comparable."""
    first = (
        f"loss {a.loss:.4f} ({short_name(a.model)}) vs {b.loss:.4f} ({short_name(b.model)})"
        f" · accuracy {a.accuracy:.0%} vs {b.accuracy:.0%}"
    )
    return f"{first}\n{masking_note(a, b)}"
