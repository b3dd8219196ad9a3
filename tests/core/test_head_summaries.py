"""The `attention` command's per-head summary, against a brute force over every cell."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.cli import main
from explorer.core.attention_math import head_summaries


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(2, 9), st.integers(0, 2**32 - 1))
def test_each_heads_links_and_special_share_match_a_brute_force(heads, t, seed):
    rng = np.random.default_rng(seed)
    raw = rng.random((heads, t, t))
    layer = raw / raw.sum(axis=-1, keepdims=True)  # rows sum to 1, as attention does
    special = [i in (0, t - 1) for i in range(t)]
    for head, summary in enumerate(head_summaries(layer, special)):
        m = layer[head]
        cells = [(m[r, c], r, c) for r in range(t) for c in range(t)]
        best = max(cells)
        assert summary.strongest == (best[1], best[2], best[0])
        text = [cell for cell in cells if not special[cell[1]] and not special[cell[2]]]
        if text:
            w, r, c = max(text)
            assert summary.strongest_text == (r, c, w)
        else:
            assert summary.strongest_text is None
        share = sum(sum(m[r, c] for c in range(t) if special[c]) for r in range(t)) / t
        assert abs(summary.special_share - share) < 1e-9


def test_the_command_says_each_heads_text_link_and_its_rest_on_specials(capsys, bert_dir):
    assert main(["attention", "The cat sat on the mat.", "--model", str(bert_dir)]) == 0
    out = capsys.readouterr().out
    head_lines = [line for line in out.splitlines() if line.strip().startswith("head")]
    assert len(head_lines) == 12
    assert all("|  text: " in line and "on specials" in line for line in head_lines), out
