"""Domain adaptation: continue masked-LM training on your own text (lab 004).

A generator of TrainStep, not transformers' Trainer: the app needs a step it can stop
between, progress it can draw, and a model it can hand back, and Trainer would add
`accelerate` and its own loop for what is here one short loop. Masking is transformers' own
DataCollatorForLanguageModeling (token-level 80/10/10, or whole words from the offsets), or
for training only, with rare_word_exponent, explorer.engine.weighted_masking.

Nothing is written until training ends: the model is saved to a hidden folder beside the
target and renamed into place, so a stopped run leaves no checkpoint that looks finished.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import torch

from explorer import __version__
from explorer.engine.corpus import Corpus, read_corpus, split
from explorer.engine.devices import resolve_device
from explorer.engine.errors import InvalidParameterError
from explorer.engine.finetune_params import FinetuneParams, FinetuneResult, TrainStep
from explorer.engine.models import find_mlm_head
from explorer.engine.weighted_masking import WeightedMaskCollator, token_counts, token_log_weights

log = logging.getLogger(__name__)
CARD = "explorer_card.json"


def check_params(p: FinetuneParams) -> None:
    """Everything that can be checked before a model is loaded."""
    if p.chunk_size < 8:
        raise InvalidParameterError(f"chunk size must be at least 8 tokens, not {p.chunk_size}.")
    if not 0 < p.mlm_probability < 1:
        raise InvalidParameterError(f"masking probability must be between 0 and 1, not {p.mlm_probability}.")
    if p.max_steps is not None and p.max_steps < 1:
        raise InvalidParameterError(f"max steps must be at least 1, not {p.max_steps}.")
    if p.max_steps is None and p.epochs <= 0:
        raise InvalidParameterError(f"epochs must be more than 0, not {p.epochs}.")
    if p.lr <= 0 or p.batch_size < 1 or p.grad_accum < 1:
        raise InvalidParameterError("learning rate, batch size and gradient accumulation must be positive.")
    if p.head_bias not in ("keep", "corpus"):
        raise InvalidParameterError(f"head bias must be 'keep' or 'corpus', not '{p.head_bias}'.")
    if p.head_lr is not None and p.head_lr <= 0:
        raise InvalidParameterError(f"the head's learning rate must be positive, not {p.head_lr}.")
    if p.rare_word_exponent < 0:
        raise InvalidParameterError(f"the rare-word exponent must be 0 or more, not {p.rare_word_exponent}.")
    if p.rare_word_exponent and p.whole_word:
        raise InvalidParameterError("Masking rarer words more works on tokens: it does not combine with whole-word masking.")
    if p.checkpoint_every < 0:
        raise InvalidParameterError(f"checkpoint interval must be 0 or more, not {p.checkpoint_every}.")
    if not Path(p.corpus).expanduser().is_file():
        raise InvalidParameterError(f"Corpus file '{p.corpus}' does not exist.")
    out = Path(p.out).expanduser()
    if not p.out.strip():
        raise InvalidParameterError("No output folder given.")
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'{p.out}' is a file, not a folder.")
    if out.is_dir() and any(out.iterdir()) and not p.overwrite:
        raise InvalidParameterError(
            f"Output folder '{p.out}' exists and is not empty: choose another one, or allow overwriting (--overwrite)."
        )


def chunk(tokenizer: Any, documents: list[str], chunk_size: int, *, offsets: bool) -> list[dict[str, list]]:
    """Tokenize each document (with its special tokens), concatenate, cut into chunks of
    exactly `chunk_size`; the short remainder is dropped, as in the lab."""
    if not documents:
        return []
    enc = tokenizer(
        documents, add_special_tokens=True, return_special_tokens_mask=True, return_offsets_mapping=offsets
    )
    keys = ["input_ids", "special_tokens_mask"] + (["offset_mapping"] if offsets else [])
    joined = {k: [x for doc in enc[k] for x in doc] for k in keys}
    usable = (len(joined["input_ids"]) // chunk_size) * chunk_size
    return [{k: joined[k][i : i + chunk_size] for k in keys} for i in range(0, usable, chunk_size)]


def _collator(tokenizer: Any, p: FinetuneParams, seed: int) -> Any:
    from transformers import DataCollatorForLanguageModeling

    # With whole words the collator only replaces by [MASK] (it says so, and warns otherwise).
    replace = {"mask_replace_prob": 1.0, "random_replace_prob": 0.0} if p.whole_word else {}
    return DataCollatorForLanguageModeling(
        tokenizer, mlm_probability=p.mlm_probability, whole_word_mask=p.whole_word, seed=seed, **replace
    )


def _train_collator(tokenizer: Any, p: FinetuneParams, train: list[dict]) -> Any:
    if not p.rare_word_exponent:
        return _collator(tokenizer, p, seed=p.seed)
    weights = token_log_weights(train, len(tokenizer), p.rare_word_exponent)
    return WeightedMaskCollator(tokenizer, p.mlm_probability, weights, seed=p.seed)


def masked_batches(tokenizer: Any, chunks: list[dict], p: FinetuneParams, seed: int) -> list[dict[str, torch.Tensor]]:
    """The validation set masked once with a fixed seed, so every perplexity uses the same masks."""
    collate = _collator(tokenizer, p, seed)
    return [collate(chunks[i : i + p.batch_size]) for i in range(0, len(chunks), p.batch_size)]


def masked_loss(model: Any, head: Any, input_ids: torch.Tensor, labels: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy at the masked tokens, running the MLM head there only.

    Equal to the model's own loss with these labels, but the head (hidden x vocabulary
    per position) runs on ~15% of the positions instead of all of them.
    """
    if head is None:
        logits = model(input_ids=input_ids).logits.float()
        return torch.nn.functional.cross_entropy(
            logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100, reduction=reduction
        )
    hidden = model.base_model(input_ids=input_ids)[0]
    chosen = labels != -100
    logits = head(hidden[chosen]).float()
    return torch.nn.functional.cross_entropy(logits, labels[chosen], reduction=reduction)


