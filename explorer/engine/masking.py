"""Masking a passage the way BERT is trained, and the loss it is trained on.

preprocess (tokenizer, and a seeded choice of positions) -> forward (one pass with labels at
the masked positions only, -100 elsewhere, so transformers computes the MLM loss itself)
-> postprocess (numpy: per masked position p(true token), its loss, the argmax).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from explorer.core.errors import InvalidParameterError
from explorer.core.mlm_params import DEFAULT_RATE, DEFAULT_SEED, KEPT, MASKED, RANDOM, check_rate, check_seed, check_text
from explorer.core.mlm_results import MaskDemoResult, MaskedToken
from explorer.engine.models import MaskedLM
from explorer.engine.tokens import Encoded, encode

IGNORE_INDEX = -100  # the label transformers' cross-entropy skips
MASK_SHARE, RANDOM_SHARE = 0.8, 0.1  # BERT's rule; the remaining 10% keep their token


@dataclass(frozen=True)
class MaskPlan:
    """Which positions are masked and what the model is shown there."""

    positions: np.ndarray  # int64 (k,), ascending
    treatments: tuple[str, ...]  # MASKED, RANDOM or KEPT, one per position
    input_ids: np.ndarray  # int64 (T,): the sequence after masking


def plan_masks(
    ids: Sequence[int],
    maskable: Sequence[bool],
    rate: float,
    rng: np.random.Generator,
    *,
    bert_rule: bool,
    mask_id: int,
    replacement_ids: np.ndarray,
) -> MaskPlan:
    """Choose each maskable token with probability `rate` (at least one), then apply the rule.

    The draws are made in the same order whatever the options, so one seed picks the same
    positions with the 80/10/10 rule on or off.
    """
    ids_arr = np.asarray(ids, dtype=np.int64)
    can = np.asarray(maskable, dtype=bool)
    chosen = can & (rng.random(len(ids_arr)) < rate)
    if not chosen.any() and can.any():
        # A short passage can draw no position at all, and then there is no loss to show.
        chosen[rng.choice(np.flatnonzero(can))] = True
    positions = np.flatnonzero(chosen)
    rule_draws = rng.random(len(positions))
    swaps = rng.choice(replacement_ids, size=len(positions)) if len(replacement_ids) else ids_arr[positions]
    treatments = []
    input_ids = ids_arr.copy()
    for pos, u, swap in zip(positions, rule_draws, swaps):
        if not bert_rule or u < MASK_SHARE:
            treatments.append(MASKED)
            input_ids[pos] = mask_id
        elif u < MASK_SHARE + RANDOM_SHARE:
            treatments.append(RANDOM)
            input_ids[pos] = swap
        else:
            treatments.append(KEPT)  # shown as it is, still predicted and scored
    return MaskPlan(positions=positions, treatments=tuple(treatments), input_ids=input_ids)


# Reserved slots that no text ever produces ("[unused42]" in BERT's vocabulary, "madeupword0001"
# in RoBERTa's): BERT's own data script may draw them, but on screen they teach nothing.
_PLACEHOLDER = re.compile(r"\[unused\d+\]|madeupword\d+")


# Reading the whole vocabulary costs ~20 ms: once per model, not on every "Mask again". Weak keys
# so a model that is swapped out is not kept alive by its pool.
_POOLS: weakref.WeakKeyDictionary[MaskedLM, np.ndarray] = weakref.WeakKeyDictionary()


def replacement_pool(lm: MaskedLM) -> np.ndarray:
    """Ids a random replacement may take: the vocabulary without special tokens and placeholders."""
    pool = _POOLS.get(lm)
    if pool is None:
        size = min(len(lm.tokenizer), int(lm.model.config.vocab_size))
        ids = np.arange(size, dtype=np.int64)
        tokens = lm.tokenizer.convert_ids_to_tokens(ids.tolist())
        placeholder = np.fromiter((bool(_PLACEHOLDER.fullmatch(t or "")) for t in tokens), dtype=bool, count=size)
        pool = np.setdiff1d(ids[~placeholder], np.fromiter(lm.special_ids, dtype=np.int64))
        pool.flags.writeable = False  # shared between calls
        _POOLS[lm] = pool
    return pool


def display_tokens(lm: MaskedLM, ids: Sequence[int]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the tokenizer's own tokens, what a person reads) for ids, e.g. "Ġcat" -> "cat"."""
    raw = tuple(lm.tokenizer.convert_ids_to_tokens([int(i) for i in ids]))
    return raw, tuple(lm.subwords.display(token) for token in raw)


