"""`bert-explorer lama`: the JSON contract, exports and errors."""

from __future__ import annotations

import csv
import json

import jsonlines

from explorer.cli import main
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
