"""Two models' fill-mask answers for the same text, and where they agree (no torch here).

Vocabularies differ (BERT's "Paris" is RoBERTa's "ĠParis", a "##s" piece is RoBERTa's "s"),
so candidates are compared by the word a person reads: `Candidate.text` and whether it
continues the word before, never by token or id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.core.results import Candidate, FillMaskResult, MaskPrediction


@dataclass(frozen=True)
class Agreement:
    """How far two models agree at one mask (the index-th mask of the text, from 0)."""

    index: int
    same_top1: bool
    topk_overlap: float  # |A ∩ B| / max(|A|, |B|) over the words of each top-k; 0.0 when both are empty

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "same_top1": self.same_top1, "topk_overlap": self.topk_overlap}


def word(c: Candidate) -> tuple[str, bool]:
    """What a person reads: the text, and whether it is glued to the word before."""
    return c.text, c.continues_word


def _words(mask: MaskPrediction) -> set[tuple[str, bool]]:
    return {word(c) for c in mask.candidates}


def agreement(a: FillMaskResult, b: FillMaskResult) -> list[Agreement]:
    """Masks matched by their order in the text (the tokenizations differ, so positions
    cannot be matched); only as many as the model with fewer masks has."""
    out = []
    for n, (ma, mb) in enumerate(zip(a.masks, b.masks)):
        words_a, words_b = _words(ma), _words(mb)
        k = max(len(words_a), len(words_b))
        same = bool(ma.candidates and mb.candidates and word(ma.candidates[0]) == word(mb.candidates[0]))
        out.append(Agreement(n, same, len(words_a & words_b) / k if k else 0.0))
    return out


def mask_count_warning(a: FillMaskResult, b: FillMaskResult) -> str | None:
    """Said when the two models found a different number of masks (one cut the text short)."""
    if len(a.masks) == len(b.masks):
        return None
    fewer = min(len(a.masks), len(b.masks))
    return (
        f"{a.model} has {len(a.masks)} mask(s) in this text and {b.model} has {len(b.masks)}: "
        f"only the first {fewer} are compared."
    )


@dataclass(frozen=True)
class CompareResult:
    """Both models' fill-mask results for one text, and their agreement per mask."""

    text: str
    results: tuple[FillMaskResult, FillMaskResult]
    agreement: tuple[Agreement, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, text: str, a: FillMaskResult, b: FillMaskResult) -> CompareResult:
        warning = mask_count_warning(a, b)
        return cls(text, (a, b), tuple(agreement(a, b)), (warning,) if warning else ())

    def to_json(self) -> dict[str, Any]:
        """The CLI's contract: each result exactly as `fill-mask --json` gives it."""
        return {
            "text": self.text,
            "results": [r.to_json() for r in self.results],
            "agreement": [g.to_json() for g in self.agreement],
            "warnings": list(self.warnings),
        }

    def _repr_html_(self) -> str:
        from explorer.core.notebook_html import compare_html

        return compare_html(self)
