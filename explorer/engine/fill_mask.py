"""Fill-mask: the model's top-k guesses for every mask in a text.

The transformers pipeline split: preprocess (tokenizer only) -> forward (torch, on the
device, MLM head at mask positions only) -> postprocess (Python and numpy only).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from explorer.engine.masks import BIDIRECTIONAL, attention_bias, check_mode
from explorer.engine.models import MaskedLM
from explorer.core.results import Candidate, FillMaskResult, MaskPrediction
from explorer.engine.tokens import Encoded, encode, pad_batch

DEFAULT_TOP_K = 10


def preprocess(lm: MaskedLM, text: str) -> tuple[Encoded, list[str]]:
    warnings: list[str] = []
    if not text.strip():
        warnings.append(f"The text is empty: type a sentence with {lm.mask_token} in it.")
        return encode(lm, ""), warnings
    enc = encode(lm, text)
    if enc.full_length > lm.max_length:
        msg = (
            f"The text has {enc.full_length} tokens but {lm.name} reads at most "
            f"{lm.max_length}: the rest was cut off."
        )
        if enc.dropped_masks:
            msg += f" {enc.dropped_masks} mask(s) after the cut get no predictions."
        warnings.append(msg)
    if not enc.mask_positions and not enc.dropped_masks:
        warnings.append(f"No mask in the text: put {lm.mask_token} where the model should guess (Ctrl+M).")
    return enc, warnings


def forward(lm: MaskedLM, batch: Sequence[Encoded], mask: str = BIDIRECTIONAL) -> torch.Tensor:
    """Logits [total masks, vocab] for every mask of every text, in order, as float32 on CPU.
    `mask`: bidirectional (the 2D padding mask, as trained) or causal (a 4D bias, masks.py)."""
    if not any(e.mask_positions for e in batch):
        return torch.empty((0, 0))
    ids, attention, _ = pad_batch(lm, [e.ids for e in batch])
    rows: list[int] = []
    cols: list[int] = []
    for b, e in enumerate(batch):
        rows += [b] * len(e.mask_positions)
        cols += e.mask_positions
    attention = attention.to(lm.device)
    bias = attention if mask == BIDIRECTIONAL else attention_bias(attention, mask, lm.dtype)
    with torch.inference_mode():
        logits = lm.mlm_logits(
            ids.to(lm.device),
            bias,
            torch.tensor(rows, device=lm.device),
            torch.tensor(cols, device=lm.device),
        )
        return logits.float().cpu()


def top_candidates(lm: MaskedLM, logits: torch.Tensor, top_k: int) -> list[tuple[Candidate, ...]]:
    """Softmax over the whole vocabulary, then the k best per row."""
    if logits.numel() == 0:
        return []
    k = max(1, min(int(top_k), logits.shape[-1]))
    probs = logits.softmax(dim=-1)
    scores, ids = probs.topk(k, dim=-1)
    scores_np: np.ndarray = scores.numpy()
    ids_np: np.ndarray = ids.numpy()
    return [
        tuple(_candidate(lm, int(i), float(s)) for i, s in zip(row_ids, row_scores))
        for row_ids, row_scores in zip(ids_np, scores_np)
    ]


def _candidate(lm: MaskedLM, token_id: int, score: float) -> Candidate:
    token = lm.tokenizer.convert_ids_to_tokens(token_id)
    token_str = lm.tokenizer.decode([token_id])
    text, continues = lm.subwords.text(token), lm.subwords.continues(token)
    return Candidate(token=token, token_id=token_id, score=score, token_str=token_str, text=text, continues_word=continues)


def postprocess(
    lm: MaskedLM, enc: Encoded, candidates: list[tuple[Candidate, ...]], warnings: list[str], mask: str = BIDIRECTIONAL
) -> FillMaskResult:
    masks = tuple(
        MaskPrediction(
            index=pos,
            char_start=enc.tokenization.offsets[pos][0],
            char_end=enc.tokenization.offsets[pos][1],
            candidates=cands,
        )
        for pos, cands in zip(enc.mask_positions, candidates)
    )
    return FillMaskResult(
        model=lm.name,
        device=lm.device,
        text=enc.text,
        tokenization=enc.tokenization,
        masks=masks,
        warnings=tuple(warnings),
        subwords=lm.subwords,
        mask=mask,
    )


def fill_mask(lm: MaskedLM, text: str, top_k: int = DEFAULT_TOP_K, *, mask: str = BIDIRECTIONAL) -> FillMaskResult:
    """`mask`: masks.BIDIRECTIONAL (as BERT was trained) or masks.CAUSAL (each token sees only
    itself and its left: what BERT loses without its right context)."""
    check_mode(mask)
    enc, warnings = preprocess(lm, text)
    if mask != BIDIRECTIONAL:
        warnings.append(NOT_TRAINED_THIS_WAY)
    logits = forward(lm, [enc], mask)
    if logits.numel() and not bool(torch.isfinite(logits).all()):
        warnings.append(NOT_NUMBERS)
    return postprocess(lm, enc, top_candidates(lm, logits, top_k), warnings, mask)


# Said wherever such scores are shown: a model whose weights hold NaN answers with noise.
NOT_NUMBERS = "The model's scores are not numbers (NaN or infinite): its weights are broken, so these guesses mean nothing."
# Said with every result computed under a causal mask (fill-mask and attention alike).
NOT_TRAINED_THIS_WAY = (
    "BERT was trained to read both ways; with a causal mask each token sees only its left, "
    "which the model never saw in training."
)
