"""The layer lens as a small line chart: p(final prediction) after the embeddings and each layer.

Matplotlib's object API on a Figure someone else owns (a Qt canvas in the GUI, Agg for a
file), no pyplot. The rank is written at every point: on a random or early layer the
probability is near 0 and only the rank says how far the prediction still is from the top.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from explorer.core.colours import PALETTE

FINAL_COLOR = PALETTE.lens_final
TRUE_COLOR = PALETTE.lens_true
FONT = 8


def short_names(layer_names: tuple[str, ...]) -> list[str]:
    """Tick labels that fit under 13+ points: "emb", "0", "1", ..."""
    return ["emb" if n == "embeddings" else n.removeprefix("layer ") for n in layer_names]


class LensChart:
    """Draws a LayerLensResult (duck-typed: layer_names, final_probs, final_ranks, ...)."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.final_line: Line2D | None = None
        self.true_line: Line2D | None = None
        self.font_scale = 1.0  # every text × this (the window's zoom)
        self.clear()

    def clear(self, message: str = "") -> None:
        fig = self.figure
        fig.clear()
        self.final_line = self.true_line = None
        self.axes = fig.add_subplot(1, 1, 1)
        self.axes.set_axis_off()
        if message:
            self.axes.text(0.5, 0.5, message, ha="center", va="center", fontsize=(FONT + 1) * self.font_scale, color=PALETTE.plot_message, wrap=True)

    def show(self, lens: Any) -> None:
        fig = self.figure
        fig.clear()
        ax = self.axes = fig.add_subplot(1, 1, 1)
        x = list(range(len(lens.layer_names)))
        final = [float(p) for p in lens.final_probs]
        (self.final_line,) = ax.plot(
            x, final, marker="o", color=FINAL_COLOR, linewidth=1.6, markersize=4,
            label=f"p({lens.final_token}), the final top-1",
        )
        top = max(final)
        self.true_line = None
        if lens.true_probs is not None and lens.true_id != lens.final_id:
            true = [float(p) for p in lens.true_probs]
            (self.true_line,) = ax.plot(
                x, true, marker="s", color=TRUE_COLOR, linestyle="--", linewidth=1.2, markersize=3,
                label=f"p({lens.true_token}), the true token",
            )
            top = max(top, max(true))
        for xi, p, rank in zip(x, final, lens.final_ranks):
            ax.annotate(
                f"#{int(rank)}", (xi, p), textcoords="offset points", xytext=(0, 5),
                ha="center", fontsize=(FONT - 1) * self.font_scale, color=FINAL_COLOR,
            )
        # Near-zero probabilities on a 0-1 axis are a flat line; zoom in, but never past 1.
        ax.set_ylim(0.0, min(1.0, max(0.05, top)) * 1.18)
        ax.set_xlim(-0.4, len(x) - 0.6)
        ax.set_xticks(x)
        font = FONT * self.font_scale
        ax.set_xticklabels(short_names(tuple(lens.layer_names)), fontsize=font)
        ax.tick_params(axis="y", labelsize=font)
        ax.set_xlabel("read after the embeddings (emb), then after layer 0, 1, …", fontsize=font)
        ax.set_ylabel("probability", fontsize=font)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=font - self.font_scale, loc="upper left", frameon=False)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        # Room for two lines of text below (tick labels, the axis label), measured in pixels:
        # a fixed fraction cut the label off in a short chart (the MLM lab at 1366 x 768).
        line_px = font * fig.dpi / 72 * 1.35
        height_px = fig.get_size_inches()[1] * fig.dpi
        fig.subplots_adjust(left=0.13, right=0.98, top=0.95, bottom=min(0.45, (2 * line_px + 10) / height_px))

