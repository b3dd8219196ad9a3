"""Scoring whole sentences by pseudo-log-likelihood (Salazar et al. 2020).

Each token in turn is masked and the model asked how likely the token was: PLL = the sum of
those log-probabilities. A sentence of T tokens is T rows of one batched forward (one row per
masked position), not T forwards: the same numbers, several times faster.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from explorer.core.errors import InvalidParameterError
from explorer.core.joint import ScoreResult, SentenceScore
from explorer.engine.fill_mask import NOT_NUMBERS
from explorer.engine.joint import pll_parts
from explorer.engine.models import MaskedLM
from explorer.engine.tokens import encode

MAX_SENTENCES = 1000


def score_sentence(lm: MaskedLM, text: str, warnings: list[str] | None = None) -> SentenceScore:
    """One sentence's per-token log p (special tokens: None) and its PLL."""
    enc = encode(lm, text)
    if enc.full_length > lm.max_length and warnings is not None:
        warnings.append(f"'{_clip(text)}' has {enc.full_length} tokens; {lm.name} reads {lm.max_length}: the rest is not scored.")
    if enc.mask_positions and warnings is not None:
        warnings.append(f"'{_clip(text)}' holds a mask: it is scored as the token {lm.mask_token}, not filled.")
    special = enc.tokenization.special
    positions = [p for p in range(len(enc.ids)) if not special[p]]
    parts = pll_parts(lm, enc.ids, positions, [[enc.ids[p] for p in positions]])[0] if positions else ()
    scores: list[float | None] = [None] * len(enc.ids)
    for p, s in zip(positions, parts):
        scores[p] = s
    return SentenceScore(text, enc.tokenization.tokens, tuple(scores), enc.tokenization.display)


def score_sentences(lm: MaskedLM, sentences: Sequence[str]) -> ScoreResult:
    """Every sentence scored; InvalidParameterError before any work for none or an empty one."""
    if not sentences:
        raise InvalidParameterError("Give at least one sentence to score.")
    if len(sentences) > MAX_SENTENCES:
        raise InvalidParameterError(f"At most {MAX_SENTENCES} sentences at once, not {len(sentences)}.")
    empty = [i + 1 for i, s in enumerate(sentences) if not s.strip()]
    if empty:
        raise InvalidParameterError(f"Sentence {empty[0]} is empty: give each sentence some words.")
    warnings: list[str] = []
    scored = tuple(score_sentence(lm, s, warnings) for s in sentences)
    if any(not math.isfinite(s) for one in scored for s in one.token_scores if s is not None):
        warnings.append(NOT_NUMBERS)
    return ScoreResult(lm.name, scored, tuple(warnings))


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
