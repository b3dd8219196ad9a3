"""A corpus as training chunks, in bounded memory (lab 004's chunking).

Each document is tokenized with its special tokens, the documents are concatenated, and the
whole is cut into chunks of exactly `chunk_size` tokens; the short remainder is dropped, as in
the lab. Done in one call on the whole corpus, a 50 MB one-line file took 8 GB: the tokenizer's
encoding of one 50 MB string, then a Python int (and an offset tuple) per token. Here:

- a document longer than PIECE_CHARS characters is tokenized in pieces of at most PIECE_CHARS,
  each cut just before the last whitespace in its second half (a hard cut at PIECE_CHARS when
  that half has none, as in a 32 KB "word"), so no word is split; the special tokens where two
  pieces meet are dropped, so the document keeps one [CLS] and one [SEP], and the offsets are
  moved to count from the document's start. With WordPiece (BERT) and byte-level BPE (RoBERTa)
  the ids and offsets are then those of the document tokenized whole; they can differ only at
  a hard cut, or next to a cut for a tokenizer whose tokens span whitespace.
- the tokenizer is called on batches of at most BATCH_CHARS characters;
- ids and offsets go into flat int32 arrays, special-token flags into a byte array (5 to 13
  bytes a token instead of a Python int, list slot and offset tuple), and a chunk is a view of
  them: its lists are made when a batch asks for it.

The chunks of an ordinary corpus (no document over PIECE_CHARS) are exactly those of the
one-call form, `chunk_whole`, kept here as the reference the tests hold this one to.
"""

from __future__ import annotations

import itertools
import logging
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

from explorer.core.corpus import Corpus, read_corpus, split
from explorer.core.errors import InvalidParameterError
from explorer.core.finetune_params import FinetuneParams

log = logging.getLogger(__name__)

PIECE_CHARS = 32_768
BATCH_CHARS = 512 * 1024
_LAST_SPACE = re.compile(r".*\s", re.DOTALL)  # greedy: ends just after the last whitespace


def pieces(document: str, size: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of the pieces a document is tokenized in: the whole document when it has
    at most `size` (PIECE_CHARS) characters; else each piece ends just before the last
    whitespace in its second half (the whitespace starts the next piece, where a byte-level
    BPE puts it too), or at `size` characters when that half has none."""
    size = size or PIECE_CHARS
    start, n = 0, len(document)
    while n - start > size:
        end = start + size
        found = _LAST_SPACE.match(document, start + size // 2, end)
        cut = found.end() - 1 if found else end
        yield start, cut
        start = cut
    yield start, n


@dataclass
class TokenStream:
    """A list of documents tokenized and concatenated: flat arrays, one entry a token
    (two for offsets), and each document's number of tokens."""

    offsets: bool
    ids: array = field(default_factory=lambda: array("i"))
    special: array = field(default_factory=lambda: array("b"))
    spans: array = field(default_factory=lambda: array("i"))  # start, end, start, end ...
    lengths: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def _special_ends(tokenizer: Any) -> tuple[int, int]:
    """How many special tokens the tokenizer puts before and after a text ([CLS] ... [SEP]: 1, 1)."""
    mask = tokenizer("a", add_special_tokens=True, return_special_tokens_mask=True)["special_tokens_mask"]
    lead = next((i for i, m in enumerate(mask) if not m), len(mask))
    trail = next((i for i, m in enumerate(reversed(mask)) if not m), len(mask))
    return lead, trail


def tokenize(tokenizer: Any, documents: Iterable[str], *, offsets: bool) -> TokenStream:
    """Tokenize and concatenate the documents, in pieces and batches of bounded size."""
    stream = TokenStream(offsets)
    lead, trail = _special_ends(tokenizer)
    batch: list[str] = []
    where: list[tuple[int, int, bool, bool]] = []  # per text: document, piece start, first piece, last piece
    chars = 0

    def flush() -> None:
        nonlocal chars
        if not batch:
            return
        # verbose=False: a document longer than the model reads is what chunking is for, not a
        # reason for transformers to warn on the terminal ("sequence length 592 > 512").
        enc = tokenizer(batch, add_special_tokens=True, return_special_tokens_mask=True, return_offsets_mapping=offsets,
                        verbose=False)
        for row, (doc, shift, first, last) in enumerate(where):
            keep = slice(0 if first else lead, None if last else len(enc["input_ids"][row]) - trail)
            ids = enc["input_ids"][row][keep]
            special = enc["special_tokens_mask"][row][keep]
            stream.ids.extend(ids)
            stream.special.extend(special)
            if offsets:
                spans = enc["offset_mapping"][row][keep]
                if shift:  # count from the document's start, as whole; special tokens stay (0, 0)
                    spans = [(a + shift, b + shift) if not s else (a, b) for (a, b), s in zip(spans, special)]
                stream.spans.extend(itertools.chain.from_iterable(spans))
            stream.lengths[doc] += len(ids)
        batch.clear()
        where.clear()
        chars = 0

    for index, document in enumerate(documents):
        stream.lengths.append(0)
        bounds = list(pieces(document))
        for k, (start, end) in enumerate(bounds):
            if chars and chars + end - start > BATCH_CHARS:
                flush()
            batch.append(document[start:end] if len(bounds) > 1 else document)
            where.append((index, start, k == 0, k == len(bounds) - 1))
            chars += end - start
    flush()
    return stream


class Chunks(Sequence[dict[str, list]]):
    """Chunks of exactly `size` tokens over a TokenStream: chunk i is a dict of lists
    (input_ids, special_tokens_mask, and offset_mapping when the stream has offsets), made
    when asked for. A slice is another view, so holding out the last chunks copies nothing."""

    def __init__(self, stream: TokenStream, size: int, first: int = 0, count: int | None = None) -> None:
        self.stream, self.size, self.first = stream, size, first
        self.count = len(stream) // size - first if count is None else count

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, index: int) -> dict[str, list]: ...
    @overload
    def __getitem__(self, index: slice) -> Chunks: ...

    def __getitem__(self, index: int | slice) -> dict[str, list] | Chunks:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.count)
            if step != 1:
                raise ValueError("Chunks are sliced in order only (step 1).")
            return Chunks(self.stream, self.size, self.first + start, max(0, stop - start))
        if not -self.count <= index < self.count:
            raise IndexError(f"chunk {index} of {self.count}")
        begin = (self.first + index % self.count) * self.size
        end = begin + self.size
        s = self.stream
        item = {"input_ids": s.ids[begin:end].tolist(), "special_tokens_mask": s.special[begin:end].tolist()}
        if s.offsets:
            flat = s.spans[2 * begin : 2 * end].tolist()
            item["offset_mapping"] = list(zip(flat[0::2], flat[1::2]))
        return item

    def __repr__(self) -> str:
        return f"Chunks({self.count} x {self.size} tokens)"


