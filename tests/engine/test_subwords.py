"""The subword convention ("##", "Ġ", "▁"): decided once per model, checked against the tokenizers.

Three tiny models: BERT (WordPiece), RoBERTa (byte-level BPE) and an XLM-R-style model with a
SentencePiece (Unigram + Metaspace) tokenizer. Every assertion compares with what the model's
own tokenizer does (convert_tokens_to_string, decode), over its whole vocabulary.
"""

from __future__ import annotations

import pytest

from explorer.core.subwords import (
    BPE,
    NONE,
    SENTENCEPIECE,
    WORDPIECE,
    WORDPIECE_CONVENTION,
    SubwordConvention,
)

# WordPiece's decoder "cleans up" a space before these (cat . -> cat.), a cosmetic step of its
# own: BERT reads "cat ." and "cat." alike (punctuation is a word of its own to it).
WORDPIECE_CLEANUP = {".", ",", "!", "?"}


@pytest.fixture(scope="module")
def sp(tmp_path_factory):
    from explorer.engine import models
    from explorer.engine.synthetic import make_model

    return models.load(str(make_model(tmp_path_factory.mktemp("sp") / "xlmr", "xlm-roberta")))


@pytest.fixture(params=["bert", "roberta", "sp"])
def lm(request):
    return request.getfixturevalue(request.param)


EXPECTED = {"bert": (WORDPIECE, "##"), "roberta": (BPE, "Ġ"), "sp": (SENTENCEPIECE, "▁")}


def _name(lm) -> str:
    return {WORDPIECE: "bert", BPE: "roberta", SENTENCEPIECE: "sp"}[lm.subwords.kind]


def _plain_tokens(lm) -> list[str]:
    return [t for t in lm.tokenizer.get_vocab() if t not in lm.tokenizer.all_special_tokens]


@pytest.mark.parametrize("name", ["bert", "roberta", "sp"])
def test_the_convention_is_decided_from_the_vocabulary_and_shipped_in_the_model_info(request, name):
    lm = request.getfixturevalue(name)
    kind, marker = EXPECTED[name]
    assert (lm.subwords.kind, lm.subwords.marker) == (kind, marker)
    assert lm.info().subwords == lm.subwords
    assert lm.subwords.to_json() == {"kind": kind, "marker": marker}
    assert lm.subwords.specials == frozenset(lm.tokenizer.all_special_tokens)


def test_from_vocab_on_vocabularies_without_a_model():
    assert SubwordConvention.from_vocab([]).kind == NONE
    assert SubwordConvention.from_vocab(["the", "cat", "sat", "[UNK]"]).kind == NONE  # whole words
    # GPT-2's vocabulary has runs of '#' ("##", "###"): a few, far fewer than its "Ġ" words.
    gpt2_like = ["##", "###", "####"] + [f"Ġw{i}" for i in range(500)] + [f"w{i}" for i in range(500)]
    assert SubwordConvention.from_vocab(gpt2_like).kind == BPE
    # One stray mark in a large vocabulary does not make a convention.
    assert SubwordConvention.from_vocab(["##x"] + [f"w{i}" for i in range(1000)]).kind == NONE
    # Specials never vote, and are words of their own.
    conv = SubwordConvention.from_vocab(["<s>", "<mask>", "Ġa", "b"], specials=["<s>", "<mask>"])
    assert conv.kind == BPE and not conv.continues("<mask>") and conv.text("<mask>") == "<mask>"
    with pytest.raises(ValueError):
        SubwordConvention("wordpeace")
    assert WORDPIECE_CONVENTION.kind == WORDPIECE


def test_continues_and_text_agree_with_the_tokenizer_for_every_token(lm):
    """After a word, a token that continues it adds its text with no space; any other adds a
    space first: exactly what the tokenizer's own convert_tokens_to_string writes."""
    tok, conv = lm.tokenizer, lm.subwords
    (anchor,) = tok.tokenize("cat")  # a whole word: "cat", "Ġcat", "▁cat"
    before = tok.convert_tokens_to_string([anchor])
    checked = continuing = 0
    for token in _plain_tokens(lm):
        if conv.kind == WORDPIECE and token in WORDPIECE_CLEANUP:
            continue
        joined = tok.convert_tokens_to_string([anchor, token])
        assert joined == before + ("" if conv.continues(token) else " ") + conv.text(token), token
        checked += 1
        continuing += conv.continues(token)
    assert checked > 100 and 0 < continuing < checked


