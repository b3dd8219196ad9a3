"""Reading a corpus for fine-tuning: stdlib only, so the GUI can check a file before a run.

A .txt file holds one document per line, or paragraphs separated by blank lines; .jsonl and
.csv files hold documents in a named text column.

Refused, with the file named: a path that is not a regular file (stat() first: a FIFO is never
opened), a file that is not text (input_files.not_text_reason: NUL bytes, UTF-16, or over 10%
undecodable bytes or control characters in its first 64 KB), and a corpus with nothing to read:
only whitespace and invisible characters (zero-width spaces, joiners, byte-order marks, other
format characters). A document of invisible characters alone is dropped like an empty line.
"""

from __future__ import annotations

import csv
import functools
import json
import random
import re
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from explorer.core.errors import InvalidParameterError
from explorer.core.input_files import not_text_reason, not_text_share_reason, path_problem, read_sample

DOC_MODES = ("auto", "lines", "paragraphs")
# \s is exactly str.isspace(), what str.split() splits on. A run of whitespace other than one
# space: replaced by one space; a text already spaced so is left as it is, without a copy.
_ODD_SPACES = re.compile(r"\s{2,}|[^\S ]")
_NOT_SPACE = re.compile(r"\S")
COLLAPSE_CHARS = 1 << 20  # spaces are collapsed in slices of about 1 M characters
# Letters that draw nothing although they are not format characters (Hangul and Braille blanks).
_BLANK_LETTERS = "\u115f\u1160\u2800\u3164\uffa0"
# A CSV field may hold a whole document: csv's default limit is 128 KB.
CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


@dataclass(frozen=True)
class Corpus:
    path: str
    documents: tuple[str, ...]
    mode: str  # how documents were split: lines, paragraphs, or the column's name
    size_bytes: int


@functools.cache
def _visible() -> re.Pattern[str]:
    """One character that draws something: not whitespace, not a control or format character
    (zero-width space and joiners, byte-order mark, word joiner, bidi marks...). Built from
    this Python's Unicode tables once (about 0.2 s)."""
    invisible = [
        c for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) in ("Cc", "Cf") and not 0xD800 <= c <= 0xDFFF
    ]
    ranges: list[list[int]] = []
    for c in invisible:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    spans = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    return re.compile(f"[^\\s{spans}{_BLANK_LETTERS}]")


def has_text(document: str) -> bool:
    """Whether a document holds one character that draws something."""
    return _visible().search(document) is not None


def _detect_mode(text: str) -> str:
    """Paragraphs when blank lines separate blocks of several lines; else one document per line."""
    if "\n\n" not in text:
        return "lines"
    blocks = [b for b in text.split("\n\n") if b.strip()]
    multi_line = sum(1 for b in blocks if b.strip().count("\n") >= 1)
    return "paragraphs" if len(blocks) > 1 and multi_line > len(blocks) / 2 else "lines"


def read_corpus(path: str | Path, *, text_column: str = "text", mode: str = "auto") -> Corpus:
    """The documents of a corpus file; a clear InvalidParameterError for anything unusable."""
    if mode not in DOC_MODES:
        raise InvalidParameterError(f"document mode must be one of {', '.join(DOC_MODES)}, not '{mode}'.")
    file = Path(path).expanduser()
    problem = path_problem(file)
    if problem:
        raise InvalidParameterError(f"Corpus file '{path}' {problem}.")
    try:
        not_text = not_text_reason(read_sample(file))
        if not_text:
            raise InvalidParameterError(f"Corpus file '{path}' is {not_text}.")
        size = file.stat().st_size
        suffix = file.suffix.lower()
        if suffix in (".jsonl", ".json"):
            docs, used = _read_jsonl(file, text_column), text_column
        elif suffix == ".csv":
            docs, used = _read_csv(file, text_column), text_column
        else:
            docs, used = _read_txt(file, mode)
    except OSError as exc:  # permission, a disk error: after the checks, still one clear line
        raise InvalidParameterError(f"Corpus file '{path}' cannot be read: {exc.strerror or exc}.") from exc
    not_text = not_text_share_reason(docs)  # the start was sampled above; the rest may not be text
    if not_text:
        raise InvalidParameterError(f"Corpus file '{path}' is {not_text}.")
    docs = [d for d in docs if has_text(d)]
    if not docs:
        raise InvalidParameterError(
            f"Corpus file '{path}' holds no text: it is empty, or only whitespace and invisible characters "
            "(zero-width spaces, byte-order marks and the like)."
        )
    return Corpus(str(file), tuple(docs), used, size)


