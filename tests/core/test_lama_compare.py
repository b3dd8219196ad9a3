"""Comparing two models' LAMA reports (explorer.core.lama_compare) against a brute force over
hand-made reports: facts matched by identity in any order, facts one model dropped or lacks
counted apart, P@1 over the facts both scored, B - A, disagreements, the export."""

from __future__ import annotations

import csv
import json
from fractions import Fraction

import jsonlines
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.errors import InvalidParameterError
from explorer.core.lama_compare import LamaComparison, write_comparison
from explorer.core.lama_data import DROP_NOT_COMMON, DROP_NOT_ONE_TOKEN, Fact, FactResult, summarise

# What a person reads for each token: the tokenizers' word-start marks go, case does not count.
WORD = {"Paris": "paris", "ĠParis": "paris", "▁paris": "paris", "paris": "paris",
        "London": "london", "ĠLondon": "london", "Rome": "rome", "##ome": "##ome"}

# Distinct facts, and twins: the same relation, subject, object and sentence under other ids.
POOL = [
    Fact("a", "P19", "TREx", "Nice was born in [MASK] .", "Paris", "Nice", True),
    Fact("b", "P19", "TREx", "Bob was born in [MASK] .", "Rome", "Bob", True),
    Fact("c", "P36", "TREx", "The capital of France is [MASK] .", "Paris", "France", True),
    Fact("d", "P36", "TREx", "The capital of Italy is [MASK] .", "Rome", "Italy", True),
    Fact("e", "Squad", "Squad", "The cat sat on the [MASK] .", "London"),
    Fact("e2", "Squad", "Squad", "The cat sat on the [MASK] .", "London"),  # twin of e
    Fact("f", "Squad", "Squad", "The cat sat on the [MASK] .", "Paris"),  # same sentence, other object
    Fact("g", "P19", "TREx", "Nice was born in [MASK] .", "Paris", "Nice", False),  # the same as a, by identity
    Fact("h", "ConceptNet", "ConceptNet", "Birds can [MASK] .", "fly"),
]
KEY = {f.id: (f.relation, f.sub_label, f.obj_label, f.sentence) for f in POOL}

answer = st.tuples(st.one_of(st.integers(1, 30), st.none(), st.sampled_from([DROP_NOT_ONE_TOKEN, DROP_NOT_COMMON])),
                   st.sampled_from(sorted(WORD)))


def fact_result(i: int, outcome: int | str | None, top: str) -> FactResult:
    if isinstance(outcome, str):
        return FactResult(i, (), (), None, outcome)
    return FactResult(i, (top, "Rome"), (0.6, 0.1), outcome)


def report(model: str, items: list[tuple[Fact, tuple]]) -> object:
    facts = [f for f, _ in items]
    results = [fact_result(i, *a) for i, (_, a) in enumerate(items)]
    return summarise(model, "lama", facts, results)


def brute_force(a, b) -> dict:
    """Pairs found by scanning B for the first unused fact with A's identity; then the
    figures counted by hand, as exact fractions."""
    used = [False] * len(b.facts)
    pairs, only_a = [], 0
    for fa, ra in zip(a.facts, a.results):
        for j, fb in enumerate(b.facts):
            if not used[j] and KEY[fa.id] == KEY[fb.id]:
                used[j] = True
                pairs.append((fa, ra, b.results[j]))
                break
        else:
            only_a += 1
    both = [(f, ra, rb) for f, ra, rb in pairs if ra.dropped is None and rb.dropped is None]
    relations = {}
    for name in sorted({f.relation for f in (*a.facts, *b.facts)}):
        here = [(ra, rb) for f, ra, rb in both if f.relation == name]
        if not here:
            relations[name] = ([None, None], None, 0)
            continue
        p = [Fraction(sum(r[i].rank == 1 for r in here), len(here)) for i in (0, 1)]
        relations[name] = ([float(p[0]), float(p[1])], float(p[1]) - float(p[0]), len(here))
    scored = [v for v in relations.values() if v[2]]
    overall = [sum(Fraction(v[0][i]) for v in scored) / len(scored) if scored else None for i in (0, 1)]
    disagree = sum(1 for _, ra, rb in both if (ra.rank == 1) != (rb.rank == 1) or WORD[ra.top_tokens[0]] != WORD[rb.top_tokens[0]])
    dropped = [{}, {}]
    for _, ra, rb in pairs:
        for i, r in enumerate((ra, rb)):
            if r.dropped:
                dropped[i][r.dropped] = dropped[i].get(r.dropped, 0) + 1
    return {
        "relations": relations,
        "overall": overall,
        "compared": len(both),
        "facts_p_at_1": [Fraction(sum(r[i].rank == 1 for r in [(ra, rb) for _, ra, rb in both]), len(both)) if both else None for i in (0, 1)],
        "disagreements": disagree,
        "dropped": dropped,
        "only_in": [only_a, used.count(False)],
    }


