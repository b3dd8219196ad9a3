"""LAMA evaluation: batched, sorted by length, one progress step per batch.

Two protocols:
- `lab`: rank the gold over the whole vocabulary, the gold compared as a token (what the
  lab's correct@1 computes); a gold that is not one token is simply never right.
- `lama`: LAMA's own (facebookresearch/LAMA, scripts/batch_eval_KB_completion.py and
  lama/modules/bert_connector.py), fact by fact: candidates restricted to the common
  vocabulary, facts whose object is not one token of the model's vocabulary (or not in the
  common vocabulary, or judged wrong by Google-RE's raters) dropped and counted. The gold's
  rank is its place in torch.topk's order over the candidates in the common vocabulary's file
  order (ties go as topk puts them), within LAMA's top 10,000 (a gold past it scores nothing).
  For WordPiece (BERT) models the input is LAMA's too: text glued to [MASK] in one
  whitespace-separated word stays one piece after the mask (CustomBaseTokenizer), a record's
  two masked sentences are two segments ([CLS] s1 [SEP] s2 [SEP], token type 1 for the
  second), and an uncased model reads lowercased sentences, objects and common vocabulary, as
  LAMA's --lowercase does. `clean_input=True` keeps the input as the tokenizer normally reads
  it (the glued text split, the sentences joined into one). Other tokenizers read the joined
  sentence as their tokenizer does.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from explorer.core.errors import InvalidParameterError
from explorer.core.lama_data import (
    DROP_CUT,
    DROP_LONG_SENTENCE,
    DROP_NOT_COMMON,
    DROP_NOT_ONE_TOKEN,
    DROP_RATERS,
    DROP_TOO_MANY_SENTENCES,
    DEFAULT_MULTI_BEAM,
    MAX_MULTI_BEAM,
    MAX_PIECES,
    PROTOCOLS,
    Fact,
    FactResult,
    LamaReport,
    SkippedLine,
    read_common_words,
    summarise,
)
from explorer.engine.joint import choosable
from explorer.engine.lama_multi import decode_object, gold_pieces
from explorer.engine.lama_input import LamaBertTokenizer, Vocabulary, uses_lama_bert_input
from explorer.engine.models import MaskedLM
from explorer.core.results import JobStep
from explorer.core.world import shard
from explorer.engine.distributed import World
from explorer.engine.tokens import encode, pad_batch
from explorer.paths import LAMA_COMMON_VOCAB

TOP = 10
MAX_WORDS = 100  # LAMA's max_sentence_length for relations without a template
LAMA_TOPK = 10000  # batch_eval_KB_completion.run_thread: get_ranking(..., topk=10000)
MULTI_STEP = 8  # multi-token facts decoded per progress step (each is several forwards)
MAX_SEGMENTS = 2  # bert_connector: "BERT accepts maximum two sentences in input for each data point"
_COMPARE_ROWS = 32  # rows compared at once when ranking (a [4096, 21k] comparison would not stay in cache)


# --- encoding and the forward pass ---------------------------------------------------------

@dataclass(frozen=True)
class _Probe:
    index: int  # into the facts
    ids: list[int]
    token_types: list[int] | None  # None: the model's default (one segment)
    mask: int  # the position ranked: the first mask, as LAMA's get_ranking (masked_indices[0])
    gold: int | None  # token id
    gold_column: int | None  # the gold's place among the candidates (protocol lama)


def _segments_input(lm: MaskedLM, tok: LamaBertTokenizer, segments: Sequence[str]) -> tuple[list[int], list[int], int | None]:
    """bert_connector.__get_input_tensors: [CLS] s1 [SEP] (s2 [SEP]), token type 1 for s2; cut
    to the model's length keeping a closing [SEP]. The first mask's position, or None."""
    cls, sep = int(lm.tokenizer.cls_token_id), int(lm.tokenizer.sep_token_id)
    ids, types = [cls], [0]
    for kind, sentence in enumerate(segments):
        piece = tok.ids(tok.tokens(sentence))
        ids += [*piece, sep]
        types += [kind] * (len(piece) + 1)
    limit = lm.max_length
    if len(ids) > limit:
        ids, types = ids[: limit - 1] + [sep], types[: limit - 1] + [types[limit - 2]]
    mask = next((p for p, i in enumerate(ids) if i == lm.mask_token_id), None)
    return ids, types, mask


def _mask_logits(lm: MaskedLM, batch: Sequence[_Probe]) -> torch.Tensor:
    """Logits [batch, vocab] at each probe's mask, as float32 on CPU: padded to the longest
    (tokens.pad_batch, as fill_mask.forward), one mask a row, with BERT's segment ids where given."""
    typed = any(p.token_types for p in batch)
    ids, attention, types = pad_batch(lm, [p.ids for p in batch], [p.token_types for p in batch] if typed else None)
    rows = torch.arange(len(batch), device=lm.device)
    cols = torch.tensor([p.mask for p in batch], device=lm.device)
    with torch.inference_mode():
        logits = lm.mlm_logits(ids.to(lm.device), attention.to(lm.device), rows, cols,
                               token_type_ids=None if types is None else types.to(lm.device))
        return logits.float().cpu()


