"""Tokenization that maps every wordpiece back to the characters the user typed."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from explorer.engine.models import MaskedLM
from explorer.core.results import Tokenization

# People type the mask the way their lab or paper spells it; accept both for every model.
MASK_SPELLINGS = ("[MASK]", "<mask>")


@dataclass(frozen=True)
class _Edit:
    new_start: int
    new_end: int
    old_start: int
    old_end: int


class MaskSpelling:
    """Rewrites other mask spellings to the model's own and maps offsets back."""

    def __init__(self, text: str, mask_token: str) -> None:
        aliases = [s for s in MASK_SPELLINGS if s != mask_token]
        self.original = text
        if not aliases:
            self.text, self._edits = text, []
            return
        pattern = re.compile("|".join(re.escape(a) for a in aliases))
        parts: list[str] = []
        edits: list[_Edit] = []
        last = 0
        shift = 0
        for m in pattern.finditer(text):
            parts.append(text[last : m.start()])
            parts.append(mask_token)
            new_start = m.start() + shift
            edits.append(_Edit(new_start, new_start + len(mask_token), m.start(), m.end()))
            shift += len(mask_token) - (m.end() - m.start())
            last = m.end()
        parts.append(text[last:])
        self.text = "".join(parts)
        self._edits = edits
        self._starts = [e.new_start for e in edits]

    def to_original(self, pos: int, *, is_end: bool = False) -> int:
        if not self._edits:
            return pos
        i = bisect_right(self._starts, pos) - 1
        if i < 0:
            return pos
        e = self._edits[i]
        if pos < e.new_end or (is_end and pos == e.new_end):
            # Inside a rewritten mask: snap to the mask's ends in the original text.
            return e.old_end if (is_end and pos > e.new_start) else e.old_start
        return pos - e.new_end + e.old_end


@dataclass(frozen=True)
class Encoded:
    """One text ready for the model (engine-internal: ids as Python ints)."""

    text: str
    ids: list[int]
    tokenization: Tokenization
    mask_positions: list[int]
    full_length: int  # tokens before truncation
    dropped_masks: int  # masks cut off by truncation


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """A token's characters without the white space around them. SentencePiece tokenizers
    count the space a mask swallows (XLM-R's "<mask>" strips left) as the mask's: writing a
    word there would glue it to the word before. A token of white space alone keeps its span."""
    s, e = start, end
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return (s, e) if e > s else (start, end)


def encode(lm: MaskedLM, text: str, max_length: int | None = None) -> Encoded:
    """Tokenize with offsets; cut to the model's length keeping the closing special token."""
    limit = max_length or lm.max_length
    spelling = MaskSpelling(text, lm.mask_token)
    enc = lm.tokenizer(spelling.text, return_offsets_mapping=True, add_special_tokens=True)
    ids = [int(i) for i in enc["input_ids"]]
    offsets = [tuple(o) for o in enc["offset_mapping"]]
    full_length = len(ids)
    masks_before = sum(1 for i in ids if i == lm.mask_token_id)
    if full_length > limit:
        ids = ids[: limit - 1] + ids[-1:]
        offsets = offsets[: limit - 1] + offsets[-1:]
    tokens = lm.tokenizer.convert_ids_to_tokens(ids)
    special = tuple(i in lm.special_ids for i in ids)
    orig_offsets = tuple(
        (0, 0) if s == e == 0 else _trimmed(text, spelling.to_original(s), spelling.to_original(e, is_end=True))
        for s, e in offsets
    )
    mask_positions = [p for p, i in enumerate(ids) if i == lm.mask_token_id]
    tokenization = Tokenization(
        tokens=tuple(tokens),
        ids=tuple(ids),
        offsets=orig_offsets,
        special=special,
        display=tuple(lm.subwords.display(t) for t in tokens),
    )
    return Encoded(
        text=text,
        ids=ids,
        tokenization=tokenization,
        mask_positions=mask_positions,
        full_length=full_length,
        dropped_masks=masks_before - len(mask_positions),
    )


def tokenize(lm: MaskedLM, text: str) -> Tokenization:
    return encode(lm, text).tokenization


def pad_batch(
    lm: MaskedLM, sequences: Sequence[Sequence[int]], types: Sequence[Sequence[int] | None] | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Token ids of several texts as one batch, right-padded to the longest with the model's pad
    token: (ids, padding mask: 1 for a real token, segment ids or None), on the CPU. `types`:
    each text's segment ids (None for a text that has none: all 0); None for no segment ids."""
    length = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), length), lm.pad_id, dtype=torch.long)
    padding = torch.zeros((len(sequences), length), dtype=torch.long)
    segments = torch.zeros((len(sequences), length), dtype=torch.long) if types is not None else None
    for b, sequence in enumerate(sequences):
        ids[b, : len(sequence)] = torch.tensor(sequence)
        padding[b, : len(sequence)] = 1
        if segments is not None and types[b]:
            segments[b, : len(types[b])] = torch.tensor(types[b])
    return ids, padding, segments