def chunk(tokenizer: Any, documents: list[str], chunk_size: int, *, offsets: bool) -> Chunks:
    """Tokenize each document (with its special tokens), concatenate, cut into chunks of
    exactly `chunk_size`; the short remainder is dropped, as in the lab."""
    return Chunks(tokenize(tokenizer, documents, offsets=offsets), chunk_size)


def chunk_whole(tokenizer: Any, documents: list[str], chunk_size: int, *, offsets: bool) -> list[dict[str, list]]:
    """The one-call form (the whole corpus through the tokenizer at once, Python lists): the
    reference `chunk` is tested against and benchmarks/corpus_memory.py measures."""
    if not documents:
        return []
    enc = tokenizer(
        documents, add_special_tokens=True, return_special_tokens_mask=True, return_offsets_mapping=offsets,
        verbose=False,
    )
    keys = ["input_ids", "special_tokens_mask"] + (["offset_mapping"] if offsets else [])
    joined = {k: [x for doc in enc[k] for x in doc] for k in keys}
    usable = (len(joined["input_ids"]) // chunk_size) * chunk_size
    return [{k: joined[k][i : i + chunk_size] for k in keys} for i in range(0, usable, chunk_size)]


class Prepared(NamedTuple):
    corpus: Corpus
    train: Chunks
    val: Chunks
    note: str = ""  # how validation was chosen, when it is not whole unseen documents


def prepare(tokenizer: Any, p: FinetuneParams) -> Prepared:
    corpus = read_corpus(p.corpus, text_column=p.text_column, mode=p.doc_mode)
    train_docs, val_docs = split(corpus.documents, p.validation, p.seed)
    if val_docs:  # none from a one-document corpus: no need to tokenize it twice
        val = chunk(tokenizer, val_docs, p.chunk_size, offsets=p.whole_word)
        train = chunk(tokenizer, train_docs, p.chunk_size, offsets=p.whole_word) if val else None
        if train and val:
            return Prepared(corpus, train, val)
        del train, val
    # Too few documents to hold some out whole: split the chunks instead.
    stream = tokenize(tokenizer, corpus.documents, offsets=p.whole_word)
    every = Chunks(stream, p.chunk_size)
    lengths = stream.lengths  # tokens per document
    if len(every) < 2:
        raise InvalidParameterError(
            f"The corpus has {sum(lengths)} tokens, too few for two chunks of {p.chunk_size} (one to train on, one "
            "to validate): give more text or a smaller chunk size."
        )
    n_val = max(1, round(len(every) * p.validation))
    note = _chunk_split_note(list(corpus.documents), lengths, (len(every) - n_val) * p.chunk_size, n_val, p.chunk_size)
    log.info("%s", note)
    return Prepared(corpus, every[:-n_val], every[-n_val:], note)


def _chunk_split_note(documents: list[str], lengths: list[int], boundary: int, n_val: int, chunk_size: int) -> str:
    """What to tell the user when the last chunks (tokens from `boundary` on) are held out
    instead of whole documents. Said aloud because the perplexity can mean something else
    then: a held-out line that is also among the training text is one the model remembers."""
    chunks = "the last chunk" if n_val == 1 else f"the last {n_val} chunks"
    held = f"{chunks} of {chunk_size} tokens {'is' if n_val == 1 else 'are'} held out for validation instead"
    ends = list(itertools.accumulate(lengths))
    trained = {doc for doc, end in zip(documents, ends) if end <= boundary}
    last = boundary + n_val * chunk_size  # the rest after it is dropped, like any short rest
    held_out = [doc for doc, n, end in zip(documents, lengths, ends) if end > boundary and end - n < last]
    if any(doc in trained for doc in held_out):
        return (
            f"No line could be held out unseen for validation (those drawn also occur elsewhere in the corpus), so "
            f"{held}. Lines in them also occur in the training text, so their perplexity partly measures what the "
            "model remembers, not how it does on new text."
        )
    if len(documents) == 1:
        return f"The corpus is one document, so {held}: if the text repeats itself, their perplexity is partly memory."
    return f"The documents drawn for validation are too few or too short to fill a chunk, so {held}."