# --- ranking as LAMA's get_ranking ---------------------------------------------------------

def _lama_ranks(log_probs: torch.Tensor, gold_columns: Sequence[int | None]) -> list[tuple[int | None, list[int]]]:
    """For each row of log-probabilities over the candidates (in LAMA's order): the gold's
    1-based place in torch.topk(row, k=min(LAMA_TOPK, candidates)) (a gold not in it: one more
    than the candidates scoring strictly higher, at least k + 1: past the limit, it counts
    nowhere), and the top-10 columns in that order.

    LAMA calls topk(10000) on each row. Its order is the values' order where they differ, so
    the rank is (candidates strictly higher) + 1 unless the gold ties another candidate, and
    the top 10 are topk(11)'s unless two of those tie: only such rows (and rows with NaN) need
    the full topk, taken on the row alone as LAMA does, which keeps the cost of a batch low."""
    n = log_probs.shape[-1]
    k = min(LAMA_TOPK, n)
    head_values, head_columns = log_probs.topk(min(TOP + 1, n), dim=-1)
    # A NaN anywhere in a row is in its head: topk counts NaN above every number.
    unclear = ((head_values[:, 1:] == head_values[:, :-1]) | torch.isnan(head_values[:, 1:])).any(dim=-1)
    unclear |= torch.isnan(head_values[:, 0])
    at = torch.tensor([c if c is not None else 0 for c in gold_columns], dtype=torch.long).unsqueeze(1)
    gold_values = log_probs.gather(1, at)
    higher: list[int] = []
    tied: list[int] = []
    for start in range(0, len(gold_columns), _COMPARE_ROWS):  # a few rows at a time: the comparisons stay in cache
        rows, gold = log_probs[start : start + _COMPARE_ROWS], gold_values[start : start + _COMPARE_ROWS]
        higher += (rows > gold).sum(dim=-1).tolist()
        tied += (rows == gold).sum(dim=-1).tolist()
    unclear_rows = unclear.tolist()  # Python values, once: tensors read element by element cost more
    heads = head_columns[:, :TOP].tolist()
    out: list[tuple[int | None, list[int]]] = []
    for row, column in enumerate(gold_columns):
        if unclear_rows[row] or (column is not None and tied[row] > 1 and higher[row] < k):
            order = log_probs[row].topk(k).indices.tolist()
            rank = None
            if column is not None:
                rank = order.index(column) + 1 if column in order else max(higher[row] + 1, k + 1)
            out.append((rank, order[:TOP]))
        else:
            out.append((higher[row] + 1 if column is not None else None, heads[row]))
    return out


# --- the evaluation --------------------------------------------------------------------------

def _candidates(lm: MaskedLM, vocab: Vocabulary, words: Sequence[str], bert: LamaBertTokenizer | None) -> list[int]:
    """The candidates' token ids in the common vocabulary's order (LAMA's index_list: a word
    not in the model's vocabulary is left out; a token listed twice counts once)."""
    ids: dict[int, None] = {}
    for word in words:
        if bert is not None:  # init_indices_for_filter_logprobs: the word as a token of the vocabulary
            i = bert.vocab.get(bert.lowered(word))
        else:
            i = vocab.token_id(word)
        if i is not None:
            ids.setdefault(i, None)
    return list(ids)


