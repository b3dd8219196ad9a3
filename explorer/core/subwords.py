"""How a model's tokenizer marks where a word starts or goes on: decided once, from its vocabulary.

Three conventions cover the masked LMs people open:
- WordPiece (BERT, DistilBERT, ELECTRA) marks a piece that continues a word: "##ing".
- Byte-level BPE (RoBERTa, ModernBERT, BART) marks a piece that starts a word with "Ġ", the
  space byte as byte-level BPE spells it: "Ġcat"; "ing" continues the word before.
- SentencePiece (ALBERT, XLM-R, CamemBERT, DeBERTa-v3) marks starts with "▁": "▁cat".
A vocabulary with none of these marks ("none") has whole words only: nothing is glued.

Torch-free and tokenizer-free, so the window reads a model's convention from its ModelInfo.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

WORDPIECE = "wordpiece"
BPE = "bpe"  # byte-level BPE: GPT-2's byte alphabet, where "Ġ" is the space
SENTENCEPIECE = "sentencepiece"
NONE = "none"

MARKERS = {WORDPIECE: "##", BPE: "Ġ", SENTENCEPIECE: "▁", NONE: ""}
KINDS = tuple(MARKERS)

# A convention is the vocabulary's when at least this share of its tokens carry its mark
# (bert-base: 19% "##"; roberta-base: 62% "Ġ"; xlm-roberta-base: 41% "▁"). GPT-2's vocabulary
# holds a few "##..." tokens (runs of '#'), far below it and below its "Ġ" count.
MIN_MARKED_SHARE = 0.01

# Shown before a listed piece that continues a word, when the model's own spelling has no
# such mark (BPE, SentencePiece): "…ing" reads as "the end of the word before".
CONTINUES_SIGN = "…"


@lru_cache(maxsize=1)
def _byte_of_char() -> dict[str, int]:
    """GPT-2's byte-level alphabet, reversed: the printable character -> the byte it stands for."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def _byte_decode(tokens: Iterable[str]) -> str:
    """Byte-level BPE tokens to text, as the tokenizers library's ByteLevel decoder does: a
    token whose characters are all in the byte alphabet stands for those bytes, any other (an
    added token) for its own UTF-8; a character split across tokens decodes only in the run."""
    table = _byte_of_char()
    data = bytearray()
    for token in tokens:
        if all(c in table for c in token):
            data.extend(table[c] for c in token)
        else:
            data.extend(token.encode("utf-8"))
    return data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class SubwordConvention:
    """One model's way of marking word pieces, and what follows from it for a token."""

    kind: str = WORDPIECE
    specials: frozenset[str] = field(default_factory=frozenset)  # [CLS], <s>, <mask>...: words of their own

    def __post_init__(self) -> None:
        if self.kind not in MARKERS:
            raise ValueError(f"unknown subword convention {self.kind!r}: one of {', '.join(KINDS)}")
        object.__setattr__(self, "specials", frozenset(self.specials))

    @property
    def marker(self) -> str:
        """"##", "Ġ", "▁", or "" for "none"."""
        return MARKERS[self.kind]

    @property
    def marks_starts(self) -> bool:
        """True when the mark says "a word starts here" (BPE, SentencePiece), not "goes on"."""
        return self.kind in (BPE, SENTENCEPIECE)

    @property
    def word_start(self) -> str:
        """The mark a word-initial token carries ("Ġ", "▁"); "" when starts are unmarked."""
        return self.marker if self.marks_starts else ""

    @property
    def continuation_prefix(self) -> str:
        """The mark a continuing token carries ("##"); "" when continuations are unmarked."""
        return self.marker if self.kind == WORDPIECE else ""

    def continues(self, token: str) -> bool:
        """Does `token` (the tokenizer's own spelling) continue the word before it?"""
        if token in self.specials or not token:
            return False
        if self.kind == WORDPIECE:
            return token.startswith("##") and len(token) > 2
        if self.marks_starts:
            return not token.startswith(self.marker)
        return False

    def text(self, token: str) -> str:
        """What `token` writes after the word before it, without the space its mark stands for:
        "##ing" -> "ing", "Ġcat" -> "cat" (byte-level symbols decoded, "Ċ" -> a line break),
        "▁cat" -> "cat". Special tokens stay as they are."""
        if token in self.specials:
            return token
        if self.kind == WORDPIECE:
            return token[2:] if self.continues(token) else token
        if self.kind == BPE:
            decoded = _byte_decode([token])
            return decoded[1:] if token.startswith(self.marker) else decoded
        if self.kind == SENTENCEPIECE:
            decoded = token.replace(self.marker, " ")
            return decoded[1:] if token.startswith(self.marker) else decoded
        return token

    def display(self, token: str) -> str:
        """A token as the token views show it: WordPiece keeps its "##" (the model's own sign of
        a piece), other marks are removed; the token itself when that leaves only white space
        (a lone "Ġ", "Ċ", "▁"), so that every token has something to show."""
        if token in self.specials or self.kind in (WORDPIECE, NONE):
            return token
        return self.text(token).strip() or token

    def label(self, text: str, continues_word: bool) -> str:
        """A candidate piece as a list of guesses shows it: one that continues a word is marked,
        in the model's own spelling where it has one ("##ing"), else "…ing"."""
        if not continues_word:
            return text
        return (self.continuation_prefix or CONTINUES_SIGN) + text

    def join(self, tokens: Sequence[str]) -> str:
        """Tokens to text, words separated by one space, pieces glued to their word, as the
        tokenizer's decoder joins them (without WordPiece's clean-up of spaces before punctuation)."""
        if self.kind == BPE:
            return _byte_decode(tokens).strip()
        if self.kind == SENTENCEPIECE:
            return "".join(tokens).replace(self.marker, " ").strip()
        words: list[str] = []
        for token in tokens:
            piece = self.text(token)
            if self.continues(token) and words:
                words[-1] += piece
            elif piece:
                words.append(piece)
        return " ".join(words)

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "marker": self.marker}

    @classmethod
    def from_vocab(cls, vocab: Iterable[str], specials: Iterable[str] = ()) -> SubwordConvention:
        """The convention a vocabulary (a tokenizer's get_vocab() keys) follows: the mark most of
        its tokens carry, if enough do (MIN_MARKED_SHARE); "none" when none is common."""
        specials = frozenset(specials)
        counts = dict.fromkeys((WORDPIECE, BPE, SENTENCEPIECE), 0)
        total = 0
        for token in vocab:
            if token in specials:
                continue
            total += 1
            if token.startswith("##") and len(token) > 2:
                counts[WORDPIECE] += 1
            elif token.startswith("Ġ"):
                counts[BPE] += 1
            elif token.startswith("▁"):
                counts[SENTENCEPIECE] += 1
        kind = max(counts, key=lambda k: counts[k])
        if counts[kind] == 0 or counts[kind] < MIN_MARKED_SHARE * total:
            kind = NONE
        return cls(kind, specials)


WORDPIECE_CONVENTION = SubwordConvention(WORDPIECE)
