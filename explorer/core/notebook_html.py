"""HTML for results shown inline in Jupyter (`_repr_html_`): pure strings, every text escaped.

No torch, no matplotlib: the attention figure comes in as PNG bytes drawn by explorer.plots.
"""

from __future__ import annotations

import base64
import math
from html import escape
from typing import TYPE_CHECKING

from explorer.core.colours import PALETTE

if TYPE_CHECKING:
    from explorer.core.compare import CompareResult
    from explorer.core.joint import Filling, JointResult, ScoreResult
    from explorer.core.results import AttentionResult, Candidate, FillMaskResult, MaskPrediction

SHARED = PALETTE.shared_bg  # background of a word both models have in their top-k
BAR = PALETTE.score_bar


def _warnings(warnings: tuple[str, ...] | list[str]) -> str:
    return "".join(f'<div style="color:{PALETTE.error}">warning: {escape(w)}</div>' for w in warnings)


def _word(result: FillMaskResult, c: Candidate) -> str:
    """The word as the result's model marks a piece glued to the word before ("##ing", "…ing")."""
    return escape(result.subwords.label(c.text, c.continues_word))


def _score(score: float) -> str:
    """The score and a bar as wide as it is (none for a score that is not a number)."""
    width = round(score * 100) if math.isfinite(score) else 0
    bar = f'<div style="background:{BAR};height:0.6em;width:{width}px"></div>'
    return f'<td style="text-align:right">{score:.4f}</td><td style="width:100px">{bar}</td>'


def _mask_heading(n: int, mask: MaskPrediction) -> str:
    return f"mask {n + 1} (token {mask.index})"


def fill_mask_html(result: FillMaskResult) -> str:
    """The model, its warnings, and one ranked table of candidates per mask."""
    parts = [f"<div><b>{escape(result.model)}</b> on {escape(result.device)}: "
             f"<code>{escape(result.text)}</code></div>", _warnings(result.warnings)]
    for n, mask in enumerate(result.masks):
        rows = "".join(
            f"<tr><td>{rank}.</td><td>{_word(result, c)}</td>{_score(c.score)}</tr>"
            for rank, c in enumerate(mask.candidates, 1)
        )
        parts.append(f"<table><caption>{_mask_heading(n, mask)}</caption>{rows}</table>")
    return "<div>" + "".join(parts) + "</div>"


def compare_html(result: CompareResult) -> str:
    """Per mask: both models' top-k side by side; words both have are shaded."""
    from explorer.core.compare import word

    a, b = result.results
    parts = [f"<div>A: <b>{escape(a.model)}</b> · B: <b>{escape(b.model)}</b> · "
             f"<code>{escape(result.text)}</code></div>",
             _warnings([f"{r.model}: {w}" for r in (a, b) for w in r.warnings] + list(result.warnings))]
    for agree, ma, mb in zip(result.agreement, a.masks, b.masks):
        words_a, words_b = {word(c) for c in ma.candidates}, {word(c) for c in mb.candidates}
        same = "same top-1" if agree.same_top1 else "different top-1"
        rows = []
        for rank in range(max(len(ma.candidates), len(mb.candidates))):
            cells = []
            for r, cands, other in ((a, ma.candidates, words_b), (b, mb.candidates, words_a)):
                if rank >= len(cands):
                    cells.append("<td></td><td></td><td></td>")
                    continue
                c = cands[rank]
                shade = f' style="background:{SHARED}"' if word(c) in other else ""
                cells.append(f"<td{shade}>{_word(r, c)}</td>{_score(c.score)}")
            rows.append(f"<tr><td>{rank + 1}.</td>{''.join(cells)}</tr>")
        parts.append(
            f"<table><caption>mask {agree.index + 1}: {same}, top-k overlap {agree.topk_overlap:.0%}</caption>"
            f"<tr><th></th><th colspan=3>A</th><th colspan=3>B</th></tr>{''.join(rows)}</table>"
        )
    return "<div>" + "".join(parts) + "</div>"


def attention_html(result: AttentionResult, png: bytes | None) -> str:
    """The shape of the weights, the tokens, and the default figure inline."""
    tokens = " ".join(escape(t) for t in result.tokens)
    image = f'<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}"/>' if png else ""
    return (
        f"<div><div><b>{escape(result.model)}</b>: {result.num_layers} layers × {result.num_heads} heads, "
        f"{len(result.tokens)} tokens: <code>{tokens}</code></div>{_warnings(result.warnings)}{image}</div>"
    )


def joint_html(result: JointResult) -> str:
    """The best joint fillings as sentences with their scores, and each mask's own best guess."""
    per_piece = result.max_pieces > 1

    def row(label: str, f: Filling) -> str:
        score = f.per_piece if per_piece else f.score
        parts = " ".join(f"{escape(t)} {p:.2f}" for t, p in zip(f.tokens, f.parts))
        return f'<tr><td>{label}</td><td>{escape(f.text)}</td><td style="text-align:right">{score:.3f}</td><td>{parts}</td></tr>'

    rows = "".join(row(f"{n}.", f) for n, f in enumerate(result.fillings, 1))
    if result.independent is not None:
        rows += row("each mask alone", result.independent)
    return (f"<div><div><b>{escape(result.model)}</b>: <code>{escape(result.text)}</code> · beam {result.beam}, "
            f"{escape(result.order)} order, ranked by {escape(result.ranked_by)}</div>{_warnings(result.warnings)}"
            f"<table><tr><th></th><th>filling</th><th>score</th><th>pieces: log p</th></tr>{rows}</table></div>")


def score_html(result: ScoreResult) -> str:
    """Each sentence's PLL, the preferred one in bold, and its tokens' log p."""
    rows = []
    for n, s in enumerate(result.sentences):
        tokens = " ".join(f"{escape(t)}&nbsp;<small>{v:.2f}</small>" for t, v in zip(s.display or s.tokens, s.token_scores)
                          if v is not None)
        text = f"<b>{escape(s.text)}</b>" if n == result.preferred else escape(s.text)
        rows.append(f'<tr><td>{text}</td><td style="text-align:right">{s.pll:.3f}</td><td>{tokens}</td></tr>')
    return (f"<div><div><b>{escape(result.model)}</b></div>{_warnings(result.warnings)}"
            f"<table><tr><th>sentence</th><th>PLL</th><th>tokens: log p</th></tr>{''.join(rows)}</table></div>")
