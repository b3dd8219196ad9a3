"""How many tokens a model reads at once: one rule for the loaded model and for a folder
read before anything loads (fine-tuning's chunk size). Standard library only."""

from __future__ import annotations

from typing import Any

# Models whose position ids start after the padding id, as RoBERTa's do: they read
# max_position_embeddings - pad_token_id - 1 tokens at most (514 -> 512).
PADDED_POSITIONS = frozenset({
    "roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "roberta-prelayernorm", "data2vec-text", "xmod",
    "longformer", "ibert",
})
TOKENIZER_NO_LIMIT = 10**6  # tokenizers with no maximum say 1e30


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def token_limit(positions: Any, model_type: Any, pad_token_id: Any, tokenizer_max: Any) -> int | None:
    """The most tokens the model reads at once, from its config's values and its tokenizer's
    model_max_length (any of them may be missing or junk); None when none of them says."""
    limits = []
    positions = _count(positions)
    if positions is not None:
        if model_type in PADDED_POSITIONS:
            positions -= (pad_token_id if isinstance(pad_token_id, int) else 1) + 1
        limits.append(positions)
    most = _count(tokenizer_max)
    if most is not None and most < TOKENIZER_NO_LIMIT:
        limits.append(most)
    return min(limits) if limits else None
