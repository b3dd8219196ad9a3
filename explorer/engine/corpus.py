"""Reading a corpus for fine-tuning: stdlib only, so the GUI can check a file before a run.

A .txt file holds one document per line, or paragraphs separated by blank lines; .jsonl and
.csv files hold documents in a named text column.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

from explorer.engine.errors import InvalidParameterError

DOC_MODES = ("auto", "lines", "paragraphs")


@dataclass(frozen=True)
class Corpus:
    path: str
    documents: tuple[str, ...]
    mode: str  # how documents were split: lines, paragraphs, or the column's name
    size_bytes: int


def _detect_mode(text: str) -> str:
    """Paragraphs when blank lines separate blocks of several lines; else one document per line."""
    blocks = [b for b in text.split("\n\n") if b.strip()]
    multi_line = sum(1 for b in blocks if b.strip().count("\n") >= 1)
    return "paragraphs" if len(blocks) > 1 and multi_line > len(blocks) / 2 else "lines"


def read_corpus(path: str | Path, *, text_column: str = "text", mode: str = "auto") -> Corpus:
    """The documents of a corpus file; a clear InvalidParameterError for anything unusable."""
    if mode not in DOC_MODES:
        raise InvalidParameterError(f"document mode must be one of {', '.join(DOC_MODES)}, not '{mode}'.")
    file = Path(path).expanduser()
    if not file.is_file():
        raise InvalidParameterError(f"Corpus file '{path}' does not exist.")
    size = file.stat().st_size
    suffix = file.suffix.lower()
    if suffix in (".jsonl", ".json"):
        docs, used = _read_jsonl(file, text_column), text_column
    elif suffix == ".csv":
        docs, used = _read_csv(file, text_column), text_column
    else:
        text = file.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
        used = _detect_mode(text) if mode == "auto" else mode
        parts = text.split("\n\n") if used == "paragraphs" else text.split("\n")
        docs = [" ".join(p.split()) for p in parts]
    docs = [d for d in docs if d.strip()]
    if not docs:
        raise InvalidParameterError(f"Corpus file '{path}' holds no text.")
    return Corpus(str(file), tuple(docs), used, size)


def _read_jsonl(file: Path, column: str) -> list[str]:
    docs: list[str] = []
    seen_keys: set[str] = set()
    with open(file, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
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


def _read_csv(file: Path, column: str) -> list[str]:
    with open(file, encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            return []
        if column not in reader.fieldnames:
            raise InvalidParameterError(
                f"'{file.name}' has no '{column}' column; its columns are: {', '.join(reader.fieldnames)}."
            )
        return [row[column] for row in reader if row.get(column)]


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