def preprocess(
    lm: MaskedLM, text: str, rate: float, seed: int | None, bert_rule: bool
) -> tuple[Encoded, MaskPlan, int, list[str]]:
    """Tokenize and choose the masks; returns the seed used (drawn when `seed` is None)."""
    check_text(text)
    rate = check_rate(rate)
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    check_seed(seed)
    enc = encode(lm, text)
    warnings: list[str] = []
    if enc.full_length > lm.max_length:
        warnings.append(
            f"The passage has {enc.full_length} tokens but {lm.name} reads at most {lm.max_length}: "
            "only the part it reads is masked."
        )
    typed = sum(1 for i in enc.ids if i == lm.mask_token_id)
    if typed:
        warnings.append(f"The passage has {typed} {lm.mask_token} of its own: they are not scored.")
    maskable = [not s for s in enc.tokenization.special]
    if not any(maskable):
        raise InvalidParameterError("The passage has no token that can be masked (special tokens never are).")
    plan = plan_masks(
        enc.ids,
        maskable,
        rate,
        np.random.default_rng(seed),
        bert_rule=bert_rule,
        mask_id=lm.mask_token_id,
        replacement_ids=replacement_pool(lm),
    )
    return enc, plan, seed, warnings


def forward(lm: MaskedLM, input_ids: np.ndarray, labels: np.ndarray) -> tuple[float, torch.Tensor]:
    """transformers' MLM loss, and the logits at the labelled positions [k, vocab] (float32, CPU)."""
    ids = torch.as_tensor(input_ids, dtype=torch.long, device=lm.device)[None]
    lab = torch.as_tensor(labels, dtype=torch.long, device=lm.device)[None]
    with torch.inference_mode():
        out = lm.model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=lab)
        rows = (lab[0] != IGNORE_INDEX).nonzero().flatten()
        return float(out.loss), out.logits[0, rows].float().cpu()


def postprocess(
    lm: MaskedLM,
    enc: Encoded,
    plan: MaskPlan,
    logits: torch.Tensor,
    loss: float,
    *,
    rate: float,
    seed: int,
    bert_rule: bool,
    warnings: list[str],
) -> MaskDemoResult:
    logp = torch.log_softmax(logits, dim=-1).numpy()  # [k, vocab]
    true_ids = np.asarray(enc.ids, dtype=np.int64)[plan.positions]
    true_logp = logp[np.arange(len(true_ids)), true_ids]
    predicted = logp.argmax(axis=-1)
    pred_raw, pred_shown = display_tokens(lm, predicted.tolist())
    input_raw, input_shown = display_tokens(lm, plan.input_ids.tolist())
    tok = enc.tokenization
    masked = tuple(
        MaskedToken(
            index=int(pos),
            original_id=int(true_ids[n]),
            original=tok.display[pos],
            input_id=int(plan.input_ids[pos]),
            input=input_shown[pos],
            treatment=plan.treatments[n],
            predicted_id=int(predicted[n]),
            predicted=pred_shown[n],
            predicted_token=pred_raw[n],
            predicted_prob=float(np.exp(logp[n, predicted[n]])),
            p_true=float(np.exp(true_logp[n])),
            loss=float(-true_logp[n]),
        )
        for n, pos in enumerate(plan.positions)
    )
    accuracy = float(np.mean(predicted == true_ids)) if len(true_ids) else 0.0
    return MaskDemoResult(
        model=lm.name,
        text=enc.text,
        rate=rate,
        seed=seed,
        bert_rule=bert_rule,
        tokens=tok.tokens,
        display=tok.display,
        ids=tok.ids,
        special=tok.special,
        offsets=tok.offsets,
        input_ids=tuple(int(i) for i in plan.input_ids),
        input_tokens=input_raw,
        input_display=input_shown,
        masked=masked,
        loss=loss,
        accuracy=accuracy,
        warnings=tuple(warnings),
        subwords=lm.subwords,
    )


def mask_demo(
    lm: MaskedLM,
    text: str,
    rate: float = DEFAULT_RATE,
    seed: int | None = DEFAULT_SEED,
    bert_rule: bool = True,
) -> MaskDemoResult:
    """Mask `text` at `rate` (seeded), run the model with labels, score every masked position.

    seed None draws a fresh one; the result records the seed used, so any run can be repeated.
    """
    rate = check_rate(rate)
    enc, plan, seed, warnings = preprocess(lm, text, rate, seed, bert_rule)
    labels = np.full(len(enc.ids), IGNORE_INDEX, dtype=np.int64)
    labels[plan.positions] = np.asarray(enc.ids, dtype=np.int64)[plan.positions]
    loss, logits = forward(lm, plan.input_ids, labels)
    return postprocess(lm, enc, plan, logits, loss, rate=rate, seed=seed, bert_rule=bert_rule, warnings=warnings)
