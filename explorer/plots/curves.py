"""A live training curve: lines updated in place, no new artists per step."""

from __future__ import annotations

from matplotlib.figure import Figure

from explorer.core.colours import PALETTE


class LossCurve:
    """Training loss per step, and validation perplexity where it was measured."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.ax = figure.add_subplot(1, 1, 1)
        self.set_font_scale(1.0)
        self.ax.grid(alpha=0.3)
        (self.loss_line,) = self.ax.plot([], [], color=PALETTE.loss_line, linewidth=1.2, label="training loss")
        self.steps: list[int] = []
        self.losses: list[float] = []
        figure.subplots_adjust(left=0.12, right=0.97, top=0.95, bottom=0.18)

    def set_font_scale(self, scale: float) -> None:
        """Labels and ticks at the window's zoom."""
        self.ax.set_xlabel("step", fontsize=8 * scale)
        self.ax.set_ylabel("training loss", fontsize=8 * scale)
        self.ax.tick_params(labelsize=7 * scale)

    def clear(self) -> None:
        self.steps, self.losses = [], []
        self.loss_line.set_data([], [])
        self.ax.relim()

    def add(self, step: int, loss: float) -> None:
        self.steps.append(step)
        self.losses.append(loss)
        self.loss_line.set_data(self.steps, self.losses)
        self.ax.relim()
        self.ax.autoscale_view()
