"""LAMA evaluation: batched, sorted by length, one progress step per batch.

Two protocols:
- `lab`: rank the gold over the whole vocabulary, the gold compared as a token (what the
  lab's correct@1 computes); a gold that is not one token is simply never right.
- `lama`: LAMA's own: candidates restricted to the common vocabulary, facts whose object is
  not one token of the model's vocabulary (or not in the common vocabulary, or judged wrong
  by Google-RE's raters) dropped and counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Sequence
from pathlib import Path

import torch

from explorer.core.errors import InvalidParameterError
from explorer.engine.fill_mask import forward
from explorer.core.lama_data import (
    DROP_CUT,
    DROP_LONG_SENTENCE,
    DROP_NOT_COMMON,
    DROP_NOT_ONE_TOKEN,
    DROP_RATERS,
    PROTOCOLS,
    Fact,
    FactResult,
    LamaReport,
    SkippedLine,
    read_common_vocab,
    summarise,
)
from explorer.engine.models import MaskedLM
from explorer.core.results import JobStep
from explorer.core.world import shard
from explorer.engine.distributed import World
from explorer.engine.tokens import Encoded, encode
from explorer.paths import LAMA_COMMON_VOCAB

TOP = 10
MAX_WORDS = 100  # LAMA's max_sentence_length for relations without a template


class Vocabulary:
    """Maps a word to the model's single token for it, word-initial where the tokenizer marks that."""

    def __init__(self, lm: MaskedLM) -> None:
        self.vocab: dict[str, int] = lm.tokenizer.get_vocab()
        self.marker = lm.subwords.word_start  # "Ġ" (byte-level BPE), "▁" (SentencePiece) or none
        self.special = lm.special_ids
        # Uncased models (bert-base-uncased, the demo model) know "paris", not "Paris": LAMA's
        # objects and common vocabulary are cased, so they are lowercased as the tokenizer would.
        self.lowercase = lm.tokenizer.tokenize("Paris") == ["paris"]

    def token_id(self, word: str) -> int | None:
        word = word.lower() if self.lowercase else word
        for form in ((self.marker + word, word) if self.marker else (word,)):
            i = self.vocab.get(form)
            if i is not None and i not in self.special:
                return i
        return None


def _first_mask_only(enc: Encoded) -> Encoded:
    return dataclasses.replace(enc, mask_positions=enc.mask_positions[:1])


def evaluate(
    lm: MaskedLM,
    facts: Sequence[Fact],
    protocol: str = "lab",
    *,
    batch_size: int = 32,
    common_vocab: str | Path | None = None,
    skipped: Sequence[SkippedLine] = (),
    world: World | None = None,
) -> Generator[JobStep, None, LamaReport]:
    """Probe every fact. Each step's payload is the batch's (fact index, FactResult) pairs,
    so a view can fill in as it goes; the return value is the whole report.

    With a `world` (a torchrun launch) this process probes its share of the batches, and
    every process returns the whole report, gathered."""
    if protocol not in PROTOCOLS:
        raise InvalidParameterError(f"protocol must be 'lab' or 'lama', not '{protocol}'.")
    if batch_size < 1:
        raise InvalidParameterError(f"batch size must be at least 1, not {batch_size}.")
    vocab = Vocabulary(lm)
    results: list[FactResult | None] = [None] * len(facts)
    candidates: torch.Tensor | None = None
    if protocol == "lama":
        words = read_common_vocab(common_vocab or LAMA_COMMON_VOCAB)
        ids = sorted({i for w in words if (i := vocab.token_id(w)) is not None})
        candidates = torch.zeros(lm.model.config.vocab_size, dtype=torch.bool)
        candidates[ids] = True
        common = words
    todo: list[tuple[int, Encoded, int | None]] = []
    for index, fact in enumerate(facts):
        gold = vocab.token_id(fact.obj_label)
        reason = None
        if protocol == "lama":
            if gold is None:
                reason = DROP_NOT_ONE_TOKEN
            elif any(w not in common for w in fact.obj_label.split()):
                reason = DROP_NOT_COMMON
            elif fact.raters_reject:
                reason = DROP_RATERS
            elif not fact.has_template and len(fact.sentence.split()) > MAX_WORDS:
                reason = DROP_LONG_SENTENCE
        enc = None if reason else encode(lm, fact.sentence)
        if enc is not None and not enc.mask_positions:
            reason = DROP_CUT
        if reason:
            results[index] = FactResult(index, (), (), None, reason)
        else:
            todo.append((index, _first_mask_only(enc), gold))
    todo.sort(key=lambda item: len(item[1].ids))  # similar lengths pad little
    batches = [todo[start : start + batch_size] for start in range(0, len(todo), batch_size)]
    if world is not None:
        # Under a launch each process takes every size-th batch of the same length-sorted list:
        # each batch is the very one a single process would run (same facts, same padding),
        # so the gathered answers are a single run's, fact for fact.
        batches = [batches[i] for i in shard(len(batches), world.launch)]
    probing = sum(len(batch) for batch in batches)
    done = len(facts) - len(todo)
    total = done + probing
    # Dropped facts are final now: hand them over, so a view shows them even after a Stop.
    yield JobStep(done, total, f"probing {probing} facts", payload=tuple(r for r in results if r is not None))
    for batch in batches:
        logits = forward(lm, [enc for _, enc, _ in batch])  # [batch, vocab] float32
        probs = logits.softmax(dim=-1)
        ranked = logits if candidates is None else logits.masked_fill(~candidates, float("-inf"))
        k = TOP if candidates is None else min(TOP, int(candidates.sum()))
        _, top_ids = ranked.topk(k, dim=-1)
        finished = []
        for row, (index, _, gold) in enumerate(batch):
            rank = None
            if gold is not None and (candidates is None or bool(candidates[gold])):
                rank = int((ranked[row] > ranked[row, gold]).sum()) + 1
            row_ids = top_ids[row].tolist()
            result = FactResult(
                index=index,
                top_tokens=tuple(lm.tokenizer.convert_ids_to_tokens(row_ids)),
                top_scores=tuple(float(probs[row, i]) for i in row_ids),
                rank=rank,
            )
            results[index] = result
            finished.append(result)
        done += len(batch)
        yield JobStep(done, total, f"{done} of {total} facts", payload=tuple(finished))
    if world is not None and world.size > 1:
        mine = {r.index: r for batch in batches for r in (results[index] for index, _, _ in batch)}
        for part in world.gather(mine):
            for index, result in part.items():
                results[index] = result
    return summarise(lm.name, protocol, facts, results, skipped)  # type: ignore[arg-type]
