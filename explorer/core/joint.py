"""Joint filling of several masks and scoring whole sentences: the results and their rules.

Both rest on one quantity, the pseudo-log-likelihood (Salazar et al. 2020, "Masked Language
Model Scoring"): the sum over positions i of log p(token_i | the text with position i masked
and everything else in place). For a filling of masks it is summed over the masked positions
(every other mask filled by its chosen token); for a sentence, over all its tokens.

Torch-free: the window reads these; explorer/engine/joint.py and scoring.py compute them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from explorer.core.errors import InvalidParameterError
from explorer.core.params import param, problems
from explorer.core.subwords import WORDPIECE_CONVENTION, SubwordConvention

ORDERS = {
    "confidence": "Fill the mask the model is surest of first, then re-read (X-FACTR, Jiang et al. 2020)",
    "left-to-right": "Fill the masks from left to right, re-reading after each",
}
MAX_JOINT_MASKS = 12  # a search over more masks than this takes minutes on a laptop CPU
LENGTH_NORM = "mean log-probability per piece"  # how fillings of different lengths are ranked together


@dataclass(frozen=True)
class JointParams:
    """How a joint fill searches: what the Predictions tab's joint view and `fill-mask --joint` ask for."""

    beam: int = field(default=5, metadata=param(
        label="Beam", cli="--beam", metavar="B", low=1, high=200, form="jointBeam", form_high=50, prefix="beam ",
        help="Partial fillings kept at each step of the search; wider finds better fillings, slower"))
    results: int = field(default=5, metadata=param(
        label="Results", cli="--results", metavar="N", low=1, high=1000, form="jointResults", form_high=20,
        prefix="show ", help="Best fillings listed"))
    order: str = field(default="confidence", metadata=param(
        label="Order", cli="--order", choices=ORDERS, form="jointOrder",
        help="Which mask is filled next"))
    max_pieces: int = field(default=1, metadata=param(
        label="How many tokens?", cli="--pieces", metavar="N", low=1, high=6, form="jointPieces", prefix="up to ",
        what="the number of pieces",
        help="A text with one mask: let the mask stand for a word of 1 to N pieces (\"Canberra\" is two), "
        "all ranked together by their mean log-probability per piece"))

    def check(self) -> JointParams:
        """Itself, or InvalidParameterError that says the first value out of range."""
        wrong = problems(self)
        if wrong:
            raise InvalidParameterError(wrong[0])
        return self


@dataclass(frozen=True)
class Filling:
    """One way of filling the masks: a token per masked position, left to right."""

    tokens: tuple[str, ...]
    token_ids: tuple[int, ...]
    parts: tuple[float, ...]  # log p of each token with only it masked, the others filled
    text: str  # the typed text with the masks written in
    words: tuple[str, ...] = ()  # what each typed mask became (several pieces glued as the model does)

    @property
    def score(self) -> float:
        """The pseudo-log-likelihood over the masked positions (higher is better)."""
        return math.fsum(self.parts)

    @property
    def pieces(self) -> int:
        return len(self.token_ids)

    @property
    def per_piece(self) -> float:
        """The score divided by the number of pieces: what ranks words of different lengths."""
        return self.score / len(self.parts) if self.parts else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "tokens": list(self.tokens),
            "token_ids": list(self.token_ids),
            "score": self.score,
            "parts": list(self.parts),
            "text": self.text,
            "words": list(self.words),
        }


@dataclass(frozen=True)
class JointResult:
    """The best joint fillings of a text's masks, best first, and the per-mask argmax one."""

    model: str
    text: str
    order: str
    beam: int
    fillings: tuple[Filling, ...]
    independent: Filling | None  # every mask's own best guess, scored the same way
    max_pieces: int = 1  # >1: each mask stood for 1..max_pieces pieces, ranked by per_piece
    warnings: tuple[str, ...] = field(default_factory=tuple)
    subwords: SubwordConvention = WORDPIECE_CONVENTION

    @property
    def ranked_by(self) -> str:
        return LENGTH_NORM if self.max_pieces > 1 else "pseudo-log-likelihood"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "order": self.order,
            "beam": self.beam,
            "ranked_by": self.ranked_by,
            "joint": [f.to_json() for f in self.fillings],
            "independent": self.independent.to_json() if self.independent else None,
        }
        if self.max_pieces > 1:
            out["max_pieces"] = self.max_pieces
            for record, filling in zip(out["joint"], self.fillings):
                record["per_piece"] = filling.per_piece
        return out

    def _repr_html_(self) -> str:
        """Jupyter shows the fillings inline (explorer.core.notebook_html)."""
        from explorer.core.notebook_html import joint_html

        return joint_html(self)


@dataclass(frozen=True)
class SentenceScore:
    """How likely a model finds a sentence: each token's log p with only it masked."""

    text: str
    tokens: tuple[str, ...]
    token_scores: tuple[float | None, ...]  # None for special tokens ([CLS], [SEP]), not scored
    display: tuple[str, ...] = ()  # the tokens as a person reads them

    @property
    def pll(self) -> float:
        return math.fsum(s for s in self.token_scores if s is not None)

    @property
    def scored(self) -> int:
        return sum(1 for s in self.token_scores if s is not None)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "tokens": list(self.tokens), "token_scores": list(self.token_scores), "pll": self.pll}


@dataclass(frozen=True)
class ScoreResult:
    model: str
    sentences: tuple[SentenceScore, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def preferred(self) -> int | None:
        """The index of the sentence the model likes best (highest PLL), when there are two or more."""
        if len(self.sentences) < 2:
            return None
        return max(range(len(self.sentences)), key=lambda i: self.sentences[i].pll)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "sentences": [s.to_json() for s in self.sentences], "warnings": list(self.warnings)}

    def _repr_html_(self) -> str:
        from explorer.core.notebook_html import score_html

        return score_html(self)


def write_words(text: str, spans: list[tuple[int, int]], words: list[str], glue: list[bool]) -> str:
    """The text with each mask's span (start, end in `text`) replaced by its word; a word that
    continues the word before (a "##ing" alone) is glued to it, the white space between dropped."""
    out: list[str] = []
    last = 0
    for (start, end), word, glued in zip(spans, words, glue):
        before = text[last:start]
        out.append(before.rstrip() if glued else before)
        out.append(word)
        last = end
    out.append(text[last:])
    return "".join(out)