@torch.inference_mode()
def perplexity(model: Any, batches: list[dict[str, torch.Tensor]], device: str) -> float:
    """exp(mean loss over the masked tokens), summed over tokens rather than averaged per batch."""
    was_training = model.training
    model.eval()
    head = find_mlm_head(model)
    total, count = 0.0, 0
    for batch in batches:
        labels = batch["labels"].to(device)
        total += float(masked_loss(model, head, batch["input_ids"].to(device), labels, reduction="sum"))
        count += int((labels != -100).sum())
    model.train(was_training)
    return math.exp(total / count) if count else float("nan")


def _batches_forever(chunks: list[dict], batch_size: int, collate: Any, gen: torch.Generator) -> Iterator[dict]:
    """Shuffled full batches, epoch after epoch (a short last batch per epoch is skipped)."""
    size = min(batch_size, len(chunks))
    while True:
        order = torch.randperm(len(chunks), generator=gen).tolist()
        for i in range(0, len(order) - size + 1, size):
            yield collate([chunks[j] for j in order[i : i + size]])


class Prepared(NamedTuple):
    corpus: Corpus
    train: list[dict]
    val: list[dict]
    note: str = ""  # how validation was chosen, when it is not whole unseen documents


def prepare(tokenizer: Any, p: FinetuneParams) -> Prepared:
    corpus = read_corpus(p.corpus, text_column=p.text_column, mode=p.doc_mode)
    train_docs, val_docs = split(corpus.documents, p.validation, p.seed)
    train = chunk(tokenizer, train_docs, p.chunk_size, offsets=p.whole_word)
    val = chunk(tokenizer, val_docs, p.chunk_size, offsets=p.whole_word)
    if train and val:
        return Prepared(corpus, train, val)
    # Too few documents to hold some out whole: split the chunks instead.
    every = chunk(tokenizer, list(corpus.documents), p.chunk_size, offsets=p.whole_word)
    lengths = [len(ids) for ids in tokenizer(list(corpus.documents))["input_ids"]]  # tokens per document
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


def freeze(model: Any, patterns: tuple[str, ...]) -> int:
    """Stop training every parameter whose name contains one of the patterns; how many.

    A pattern that names nothing is a typo, and freezing everything leaves nothing to train:
    both are refused before any time is spent."""
    names = [n for n, _ in model.named_parameters()]
    unmatched = [p for p in patterns if not any(p in n for n in names)]
    if unmatched:
        raise InvalidParameterError(
            f"No parameter of the model matches {', '.join(repr(p) for p in unmatched)} (to freeze); "
            f"its parameters are named like {names[0]!r} and {names[-1]!r}."
        )
    frozen = 0
    for name, weight in model.named_parameters():
        if any(pattern in name for pattern in patterns):
            weight.requires_grad_(False)
            frozen += weight.numel()
    if not any(w.requires_grad for w in model.parameters()):
        raise InvalidParameterError("Every parameter would be frozen: there would be nothing to train.")
    return frozen


@torch.no_grad()
def bias_from_frequencies(model: Any, chunks: list[dict], vocab_size: int) -> None:
    """Set the output bias to log p(word) over the training tokens (add-one smoothed).

    With a fresh head this is the best guess before any context is used; without it the
    first few hundred steps only learn the unigram distribution.
    """
    counts = token_counts(chunks, vocab_size, ordinary_only=True) + 1
    bias = model.get_output_embeddings().bias
    bias.copy_((counts / counts.sum()).log().to(bias.dtype))


def _param_groups(model: Any, p: FinetuneParams) -> list[dict]:
    """Decay for weights, none for biases and norms; the MLM head at its own rate if asked."""
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    head = find_mlm_head(model)
    if p.head_lr and not isinstance(head, torch.nn.Module):
        raise InvalidParameterError(f"A separate learning rate for the MLM head is not supported for {type(model).__name__}.")
    head_ids = {id(w) for w in head.parameters()} if p.head_lr else set()
    # A tied decoder is the word-embedding matrix: it trains at the encoder's rate, as an embedding.
    head_ids.discard(id(model.get_input_embeddings().weight))
    groups = []
    for in_head in (False, True):
        for decay in (True, False):
            params = [
                w for n, w in model.named_parameters()
                if w.requires_grad and (id(w) in head_ids) == in_head and n.endswith(no_decay) != decay
            ]
            if params:
                lr = p.head_lr if in_head else p.lr
                groups.append({"params": params, "weight_decay": p.weight_decay if decay else 0.0, "lr": lr})
    return groups


def _save(model: Any, tokenizer: Any, out_folder: str, card: dict) -> None:
    out = Path(out_folder).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    partial.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary model folder
    try:
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        (partial / CARD).write_text(json.dumps(card, indent=2), encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old-{int(time.time())}")
            out.rename(old)
            partial.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            partial.rename(out)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)


def finetune(p: FinetuneParams, base_source: str, base_name: str, device: str = "auto") -> Generator[TrainStep, None, FinetuneResult]:
    """Fine-tune a fresh copy of the base model (the explorer's own model stays as it is)."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer, get_linear_schedule_with_warmup
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # progress is ours to report
    check_params(p)
    device = resolve_device(device)
    yield TrainStep(0, 0, "reading and tokenizing the corpus", phase="prepare")
    tokenizer = AutoTokenizer.from_pretrained(base_source)
    corpus, train, val, note = prepare(tokenizer, p)
    if note:
        yield TrainStep(0, 0, note, phase="note")
    per_step = p.batch_size * p.grad_accum
    steps_per_epoch = max(1, len(train) // p.batch_size // p.grad_accum) if len(train) >= p.batch_size else 1
    total = p.max_steps if p.max_steps is not None else max(1, math.ceil(p.epochs * steps_per_epoch))

    yield TrainStep(0, total, f"loading {base_name}", phase="prepare")
    torch.manual_seed(p.seed)
    model = AutoModelForMaskedLM.from_pretrained(base_source, dtype=torch.float32).to(device)
    if p.freeze:
        log.info("froze %d parameters matching %s", freeze(model, p.freeze), ", ".join(p.freeze))
    optimizer = torch.optim.AdamW(_param_groups(model, p), lr=p.lr)  # checks head_lr too, before the wait
    val_batches = masked_batches(tokenizer, val, p, seed=p.seed + 1)
    yield TrainStep(0, total, "measuring perplexity before training", phase="evaluate")
    before = perplexity(model, val_batches, device)
    yield TrainStep(0, total, f"perplexity before: {before:.2f}", perplexity=before, phase="evaluate")
    if p.head_bias == "corpus":
        bias_from_frequencies(model, train, model.config.vocab_size)  # after "before": that is the base

    head = find_mlm_head(model)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(p.warmup * total), total)
    on_gpu = device.startswith("cuda")
    amp_dtype = torch.bfloat16 if on_gpu and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=on_gpu and amp_dtype == torch.float16)
    batches = _batches_forever(train, p.batch_size, _train_collator(tokenizer, p, train), torch.Generator().manual_seed(p.seed))
    losses: list[float] = []
    started = time.monotonic()
    model.train()
    for step in range(1, total + 1):
        step_loss = 0.0
        for _ in range(p.grad_accum):
            batch = {k: v.to(device) for k, v in next(batches).items()}
            with torch.autocast("cuda", dtype=amp_dtype, enabled=on_gpu):
                loss = masked_loss(model, head, batch["input_ids"], batch["labels"]) / p.grad_accum
            scaler.scale(loss).backward()
            step_loss += float(loss.detach())
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        losses.append(step_loss)
        elapsed = time.monotonic() - started
        ppl = None
        if p.eval_every and step % p.eval_every == 0 and step < total:
            ppl = perplexity(model, val_batches, device)
            model.train()
        if p.checkpoint_every and step % p.checkpoint_every == 0 and step < total:
            model.eval()
            _save(model, tokenizer, p.out.rstrip("/") + ".checkpoint", {"base_model": base_name, "steps": step})
            model.train()
        yield TrainStep(
            done=step,
            total=total,
            message=f"step {step}/{total}  loss {step_loss:.3f}" + (f"  perplexity {ppl:.2f}" if ppl else ""),
            loss=step_loss,
            lr=scheduler.get_last_lr()[0],
            tokens_per_s=step * per_step * p.chunk_size / elapsed if elapsed > 0 else 0.0,
            seconds_left=elapsed / step * (total - step),
            perplexity=ppl,
        )
    yield TrainStep(total, total, "measuring perplexity after training", phase="evaluate")
    after = perplexity(model, val_batches, device)
    yield TrainStep(total, total, f"saving to {p.out}", perplexity=after, phase="save")
    card = {
        "base_model": base_name,
        "corpus": {"file": corpus.path, "bytes": corpus.size_bytes, "documents": len(corpus.documents), "split": corpus.mode},
        "chunk_size": p.chunk_size,
        "train_chunks": len(train),
        "validation_chunks": len(val),
        "mlm_probability": p.mlm_probability,
        "whole_word_masking": p.whole_word,
        "rare_word_exponent": p.rare_word_exponent,
        "steps": total,
        "batch_size": p.batch_size,
        "grad_accum": p.grad_accum,
        "lr": p.lr,
        "head_lr": p.head_lr,
        "frozen": list(p.freeze),
        "head_bias": p.head_bias,
        "validation_note": note,
        "warmup": p.warmup,
        "seed": p.seed,
        "perplexity_before": before,
        "perplexity_after": after,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "made_with": f"bert-explorer {__version__}",
    }
    model.eval()
    _save(model, tokenizer, p.out, card)
    log.info("fine-tuned %s for %d steps: perplexity %.2f -> %.2f", base_name, total, before, after)
    return FinetuneResult(
        base_name, str(Path(p.out).expanduser().resolve()), total, before, after, tuple(losses), len(train), len(val),
        warnings=(note,) if note else (),
    )
