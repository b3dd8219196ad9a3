"""Summaries of attention weights: numpy only, so the GUI can switch views without torch."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.core.model_names import short_name


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


def grid_shape(heads: int, aspect: float | None = None) -> tuple[int, int]:
    """Rows x columns for a grid of heads: 12 -> 3x4, 16 -> 4x4, 8 -> 2x4, 6 -> 2x3.

    With `aspect` (the room's width / height): the grid whose square cells are largest in
    that room, so the maps fill a wide window (12 heads in 1456 x 560 px: 2 x 6, not 3 x 4);
    never a whole empty row; among equal sizes the fewest empty cells, then the shape nearest
    the room's."""
    if aspect is not None and aspect > 0 and heads > 0:
        best_key, best_shape = None, (1, heads)
        for cols in range(1, heads + 1):
            rows = math.ceil(heads / cols)
            empty = rows * cols - heads
            if empty >= cols:
                continue
            # Largest cells; then fewest empty ones; then the shape nearest the room's.
            key = (round(min(aspect / cols, 1.0 / rows), 9), -empty, -abs(math.log(cols / rows / aspect)))
            if best_key is None or key > best_key:
                best_key, best_shape = key, (rows, cols)
        return best_shape
    best = (1, heads)
    for rows in range(1, int(np.sqrt(heads)) + 1):
        if heads % rows == 0:
            best = (rows, heads // rows)
    rows, cols = best
    if cols > 2 * rows + 2:  # a prime count: near-square with an empty cell or two
        cols = int(np.ceil(np.sqrt(heads)))
        rows = int(np.ceil(heads / cols))
    return rows, cols


# --- two models side by side (compare mode) ---------------------------------------------


def matched_layer(layer: int, depth: int) -> int:
    """The compared model's layer shown beside `layer`: the same index, or its last layer
    when it has fewer (layers are matched by index, not by relative depth)."""
    return max(0, min(layer, depth - 1))


def layer_match_note(a_name: str, a_layers: int, b_name: str, b_layers: int, layer: int) -> str:
    """What the two layers shown side by side are, when the depths differ ("" when they match)."""
    if a_layers == b_layers:
        return ""
    a, b = short_name(a_name), short_name(b_name)
    if a == b:
        a, b = f"{a} (A)", f"{b} (B)"
    text = f"{a} has {a_layers} layers, {b} {b_layers}: layers matched by index"
    if a_layers > b_layers and layer >= b_layers:
        return f"{text}; layer {layer} of {a} has no match: {b} shows its last layer, {b_layers - 1}"
    deeper, shallow, total = (a, b_layers, a_layers) if a_layers > b_layers else (b, a_layers, b_layers)
    if total - shallow == 1:
        return f"{text}; layer {shallow} of {deeper} has no match"
    return f"{text}; layers {shallow} to {total - 1} of {deeper} have no match"


def difference_refusal(a: Any, b: Any) -> str:
    """Why two AttentionResults cannot be subtracted ("" when they can): a difference needs
    the same sentence, the same layers x heads and the same tokens."""
    if a is None or b is None or a.text != b.text:
        return "Waiting for both models' attention on the same sentence."
    wa, wb = a.weights, b.weights
    na, nb = short_name(a.model), short_name(b.model)
    if wa.shape[:2] != wb.shape[:2]:
        return (
            f"{na} has {wa.shape[0]} layers × {wa.shape[1]} heads, {nb} {wb.shape[0]} × {wb.shape[1]}: "
            "a difference needs the same layers and heads."
        )
    if tuple(a.tokens) != tuple(b.tokens):
        return (
            f"The two tokenizers split the sentence differently ({len(a.tokens)} and "
            f"{len(b.tokens)} tokens): a difference needs the same tokens."
        )
    return ""


def difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a − b for attention maps of the same shape (..., T, T), in float32: positive where the
    first model attends more. Raises ValueError when the shapes differ."""
    if a.shape != b.shape:
        raise ValueError(f"attention maps of different shapes cannot be subtracted: {a.shape} and {b.shape}")
    return (a.astype(np.float32) - b.astype(np.float32)).astype(np.float32)


def symmetric_limit(matrices: np.ndarray) -> float:
    """The colour limit m of a signed map drawn from −m to +m (1.0 for an all-zero map, so a
    colour bar still has a range)."""
    m = float(np.abs(matrices).max()) if matrices.size else 0.0
    return m if m > 0 else 1.0


# --- what a head does, in a line a student can use (the `attention` command's summary) ---------


@dataclass(frozen=True)
class HeadSummary:
    head: int
    strongest: tuple[int, int, float]  # (from, to, weight): the largest weight of the map
    strongest_text: tuple[int, int, float] | None  # the same between tokens someone typed; None if no such pair
    special_share: float  # mean over the attending tokens of the weight on [CLS]/[SEP]/<s>/</s> ...


def head_summaries(layer: np.ndarray, special: Sequence[bool]) -> list[HeadSummary]:
    """Per head of (heads, T, T): its strongest link; its strongest link between text tokens
    (many heads' strongest is "[CLS] -> [CLS]", which says only that they rest there); and
    the share of each row's weight that goes to special tokens, averaged over the rows."""
    special_mask = np.asarray(special, dtype=bool)
    text = ~special_mask
    out = []
    for head, matrix in enumerate(np.asarray(layer)):
        row, col = np.unravel_index(int(np.argmax(matrix)), matrix.shape)
        strongest_text = None
        if text.any():
            sub = np.where(text[:, None] & text[None, :], matrix, -np.inf)
            r, c = np.unravel_index(int(np.argmax(sub)), sub.shape)
            strongest_text = (int(r), int(c), float(matrix[r, c]))
        share = float(matrix[:, special_mask].sum(axis=1).mean()) if matrix.size else 0.0
        out.append(HeadSummary(head, (int(row), int(col), float(matrix[row, col])), strongest_text, share))
    return out
