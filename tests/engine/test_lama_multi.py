"""Multi-token LAMA facts (`lama --multi-token`) on a tiny model with hand-made facts: objects
of several word pieces decoded jointly, scored against the PLL recomputed from transformers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from explorer.core.errors import InvalidParameterError
from explorer.core.jobs import run_to_end as run
from explorer.core.lama_data import DROP_NOT_ONE_TOKEN, MULTI_TOKEN, SINGLE_TOKEN, read
from explorer.engine.joint import choosable
from explorer.engine.lama import evaluate
from explorer.engine.lama_multi import decode_object

# The tiny vocabulary holds "cat", "dog", "book" but not their plurals: "cats" is "cat ##s".
RECORDS = [
    {"masked_sentences": ["The [MASK] sat on the mat ."], "obj_label": "cat", "id": "one"},
    {"masked_sentences": ["She wrote many [MASK] about the river ."], "obj_label": "books", "id": "two"},
    {"masked_sentences": ["The [MASK] sat on the mat with the dog ."], "obj_label": "cats", "id": "three"},
    {"masked_sentences": ["He has two [MASK] and a cat ."], "obj_label": "dogs", "id": "four"},
]
WORDS = ["cat", "dog", "book", "mat", "house", "cats", "dogs", "books"]


def facts_of(tmp_path: Path, records=RECORDS):
    folder = tmp_path / "data" / "Squad"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    vocab = tmp_path / "data" / "common_vocab_cased.txt"
    vocab.write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    return read(tmp_path / "data", "sentences").facts, vocab


def _pll(lm, ids: list[int], position: int, pieces: tuple[int, ...]) -> float:
    """Mean log p per piece of `pieces` written at the mask, each piece hidden in turn (by hand)."""
    grown = ids[:position] + list(pieces) + ids[position + 1 :]
    parts = []
    for i, t in enumerate(pieces):
        row = list(grown)
        row[position + i] = lm.mask_token_id
        with torch.no_grad():
            logits = lm.model(input_ids=torch.tensor([row])).logits[0, position + i]
        parts.append(float(logits.log_softmax(-1)[t]))
    return sum(parts) / len(parts)


def test_multi_token_objects_are_dropped_by_default_and_decoded_on_request(bert, tmp_path):
    facts, vocab = facts_of(tmp_path)
    plain = run(evaluate(bert, facts, "lama", common_vocab=vocab))
    assert [r.dropped for r in plain.results] == [None, DROP_NOT_ONE_TOKEN, DROP_NOT_ONE_TOKEN, DROP_NOT_ONE_TOKEN]
    multi = run(evaluate(bert, facts, "lama", common_vocab=vocab, multi_token=3, beam=3))
    assert [r.dropped for r in multi.results] == [None, None, None, None]
    assert [r.multi_token for r in multi.results] == [False, True, True, True]
    # The single-token fact is probed exactly as without the option.
    assert multi.results[0] == plain.results[0]
    assert set(multi.by_length) == {SINGLE_TOKEN, MULTI_TOKEN}
    assert multi.by_length[SINGLE_TOKEN].n == 1 and multi.by_length[MULTI_TOKEN].n == 3
    assert multi.overall_facts.n == 4
    data = multi.to_json()
    assert data["multi_token"]["max_pieces"] == 3
    assert data["multi_token"]["by_length"]["multi-token"]["n"] == 3
    assert "multi_token" not in plain.to_json()


def test_a_multi_token_answer_is_the_best_word_by_mean_log_p_per_piece(bert, tmp_path):
    facts, vocab = facts_of(tmp_path)
    report = run(evaluate(bert, facts, "lama", common_vocab=vocab, multi_token=2, beam=4))
    ok = choosable(bert)
    for fact, result in zip(facts[1:], report.results[1:]):
        ids = bert.tokenizer(fact.sentence)["input_ids"]
        position = ids.index(bert.mask_token_id)
        gold = tuple(bert.tokenizer(fact.obj_label, add_special_tokens=False)["input_ids"])
        answer = decode_object(bert, ids, position, gold, ok, max_pieces=2, beam=4)
        assert (result.top_tokens, result.top_scores, result.rank) == (answer.words, answer.scores, answer.rank)
        assert len(result.top_tokens) == len(result.top_scores) > 0
        scores = list(result.top_scores)
        assert scores == sorted(scores, reverse=True)
        # The listed score of each answer is exp(mean log p per piece) of its pieces, by hand.
        for pieces, score in list(zip(answer.pieces, answer.scores))[:4]:
            assert 1 <= len(pieces) <= 2
            assert score == pytest.approx(math.exp(_pll(bert, ids, position, pieces)), rel=1e-3)
        if result.rank is not None and result.rank <= 10:
            assert answer.pieces[result.rank - 1] == gold
        # Right means the best word's pieces are the object's.
        assert result.correct == (answer.pieces[0] == gold)


def test_a_fact_whose_object_is_the_models_best_word_counts_right(bert, tmp_path):
    """Ask first, then write the fact with the model's own best two-piece answer as its object:
    it must count as right at 1, in the multi-token P@1."""
    probe = [{"masked_sentences": ["She wrote many [MASK] about the river ."], "obj_label": "books", "id": "x"}]
    facts, vocab = facts_of(tmp_path, probe)
    first = run(evaluate(bert, facts, "lama", common_vocab=vocab, multi_token=2, beam=3)).results[0]
    best = first.top_tokens[0]
    if len(bert.tokenizer(best, add_special_tokens=False)["input_ids"]) < 2:
        pytest.skip("the model's best word here is one piece")
    facts, vocab = facts_of(tmp_path / "again", [{**probe[0], "obj_label": best}])
    report = run(evaluate(bert, facts, "lama", common_vocab=vocab, multi_token=2, beam=3))
    assert report.results[0].rank == 1 and report.by_length[MULTI_TOKEN].p_at_1 == 1.0


@pytest.mark.parametrize("bad", [dict(protocol="lab", multi_token=3), dict(multi_token=7), dict(multi_token=2, beam=0)])
def test_multi_token_options_are_checked_first(bert, tmp_path, bad):
    facts, vocab = facts_of(tmp_path)
    protocol = bad.pop("protocol", "lama")
    with pytest.raises(InvalidParameterError):
        run(evaluate(bert, facts, protocol, common_vocab=vocab, **bad))


def test_cli_multi_token_json_and_table(bert_dir, tmp_path, capsys):
    from explorer.cli import main

    facts_of(tmp_path)
    data = tmp_path / "data"
    argv = ["lama", str(data), "--probe", "sentences", "--model", str(bert_dir), "--protocol", "lama", "--multi-token",
            "--max-pieces", "2", "--beam", "2"]
    assert main([*argv, "--json", "--out", str(tmp_path / "facts.jsonl")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["multi_token"]["max_pieces"] == 2
    assert {k: v["n"] for k, v in out["multi_token"]["by_length"].items()} == {"single-token": 1, "multi-token": 3}
    records = [json.loads(line) for line in (tmp_path / "facts.jsonl").read_text().splitlines()]
    assert [r.get("multi_token", False) for r in records] == [False, True, True, True]
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "multi-token facts" in table and "single-token facts" in table
    assert main([*argv[:-4], "--max-pieces", "9"]) == 2
