"""Where the app's own files are: imports nothing heavy, usable from every layer."""

from __future__ import annotations

from pathlib import Path

# The top-level resources/ folder of the source tree (the app runs from a clone).
RESOURCES = Path(__file__).resolve().parents[1] / "resources"
LAMA_SAMPLE = RESOURCES / "lama" / "Squad" / "test.jsonl"
LAMA_COMMON_VOCAB = RESOURCES / "lama" / "common_vocab_cased.txt"