def _read_txt(file: Path, mode: str) -> tuple[list[str], str]:
    text = file.read_text(encoding="utf-8-sig", errors="replace").replace("\r\n", "\n")
    used = _detect_mode(text) if mode == "auto" else mode
    parts = text.split("\n\n") if used == "paragraphs" else text.split("\n")
    del text  # a one-line file is one 50 MB part: not two copies at once
    return [collapse_spaces(p) for p in parts], used


def collapse_spaces(text: str) -> str:
    """" ".join(text.split()), without a list of every word of a 50 MB line (36 bytes a word
    and more): regex substitution on slices of about COLLAPSE_CHARS, each cut just before a
    character that is not whitespace, so that no run of spaces is cut in two."""
    if not _ODD_SPACES.search(text):
        return text.strip(" ")
    out, start = [], 0
    while start < len(text):
        found = _NOT_SPACE.search(text, start + COLLAPSE_CHARS)
        end = found.start() if found else len(text)
        out.append(_ODD_SPACES.sub(" ", text[start:end]))
        start = end
    return "".join(out).strip(" ")


def _read_jsonl(file: Path, column: str) -> list[str]:
    docs: list[str] = []
    seen_keys: set[str] = set()
    with open(file, encoding="utf-8-sig", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):  # RecursionError: a line of 100k nested [
                continue  # a broken line is one document fewer, not a failed run
            if isinstance(record, dict):
                seen_keys.update(record)
                value = record.get(column)
                if isinstance(value, str):
                    docs.append(value)
    if not docs and seen_keys and column not in seen_keys:
        raise InvalidParameterError(
            f"'{file.name}' has no '{column}' field; its fields are: {', '.join(sorted(seen_keys))}."
        )
    return docs


@contextmanager
def _csv_fields_up_to(limit: int) -> Iterator[None]:
    """csv's field limit is one setting for the whole process: raised while we read, then put back."""
    before = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _read_csv(file: Path, column: str) -> list[str]:
    with open(file, encoding="utf-8-sig", errors="replace", newline="") as handle, _csv_fields_up_to(CSV_FIELD_LIMIT):
        reader = csv.DictReader(handle)
        try:
            if reader.fieldnames is None:
                return []
            if column not in reader.fieldnames:
                raise InvalidParameterError(
                    f"'{file.name}' has no '{column}' column; its columns are: {', '.join(reader.fieldnames)}."
                )
            return [row[column] for row in reader if row.get(column)]
        except csv.Error as exc:
            raise InvalidParameterError(f"'{file.name}' is not a readable CSV file (line {reader.line_num}: {exc}).") from exc


def split(documents: tuple[str, ...], validation: float, seed: int) -> tuple[list[str], list[str]]:
    """Shuffle with `seed` and hold out a fraction of the documents for validation.

    A held-out document whose text is also among the training documents is dropped from
    validation: repeated lines ("Thank you!", a chat put in twice) would otherwise be scored
    as unseen text when the model has trained on them, and flatter the validation loss. The
    training documents are the same either way."""
    if not 0 < validation < 1:
        raise InvalidParameterError(f"the validation share must be between 0 and 1, not {validation}.")
    order = list(range(len(documents)))
    random.Random(seed).shuffle(order)
    n_val = max(1, round(len(order) * validation)) if len(order) > 1 else 0
    train = [documents[i] for i in order[n_val:]]
    trained_on = set(train)
    val = [documents[i] for i in order[:n_val] if documents[i] not in trained_on]
    return train, val
