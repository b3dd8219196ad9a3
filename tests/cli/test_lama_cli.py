"""`bert-explorer lama`: the JSON contract, exports and errors."""

from __future__ import annotations

import csv
import json

import jsonlines
import pytest

from explorer.cli import main
from explorer.core import lama_data
from explorer.paths import LAMA_SAMPLE


def test_lama_json_contract_and_jsonl_export(capsys, bert_dir, tmp_path):
    out_file = tmp_path / "results.jsonl"
    code = main(["lama", str(LAMA_SAMPLE), "--model", str(bert_dir), "--limit", "40", "--batch-size", "8",
                 "--json", "--out", str(out_file)])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= {"model", "protocol", "overall", "relations", "dropped", "skipped_lines"}
    assert data["protocol"] == "lab" and set(data["overall"]) == {"p@1", "p@10", "mrr", "n"}
    assert set(data["relations"]) == {"Squad"}
    counted = data["overall"]["n"] + sum(data["dropped"].values())
    assert counted == 40
    records = list(jsonlines.open(out_file))
    assert len(records) == 40
    assert set(records[0]) >= {"id", "relation", "sentence", "gold", "top10", "rank"}
    assert records[0]["gold"] == "gold" and len(records[0]["top10"]) == 10


def test_lama_protocol_and_csv(capsys, bert_dir, tmp_path):
    out_file = tmp_path / "results.csv"
    code = main(["lama", str(LAMA_SAMPLE), "--model", str(bert_dir), "--limit", "20", "--protocol", "lama",
                 "--out", str(out_file)])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "protocol lama" in out and "dropped" in out
    rows = list(csv.DictReader(open(out_file)))
    assert len(rows) == 20 and rows[0]["gold"] == "gold"


