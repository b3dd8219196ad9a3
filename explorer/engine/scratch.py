"""Pre-training from scratch (lab 000): a new, randomly initialised BERT masked LM of a chosen
size, and, if asked, a new WordPiece vocabulary trained on the corpus.

The model is transformers' own BertForMaskedLM built from a BertConfig, so the folder it is
saved to opens like any BERT (every tab, `--model DIR`). The vocabulary is trained with the
`tokenizers` library that transformers' fast tokenizers are built on (BertWordPieceTokenizer:
BERT's normalisation, lowercased as bert-base-uncased, its pre-tokenizer and ## wordpieces) and
wrapped as a transformers BertTokenizer with [PAD] [UNK] [CLS] [SEP] [MASK].

Training a vocabulary is one call into Rust: it runs on a thread of its own while the job
reports how many documents it has read, and Stop makes the documents' iterator raise, which
ends the call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator, Sequence
from typing import Any

import torch

from explorer.core.finetune_params import FinetuneParams, ModelSize, TrainStep

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
POLL_S = 0.1  # how often a vocabulary being trained is reported on (and Stop looked at)


class _Stopped(Exception):
    """Raised inside the vocabulary trainer's iterator: the job was stopped."""


def train_vocabulary(documents: Sequence[str], size: int, max_length: int) -> Generator[TrainStep, None, Any]:
    """A WordPiece vocabulary of at most `size` tokens trained on `documents`, as a transformers
    BertTokenizer (lowercased, BERT's special tokens, model_max_length `max_length`).

    Yields a step while it trains; closing the generator (Stop) ends the training."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertTokenizerFast

    wordpiece = BertWordPieceTokenizer(lowercase=True, clean_text=True, handle_chinese_chars=True)
    stop = threading.Event()
    read = [0]
    failed: list[BaseException] = []

    def texts() -> Any:
        for text in documents:
            if stop.is_set():
                raise _Stopped
            read[0] += 1
            yield text

    def run() -> None:
        try:
            wordpiece.train_from_iterator(
                texts(), vocab_size=size, min_frequency=2, special_tokens=list(SPECIAL_TOKENS),
                limit_alphabet=1000, wordpieces_prefix="##", show_progress=False, length=len(documents),
            )
        except BaseException as exc:  # noqa: BLE001  (handed to the job's thread)
            failed.append(exc)

    worker = threading.Thread(target=run, name="wordpiece-trainer", daemon=True)
    started = time.monotonic()
    worker.start()
    try:
        while worker.is_alive():
            worker.join(POLL_S)
            done = read[0]
            what = f"read {done:,} of {len(documents):,} documents" if done < len(documents) else "choosing the wordpieces"
            yield TrainStep(0, 0, f"training a vocabulary of {size:,} tokens: {what}", phase="prepare")
    finally:
        if worker.is_alive():  # stopped: the iterator raises at its next document
            stop.set()
            worker.join()
    if failed:
        raise failed[0]
    tokenizer = BertTokenizerFast(
        tokenizer_object=wordpiece._tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", do_lower_case=True, model_max_length=max_length,
    )
    log.info("trained a vocabulary of %d tokens on %d documents in %.1f s", len(tokenizer), len(documents),
             time.monotonic() - started)
    return tokenizer


def new_model(tokenizer: Any, size: ModelSize, positions: int, seed: int) -> Any:
    """A randomly initialised BertForMaskedLM of `size` for `tokenizer`'s vocabulary, reading
    `positions` tokens at once (the chunk size: positions beyond it would never be trained)."""
    from transformers import BertConfig, BertForMaskedLM

    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=size.hidden,
        num_hidden_layers=size.layers,
        num_attention_heads=size.heads,
        intermediate_size=size.intermediate,
        max_position_embeddings=positions,
        type_vocab_size=2,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    return BertForMaskedLM(config)


def tokenizer_for(tokenizer: Any, positions: int) -> Any:
    """The tokenizer saved with a new model says how much the model reads at once."""
    tokenizer.model_max_length = positions
    return tokenizer


def description(p: FinetuneParams, vocab: int) -> dict:
    """What the card and the result say about a model trained from scratch."""
    size = p.model_size()
    return {
        "size": p.size,
        "layers": size.layers,
        "hidden": size.hidden,
        "heads": size.heads,
        "intermediate": size.intermediate,
        "vocab_size": vocab,
        "new_vocabulary": bool(p.new_vocab),
        "max_position_embeddings": p.chunk_size,
    }