def evaluate(
    lm: MaskedLM,
    facts: Sequence[Fact],
    protocol: str = "lab",
    *,
    batch_size: int = 32,
    common_vocab: str | Path | None = None,
    skipped: Sequence[SkippedLine] = (),
    world: World | None = None,
    clean_input: bool = False,
    multi_token: int = 0,
    beam: int = DEFAULT_MULTI_BEAM,
) -> Generator[JobStep, None, LamaReport]:
    """Probe every fact. Each step's payload is the batch's (fact index, FactResult) pairs,
    so a view can fill in as it goes; the return value is the whole report.

    `clean_input` (protocol lama, WordPiece models): split text glued to [MASK] as the
    tokenizer normally does and read a record's two sentences as one segment, instead of
    LAMA's way (the glued text one piece, two segments). The `lab` protocol always reads so.

    `multi_token` N > 0 (protocol lama): facts whose object is several pieces, which LAMA drops,
    are decoded as words of 1..N pieces with a joint beam search of width `beam`
    (explorer.engine.lama_multi); the common vocabulary does not restrict them.

    With a `world` (a torchrun launch) this process probes its share of the batches, and
    every process returns the whole report, gathered."""
    if protocol not in PROTOCOLS:
        raise InvalidParameterError(f"protocol must be 'lab' or 'lama', not '{protocol}'.")
    if batch_size < 1:
        raise InvalidParameterError(f"batch size must be at least 1, not {batch_size}.")
    if multi_token and protocol != "lama":
        raise InvalidParameterError("Multi-token facts are LAMA's dropped ones: use them with the lama protocol.")
    if not 0 <= multi_token <= MAX_PIECES or not 1 <= beam <= MAX_MULTI_BEAM:
        raise InvalidParameterError(
            f"Multi-token words take 1 to {MAX_PIECES} pieces and a beam of 1 to {MAX_MULTI_BEAM}, not {multi_token} and {beam}.")
    vocab = Vocabulary(lm)
    results: list[FactResult | None] = [None] * len(facts)
    lama = protocol == "lama"
    # LAMA's BERT rules (gold, common vocabulary, lowercasing); its input too unless clean_input.
    bert = LamaBertTokenizer(lm, vocab.lowercase, vocab.vocab) if lama and uses_lama_bert_input(lm) else None
    segmented = bert is not None and not clean_input
    # BERT reads the second segment with token type 1; DistilBERT has no token types (only [SEP]).
    typed = int(getattr(lm.model.config, "type_vocab_size", 0) or 0) > 1
    candidates: list[int] = []
    column: dict[int, int] = {}
    if lama:
        words = read_common_words(common_vocab or LAMA_COMMON_VOCAB)
        candidates = _candidates(lm, vocab, words, bert)
        column = {token: c for c, token in enumerate(candidates)}
        common = frozenset(bert.lowered(w) for w in words) if bert is not None else frozenset(words)
    todo: list[_Probe] = []
    several: list[tuple[_Probe, tuple[int, ...]]] = []  # multi-token facts and their objects' pieces
    for index, fact in enumerate(facts):
        gold = bert.gold_id(fact.obj_label) if bert is not None else vocab.token_id(fact.obj_label)
        reason = None
        multi = lama and gold is None and multi_token > 0
        if lama:
            # filter_samples tests every word of the object (split on " ") against the common vocabulary.
            obj_words = bert.lowered(fact.obj_label).split(" ") if bert is not None else fact.obj_label.split()
            if gold is None and not multi:
                reason = DROP_NOT_ONE_TOKEN
            elif not multi and any(w not in common for w in obj_words):
                reason = DROP_NOT_COMMON
            elif fact.raters_reject:
                reason = DROP_RATERS
            elif not fact.has_template and len(fact.sentence.split()) > MAX_WORDS:
                reason = DROP_LONG_SENTENCE
            elif segmented and len(fact.probe_segments) > MAX_SEGMENTS:
                reason = DROP_TOO_MANY_SENTENCES
        probe = None
        if not reason:
            if segmented:
                ids, types, mask = _segments_input(lm, bert, fact.probe_segments)  # type: ignore[arg-type]
                # One segment: the model's default token types, as fill_mask reads a text.
                token_types = types if typed and len(fact.probe_segments) > 1 else None
            else:
                enc = encode(lm, fact.sentence)
                ids, token_types = enc.ids, None
                mask = enc.mask_positions[0] if enc.mask_positions else None
            if mask is None:
                reason = DROP_CUT
            else:
                gold_column = column.get(gold) if gold is not None else None
                probe = _Probe(index, ids, token_types, mask, gold, gold_column)
        if probe is None:
            results[index] = FactResult(index, (), (), None, reason)
        elif multi:
            pieces = bert.ids(bert.tokens(fact.obj_label)) if bert is not None else gold_pieces(lm, fact.obj_label)
            several.append((probe, tuple(pieces)))
        else:
            todo.append(probe)
    todo.sort(key=lambda p: len(p.ids))  # similar lengths pad little
    batches = [todo[start : start + batch_size] for start in range(0, len(todo), batch_size)]
    if world is not None:
        # Under a launch each process takes every size-th batch of the same length-sorted list:
        # each batch is the very one a single process would run (same facts, same padding),
        # so the gathered answers are a single run's, fact for fact.
        batches = [batches[i] for i in shard(len(batches), world.launch)]
        several = [several[i] for i in shard(len(several), world.launch)]
    probing = sum(len(batch) for batch in batches) + len(several)
    done = len(facts) - len(todo) - len(several)
    total = done + probing
    # Dropped facts are final now: hand them over, so a view shows them even after a Stop.
    yield JobStep(done, total, f"probing {probing} facts", payload=tuple(r for r in results if r is not None))
    index_of = torch.tensor(candidates, dtype=torch.long)
    rank_limit = LAMA_TOPK if lama else None
    for batch in batches:
        logits = _mask_logits(lm, batch)  # [batch, vocab] float32
        probs = logits.softmax(dim=-1)
        if lama:
            # As LAMA: log-softmax over the whole vocabulary, then the candidates' columns.
            ranked = _lama_ranks(logits.log_softmax(dim=-1).index_select(1, index_of), [p.gold_column for p in batch])
            answers = [(rank, [candidates[c] for c in top]) for rank, top in ranked]
        else:
            _, top_ids = logits.topk(TOP, dim=-1)
            answers = []
            for row, p in enumerate(batch):
                rank = None if p.gold is None else int((logits[row] > logits[row, p.gold]).sum()) + 1
                answers.append((rank, top_ids[row].tolist()))
        finished = []
        for row, (p, (rank, row_ids)) in enumerate(zip(batch, answers)):
            result = FactResult(
                index=p.index,
                top_tokens=tuple(lm.tokenizer.convert_ids_to_tokens(row_ids)),
                top_scores=tuple(float(probs[row, i]) for i in row_ids),
                rank=rank,
                rank_limit=rank_limit,
            )
            results[p.index] = result
            finished.append(result)
        done += len(batch)
        yield JobStep(done, total, f"{done} of {total} facts", payload=tuple(finished))
    ok = choosable(lm)
    for start in range(0, len(several), MULTI_STEP):
        finished = []
        for p, pieces in several[start : start + MULTI_STEP]:
            answer = decode_object(lm, p.ids, p.mask, pieces, ok, max_pieces=multi_token, beam=beam, types=p.token_types)
            results[p.index] = FactResult(p.index, answer.words, answer.scores, answer.rank, multi_token=True)
            finished.append(results[p.index])
        done += len(finished)
        yield JobStep(done, total, f"{done} of {total} facts (multi-token)", payload=tuple(finished))
    if world is not None and world.size > 1:
        mine = {r.index: r for batch in batches for r in (results[p.index] for p in batch)}
        mine.update({p.index: results[p.index] for p, _ in several})
        for part in world.gather(mine):
            for index, result in part.items():
                results[index] = result
    return summarise(lm.name, protocol, facts, results, skipped, clean_input=clean_input,  # type: ignore[arg-type]
                     multi_token=multi_token)
