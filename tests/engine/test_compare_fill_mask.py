"""compare_fill_mask: one text, either mask spelling, for two models of different tokenizers."""

from __future__ import annotations

import pytest

from explorer.engine.compare import compare_fill_mask
from explorer.engine.fill_mask import fill_mask


@pytest.mark.parametrize("text", ["Paris is the [MASK] of France.", "Paris is the <mask> of France."])
def test_either_mask_spelling_gives_one_mask_to_each_model(roberta, bert, text):
    compared = compare_fill_mask(roberta, bert, text, top_k=5)
    assert [len(r.masks) for r in compared.results] == [1, 1]
    assert [r.warnings for r in compared.results] == [(), ()] and compared.warnings == ()
    # The mask is the same span of the text as typed, for both.
    assert len({(r.masks[0].char_start, r.masks[0].char_end) for r in compared.results}) == 1
    assert len(compared.agreement) == 1


def test_each_side_is_that_models_fill_mask(roberta, bert):
    text = "The [MASK] sat on the [MASK] ."
    compared = compare_fill_mask(bert, roberta, text, top_k=4)
    assert [r.to_json() for r in compared.results] == [fill_mask(lm, text, 4).to_json() for lm in (bert, roberta)]
