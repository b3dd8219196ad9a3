"""Masking for training that favours rarer words (the demo build's last phase).

BERT masks every token alike, so most of what it is asked to guess is frequent short words
(the, a, to, commas): in the demo build's sentences three masks in five fall on the 200 most
frequent tokens. People using the app mask content words ("I drink a cup of [MASK]"). Here
each row gets round(probability x its ordinary tokens) masks, at least one, as BERT's rate
gives on average, but the positions are drawn without replacement with weight
(count + 1) ** -exponent, the count over the training text: exponent 0 is BERT's even draw,
0.2 moves the share of masks on those 200 tokens from 61% to 42%. What is shown at a masked
position follows BERT's 80/10/10 rule.
"""

from __future__ import annotations

from typing import Any

import torch

from explorer.engine.masking import IGNORE_INDEX, MASK_SHARE, RANDOM_SHARE


def token_counts(chunks: list[dict], vocab_size: int, *, ordinary_only: bool) -> torch.Tensor:
    """How often each token id occurs in the chunks (float64), [CLS]/[SEP] and the like left
    out when ordinary_only."""
    ids = torch.tensor([t for c in chunks for t in c["input_ids"]], dtype=torch.long)
    if ordinary_only:
        special = torch.tensor([m for c in chunks for m in c["special_tokens_mask"]], dtype=torch.bool)
        ids = ids[~special]
    return torch.bincount(ids, minlength=vocab_size)[:vocab_size].double()


def token_log_weights(chunks: list[dict], vocab_size: int, exponent: float) -> torch.Tensor:
    """-exponent * log((count + 1) / total) per token id over the chunks: the log of the
    weight, up to a constant that no draw depends on."""
    counts = token_counts(chunks, vocab_size, ordinary_only=False)
    freq = (counts + 1) / counts.sum()
    return (-exponent * freq.log()).float()


class WeightedMaskCollator:
    """Rows of equal length (chunks with input_ids and special_tokens_mask) -> a masked batch."""

    def __init__(self, tokenizer: Any, probability: float, log_weights: torch.Tensor, seed: int) -> None:
        self.mask_id = tokenizer.mask_token_id
        self.vocab_size = len(tokenizer)  # added tokens too, as transformers' collator draws
        self.probability = probability
        self.log_weights = log_weights
        self.gen = torch.Generator().manual_seed(seed)

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        ids = torch.tensor([r["input_ids"] for r in rows])
        special = torch.tensor([r["special_tokens_mask"] for r in rows]).bool()
        # Gumbel top-k: the k largest of log-weight + Gumbel noise are a draw of k positions
        # without replacement, each with probability proportional to its weight.
        keys = self.log_weights[ids] - torch.log(-torch.log(torch.rand(ids.shape, generator=self.gen)))
        keys[special] = -float("inf")
        ordinary = (~special).sum(dim=1)
        k = (self.probability * ordinary).round().clamp(min=1).minimum(ordinary)
        rank = keys.argsort(dim=1, descending=True).argsort(dim=1)
        chosen = (rank < k[:, None]) & ~special  # ~special: a key of -inf from a draw of exactly 0
        labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE_INDEX))
        treatment = torch.rand(ids.shape, generator=self.gen)
        shown = ids.clone()
        shown[chosen & (treatment < MASK_SHARE)] = self.mask_id
        randomised = chosen & (treatment >= MASK_SHARE) & (treatment < MASK_SHARE + RANDOM_SHARE)
        shown[randomised] = torch.randint(self.vocab_size, ids.shape, generator=self.gen)[randomised]
        return {"input_ids": shown, "labels": labels}
