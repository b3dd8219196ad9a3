"""Chunking in bounded memory gives the chunks of the one-call form; long documents are cut at
whitespace; the tokenizer never sees more than a bounded batch."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core import chunking
from explorer.core.chunking import Chunks, chunk, chunk_whole, pieces, prepare, tokenize
from explorer.core.finetune_params import FinetuneParams
from explorer.engine.synthetic import WORDS, write_bert_tokenizer, write_roberta_tokenizer


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from transformers import AutoTokenizer

    root = tmp_path_factory.mktemp("tokenizers")
    write_bert_tokenizer(root / "bert")
    write_roberta_tokenizer(root / "roberta")
    return {name: AutoTokenizer.from_pretrained(root / name) for name in ("bert", "roberta")}


def words(rng: random.Random, n: int) -> str:
    # Some words not in the vocabulary, so that they split into several pieces.
    return " ".join(rng.choice(WORDS) + rng.choice(["", "", "zq", "xy"]) for _ in range(n))


def corpus(seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [words(rng, rng.randint(1, 40)) for _ in range(200)]


@pytest.mark.parametrize("name", ["bert", "roberta"])
@pytest.mark.parametrize("offsets", [False, True])
def test_an_ordinary_corpus_gives_the_chunks_of_the_one_call_form(tokenizers, name, offsets):
    docs = corpus()
    chunks = chunk(tokenizers[name], docs, 16, offsets=offsets)
    assert list(chunks) == chunk_whole(tokenizers[name], docs, 16, offsets=offsets)
    assert len(chunks) > 50


@pytest.mark.parametrize("name", ["bert", "roberta"])
def test_long_documents_in_pieces_and_small_batches_give_the_same_ids_and_offsets(tokenizers, name, monkeypatch):
    """Cut before whitespace, a long line tokenizes as it would whole (WordPiece and byte-level
    BPE): ids and offsets from the document's start, one [CLS] and one [SEP] for the document."""
    monkeypatch.setattr(chunking, "PIECE_CHARS", 64)
    monkeypatch.setattr(chunking, "BATCH_CHARS", 300)
    rng = random.Random(1)
    docs = [words(rng, 2000), "a short one", words(rng, 500) + "  with  double  spaces", words(rng, 3)]
    seen: list[int] = []
    tokenizer = tokenizers[name]

    def spy(texts, **kwargs):
        if isinstance(texts, list):
            seen.append(sum(map(len, texts)))
        return tokenizer(texts, **kwargs)

    chunks = chunk(spy, docs, 16, offsets=True)
    assert list(chunks) == chunk_whole(tokenizer, docs, 16, offsets=True)
    assert len(seen) > 10 and max(seen) <= 300  # never the whole 12,000-character line


@given(st.text(alphabet=st.sampled_from(list("ab \n\u3000")), max_size=300), st.integers(4, 40))
def test_pieces_cover_the_document_and_cut_before_whitespace(document, size):
    bounds = list(pieces(document, size))
    assert "".join(document[a:b] for a, b in bounds) == document
    assert bounds[0][0] == 0 and bounds[-1][1] == len(document)
    for (a, b), (c, _) in zip(bounds, bounds[1:]):
        assert b == c and 0 < b - a <= size
        half = document[a + size // 2 : a + size]
        # Before the last whitespace of the piece's second half; a hard cut only where it has none.
        assert document[b].isspace() and not any(ch.isspace() for ch in document[b + 1 : a + size]) or (
            b - a == size and not any(ch.isspace() for ch in half)
        )


def test_a_word_longer_than_a_piece_is_cut_hard_and_only_there(tokenizers, monkeypatch):
    monkeypatch.setattr(chunking, "PIECE_CHARS", 64)
    doc = "the cat sat " + "x" * 100 + " on the mat"
    assert [b - a for a, b in pieces(doc, 64)] == [64, 59]  # no whitespace in 32-64: cut at 64, in the x's
    tokenizer = tokenizers["bert"]
    cut = tokenize(tokenizer, [doc], offsets=False).ids.tolist()
    whole = tokenizer(doc)["input_ids"]
    # "x" * 100 is x ##x ##x ...; cut in two, the second half starts a word: x instead of ##x.
    differ = [i for i, (a, b) in enumerate(zip(cut, whole)) if a != b]
    assert len(cut) == len(whole) and len(differ) == 1
    assert tokenizer.convert_ids_to_tokens([whole[differ[0]], cut[differ[0]]]) == ["##x", "x"]


def test_chunks_are_views_that_slice_in_order(tokenizers):
    docs = corpus(2)
    chunks = chunk(tokenizers["bert"], docs, 16, offsets=False)
    whole = chunk_whole(tokenizers["bert"], docs, 16, offsets=False)
    assert isinstance(chunks[:-3], Chunks) and list(chunks[:-3]) == whole[:-3] and list(chunks[-3:]) == whole[-3:]
    assert chunks[-1] == whole[-1] and list(chunks[5:9][1:3]) == whole[6:8] and len(chunks[10:2]) == 0
    with pytest.raises(IndexError):
        chunks[len(chunks)]
    with pytest.raises(ValueError, match="in order"):
        chunks[::2]
    assert not chunk(tokenizers["bert"], [], 16, offsets=False)


def test_a_one_line_corpus_is_held_out_by_chunks_with_lengths_from_the_same_pass(tokenizers, tmp_path, monkeypatch):
    monkeypatch.setattr(chunking, "PIECE_CHARS", 200)
    rng = random.Random(3)
    line = words(rng, 3000)
    (tmp_path / "one.txt").write_text(line + "\n")
    p = FinetuneParams(corpus=str(tmp_path / "one.txt"), out=str(tmp_path / "o"), chunk_size=32, whole_word=True)
    prepared = prepare(tokenizers["bert"], p)
    every = chunk_whole(tokenizers["bert"], [line], 32, offsets=True)
    n_val = round(len(every) * p.validation)
    assert list(prepared.train) == every[:-n_val] and list(prepared.val) == every[-n_val:]
    assert prepared.note.startswith("The corpus is one document")
