"""Masking that favours rarer words: the draw is weighted sampling without replacement, the
shown tokens follow BERT's 80/10/10, and fine-tuning uses it only when asked."""

from __future__ import annotations

import itertools

import pytest
import torch

from explorer.core.errors import InvalidParameterError
from explorer.engine.finetune import _train_collator, check_params
from explorer.core.finetune_params import FinetuneParams
from explorer.engine.weighted_masking import WeightedMaskCollator, token_log_weights

MASK_ID, VOCAB = 1, 50


class Tokenizer:
    mask_token_id = MASK_ID

    def __len__(self) -> int:
        return VOCAB


TOKENIZER = Tokenizer()


def inclusion_by_enumeration(weights: list[float], k: int) -> list[float]:
    """P(position in the draw) for k successive weighted draws without replacement, exactly."""
    n = len(weights)
    inclusion = [0.0] * n
    for order in itertools.permutations(range(n), k):
        prob, left = 1.0, sum(weights)
        for i in order:
            prob *= weights[i] / left
            left -= weights[i]
        for i in order:
            inclusion[i] += prob
    return inclusion


def test_positions_are_drawn_with_weight_count_to_the_minus_exponent():
    # Token 10 is common, 11 less so, 12..14 rare; [CLS]=2 and [SEP]=3 around them.
    row = {"input_ids": [2, 10, 11, 12, 13, 10, 14, 3], "special_tokens_mask": [1, 0, 0, 0, 0, 0, 0, 1]}
    corpus = [row] + [{"input_ids": [10] * 30 + [11] * 6, "special_tokens_mask": [0] * 36}]
    exponent = 0.7
    log_weights = token_log_weights(corpus, VOCAB, exponent)
    counts = torch.bincount(torch.tensor([t for c in corpus for t in c["input_ids"]]), minlength=VOCAB).double()
    ordinary = row["input_ids"][1:-1]
    expected = inclusion_by_enumeration([float((counts[t] + 1) ** -exponent) for t in ordinary], k=2)

    collate = WeightedMaskCollator(TOKENIZER, probability=1 / 3, log_weights=log_weights, seed=0)
    draws = 20_000
    chosen = torch.zeros(len(row["input_ids"]))
    for _ in range(draws // 500):
        labels = collate([row] * 500)["labels"]
        assert ((labels != -100).sum(dim=1) == 2).all()  # a third of the 6 ordinary tokens in every row
        chosen += (labels != -100).sum(dim=0)
    assert chosen[0] == chosen[-1] == 0  # never [CLS] or [SEP]
    for got, want in zip((chosen[1:-1] / draws).tolist(), expected):
        assert got == pytest.approx(want, abs=0.015)
    assert expected[2] > 2 * expected[0]  # a rare word is masked far more often than the common one


@pytest.mark.parametrize("probability, masks", [(0.5, 2), (0.9, 3), (0.01, 1)])
def test_masks_are_counted_over_ordinary_tokens_only(probability, masks):
    # Two short sentences in one row: [CLS] a b [SEP] [CLS] c [SEP] [SEP]
    row = {"input_ids": [2, 10, 11, 3, 2, 12, 3, 3], "special_tokens_mask": [1, 0, 0, 1, 1, 0, 1, 1]}
    collate = WeightedMaskCollator(TOKENIZER, probability, token_log_weights([row], VOCAB, 0.5), seed=2)
    labels = collate([row] * 300)["labels"]
    assert ((labels != -100).sum(dim=1) == masks).all()  # round(probability x 3), at least one
    assert (labels[:, [0, 3, 4, 6, 7]] == -100).all()


def test_exponent_zero_is_an_even_draw_and_shown_tokens_follow_80_10_10():
    row = {"input_ids": [2] + [10] * 20 + [12] * 20 + [3], "special_tokens_mask": [1] + [0] * 40 + [1]}
    collate = WeightedMaskCollator(TOKENIZER, 0.25, token_log_weights([row], VOCAB, 0.0), seed=1)
    batch = collate([row] * 2000)
    ids = torch.tensor(row["input_ids"]).expand(2000, -1)
    chosen = batch["labels"] != -100
    assert torch.equal(batch["labels"][chosen], ids[chosen])  # the label is the true token
    assert torch.equal(batch["input_ids"][~chosen], ids[~chosen])  # nothing else is touched
    share = chosen[:, 1:-1].float().mean(dim=0)
    assert share.min() > 0.2 and share.max() < 0.3  # every ordinary position about 25%
    shown = batch["input_ids"][chosen]
    masked = (shown == MASK_ID).float().mean()
    kept = (shown == ids[chosen]).float().mean()
    assert masked == pytest.approx(0.8, abs=0.01)
    assert kept == pytest.approx(0.1 + 0.1 / VOCAB, abs=0.01)  # a random token can be the true one


def test_fine_tuning_masks_rarer_words_more_only_when_asked(bert):
    tokenizer = bert.tokenizer
    text = "the cat sat on the mat and the dog ate the bone near the door"
    enc = tokenizer([text] * 64, return_special_tokens_mask=True)
    chunks = [{"input_ids": i, "special_tokens_mask": s} for i, s in zip(enc["input_ids"], enc["special_tokens_mask"])]
    the = tokenizer.convert_tokens_to_ids("the")
    ids = torch.tensor(chunks[0]["input_ids"])

    def share_of_masks_on_the(exponent: float) -> float:
        p = FinetuneParams(corpus="c", out="o", mlm_probability=0.25, rare_word_exponent=exponent)
        collate = _train_collator(tokenizer, p, chunks)
        labels = torch.cat([collate(chunks)["labels"] for _ in range(20)])
        return float((labels == the).sum() / (labels != -100).sum())

    even = float((ids == the).sum() / (len(ids) - 2))
    assert share_of_masks_on_the(0.0) == pytest.approx(even, abs=0.04)  # transformers' own collator
    assert share_of_masks_on_the(1.0) < even / 2


@pytest.mark.parametrize(
    "change, message",
    [({"rare_word_exponent": -0.5}, "exponent"), ({"rare_word_exponent": 0.2, "whole_word": True}, "whole-word")],
)
def test_bad_rare_word_settings_are_refused(tmp_path, change, message):
    corpus = tmp_path / "c.txt"
    corpus.write_text("some text\n")
    with pytest.raises(InvalidParameterError, match=message):
        check_params(FinetuneParams(corpus=str(corpus), out=str(tmp_path / "o"), **change))
