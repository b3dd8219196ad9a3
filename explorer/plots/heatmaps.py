"""Attention heatmaps: a grid of heads, or one large map with every token labelled.

Text is what costs (hundreds of tick labels take seconds), so a figure is built once per
sentence and layout; switching layers or views only swaps image data (`update`), which a
Qt canvas can blit in a few tens of milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import MouseEvent
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from explorer.core.attention_math import symmetric_limit
from explorer.core.colours import PALETTE

CMAP = PALETTE.heatmap_cmap
DIFFERENCE_CMAP = PALETTE.difference_cmap  # signed maps (one model minus another), centred on 0
MIN_LABEL_PX = 9.0  # closer than this, tick labels overlap and cannot be read
GRID_FONT = 7
DETAIL_FONT = 8


def label_step(count: int, length_px: float, font_scale: float = 1.0) -> int:
    """Label every n-th token so that labels stay at least MIN_LABEL_PX apart (more, in
    proportion, when the labels are larger)."""
    if count <= 0:
        return 1
    return max(1, math.ceil(count * MIN_LABEL_PX * font_scale / max(length_px, 1.0)))


@dataclass(frozen=True)
class Cell:
    panel: int  # which heatmap (head) in the figure
    row: int  # the token attending (query)
    col: int  # the token attended to (key)
    weight: float


class Heatmaps:
    """n heatmaps of one token sequence in a rows x cols grid on a matplotlib Figure."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.axes: list[Axes] = []
        self.images: list[AxesImage] = []
        self.matrices: np.ndarray = np.zeros((0, 0, 0), dtype=np.float32)
        self.tokens: tuple[str, ...] = ()
        self._key: tuple | None = None
        self._colorbar = None
        self.signed = False
        self.font_scale = 1.0  # labels and titles × this (the window's zoom)

    def show(
        self,
        matrices: np.ndarray,
        tokens: Sequence[str],
        titles: Sequence[str],
        layout: tuple[int, int],
        *,
        shared_scale: bool = True,
        detail: bool = False,
        signed: bool = False,
    ) -> bool:
        """Show (n, T, T) matrices. Returns True when the figure was rebuilt (a full draw is
        needed) and False when only image data changed (a blit is enough).

        signed: the maps are differences: a diverging colormap with limits symmetric around 0
        (shared, or each map's own), so 0 is the same neutral colour in every map."""
        n = matrices.shape[0]
        key = (n, tuple(tokens), tuple(layout), tuple(titles), detail, self._size_key(), self.font_scale)
        rebuilt = key != self._key
        if rebuilt:
            self._build(n, list(tokens), list(titles), layout, detail)
            self._key = key
        self.matrices = matrices
        self.signed = signed
        if signed:
            top = symmetric_limit(matrices)
            for image, matrix in zip(self.images, matrices):
                image.set_data(matrix)
                image.set_cmap(DIFFERENCE_CMAP)
                m = top if shared_scale else symmetric_limit(matrix)
                image.set_clim(-m, m)
            return rebuilt
        top = float(matrices.max()) if matrices.size else 1.0
        for image, matrix in zip(self.images, matrices):
            image.set_data(matrix)
            image.set_cmap(CMAP)
            vmax = top if shared_scale else float(matrix.max()) if matrix.size else 1.0
            image.set_clim(0.0, vmax if vmax > 0 else 1.0)
        return rebuilt

    def _size_key(self) -> tuple[int, int]:
        w, h = self.figure.get_size_inches() * self.figure.dpi
        return int(w) // 40, int(h) // 40  # rebuild labels only when the size really changes

    def _build(self, n: int, tokens: list[str], titles: list[str], layout: tuple[int, int], detail: bool) -> None:
        fig = self.figure
        fig.clear()
        self._colorbar = None
        self.tokens = tuple(tokens)
        rows, cols = layout
        t = len(tokens)
        fig_w, fig_h = fig.get_size_inches() * fig.dpi
        font = (DETAIL_FONT if detail else GRID_FONT) * self.font_scale
        # Room for the longest label that will be shown, in pixels -> figure fraction.
        longest = max((len(s) for s in tokens), default=1)
        # A character is about 0.62 em wide; an em is `font` points, dpi / 72 pixels each.
        margin_px = min(12 + 0.62 * font * fig.dpi / 72 * longest, 240) if t else 12
        if detail:
            margin_px += 18  # the axis titles
        left = margin_px / fig_w
        bottom = margin_px / fig_h
        right = 0.92 if detail else 0.99
        fig.subplots_adjust(left=left, bottom=bottom, right=right, top=0.95, wspace=0.08, hspace=0.18)
        grid = fig.subplots(rows, cols, squeeze=False)
        self.axes = [ax for row in grid for ax in row][:n]
        for ax in [ax for row in grid for ax in row][n:]:
            ax.set_visible(False)
        cell_px = min(fig_w * (right - left) / cols, fig_h * (0.95 - bottom) / rows)
        # Labels are `font` points: at a higher dpi (a 150% screen) they take more pixels too.
        step = label_step(t, cell_px, self.font_scale * fig.dpi / 100)
        positions = list(range(0, t, step))
        self.images = []
        for i, ax in enumerate(self.axes):
            image = ax.imshow(
                np.zeros((max(t, 1), max(t, 1)), dtype=np.float32),
                cmap=CMAP,
                vmin=0.0,
                vmax=1.0,
                interpolation="nearest",
                aspect="equal",
            )
            self.images.append(image)
            ax.set_title(titles[i] if i < len(titles) else "", fontsize=font + 1, pad=2)
            first_col = i % cols == 0
            last_row = i // cols == rows - 1 or i + cols >= n
            show_labels = detail or step <= 3  # sparser labels in a small grid cell say nothing
            ax.set_yticks(positions if first_col and show_labels else [])
            ax.set_yticklabels([tokens[p] for p in positions] if first_col and show_labels else [], fontsize=font)
            ax.set_xticks(positions if last_row and show_labels else [])
            ax.set_xticklabels(
                [tokens[p] for p in positions] if last_row and show_labels else [], fontsize=font, rotation=90
            )
            ax.tick_params(length=0, pad=1)
        if detail and len(self.axes) == 1:
            self.axes[0].set_ylabel("token attending (query)", fontsize=font)
            self.axes[0].set_xlabel("token attended to (key)", fontsize=font)
        if detail and self.images:
            # The colour bar hangs on the map itself (not on the figure's right edge), and the
            # pair is centred: a lone map in a wide view sat in its right half, the export too.
            from mpl_toolkits.axes_grid1 import make_axes_locatable

            ax = self.axes[0]
            ax.set_anchor("C")
            bar_axes = make_axes_locatable(ax).append_axes("right", size="4%", pad=0.15)
            self._colorbar = fig.colorbar(self.images[0], cax=bar_axes)
            self._colorbar.ax.tick_params(labelsize=font)

    def cell_at(self, event: MouseEvent) -> Cell | None:
        """The head and the (from, to) cell under the mouse, if any."""
        if event.inaxes is None or event.xdata is None or event.ydata is None:
            return None
        try:
            panel = self.axes.index(event.inaxes)
        except ValueError:
            return None
        t = len(self.tokens)
        col, row = int(round(event.xdata)), int(round(event.ydata))
        if not (0 <= row < t and 0 <= col < t) or panel >= len(self.matrices):
            return None
        return Cell(panel, row, col, float(self.matrices[panel, row, col]))

    def describe(self, cell: Cell) -> str:
        value = f"{cell.weight:+.3f}" if self.signed else f"{cell.weight:.3f}"
        return f"{self.tokens[cell.row]} → {self.tokens[cell.col]}: {value}"


