"""Small pictures of the Internals tab's steps, drawn on a matplotlib Figure (no pyplot).

Every function takes the Figure and an InternalsResult (explorer.core.internals: numpy only)
and draws one step: a heatmap of a T × d (or T × D, T × T) matrix with the tokens down the
side, or bars of norms per token.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from explorer.core.colours import PALETTE

EMBEDDING_COLOURS = {  # Okabe & Ito (explorer.core.colours)
    "word": PALETTE.part_word, "position": PALETTE.part_position, "token_type": PALETTE.part_token_type,
    "sum": PALETTE.part_sum, "normalized": PALETTE.part_normalized,
}
MAX_COLUMNS_LABELLED = 40


def _labels(ax: Any, tokens: tuple[str, ...], *, x: bool = False, font: float = 8) -> None:
    ax.set_yticks(range(len(tokens)), tokens, fontsize=font)
    if x:
        ax.set_xticks(range(len(tokens)), tokens, fontsize=font, rotation=90)


def matrix(fig: Figure, values: np.ndarray, tokens: tuple[str, ...], title: str, *, square: bool = False,
           probabilities: bool = False, columns: str = "") -> None:
    """A heatmap: rows are tokens; columns tokens too (square) or the vector's dimensions."""
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    finite = values[np.isfinite(values)]
    if probabilities:
        image = ax.imshow(values, cmap=PALETTE.heatmap_cmap, vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    else:
        top = float(np.abs(finite).max()) if finite.size else 1.0
        image = ax.imshow(values, cmap=PALETTE.difference_cmap, vmin=-top or -1, vmax=top or 1, aspect="auto", interpolation="nearest")
    _labels(ax, tokens, x=square)
    if not square:
        ax.set_xlabel(columns or f"{values.shape[1]} dimensions", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    else:
        ax.set_xlabel("key (looked at)", fontsize=8)
        ax.set_ylabel("query (looking)", fontsize=8)
        if values.shape[0] <= 16:
            for (r, c), v in np.ndenumerate(values):
                ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=6,
                        color=PALETTE.cell_text_light if (probabilities and v < 0.5) else PALETTE.cell_text_dark)
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02).ax.tick_params(labelsize=7)


def mask(fig: Figure, allowed: np.ndarray, tokens: tuple[str, ...], title: str) -> None:
    """0 where a query may look (added to the score), −∞ where it may not."""
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(np.where(allowed, 1.0, 0.0), cmap=PALETTE.mask_cmap, vmin=-0.3, vmax=1.0, aspect="auto", interpolation="nearest")
    _labels(ax, tokens, x=True)
    if allowed.shape[0] <= 24:
        for (r, c), ok in np.ndenumerate(allowed):
            ax.text(c, r, "0" if ok else "−∞", ha="center", va="center", fontsize=7, color=PALETTE.cell_text_dark if ok else PALETTE.cell_text_light)
    ax.set_xlabel("key (looked at)", fontsize=8)
    ax.set_ylabel("query (looking)", fontsize=8)
    ax.set_title(title, fontsize=9)


def token_ids(fig: Figure, result: Any) -> None:
    """Tokens → ids (and the position and token type ids that go with them)."""
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    ax.axis("off")
    rows = list(zip(result.tokens, result.ids, result.position_ids, result.token_type_ids))
    table = ax.table(cellText=[[t, str(i), str(p), str(s)] for t, i, p, s in rows],
                     colLabels=["token", "id", "position id", "token type id"], loc="upper center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.1)
    ax.set_title("tokens → ids (B × S)", fontsize=9)


def embedding_norms(fig: Figure, result: Any) -> None:
    """Per token, the norm of each part: how much does position contribute?"""
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    norms = result.embedding_norms()
    parts = ["word", "position", "token_type", "sum"]
    n = len(result.tokens)
    width = 0.8 / len(parts)
    rows = np.arange(n)
    for k, part in enumerate(parts):
        ax.barh(rows + (k - (len(parts) - 1) / 2) * width, norms[part], height=width,
                color=EMBEDDING_COLOURS[part], label=part.replace("_", " "))
    ax.set_yticks(rows, result.tokens, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("‖vector‖ per token (before LayerNorm; after it every token's norm is ≈ √D × scale)", fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("norm of each embedding part per token", fontsize=9)


def across_layers(fig: Figure, values: np.ndarray, tokens: tuple[str, ...], title: str, rows: list[str],
                  *, cosine: bool) -> None:
    """layers × tokens: a hidden-state norm, or a cosine similarity (−1 … 1)."""
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    if cosine:
        image = ax.imshow(values, cmap=PALETTE.difference_cmap, vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    else:
        image = ax.imshow(values, cmap=PALETTE.heatmap_cmap, aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xticks(range(len(tokens)), tokens, fontsize=8, rotation=90)
    if values.shape[1] <= 24 and values.shape[0] <= 26:
        for (r, c), v in np.ndenumerate(values):
            ax.text(c, r, f"{v:.2f}" if cosine else f"{v:.1f}", ha="center", va="center", fontsize=6)
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02).ax.tick_params(labelsize=7)
