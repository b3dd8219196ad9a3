"""LAMA reading and evaluation on a small LAMA folder written here, against brute force."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from explorer.core import lama_data
from explorer.core.jobs import collect as run
from explorer.engine.lama import evaluate
from explorer.core.lama_data import DROP_NOT_COMMON, DROP_NOT_ONE_TOKEN, DROP_RATERS
from explorer.paths import LAMA_SAMPLE


def write_jsonl(path: Path, lines: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


@pytest.fixture
def lama_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_jsonl(root / "relations.jsonl", [
        {"relation": "P19", "template": "[X] was born in [Y] .", "label": "place of birth"},
        {"relation": "P36", "template": "The capital of [X] is [Y] .", "label": "capital"},
    ])
    write_jsonl(root / "common_vocab_cased.txt", [])
    (root / "common_vocab_cased.txt").write_text("\n".join(["Paris", "London", "Berlin", "France", "cat", "dog"]) + "\n")
    write_jsonl(root / "TREx" / "P19.jsonl", [
        {"uuid": "t1", "sub_label": "Nice", "obj_label": "Paris", "predicate_id": "P19",
         "evidences": [{"masked_sentence": "Nice was born in [MASK] long ago."}]},
        {"uuid": "t2", "sub_label": "Nice", "obj_label": "Paris", "predicate_id": "P19",  # same fact again
         "evidences": [{"masked_sentence": "Nice was born in [MASK] ."}]},
        {"uuid": "t3", "sub_label": "She", "obj_label": "Germany", "predicate_id": "P19",  # not in the common vocab
         "evidences": [{"masked_sentence": "She was born in [MASK] ."}]},
        "{not json",
        {"uuid": "t5", "sub_label": "He", "predicate_id": "P19"},  # no obj_label
    ])
    write_jsonl(root / "TREx" / "P36.jsonl", [
        {"uuid": "c1", "sub_label": "France", "obj_label": "Paris", "predicate_id": "P36", "evidences": []},
        {"uuid": "c2", "sub_label": "England", "obj_label": "London", "predicate_id": "P36", "evidences": []},
        {"uuid": "c3", "sub_label": "Germany", "obj_label": "Zorblax", "predicate_id": "P36", "evidences": []},  # not one token
    ])
    write_jsonl(root / "Google_RE" / "place_of_birth_test.jsonl", [
        {"sub_label": "He", "obj_label": "London", "uuid": "g1", "pred": "/people/person/place_of_birth",
         "masked_sentences": ["He was born in [MASK] ."], "judgments": [{"judgment": "yes"}, {"judgment": "yes"}]},
        {"sub_label": "They", "obj_label": "Berlin", "uuid": "g2", "pred": "/people/person/place_of_birth",
         "masked_sentences": ["They lived in [MASK] ."], "judgments": [{"judgment": "no"}, {"judgment": "no"}, {"judgment": "yes"}]},
    ])
    write_jsonl(root / "Squad" / "test.jsonl", [
        {"masked_sentences": ["The cat sat on the [MASK] ."], "obj_label": "mat", "id": "s1", "sub_label": "Squad"},
        {"masked_sentences": ["The dog sat on the mat ."], "obj_label": "mat", "id": "s2", "sub_label": "Squad"},  # no mask
        {"masked_sentences": ["A [MASK] is a [MASK] ."], "obj_label": "dog", "id": "s3", "sub_label": "Squad"},
    ])
    return root


def test_reads_every_form_with_templates_and_reports_broken_lines(lama_dir):
    data = lama_data.read(lama_dir)
    by_id = {f.id: f for f in data.facts}
    assert by_id["t1"].sentence == "Nice was born in [MASK] ." and by_id["t1"].relation == "P19"
    assert "t2" not in by_id  # a (subject, object) pair is probed once from its template
    assert by_id["c1"].sentence == "The capital of France is [MASK] ."
    assert by_id["g1"].relation == "place_of_birth" and by_id["g1"].sentence == "He was born in [MASK] ."
    assert by_id["g2"].raters_reject and not by_id["g1"].raters_reject
    assert by_id["s1"].relation == "Squad" and by_id["s1"].sentence == "The cat sat on the [MASK] ."
    skipped = {(Path(s.file).name, s.line): s.reason for s in data.skipped}
    assert skipped[("P19.jsonl", 4)].startswith("not valid JSON")
    assert skipped[("P19.jsonl", 5)] == "no obj_label"
    assert skipped[("test.jsonl", 2)] == "no [MASK] in the sentence"
    assert sorted(data.relations) == ["P19", "P36", "Squad", "place_of_birth"]


def test_original_sentences_instead_of_templates(lama_dir):
    data = lama_data.read(lama_dir, probe="sentences")
    by_id = {f.id: f for f in data.facts}
    assert by_id["t1"].sentence == "Nice was born in [MASK] long ago."
    assert by_id["t2"].sentence == "Nice was born in [MASK] ."
    assert by_id["g2"].sentence == "They lived in [MASK] ."
    assert any(s.reason.startswith("no masked sentence") for s in data.skipped)  # P36 has no evidence


def test_one_subset_or_one_file(lama_dir):
    assert {f.relation for f in lama_data.read(lama_dir / "TREx").facts} == {"P19", "P36"}
    assert [f.id for f in lama_data.read(lama_dir / "TREx" / "P36.jsonl").facts] == ["c1", "c2", "c3"]
    with pytest.raises(lama_data.LamaPathError, match="does not exist"):
        lama_data.read(lama_dir / "missing")


def test_the_shipped_squad_subset_has_all_305_questions():
    data = lama_data.read(LAMA_SAMPLE)
    assert len(data.facts) == 305 and data.skipped == ()
    assert data.facts[0].obj_label == "gold" and data.relations == ["Squad"]


def brute_force(lm, fact, candidates=None):
    """One sentence at a time, the lab's way: full forward, softmax at the first mask."""
    text = fact.sentence.replace("[MASK]", lm.mask_token)
    enc = lm.tokenizer(text, return_tensors="pt", truncation=True, max_length=lm.max_length)
    with torch.no_grad():
        logits = lm.model(**enc).logits[0]
    pos = (enc["input_ids"][0] == lm.mask_token_id).nonzero()[0, 0]
    row = logits[pos]
    if candidates is not None:
        row = row.masked_fill(~candidates, float("-inf"))
    vocab = lm.tokenizer.get_vocab()
    gold = vocab.get(fact.obj_label)
    if gold is None or (candidates is not None and not candidates[gold]):
        return None, row.topk(10).indices.tolist()
    return int((row > row[gold]).sum()) + 1, row.topk(10).indices.tolist()


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_lab_protocol_equals_brute_force(bert, lama_dir, batch_size):
    data = lama_data.read(lama_dir)
    report, steps = run(evaluate(bert, data.facts, "lab", batch_size=batch_size))
    assert steps[-1].done == steps[-1].total == len(data.facts)
    for fact, result in zip(data.facts, report.results):
        rank, top = brute_force(bert, fact)
        assert result.dropped is None
        assert result.rank == rank
        assert list(result.top_tokens) == bert.tokenizer.convert_ids_to_tokens(top)
    # Metrics from the ranks, by hand.
    ranks = {f.id: r.rank for f, r in zip(data.facts, report.results)}
    p19 = [ranks["t1"], ranks["t3"]]
    assert report.relations["P19"].p_at_1 == sum(r == 1 for r in p19) / 2
    assert report.relations["P19"].mrr == pytest.approx(sum(1 / r for r in p19 if r) / 2)
    assert report.relations["P36"].n == 3  # the gold that is not one token counts, as a miss
    assert report.overall.p_at_10 == pytest.approx(sum(s.p_at_10 for s in report.relations.values()) / 4)
    all_ranks = [r.rank for r in report.results]
    assert report.overall_facts.p_at_10 == pytest.approx(sum(1 for r in all_ranks if r and r <= 10) / len(all_ranks))
    assert report.dropped == {}


