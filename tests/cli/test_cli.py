"""The CLI: the JSON contract, human output, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
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


def test_bad_arguments_exit_2_with_one_line(capsys):
    code = main(["fill-mask", "x", "--top-k", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "argument --top-k: must be at least 1" in err
    assert err.count("\n") == 1 and "bert-explorer fill-mask --help" in err  # not argparse's usage block


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


def test_attention_json_and_npz(capsys, bert_dir, bert, tmp_path):
    from explorer.engine.attention import attention

    npz = tmp_path / "att.npz"
    code, out, _ = run(capsys, "attention", "Nice to [MASK] you.", "--model", str(bert_dir), "--layer", "1", "--npz", str(npz), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"model", "tokens", "layers", "heads", "layer", "weights", "warnings"}
    assert (data["layers"], data["heads"], data["layer"]) == (2, 12, 1)
    t = len(data["tokens"])
    weights = np.array(data["weights"])
    assert weights.shape == (12, t, t)
    expected = attention(bert, "Nice to [MASK] you.")
    np.testing.assert_allclose(weights, expected.weights[1], atol=1e-6)
    saved = np.load(npz)
    assert saved["attentions"].shape == (2, 12, t, t)
    np.testing.assert_allclose(saved["attentions"], expected.weights, atol=1e-6)
    assert list(saved["tokens"]) == data["tokens"]


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_attention_out_draws_the_grid(capsys, bert_dir, tmp_path, suffix):
    out_file = tmp_path / f"grid.{suffix}"
    code, out, _ = run(capsys, "attention", "The cat sat.", "--model", str(bert_dir), "--out", str(out_file))
    assert code == 0 and f"wrote {out_file}" in out
    head = out_file.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == "png" else b"<svg" in out_file.read_bytes()[:2000]
    assert len([line for line in out.splitlines() if line.startswith("  head ")]) == 12


@pytest.mark.parametrize("argv, message", [
    (["--layer", "2"], "Layer 2 does not exist"),
    (["--out", "grid.pdf"], "must end in .png or .svg"),
])
def test_attention_bad_arguments_exit_2(capsys, bert_dir, argv, message):
    code, out, err = run(capsys, "attention", "The cat.", "--model", str(bert_dir), *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_an_unforeseen_error_is_one_line_not_a_traceback(capsys, monkeypatch, bert_dir):
    import explorer.engine.fill_mask as engine

    def broken(*args, **kwargs):
        raise RuntimeError("first line\n  second  line\n\nthird")

    monkeypatch.setattr(engine, "fill_mask", broken)
    code, out, err = run(capsys, "fill-mask", "x [MASK]", "--model", str(bert_dir))
    assert code == 1 and out == "" and err == "bert-explorer: error: first line second  line third\n"


def test_the_window_without_a_display_is_one_line_not_an_abort(tmp_path):
    """Qt aborts the process (SIGABRT, seven lines of plugin messages) when it has no display."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run(
        [sys.executable, "-m", "explorer"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "No display" in done.stderr
