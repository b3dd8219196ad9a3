"""Every colour the app draws with, by the role it plays, declared once.

Qt-free and torch-free, so that the matplotlib figures (drawn by the GUI and by the CLI alike)
and the Qt widgets (through explorer.qt.widgets.style) take their colours from one place. A
role names what a colour means ("a wrong answer"), not what it looks like ("red"): a
high-contrast or colour-blind-safe palette is then another Palette with the same roles.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# Values that two roles share today, written once. They are separate roles because a
# palette for a projector or for colour-blind readers may well part them.
_CRIMSON = "#b00020"  # an error message
_GREY_777 = "#777777"  # text that matters less: iteration counters, facts not yet run
# Right and wrong are Okabe & Ito's bluish green and vermillion, which readers with the common
# colour-vision deficiencies tell apart (red against green they often cannot); the views also
# say it in words or marks (✓ / ✗, "right" / "wrong" in the legend).
_RIGHT_TINT = "#c7eadf"  # behind a right prediction, and behind the true token's row in the lens
_STRAW = "#fde7b0"  # behind a masked token, in the token strip and the MLM lab


@dataclass(frozen=True)
class Palette:
    """Colour roles as "#rrggbb" strings, and the colormaps of the heatmaps by name."""

    # --- text ----------------------------------------------------------------------------
    error: str = _CRIMSON  # a message that says something went wrong
    wrong: str = "#c04000"  # a wrong answer (a LAMA fact the model missed): vermillion, darkened for text
    correct: str = "#00785a"  # a right answer: bluish green, darkened for text
    muted: str = _GREY_777  # secondary text: iteration counters, facts not yet run
    note: str = "#555555"  # captions and explanations under a result
    special_token: str = "#8a8a8a"  # [CLS], [SEP] and the like, which no one typed
    mask_text: str = "#9a9a9a"  # a mask still to be filled (generation)
    seed: str = "#1f4e79"  # words the person gave as the seed of a generation
    # --- token highlights (backgrounds) --------------------------------------------------
    changed_bg: str = "#ffd866"  # a token that changed in this generation step
    resampled_bg: str = "#e6eefa"  # sampled this step, but drew the same token
    mask_bg: str = _STRAW  # a position replaced by the mask token
    random_bg: str = "#ead3e8"  # a position replaced by a random token (MLM lab): reddish purple, apart from wrong
    kept_bg: str = "#cfe3fb"  # a position kept as it was, but still predicted (MLM lab)
    right_bg: str = _RIGHT_TINT  # a right prediction; the true token's row in the lens
    wrong_bg: str = "#f8cfb9"  # a wrong prediction (vermillion tint)
    final_bg: str = "#dbe9f8"  # the final top-1's row in the layer lens
    # --- banners across the top of the window --------------------------------------------
    error_banner_bg: str = "#fdecea"
    error_banner_border: str = "#f5c2c0"
    demo_banner_bg: str = "#fff8e1"
    demo_banner_border: str = "#f0d48a"
    # --- plots ---------------------------------------------------------------------------
    lens_final: str = "#1f77b4"  # p(final top-1) by layer
    lens_true: str = "#2ca02c"  # p(true token) by layer
    plot_message: str = "#666666"  # "nothing to show yet" written on an empty chart
    loss_line: str = "#2b5797"  # the training loss curve
    # --- two models side by side (compare mode) ------------------------------------------
    compare_a: str = "#0072b2"  # the main model (Okabe & Ito blue: safe for colour-blind readers)
    compare_b: str = "#e69f00"  # the model it is compared with (Okabe & Ito orange)
    bar_trough: str = "#e6e6e6"  # behind a probability bar drawn in a model's colour
    agree: str = "#009e73"  # both models give the same answer (Okabe & Ito bluish green)
    disagree: str = "#d55e00"  # they differ (Okabe & Ito vermillion)
    shared_bg: str = "#e3f2e1"  # notebook HTML: a word both models have in their top-k
    score_bar: str = "#4c72b0"  # notebook HTML: a guess's probability bar
    # --- the Internals tab (lab 002) -----------------------------------------------------
    part_word: str = "#0072b2"  # the word (token) embedding's share (Okabe & Ito blue)
    part_position: str = "#e69f00"  # the position embedding's (orange)
    part_token_type: str = "#009e73"  # the token type (segment) embedding's (bluish green)
    part_sum: str = "#999999"  # their sum
    part_normalized: str = "#cc79a7"  # after LayerNorm (reddish purple)
    cell_text_dark: str = "#000000"  # a number written on a light heatmap cell
    cell_text_light: str = "#ffffff"  # a number written on a dark one
    # --- colormaps (matplotlib names, not colours) ---------------------------------------
    heatmap_cmap: str = "viridis"  # attention weights, 0 to 1
    difference_cmap: str = "RdBu_r"  # a signed difference, centred on 0
    mask_cmap: str = "Greys_r"  # an attention mask: allowed light, masked dark (Internals)

    def colours(self) -> dict[str, str]:
        """Role -> "#rrggbb", for every role that is a colour (the colormaps left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.endswith("_cmap")}

    def colormaps(self) -> dict[str, str]:
        """Role -> matplotlib colormap name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name.endswith("_cmap")}


PALETTE = Palette()


# Presentation mode's window colours (Qt palette roles by name): black on white with a dark
# blue highlight, what a washed-out projector still shows.
HIGH_CONTRAST: dict[str, str] = {
    "Window": "#ffffff",
    "WindowText": "#000000",
    "Base": "#ffffff",
    "AlternateBase": "#f2f2f2",
    "Text": "#000000",
    "Button": "#ffffff",
    "ButtonText": "#000000",
    "Highlight": "#003c8f",
    "HighlightedText": "#ffffff",
    "ToolTipBase": "#ffffff",
    "ToolTipText": "#000000",
}
