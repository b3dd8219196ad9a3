"""Summaries of attention weights: numpy only, so the GUI can switch views without torch."""

from __future__ import annotations

import numpy as np


def head_average(weights: np.ndarray) -> np.ndarray:
    """(layers, heads, T, T) -> (layers, T, T): the mean over heads, rows still sum to 1."""
    return weights.mean(axis=1)


def rollout(weights: np.ndarray) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020): (layers, heads, T, T) -> (layers, T, T).

    Per layer: average the heads, add the identity (the residual connection), renormalise
    the rows; then multiply through the layers. Entry l is the flow from the input tokens
    to the representations after layer l.
    """
    layers, _, t, _ = weights.shape
    eye = np.eye(t, dtype=np.float64)
    out = np.empty((layers, t, t), dtype=np.float32)
    flow = eye
    for layer in range(layers):
        a = weights[layer].astype(np.float64).mean(axis=0) + eye
        a /= a.sum(axis=-1, keepdims=True)
        flow = a @ flow
        out[layer] = flow
    return out


def without_special(matrix: np.ndarray, special: np.ndarray | list[bool] | tuple[bool, ...]) -> np.ndarray:
    """Drop the rows and columns of special tokens ([CLS], [SEP], <s>, </s>) and renormalise
    the rows, so each row is again a distribution over the tokens that are shown.

    Works on (..., T, T). A row whose whole mass was on special tokens becomes all zeros.
    """
    keep = ~np.asarray(special, dtype=bool)
    kept = matrix[..., keep, :][..., :, keep]
    sums = kept.sum(axis=-1, keepdims=True)
    return np.divide(kept, sums, out=np.zeros_like(kept), where=sums > 0)


def grid_shape(heads: int) -> tuple[int, int]:
    """Rows x columns for a grid of heads: 12 -> 3x4, 16 -> 4x4, 8 -> 2x4, 6 -> 2x3."""
    best = (1, heads)
    for rows in range(1, int(np.sqrt(heads)) + 1):
        if heads % rows == 0:
            best = (rows, heads // rows)
    rows, cols = best
    if cols > 2 * rows + 2:  # a prime count: near-square with an empty cell or two
        cols = int(np.ceil(np.sqrt(heads)))
        rows = int(np.ceil(heads / cols))
    return rows, cols
