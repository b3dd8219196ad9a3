"""Reading a corpus: what is refused (with the file named), what is dropped, and what is read."""

from __future__ import annotations

import csv
import json
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core import corpus as corpus_module
from explorer.core.corpus import collapse_spaces, has_text, read_corpus
from explorer.core.errors import InvalidParameterError

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00a0", "\u3000", "\u00ad", "\u200e", "\u2800", "\t", "\x0b"]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".txt", ".jsonl", ".csv"])
@pytest.mark.parametrize("invisible", ["   \n \n", "".join(INVISIBLE), "\u200b\u200b\n\ufeff\n\u2060 \u00a0"])
def test_whitespace_or_zero_width_text_is_refused_with_the_file_named(tmp_path, suffix, invisible):
    file = tmp_path / f"blank{suffix}"
    if suffix == ".jsonl":
        write(file, "\n".join(json.dumps({"text": line}) for line in invisible.split("\n")) + "\n")
    elif suffix == ".csv":
        write(file, "text\n" + "\n".join(f'"{line}"' for line in invisible.split("\n")) + "\n")
    else:
        write(file, invisible)
    with pytest.raises(InvalidParameterError, match=f"'{file}' holds no text.*zero-width"):
        read_corpus(file)


def test_invisible_documents_are_dropped_among_real_ones(tmp_path):
    file = write(tmp_path / "c.txt", "a real line\n\u200b\u200c\n\ufeff\nanother \u200b line\n")
    assert read_corpus(file).documents == ("a real line", "another \u200b line")


@given(st.text(max_size=30))
def test_has_text_means_one_character_that_draws(text):
    blank = {"\u115f", "\u1160", "\u2800", "\u3164", "\uffa0"}
    drawn = [c for c in text if not (c.isspace() or unicodedata.category(c) in ("Cc", "Cf") or c in blank)]
    assert has_text(text) == bool(drawn)


@given(st.text(alphabet=st.sampled_from(list("ab \t\n\r\x0b\x0c\x1c\x85\u00a0\u2028\u3000\u200b")), max_size=40),
       st.integers(1, 8))
def test_spaces_collapse_as_split_and_join_did(text, slice_chars):
    # The reader collapses spaces by slices (no list of a long line's words): the same result.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(corpus_module, "COLLAPSE_CHARS", slice_chars)
        assert collapse_spaces(text) == " ".join(text.split())


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"some text\x00\x00 with NUL bytes\n" * 10, "binary file, not text .it holds NUL bytes"),
        (bytes(range(128, 256)) * 20, r"not UTF-8 text: \d+% of the characters .*more than 10%"),
        (b"\x01\x02\x03\x04 text with controls\n" * 50, "undecodable bytes or control characters"),
        ("utf-16 text\n".encode("utf-16"), "UTF-16 text: save it as UTF-8"),
    ],
)
@pytest.mark.parametrize("suffix", [".txt", ".jsonl", ".csv"])
def test_binary_or_mostly_non_text_is_refused(tmp_path, content, reason, suffix):
    file = tmp_path / f"data{suffix}"
    file.write_bytes(content)
    with pytest.raises(InvalidParameterError, match=f"'{file}' is .*{reason}"):
        read_corpus(file)


def test_text_at_the_start_and_binary_after_it_is_refused(tmp_path):
    """Only the first 64 KB were sampled: four copies of a corpus and 3 MB of random bytes trained."""
    import random

    text = "".join(f"Line {i} of a perfectly ordinary corpus.\n" for i in range(4000)).encode()
    noise = bytes(b for b in random.Random(0).randbytes(3_000_000) if b not in (0, 10, 13))
    (tmp_path / "tail.txt").write_bytes(text + noise)
    with pytest.raises(InvalidParameterError, match=r"tail.txt' is not UTF-8 text: \d+% of the characters in it"):
        read_corpus(tmp_path / "tail.txt")


def test_a_few_undecodable_bytes_are_read_as_replacement_characters(tmp_path):
    file = tmp_path / "latin1.txt"
    file.write_bytes("Caf\u00e9 au lait, cr\u00e8me br\u00fbl\u00e9e and a long line of plain words\n".encode("latin-1") * 20)
    docs = read_corpus(file).documents
    assert len(docs) == 20 and docs[0].startswith("Caf\ufffd au lait")


@pytest.mark.parametrize("kind, reason", [("fifo", "is a FIFO"), ("device", "is a device"), ("folder", "is a folder"),
                                          ("loop", "is a loop of symbolic links"), ("missing", "does not exist")])
def test_a_path_that_is_not_a_file_is_refused_and_a_fifo_never_opened(tmp_path, kind, reason):
    path = tmp_path / "corpus.txt"
    if kind == "fifo":
        os.mkfifo(path)  # opened, it would block the reader for ever
    elif kind == "device":
        path = Path(os.devnull)
    elif kind == "folder":
        path.mkdir()
    elif kind == "loop":
        path.symlink_to(path)
    with pytest.raises(InvalidParameterError, match=f"Corpus file '{path}' {reason}"):
        read_corpus(path)


def test_a_csv_field_over_128_kb_is_read_and_the_limit_put_back(tmp_path):
    big = "word " * 60_000  # 300 KB: csv's default limit is 128 KB
    file = tmp_path / "big.csv"
    with open(file, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "text"], [1, big], [2, "short one"]])
    before = csv.field_size_limit()
    assert read_corpus(file).documents == (big, "short one")
    assert csv.field_size_limit() == before  # other csv users keep the process's limit
    with pytest.raises(InvalidParameterError):
        read_corpus(file, text_column="missing")
    assert csv.field_size_limit() == before


def test_a_byte_order_mark_does_not_hide_the_csv_header(tmp_path):
    file = tmp_path / "excel.csv"
    file.write_bytes("text,label\nhello there,1\n".encode("utf-8-sig"))
    assert read_corpus(file).documents == ("hello there",)


def test_jsonl_lines_that_are_not_objects_or_not_text_are_skipped(tmp_path):
    lines = ['{"text": "kept one"}', "[1, 2]", '"a string"', '{"text": 5}', '{"text": ["a"]}', "{broken",
             "[" * 100_000, '{"text": "kept two"}', "null"]
    file = write(tmp_path / "c.jsonl", "\n".join(lines) + "\n")
    assert read_corpus(file).documents == ("kept one", "kept two")
