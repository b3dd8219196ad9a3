"""The CLI: the JSON contract, human output, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from explorer.cli import main
from explorer.engine.fill_mask import fill_mask


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fill_mask_json_contract(capsys, bert_dir, bert):
    code, out, err = run(capsys, "fill-mask", "The [MASK] sat on the [MASK] .", "--model", str(bert_dir), "--top-k", "4", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"model", "device", "tokens", "masks", "warnings"}
    assert data["model"] == str(bert_dir) and data["device"] == "cpu" and data["warnings"] == []
    assert data["tokens"][0] == "[CLS]" and data["tokens"][-1] == "[SEP]"
    assert [m["index"] for m in data["masks"]] == [i for i, t in enumerate(data["tokens"]) if t == "[MASK]"]
    expected = fill_mask(bert, "The [MASK] sat on the [MASK] .", 4)
    for mask, ref in zip(data["masks"], expected.masks):
        assert len(mask["predictions"]) == 4
        for p, c in zip(mask["predictions"], ref.candidates):
            assert set(p) == {"token", "token_id", "score"}
            assert (p["token"], p["token_id"]) == (c.token, c.token_id)
            assert p["score"] == pytest.approx(c.score, abs=1e-6)


def test_fill_mask_json_warns_without_a_mask(capsys, bert_dir):
    code, out, _ = run(capsys, "fill-mask", "The cat sat.", "--model", str(bert_dir), "--json")
    data = json.loads(out)
    assert code == 0 and data["masks"] == [] and "No mask" in data["warnings"][0]


def test_fill_mask_human_output(capsys, bert_dir):
    code, out, _ = run(capsys, "fill-mask", "The [MASK] sat.", "--model", str(bert_dir), "--top-k", "3")
    assert code == 0
    assert "mask 1 (token 2)" in out
    ranked = [line.split() for line in out.splitlines() if line.startswith("    ")]
    assert [r[0] for r in ranked] == ["1.", "2.", "3."]
    assert [float(r[2]) for r in ranked] == sorted((float(r[2]) for r in ranked), reverse=True)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fill-mask", "x [MASK]", "--model", "/no/such/folder"], "does not exist"),
        (["fill-mask", "x [MASK]", "--model", "bert-base-cased"], "Open a model folder"),
        (["fill-mask", "x [MASK]", "--device", "tpu"], "Unknown device"),
    ],
)
def test_errors_exit_2_with_one_line(capsys, monkeypatch, argv, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("bert-explorer: error:")


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fill-mask", "x", "--top-k", "0"])
    assert exc.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_entry_point_runs_as_a_module_without_traceback(bert_dir):
    ok = subprocess.run(
        [sys.executable, "-m", "explorer", "fill-mask", "Nice to [MASK] you.", "--model", str(bert_dir), "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["masks"][0]["index"] == 3
    bad = subprocess.run(
        [sys.executable, "-m", "explorer", "fill-mask", "x", "--model", str(bert_dir / "missing")],
        capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
