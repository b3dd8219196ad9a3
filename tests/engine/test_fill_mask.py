"""Fill-mask against transformers' own pipeline and a brute-force reference."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import pipeline

from explorer.engine.fill_mask import fill_mask
from explorer.engine.synthetic import WORDS
from explorer.engine.tokens import MaskSpelling, encode

SENTENCES = [
    "Nice to [MASK] you.",
    "The cat sat on the [MASK].",
    "[MASK] is the capital of France.",
    "She wrote a letter to her [MASK] .",
]


def _pipeline_top(lm, text: str, k: int) -> list[list[dict]]:
    pipe = pipeline("fill-mask", model=lm.model, tokenizer=lm.tokenizer, top_k=k)
    out = pipe(text.replace("[MASK]", lm.mask_token))
    return [out] if out and isinstance(out[0], dict) else out


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
@pytest.mark.parametrize("text", SENTENCES)
def test_single_mask_equals_pipeline(lms, arch, text):
    lm = lms[arch]
    ours = fill_mask(lm, text, top_k=10)
    (ref,) = _pipeline_top(lm, text, 10)
    assert len(ours.masks) == 1
    cands = ours.masks[0].candidates
    assert [c.token_id for c in cands] == [r["token"] for r in ref]
    assert [c.token_str for c in cands] == [r["token_str"] for r in ref]
    for c, r in zip(cands, ref):
        assert c.score == pytest.approx(r["score"], abs=1e-5)
    assert ours.warnings == ()


def _brute_force(lm, text: str, k: int) -> list[list[tuple[int, float]]]:
    """Full forward over every position (no head shortcut), softmax at each mask."""
    enc = lm.tokenizer(text.replace("[MASK]", lm.mask_token), return_tensors="pt")
    with torch.no_grad():
        logits = lm.model(**enc).logits[0]
    positions = (enc["input_ids"][0] == lm.mask_token_id).nonzero().flatten().tolist()
    out = []
    for p in positions:
        probs = logits[p].softmax(-1)
        s, i = probs.topk(k)
        out.append(list(zip(i.tolist(), s.tolist())))
    return out


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_several_masks_each_equal_brute_force(lms, arch):
    lm = lms[arch]
    text = "The [MASK] sat on the [MASK] with a [MASK] ."
    ours = fill_mask(lm, text, top_k=7)
    ref = _brute_force(lm, text, 7)
    assert len(ours.masks) == 3
    for mask, ref_mask in zip(ours.masks, ref):
        assert [c.token_id for c in mask.candidates] == [i for i, _ in ref_mask]
        assert [c.score for c in mask.candidates] == pytest.approx([s for _, s in ref_mask], abs=1e-5)
        assert ours.tokenization.ids[mask.index] == lm.mask_token_id
        assert text[mask.char_start : mask.char_end] == "[MASK]"


def test_several_masks_equal_pipeline(bert):
    text = "The [MASK] sat on the [MASK] ."
    ours = fill_mask(bert, text, top_k=5)
    ref = _pipeline_top(bert, text, 5)
    for mask, ref_mask in zip(ours.masks, ref):
        assert [c.token_id for c in mask.candidates] == [r["token"] for r in ref_mask]


def test_no_mask_gives_tokens_and_a_warning(bert):
    result = fill_mask(bert, "The cat sat on the mat.")
    assert result.masks == ()
    assert result.tokenization.tokens[0] == "[CLS]" and "cat" in result.tokenization.tokens
    assert len(result.warnings) == 1 and "No mask" in result.warnings[0]


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_gives_a_warning(bert, text):
    result = fill_mask(bert, text)
    assert result.masks == ()
    assert "empty" in result.warnings[0]


def test_over_long_text_is_cut_with_a_warning(bert):
    text = "[MASK] " + "the cat sat " * 60 + "on the [MASK] ."
    result = fill_mask(bert, text)
    assert len(result.tokenization.tokens) == bert.max_length
    assert result.tokenization.tokens[-1] == "[SEP]"
    assert len(result.masks) == 1 and result.masks[0].index == 1  # the later mask was cut
    assert "cut off" in result.warnings[0] and "1 mask" in result.warnings[0]
    # What survives the cut is predicted exactly as for the cut text itself.
    cut = text[: result.tokenization.offsets[-2][1]]
    assert [c.token_id for c in fill_mask(bert, cut).masks[0].candidates] == [
        c.token_id for c in result.masks[0].candidates
    ]


def test_mask_token_comes_from_the_tokenizer(bert, roberta):
    assert bert.mask_token == "[MASK]" and bert.mask_token_id == bert.tokenizer.mask_token_id
    assert roberta.mask_token == "<mask>" and roberta.mask_token_id == roberta.tokenizer.mask_token_id
    assert bert.mask_token_id != 103 or bert.tokenizer.convert_ids_to_tokens(103) == "[MASK]"
    result = fill_mask(roberta, "Nice to <mask> you.")
    assert result.tokenization.tokens[result.masks[0].index] == "<mask>"


def test_bert_spelling_of_the_mask_works_for_roberta(roberta):
    text = "Nice to [MASK] you. The [MASK]"
    ours = fill_mask(roberta, text)
    native = fill_mask(roberta, text.replace("[MASK]", "<mask>"))
    assert [m.index for m in ours.masks] == [m.index for m in native.masks]
    assert [[c.token_id for c in m.candidates] for m in ours.masks] == [
        [c.token_id for c in m.candidates] for m in native.masks
    ]
    for m in ours.masks:  # offsets point into the text as typed
        assert text[m.char_start : m.char_end] == "[MASK]"
    you = ours.tokenization.tokens.index("Ġyou")
    assert text[slice(*ours.tokenization.offsets[you])] == "you"


def test_top_k_is_clamped_to_the_vocabulary(bert):
    vocab = bert.model.config.vocab_size
    assert len(fill_mask(bert, "the [MASK]", top_k=10**6).masks[0].candidates) == vocab
    assert len(fill_mask(bert, "the [MASK]", top_k=0).masks[0].candidates) == 1


def test_continuation_pieces_say_so(bert):
    cands = fill_mask(bert, "the [MASK]", top_k=bert.model.config.vocab_size).masks[0].candidates
    piece = next(c for c in cands if c.token.startswith("##"))
    assert piece.continues_word and piece.text == piece.token[2:]
    word = next(c for c in cands if c.token == "cat")
    assert not word.continues_word and word.text == "cat"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS + ["[MASK]", ".", ","]), min_size=1, max_size=12), st.sampled_from(["", " ", "  "]))
def test_offsets_map_tokens_back_to_the_typed_text(bert, words, gap):
    text = (" " + gap).join(words)
    tok = encode(bert, text).tokenization
    for token, (start, end), special in zip(tok.tokens, tok.offsets, tok.special):
        if token in ("[CLS]", "[SEP]"):
            assert (start, end) == (0, 0)
        else:
            assert text[start:end] == token.removeprefix("##")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["ab", " ", "[MASK]", "<mask>", "x y"]), max_size=10))
def test_mask_spelling_maps_back(parts):
    text = "".join(parts)
    spelling = MaskSpelling(text, "<mask>")
    assert "[MASK]" not in spelling.text and spelling.text.count("<mask>") == text.count("[MASK]") + text.count("<mask>")
    old = new = 0
    for part in parts:
        new_len = len("<mask>") if part == "[MASK]" else len(part)
        assert spelling.to_original(new) == old
        assert spelling.to_original(new + new_len, is_end=True) == old + len(part)
        old += len(part)
        new += new_len