def test_lama_reports_broken_lines_and_bad_paths(capsys, bert_dir, tmp_path):
    bad = tmp_path / "Squad" / "test.jsonl"
    bad.parent.mkdir()
    bad.write_text('{"masked_sentences": ["The [MASK] sat."], "obj_label": "cat", "id": "a"}\n{oops\n')
    code = main(["lama", str(bad), "--model", str(bert_dir), "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["skipped_lines"] == [{"file": str(bad), "line": 2, "reason": json.loads(out)["skipped_lines"][0]["reason"]}]
    assert f"{bad}:2" in err
    code = main(["lama", str(tmp_path / "nowhere"), "--model", str(bert_dir)])
    _, err = capsys.readouterr()
    assert code == 2 and "does not exist" in err


# --- lama --models A B: two models on the same facts ------------------------------------

P19, P36 = "[X] was born in [Y] .", "The capital of [X] is [Y] ."


def _first_word(lm, sentence: str) -> str:
    """The model's top-1 at the mask, as a word (its own choice: it is right there)."""
    from explorer.engine.fill_mask import fill_mask

    return fill_mask(lm, sentence, 1).masks[0].candidates[0].text


@pytest.fixture(scope="module")
def two_model_lama(tmp_path_factory, bert, roberta):
    """Three relations; facts that only BERT gets right, only RoBERTa, neither; an object that
    is one token of RoBERTa's vocabulary only, and one that is of neither."""
    root = tmp_path_factory.mktemp("lama2") / "data"
    (root / "TREx").mkdir(parents=True)
    (root / "Squad").mkdir()
    (root / "relations.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"relation": "P19", "template": P19}, {"relation": "P36", "template": P36}]) + "\n")
    born = P19.replace("[Y]", "[MASK]")
    by_bert = _first_word(bert, born.replace("[X]", "She"))
    by_roberta = _first_word(roberta, born.replace("[X]", "He"))
    capital = _first_word(bert, P36.replace("[X]", "France").replace("[Y]", "[MASK]"))
    squad = _first_word(roberta, "The cat sat on the [MASK] .")
    trex = [("She", by_bert, "P19"), ("He", by_roberta, "P19"), ("It", "Paris", "P19"), ("They", "Zorblax", "P19"),
            ("France", capital, "P36"), ("England", "London", "P36")]
    (root / "TREx" / "P19.jsonl").write_text("\n".join(
        json.dumps({"uuid": f"t{i}", "sub_label": s, "obj_label": o, "predicate_id": p}) for i, (s, o, p) in enumerate(trex) if p == "P19") + "\n")
    (root / "TREx" / "P36.jsonl").write_text("\n".join(
        json.dumps({"uuid": f"t{i}", "sub_label": s, "obj_label": o, "predicate_id": p}) for i, (s, o, p) in enumerate(trex) if p == "P36") + "\n")
    (root / "Squad" / "test.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"masked_sentences": ["The cat sat on the [MASK] ."], "obj_label": squad, "id": "s1"},
        {"masked_sentences": ["A [MASK] is a good house ."], "obj_label": "cat", "id": "s2"},
    ]) + "\n")
    words = {by_bert, by_roberta, capital, squad, "Paris", "London", "cat", "Zorblax", "dog"}
    (root / "common_vocab_cased.txt").write_text("\n".join(sorted(words)) + "\n")
    return root


def _run_json(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("protocol", ["lab", "lama"])
def test_lama_models_equals_two_single_runs(capsys, model_dirs, two_model_lama, tmp_path, protocol):
    a, b = str(model_dirs["bert"]), str(model_dirs["roberta"])
    base = ["lama", str(two_model_lama), "--protocol", protocol, "--batch-size", "3"]
    single = []
    for name in (a, b):
        out = tmp_path / f"{len(single)}.jsonl"
        single.append((_run_json(capsys, [*base, "--model", name, "--json", "--out", str(out)]), list(jsonlines.open(out))))
    both_file = tmp_path / "both.jsonl"
    both = _run_json(capsys, [*base, "--models", a, b, "--json", "--out", str(both_file)])
    assert set(both) >= {"models", "results", "relations", "overall", "disagreements", "warnings"}
    assert both["models"] == [a, b]
    assert both["results"] == [single[0][0], single[1][0]]  # each exactly what `lama --model X --json` prints

    # The brute force: the two single-model exports, facts matched by relation and sentence,
    # compared where neither model dropped the fact.
    (_, rec_a), (_, rec_b) = single
    by_fact = {(r["relation"], r["sentence"], r["gold"]): r for r in rec_b}
    pairs = [(ra, by_fact[(ra["relation"], ra["sentence"], ra["gold"])]) for ra in rec_a]
    assert len(pairs) == len(rec_a) == len(rec_b)
    compared = [(ra, rb) for ra, rb in pairs if ra["dropped"] is None and rb["dropped"] is None]
    relations = {r["relation"] for r in rec_a}
    assert [r["relation"] for r in both["relations"]] == sorted(relations)
    for entry in both["relations"]:
        here = [(ra, rb) for ra, rb in compared if ra["relation"] == entry["relation"]]
        assert entry["facts"] == len(here)
        if not here:
            assert entry["p_at_1"] == [None, None] and entry["difference"] is None
            continue
        p = [sum(pair[i]["rank"] == 1 for pair in here) / len(here) for i in (0, 1)]
        assert entry["p_at_1"] == p
        assert entry["difference"] == p[1] - p[0]
        if protocol == "lab":  # nothing dropped: each model's own figure for the relation
            assert p == [single[i][0]["relations"][entry["relation"]]["p@1"] for i in (0, 1)]

    def word(r):
        token = r["top10"][0]["token"]
        return (token[1:] if token[:1] in ("Ġ", "▁") else token).casefold()

    assert both["disagreements"] == sum(1 for ra, rb in compared if ra["correct"] != rb["correct"] or word(ra) != word(rb))
    assert both["disagreements"] > 0 and any(e["difference"] for e in both["relations"])
    assert both["overall"]["facts"] == len(compared)
    if protocol == "lama":  # "He was born in ..." ends in a word RoBERTa has whole and BERT does not
        said = " ".join(both["warnings"])
        assert "not compared" in said and lama_data.DROP_NOT_ONE_TOKEN in said
        assert both["not_compared"]["dropped"][0][lama_data.DROP_NOT_ONE_TOKEN] > both["not_compared"]["dropped"][1].get(
            lama_data.DROP_NOT_ONE_TOKEN, 0)
    exported = list(jsonlines.open(both_file))
    assert len(exported) == len(rec_a)
    for record, (ra, rb) in zip(exported, pairs):
        assert [x["rank"] for x in record["answers"]] == [ra["rank"], rb["rank"]]
        assert [x["top10"] for x in record["answers"]] == [ra["top10"], rb["top10"]]


def test_lama_models_human_output(capsys, model_dirs, two_model_lama):
    a, b = str(model_dirs["bert"]), str(model_dirs["roberta"])
    code = main(["lama", str(two_model_lama), "--models", a, b])
    out, _ = capsys.readouterr()
    assert code == 0
    assert f"A: {a}" in out and f"B: {b}" in out and "B - A" in out and "mean of relations" in out


@pytest.mark.parametrize("argv, says", [
    (["--model", "demo", "--models", "demo", "demo"], "cannot go together"),
    (["--models", "demo"], "exactly two models, got 1"),
    (["--models", "demo", "demo", "demo"], "exactly two models, got 3"),
])
def test_lama_models_usage_errors_are_one_line(capsys, argv, says):
    code = main(["lama", str(LAMA_SAMPLE), *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert says in err and len(err.strip().splitlines()) == 1


def test_lama_models_refuses_a_missing_second_model_before_any_run(capsys, bert_dir, tmp_path):
    code = main(["lama", str(LAMA_SAMPLE), "--models", str(bert_dir), str(tmp_path / "nowhere"), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "does not exist" in err.strip().splitlines()[-1] and "probing" not in err