def test_lama_protocol_restricts_and_drops(bert, lama_dir):
    data = lama_data.read(lama_dir)
    report, _ = run(evaluate(bert, data.facts, "lama", common_vocab=lama_dir / "common_vocab_cased.txt"))
    why = {f.id: r.dropped for f, r in zip(data.facts, report.results)}
    assert why["t3"] == DROP_NOT_COMMON  # Germany is a token of the model, but not common
    assert why["c3"] == DROP_NOT_ONE_TOKEN
    assert why["g2"] == DROP_RATERS
    assert why["s1"] == DROP_NOT_COMMON  # "mat" is not in this common vocabulary
    assert report.dropped == {DROP_NOT_COMMON: 2, DROP_NOT_ONE_TOKEN: 1, DROP_RATERS: 1}
    vocab = bert.tokenizer.get_vocab()
    candidates = torch.zeros(bert.model.config.vocab_size, dtype=torch.bool)
    candidates[[vocab[w] for w in ["Paris", "London", "Berlin", "France", "cat", "dog"]]] = True
    for fact, result in zip(data.facts, report.results):
        if result.dropped is None:
            rank, top = brute_force(bert, fact, candidates)
            assert result.rank == rank <= 6
            assert set(result.top_tokens) == {"Paris", "London", "Berlin", "France", "cat", "dog"}
    assert report.overall.n == 5  # t1, c1, c2, g1, s3


def test_dropped_facts_are_handed_over_before_the_first_batch(bert, lama_dir):
    data = lama_data.read(lama_dir)
    gen = evaluate(bert, data.facts, "lama", common_vocab=lama_dir / "common_vocab_cased.txt", batch_size=1)
    first = next(gen)
    gen.close()  # a Stop right after: the view still knows which facts were dropped and why
    assert {data.facts[r.index].id: r.dropped for r in first.payload} == {
        "t3": DROP_NOT_COMMON, "c3": DROP_NOT_ONE_TOKEN, "g2": DROP_RATERS, "s1": DROP_NOT_COMMON
    }


def test_uncased_models_find_cased_objects(demo_lm):
    """LAMA's objects are cased ("Paris"); an uncased model's vocabulary has "paris"."""
    from explorer.engine.lama import Vocabulary
    from explorer.core.lama_data import Fact

    vocab = Vocabulary(demo_lm)
    assert vocab.token_id("Paris") == demo_lm.tokenizer.convert_tokens_to_ids("paris")
    fact = Fact("1", "Squad", "Squad", "The capital of France is [MASK] .", "Paris")
    for protocol in ("lab", "lama"):
        report, _ = run(evaluate(demo_lm, [fact], protocol))
        (result,) = report.results
        assert result.rank is not None and result.dropped is None, protocol