@settings(max_examples=80, deadline=None)
@given(
    in_a=st.lists(st.tuples(st.sampled_from(range(len(POOL))), answer), max_size=12, unique_by=lambda x: x[0]),
    in_b=st.lists(st.tuples(st.sampled_from(range(len(POOL))), answer), max_size=12, unique_by=lambda x: x[0]),
)
def test_the_comparison_equals_a_brute_force(in_a, in_b):
    a = report("A", [(POOL[i], ans) for i, ans in in_a])
    b = report("B", [(POOL[i], ans) for i, ans in in_b])
    got = LamaComparison.of(a, b)
    want = brute_force(a, b)
    assert got.models == ("A", "B") and got.reports == (a, b)
    assert {name: (list(d.p_at_1), d.difference, d.facts) for name, d in got.relations.items()} == want["relations"]
    assert list(got.relations) == sorted(want["relations"])
    assert got.overall.facts == got.overall_facts.facts == want["compared"]
    if want["compared"]:
        assert got.overall.p_at_1 == pytest.approx([float(x) for x in want["overall"]], abs=1e-12)
        assert got.overall.difference == got.overall.p_at_1[1] - got.overall.p_at_1[0]
        assert list(got.overall_facts.p_at_1) == [float(x) for x in want["facts_p_at_1"]]
    else:
        assert got.overall.p_at_1 == (None, None) and got.overall.difference is None
    assert got.disagreements == want["disagreements"]
    assert [dict(d) for d in got.dropped] == want["dropped"]
    assert list(got.only_in) == want["only_in"]
    assert len(got.facts) == len(a.facts) + want["only_in"][1]
    # Strict JSON: a relation with nothing compared is null, never NaN.
    text = json.dumps(got.to_json(), allow_nan=False)
    assert json.loads(text)["disagreements"] == want["disagreements"]


def test_a_hand_made_pair_in_another_order_with_skips_said():
    a = report("bert", [(POOL[0], (1, "Paris")), (POOL[2], (3, "London")), (POOL[4], (1, "London")),
                        (POOL[8], (DROP_NOT_ONE_TOKEN, "Paris"))])
    b = report("roberta", [(POOL[8], (2, "ĠParis")), (POOL[4], (DROP_NOT_ONE_TOKEN, "Paris")),
                           (POOL[2], (1, "ĠParis")), (POOL[6], (1, "ĠParis")), (POOL[7], (1, "ĠParis"))])
    c = LamaComparison.of(a, b)
    # POOL[7] ("g") is POOL[0] ("a") by identity: matched although the ids differ.
    assert c.relations["P19"].p_at_1 == (1.0, 1.0) and c.relations["P19"].difference == 0.0
    assert c.relations["P36"].p_at_1 == (0.0, 1.0) and c.relations["P36"].difference == 1.0
    assert c.relations["Squad"].facts == 0 and c.relations["Squad"].p_at_1 == (None, None)  # e: dropped by roberta
    assert c.relations["ConceptNet"].difference is None  # h: dropped by bert
    assert c.overall.facts == 2 and c.overall.p_at_1 == (0.5, 1.0)
    assert c.disagreements == 1  # c: bert says London, roberta Paris (right); a: both "Paris"
    assert c.dropped == ({DROP_NOT_ONE_TOKEN: 1}, {DROP_NOT_ONE_TOKEN: 1})
    assert c.only_in == (0, 1)  # f only in roberta's
    said = " ".join(c.warnings)
    assert "bert dropped 1 facts that roberta scored" in said and DROP_NOT_ONE_TOKEN in said
    assert "roberta dropped 1 facts that bert scored" in said
    assert "1 facts have results of roberta only" in said
    data = c.to_json()
    assert data["relations"][0] == {"relation": "ConceptNet", "p_at_1": [None, None], "difference": None, "facts": 0}
    assert data["not_compared"] == {"dropped": [{DROP_NOT_ONE_TOKEN: 1}, {DROP_NOT_ONE_TOKEN: 1}], "only_in": [0, 1]}


def test_a_gold_that_only_one_vocabulary_has_is_said_under_the_lab_protocol():
    a = summarise("A", "lab", [POOL[0]], [FactResult(0, ("Rome",), (0.5,), None)])
    b = summarise("B", "lab", [POOL[0]], [FactResult(0, ("Paris",), (0.5,), 1)])
    c = LamaComparison.of(a, b)
    assert c.overall.p_at_1 == (0.0, 1.0) and c.disagreements == 1
    assert any("not one token of A's vocabulary" in w for w in c.warnings)


def test_different_protocols_are_refused():
    a = summarise("A", "lab", [POOL[0]], [FactResult(0, ("Paris",), (0.5,), 1)])
    b = summarise("B", "lama", [POOL[0]], [FactResult(0, ("Paris",), (0.5,), 1)])
    with pytest.raises(InvalidParameterError, match="same one"):
        LamaComparison.of(a, b)


def test_export_holds_both_answers_per_fact(tmp_path):
    a = report("bert", [(POOL[0], (1, "Paris")), (POOL[2], (3, "London"))])
    b = report("roberta", [(POOL[2], (1, "ĠParis")), (POOL[4], (DROP_NOT_COMMON, "Paris"))])
    c = LamaComparison.of(a, b)
    write_comparison(c, tmp_path / "both.jsonl")
    records = {r["id"]: r for r in jsonlines.open(tmp_path / "both.jsonl")}
    assert set(records) == {"a", "c", "e"}
    assert records["c"]["disagree"] is True and records["a"]["disagree"] is None
    assert [x["model"] for x in records["c"]["answers"]] == ["bert", "roberta"]
    assert [x["rank"] for x in records["c"]["answers"]] == [3, 1]
    assert records["c"]["answers"][1]["top10"][0] == {"token": "ĠParis", "score": 0.6}
    assert records["a"]["answers"][1] is None and records["e"]["answers"][0] is None
    assert records["e"]["answers"][1]["dropped"] == DROP_NOT_COMMON
    write_comparison(c, tmp_path / "both.csv")
    rows = {r["id"]: r for r in csv.DictReader(open(tmp_path / "both.csv", encoding="utf-8"))}
    assert rows["c"]["a_rank"] == "3" and rows["c"]["b_rank"] == "1" and rows["c"]["disagree"] == "True"
    assert rows["c"]["b_top10"].startswith("ĠParis:0.6000") and rows["a"]["b_model"] == ""
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind
