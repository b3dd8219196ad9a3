"""Domain adaptation: continue masked-LM training on your own text (lab 004).

A generator of TrainStep, not transformers' Trainer: the app needs a step it can stop
between, progress it can draw, and a model it can hand back, and Trainer would add
`accelerate` and its own loop for what is here one short loop. Masking is transformers' own
DataCollatorForLanguageModeling (token-level 80/10/10, or whole words from the offsets), or
for training only, with rare_word_exponent, explorer.engine.weighted_masking.

Nothing is written until training ends: the model is saved to a hidden folder beside the
target and swapped into place (explorer.core.saving), so a stopped run leaves no checkpoint
that looks finished, and a run killed mid-swap loses neither model. What may be replaced,
and every number, is checked before anything loads (explorer.core.finetune_checks). A run
whose loss stops being a number stops and saves nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import math
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import torch

from explorer import __version__
from explorer.core.chunking import Prepared, chunk, prepare  # noqa: F401  (Prepared, chunk: also imported from here)
from explorer.core.world import shard
from explorer.engine.devices import resolve_device
from explorer.engine.distributed import StopRequests, World
from explorer.core.errors import ExplorerError, InvalidParameterError
from explorer.core.finetune_checks import (  # check_params: also imported from here
    CHECKPOINT, check_params, checkpoint_folder, fit_chunk_size, folder_refusal, kept_paths,
)
from explorer.core.finetune_params import FinetuneParams, FinetuneResult, TrainStep
from explorer.engine.models import find_mlm_head
from explorer.core.owned import CARD
from explorer.core.saving import replace_folder, reported_os_error
from explorer.engine.weighted_masking import WeightedMaskCollator, token_counts, token_log_weights

log = logging.getLogger(__name__)


class TrainingDiverged(ExplorerError):
    """The loss or the perplexity stopped being a finite number: nothing is saved."""


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
    return [collate(list(chunks[i : i + p.batch_size])) for i in range(0, len(chunks), p.batch_size)]


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
def perplexity(model: Any, batches: list[dict[str, torch.Tensor]], device: str, world: World | None = None) -> float:
    """exp(mean loss over the masked tokens), summed over tokens rather than averaged per batch.
    With a `world`, each process measures its share of the batches and the sums are added up:
    the perplexity of the whole held-out set, the same on every process."""
    was_training = model.training
    model.eval()
    head = find_mlm_head(model)
    total, count = 0.0, 0
    mine = range(len(batches)) if world is None else shard(len(batches), world.launch)
    for batch in (batches[i] for i in mine):
        labels = batch["labels"].to(device)
        total += float(masked_loss(model, head, batch["input_ids"].to(device), labels, reduction="sum"))
        count += int((labels != -100).sum())
    if world is not None:
        total, summed = world.sum(total, count)
        count = int(summed)
    model.train(was_training)
    if not count:
        raise InvalidParameterError(
            "No token of the validation text was masked, so there is no perplexity to measure: give more text, "
            "a larger validation share or a higher masking probability."
        )
    mean = total / count
    return math.exp(mean) if mean < 700 else (math.inf if mean > 0 else math.nan)  # exp(710) overflows


def _batches_forever(chunks: list[dict], batch_size: int, collate: Any, gen: torch.Generator) -> Iterator[dict]:
    """Shuffled full batches, epoch after epoch (a short last batch per epoch is skipped)."""
    size = min(batch_size, len(chunks))
    while True:
        order = torch.randperm(len(chunks), generator=gen).tolist()
        for i in range(0, len(order) - size + 1, size):
            yield collate([chunks[j] for j in order[i : i + size]])


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


def _save(model: Any, tokenizer: Any, out: Path, card: dict, refusal: Any, kind: str) -> None:
    """Write the model, its tokenizer and its card (strict JSON) and swap them in at `out`."""

    def write(folder: Path) -> None:
        try:
            model.save_pretrained(folder)
        except Exception as exc:  # safetensors' writer reports a full disk as its own error
            reported = reported_os_error(exc)
            if reported is None or reported is exc:
                raise
            raise reported from exc
        tokenizer.save_pretrained(folder)
        (folder / CARD).write_text(json.dumps(card, indent=2, allow_nan=False), encoding="utf-8")

    replace_folder(out, write, kind=kind, refusal=refusal)


def _finite_weights(model: Any) -> bool:
    return all(bool(torch.isfinite(w).all()) for w in model.parameters())


def _diverged(p: FinetuneParams, step: int, total: int, what: str) -> TrainingDiverged:
    rates = f"--lr, now {p.lr:g}" + (f"; the head's, now {p.head_lr:g}" if p.head_lr else "")
    return TrainingDiverged(
        f"Training diverged at step {step} of {total} ({what}): nothing was saved. "
        f"Lower the learning rate ({rates}) and try again."
    )


class _SummedMaskedLoss(torch.nn.Module):
    """The summed masked loss as one module, so that DistributedDataParallel sees the whole
    forward (masked_loss calls the encoder and the head apart) and syncs every gradient."""

    def __init__(self, model: Any, head: Any) -> None:
        super().__init__()
        self.model = model
        self.head = head

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return masked_loss(self.model, self.head, input_ids, labels, reduction="sum")


def _distributed_micro_step(
    ddp: Any, full: dict[str, torch.Tensor], world: World, p: FinetuneParams, device: str, scaler: Any,
    amp_dtype: torch.dtype, on_gpu: bool, *, last: bool,
) -> torch.Tensor:
    """This rank's rows of one global micro-batch, forward and backward; its share of the
    global mean loss (divided by the masked tokens of the whole global batch, which every rank
    holds). Gradients are synced on the last micro-batch of a step only."""
    rows = slice(world.rank * p.batch_size, (world.rank + 1) * p.batch_size)
    masked = max(1, int((full["labels"] != -100).sum()))
    with contextlib.nullcontext() if last else ddp.no_sync():
        with torch.autocast("cuda", dtype=amp_dtype, enabled=on_gpu):
            summed = ddp(full["input_ids"][rows].to(device), full["labels"][rows].to(device))
        loss = summed.float() / masked / p.grad_accum
        # DDP averages the ranks' gradients; × ranks makes that their sum, the global mean's gradient.
        scaler.scale(loss * world.size).backward()
    return loss


def _optimizer_step(model: Any, optimizer: Any, scaler: Any, scheduler: Any) -> None:
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    scheduler.step()


def finetune(
    p: FinetuneParams, base_source: str | None, base_name: str, device: str = "auto", world: World | None = None
) -> Generator[TrainStep, None, FinetuneResult]:
    """Fine-tune a fresh copy of the base model (the explorer's own model stays as it is).

    With p.from_scratch, train a new, randomly initialised model of p's size instead
    (explorer.engine.scratch): with the base model's tokenizer, or with p.new_vocab a WordPiece
    vocabulary trained on the corpus first (then no base model is read: `base_source` may be None).

    With a `world` (a torchrun launch of N processes) every process builds the same global
    batch of batch_size × N chunks, masked alike, and trains on its own batch_size rows of it
    under DistributedDataParallel; the loss is each row's share of the global mean, so a step
    is the step one process would take on the whole global batch. Only rank 0 saves."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer, get_linear_schedule_with_warmup
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # progress is ours to report
    check_params(p, base_source)
    scratch = p.from_scratch
    if scratch:  # the new model reads chunk_size tokens: nothing to fit to
        fitted = ""
    else:
        if base_source is None:
            raise InvalidParameterError("No base model to fine-tune.")
        p, fitted = fit_chunk_size(p, base_source, base_name)
    device = world.device if world is not None else resolve_device(device)
    ranks = world.size if world is not None else 1
    main = world is None or world.main
    global_batch = p.batch_size * ranks
    if fitted:
        yield TrainStep(0, 0, fitted, phase="note")
    if scratch and p.new_vocab:
        from explorer.engine.scratch import train_vocabulary
        from explorer.core.corpus import read_corpus, split

        yield TrainStep(0, 0, "reading the corpus for a new vocabulary", phase="prepare")
        documents = read_corpus(p.corpus, text_column=p.text_column, mode=p.doc_mode).documents
        trained_on, _held_out = split(documents, p.validation, p.seed)  # as prepare() splits it
        tokenizer = yield from train_vocabulary(trained_on or documents, p.new_vocab, p.chunk_size)
        del documents, trained_on, _held_out
    elif base_source is None:
        raise InvalidParameterError("No base model to take the tokenizer from: give a base model or --new-vocab.")
    else:
        tokenizer = AutoTokenizer.from_pretrained(base_source)
    if scratch:
        from explorer.engine.scratch import tokenizer_for

        tokenizer = tokenizer_for(tokenizer, p.chunk_size)
    yield TrainStep(0, 0, "reading and tokenizing the corpus", phase="prepare")
    corpus, train, val, note = prepare(tokenizer, p)
    if note:
        yield TrainStep(0, 0, note, phase="note")
    keep = kept_paths(p, base_source)  # asked again at each save: the folders may have changed since

    def may_replace(kind: str) -> Any:
        given = str(checkpoint_folder(p.out)) if kind == CHECKPOINT else p.out
        own = CHECKPOINT if kind == CHECKPOINT else ""
        return lambda folder: folder_refusal(folder, given, overwrite=p.overwrite, keep=keep, own_kind=own)
    if ranks > 1 and len(train) < global_batch:
        raise InvalidParameterError(
            f"The corpus gives {len(train)} training chunks: {ranks} processes × --batch-size {p.batch_size} need "
            f"at least {global_batch}. Give more text, a smaller --batch-size or fewer processes."
        )
    per_step = global_batch * p.grad_accum
    steps_per_epoch = max(1, len(train) // global_batch // p.grad_accum) if len(train) >= global_batch else 1
    total = p.max_steps if p.max_steps is not None else max(1, math.ceil(p.epochs * steps_per_epoch))

    torch.manual_seed(p.seed)
    if scratch:
        from explorer.engine.scratch import description, new_model

        size = p.model_size()
        yield TrainStep(0, total, f"building a new model: {size.words()}, {len(tokenizer):,} tokens", phase="prepare")
        model = new_model(tokenizer, size, p.chunk_size, p.seed).to(device)
        made = description(p, len(tokenizer))
        made["tokenizer"] = "trained on the corpus" if p.new_vocab else base_name
        base_name = f"a new model ({size.words()})"
    else:
        yield TrainStep(0, total, f"loading {base_name}", phase="prepare")
        model = AutoModelForMaskedLM.from_pretrained(base_source, dtype=torch.float32).to(device)
        made = None
    if p.freeze:
        log.info("froze %d parameters matching %s", freeze(model, p.freeze), ", ".join(p.freeze))
    optimizer = torch.optim.AdamW(_param_groups(model, p), lr=p.lr)  # checks head_lr too, before the wait
    # Grouped by the global batch, so a launch of N processes masks the held-out text exactly as
    # one process with batch_size × N does (the collator's draws depend on the batch's shape).
    val_batches = masked_batches(tokenizer, val, dataclasses.replace(p, batch_size=global_batch), seed=p.seed + 1)
    yield TrainStep(0, total, "measuring perplexity before training", phase="evaluate")
    before = perplexity(model, val_batches, device, world)
    if not math.isfinite(before):
        raise InvalidParameterError(
            f"{base_name} gives no finite perplexity on this text ({before}): its weights may be broken. "
            "Choose another base model."
        )
    yield TrainStep(0, total, f"perplexity before: {before:.2f}", perplexity=before, phase="evaluate")
    if p.head_bias == "corpus":
        bias_from_frequencies(model, train, model.config.vocab_size)  # after "before": that is the base

    head = find_mlm_head(model)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(p.warmup * total), total)
    on_gpu = device.startswith("cuda")
    amp_dtype = torch.bfloat16 if on_gpu and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=on_gpu and amp_dtype == torch.float16)
    batches = _batches_forever(train, global_batch, _train_collator(tokenizer, p, train), torch.Generator().manual_seed(p.seed))
    losses: list[float] = []
    started = time.monotonic()
    model.train()
    ddp = None
    if world is not None:
        from torch.nn.parallel import DistributedDataParallel

        ddp = DistributedDataParallel(_SummedMaskedLoss(model, head), device_ids=[device] if on_gpu else None)
        # Dropout draws its own masks in each process: the same seed would drop the same units
        # of every rank's rows. (The batches and their masking stay the same on every rank.)
        torch.manual_seed(p.seed + 1_000_003 * world.rank)
    stop = StopRequests() if world is not None else None
    with stop or contextlib.nullcontext():
        for step in range(1, total + 1):
            step_loss = 0.0
            for micro in range(p.grad_accum):
                if ddp is None:
                    batch = {k: v.to(device) for k, v in next(batches).items()}
                    with torch.autocast("cuda", dtype=amp_dtype, enabled=on_gpu):
                        loss = masked_loss(model, head, batch["input_ids"], batch["labels"]) / p.grad_accum
                    scaler.scale(loss).backward()
                else:
                    loss = _distributed_micro_step(ddp, next(batches), world, p, device, scaler, amp_dtype, on_gpu,
                                                   last=micro == p.grad_accum - 1)
                step_loss += float(loss.detach())
            if stop is not None:  # (there is one exactly when there is a world)
                step_loss = world.sum(step_loss)[0]  # the global mean: each rank held its rows' share
                if world.any(stop.asked):
                    raise KeyboardInterrupt  # on every rank at the same step: nothing saved, none left waiting
            _optimizer_step(model, optimizer, scaler, scheduler)
            if not math.isfinite(step_loss):
                raise _diverged(p, step, total, f"the loss became {step_loss}")
            losses.append(step_loss)
            elapsed = time.monotonic() - started
            ppl = None
            if p.eval_every and step % p.eval_every == 0 and step < total:
                ppl = perplexity(model, val_batches, device, world)
                model.train()
                if not math.isfinite(ppl):
                    raise _diverged(p, step, total, f"the perplexity became {ppl}")
            if p.checkpoint_every and step % p.checkpoint_every == 0 and step < total:
                if not _finite_weights(model):
                    raise _diverged(p, step, total, "weights became infinite or not a number")
                if main:
                    model.eval()
                    card = {"base_model": base_name, "steps": step, "world_size": ranks}
                    _save(model, tokenizer, checkpoint_folder(p.out), card, may_replace(CHECKPOINT), CHECKPOINT)
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
    after = perplexity(model, val_batches, device, world)
    if not math.isfinite(after) or not _finite_weights(model):
        raise _diverged(p, total, total, f"the perplexity after training is {after}")
    yield TrainStep(total, total, f"saving to {p.out}", perplexity=after, phase="save")
    card = {
        "base_model": base_name,
        **({"from_scratch": made} if made else {}),
        "corpus": {"file": corpus.path, "bytes": corpus.size_bytes, "documents": len(corpus.documents), "split": corpus.mode},
        "chunk_size": p.chunk_size,
        "train_chunks": len(train),
        "validation_chunks": len(val),
        "mlm_probability": p.mlm_probability,
        "whole_word_masking": p.whole_word,
        "rare_word_exponent": p.rare_word_exponent,
        "steps": total,
        "batch_size": p.batch_size,  # per process
        "grad_accum": p.grad_accum,
        "world_size": ranks,  # processes that trained it: batch_size × world_size × grad_accum chunks a step
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
    if main:  # the ranks hold the same weights: one saves them
        _save(model, tokenizer, Path(p.out).expanduser().resolve(), card, may_replace("model"), "model")
    log.info("%s %s for %d steps: perplexity %.2f -> %.2f", "trained" if made else "fine-tuned", base_name, total,
             before, after)
    return FinetuneResult(
        base_name, str(Path(p.out).expanduser().resolve()), total, before, after, tuple(losses), len(train), len(val),
        warnings=tuple(n for n in (fitted, note) if n), batch_size=p.batch_size, grad_accum=p.grad_accum,
        world_size=ranks, scratch=made,
    )
