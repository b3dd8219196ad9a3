"""Defaults and checks of the MLM lab, torch-free so the GUI and the CLI can use them early.

The CLI rejects a bad rate before it spends seconds loading a model; the tab starts with
the same passage and rate as the class labs.
"""

from __future__ import annotations

import math
import operator

from explorer.core.errors import InvalidParameterError
from explorer.core.generation_params import MAX_SEED

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


def check_rate(rate: float) -> float:
    """The masking rate as a float in (0, 1], or an error that says what is allowed."""
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"The masking rate must be a number in (0, 1], not {rate!r}.") from None
    if math.isnan(value) or not 0.0 < value <= 1.0:
        raise InvalidParameterError(
            f"The masking rate must be more than 0 and at most 1 (0.15 is BERT's), not {rate}."
        )
    return value


def check_seed(seed: int) -> int:
    """A random seed numpy and torch both take, or an error that says what is allowed."""
    try:
        value = operator.index(seed)  # an int, or numpy's; not a float or a string
    except TypeError:
        value = -1
    if isinstance(seed, bool) or not 0 <= value <= MAX_SEED:
        raise InvalidParameterError(f"The random seed must be a whole number from 0 to {MAX_SEED}, not {seed!r}.")
    return value


def check_text(text: str) -> str:
    if not text or not text.strip():
        raise InvalidParameterError("The text is empty: give a passage to mask.")
    return text
