"""Defaults and checks of the MLM lab, torch-free so the GUI and the CLI can use them early.

The CLI rejects a bad rate before it spends seconds loading a model; the tab starts with
the same passage and rate as the class labs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.core.errors import InvalidParameterError
from explorer.core.params import param, seed_param, spec

DEFAULT_RATE = 0.15  # BERT's pre-training rate
DEFAULT_SEED = 0  # a fixed start, so everyone in a class sees the same masks
LENS_TOP_K = 5

# Lab 003's passage: long enough that ~15% masks a handful of tokens.
LAB_PASSAGE = (
    "The rain had stopped just before dawn, leaving the streets coated in a thin silver sheen. "
    "A cat darted across the alley, pausing briefly to eye the half-open bakery door. "
    "Inside, the smell of warm bread mixed with the faint hum of an old refrigerator, "
    "filling the quiet with a strange sense of anticipation."
)

# How a chosen token is shown to the model under BERT's 80/10/10 rule.
MASKED, RANDOM, KEPT = "mask", "random", "keep"


@dataclass(frozen=True)
class MaskDemoParams:
    """One masking of a passage: what the MLM lab's controls and `mask-demo` ask for."""

    text: str = field(metadata=param(
        label="Passage to mask", cli="TEXT", help="A passage; special tokens ([CLS], [SEP]) are never masked"))
    rate: float = field(default=DEFAULT_RATE, metadata=param(
        label="Masking rate", cli="--rate", low=0.0, low_open=True, high=1.0,
        help="Share of the tokens chosen for masking (BERT: 0.15); [CLS]/[SEP] are never chosen",
        form="mlmRate", form_low=0.01, step=0.05, decimals=2, prefix="rate "))
    seed: int = field(default=DEFAULT_SEED, metadata=seed_param(
        help="Random seed: the same seed, passage and rate always give the same masks", form="mlmSeed", prefix="seed "))
    bert_rule: bool = field(default=True, metadata=param(
        label="80/10/10", cli="--no-80-10-10", form="mlmBertRule",
        help="BERT's rule: of the chosen tokens, 80% become the mask token, 10% a random token, 10% stay as "
        "they are (all are predicted and scored). Off: every chosen token is masked"))


def check_rate(rate: float) -> float:
    """The masking rate as a float in (0, 1], or an error that says what is allowed."""
    problem = spec(MaskDemoParams, "rate").problem(rate)
    if problem:
        raise InvalidParameterError(problem)
    return float(rate)


def check_seed(seed: int) -> int:
    """A random seed numpy and torch both take, or an error that says what is allowed."""
    problem = spec(MaskDemoParams, "seed").problem(seed)
    if problem:
        raise InvalidParameterError(problem)
    return int(seed)


def check_text(text: str) -> str:
    if not text or not text.strip():
        raise InvalidParameterError("The text is empty: give a passage to mask.")
    return text
