"""LAMA's multi-token facts: objects of several word pieces, decoded jointly.

LAMA drops every fact whose object is not one token of the model's vocabulary. Following
X-FACTR (Jiang et al. 2020, "X-FACTR: Multilingual Factual Knowledge Retrieval from Pretrained
Language Models"), the mask is written as 1..N masks, each length is filled jointly (the most
confident mask first, the model re-reading the sentence after each choice; explorer.engine.joint)
and all candidates are ranked together by their mean log-probability per piece. A fact is
right when the best candidate's pieces are exactly the object's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from explorer.core.lama_data import DEFAULT_MULTI_BEAM, DEFAULT_PIECES
from explorer.core.subwords import BPE
from explorer.engine.joint import words_at
from explorer.engine.models import MaskedLM

TOP = 10


@dataclass(frozen=True)
class MultiAnswer:
    words: tuple[str, ...]  # the best candidates, as words (pieces glued), best first
    scores: tuple[float, ...]  # exp(mean log p per piece): a per-piece probability, comparable across lengths
    rank: int | None  # the object's place among the candidates (1-based); None: not among them
    pieces: tuple[tuple[int, ...], ...] = ()  # each listed word's token ids


def gold_pieces(lm: MaskedLM, obj: str) -> tuple[int, ...]:
    """The object as the model's pieces, as it stands after a space in a sentence (byte-level
    BPE marks that; the tokenizer lowercases for an uncased model)."""
    spaced = " " + obj if lm.subwords.kind == BPE else obj
    return tuple(lm.tokenizer(spaced, add_special_tokens=False)["input_ids"])


def decode_object(
    lm: MaskedLM,
    ids: Sequence[int],
    position: int,
    gold: Sequence[int],
    ok: torch.Tensor,
    *,
    max_pieces: int = DEFAULT_PIECES,
    beam: int = DEFAULT_MULTI_BEAM,
    types: Sequence[int] | None = None,
) -> MultiAnswer:
    """The mask at `position` read as words of 1..max_pieces pieces; the object's rank among them."""
    ranked, _ = words_at(lm, ids, position, max_pieces, beam, "confidence", ok, types)
    gold = tuple(gold)
    rank = next((n + 1 for n, (filling, _) in enumerate(ranked) if filling == gold), None)
    top = ranked[:TOP]
    words = tuple(lm.subwords.join(lm.tokenizer.convert_ids_to_tokens(list(f))) for f, _ in top)
    scores = tuple(math.exp(sum(parts) / len(parts)) for _, parts in top)
    return MultiAnswer(words, scores, rank, tuple(f for f, _ in top))