def test_the_shown_form_of_a_token_is_what_the_tokenizer_decodes(lm):
    tok, conv = lm.tokenizer, lm.subwords
    for token in _plain_tokens(lm):
        if conv.kind == WORDPIECE:
            assert conv.display(token) == token  # "##ing" keeps its mark in the token views
        else:
            assert conv.display(token) == (tok.convert_tokens_to_string([token]).strip() or token), token
    for special in tok.all_special_tokens:
        assert conv.display(special) == special and not conv.continues(special)


@pytest.mark.parametrize(
    "text",
    ["the cats walked to Paris", "Nice to meet you", "a grandmother wrote letters", "zorblax qua"],
)
def test_join_matches_the_tokenizers_decoding(lm, text):
    tok = lm.tokenizer
    tokens = tok.tokenize(text)
    assert lm.subwords.join(tokens) == tok.convert_tokens_to_string(tokens).strip()


def test_join_decodes_a_character_split_over_byte_level_tokens(roberta):
    tokens = roberta.tokenizer.tokenize("a café naïve ünïcode")
    assert any(len(t) == 1 and not t.isascii() for t in tokens)  # "é" is two byte symbols
    assert roberta.subwords.join(tokens) == roberta.tokenizer.convert_tokens_to_string(tokens).strip()
    assert roberta.subwords.join(tokens) == "a café naïve ünïcode"


def test_labels_mark_a_continuing_piece_in_the_models_spelling():
    assert SubwordConvention(WORDPIECE).label("ing", True) == "##ing"
    assert SubwordConvention(BPE).label("ing", True) == "…ing"
    assert SubwordConvention(SENTENCEPIECE).label("ing", True) == "…ing"
    assert SubwordConvention(BPE).label("cat", False) == "cat"


def _written(text: str, start: int, end: int, candidate) -> str:
    """What the sentence editor writes for a chosen candidate (SentenceEditor.replace_span with
    glue_left=candidate.continues_word): a continuing piece drops the spaces before the mask."""
    if candidate.continues_word:
        while start > 0 and text[start - 1] in " \t":
            start -= 1
    return text[:start] + candidate.text + text[end:]


@pytest.mark.parametrize("sentence", ["The cat [MASK]", "The cat [MASK] sat on the mat"])
def test_every_candidate_is_written_as_the_model_reads_it(lm, sentence):
    """Write each candidate of the whole vocabulary in place of the mask as the editor does;
    the text must be what the tokenizer decodes from the ids with the mask replaced by it.
    RoBERTa's "he" (no "Ġ") and XLM-R's "s" (no "▁") glue to "cat", as BERT's "##s" does."""
    from explorer.engine.fill_mask import fill_mask

    tok = lm.tokenizer
    result = fill_mask(lm, sentence, top_k=len(tok))
    assert result.subwords == lm.subwords
    (mask,) = result.masks
    ids = list(result.tokenization.ids)
    glued = 0
    for candidate in mask.candidates:
        if candidate.token_id in lm.special_ids:
            continue
        if lm.subwords.kind == WORDPIECE and candidate.token in WORDPIECE_CLEANUP:
            continue
        ids[mask.index] = candidate.token_id
        expected = tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        assert _written(sentence, mask.char_start, mask.char_end, candidate) == expected, candidate
        glued += candidate.continues_word
    assert glued > 0


def test_a_roberta_piece_without_its_space_mark_continues_the_word(roberta):
    from explorer.engine.fill_mask import _candidate

    piece = _candidate(roberta, roberta.tokenizer.convert_tokens_to_ids("he"), 0.5)
    word = _candidate(roberta, roberta.tokenizer.convert_tokens_to_ids("Ġsat"), 0.5)
    assert (piece.text, piece.continues_word) == ("he", True)
    assert (word.text, word.continues_word) == ("sat", False)


def test_a_sentencepiece_mask_does_not_take_the_space_before_it(sp):
    """XLM-R's <mask> swallows the space before it; its span in the text must not, or a word
    written there would stick to the word before."""
    from explorer.engine.tokens import encode

    enc = encode(sp, "The cat <mask>")
    (pos,) = enc.mask_positions
    assert enc.tokenization.offsets[pos] == (8, 14)