def render_layer(
    weights: np.ndarray,
    tokens: Sequence[str],
    layer: int,
    path: str,
    *,
    title: str = "",
) -> None:
    """Write one layer's grid of heads to PNG or SVG (by the file's suffix), without Qt."""
    layer_figure(weights, tokens, layer, title=title).savefig(path)


def layer_figure(
    weights: np.ndarray,
    tokens: Sequence[str],
    layer: int,
    head: int | None = None,
    *,
    title: str = "",
) -> Figure:
    """One layer of (layers, heads, T, T) weights on an Agg canvas: the grid of heads, or
    one head large with every token labelled. Used by the CLI and notebooks."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from explorer.core.attention_math import grid_shape

    heads = weights.shape[1]
    if head is None:
        rows, cols = grid_shape(heads)
        fig = Figure(figsize=(3.2 * cols, 3.2 * rows + 0.4), dpi=100)
        FigureCanvasAgg(fig)
        Heatmaps(fig).show(weights[layer], tokens, [f"head {h}" for h in range(heads)], (rows, cols))
    else:
        fig = Figure(figsize=(6.4, 6.0), dpi=100)
        FigureCanvasAgg(fig)
        Heatmaps(fig).show(weights[layer, head : head + 1], tokens, [f"head {head}"], (1, 1), detail=True)
    fig.suptitle(title or f"layer {layer}", fontsize=10)
    return fig
