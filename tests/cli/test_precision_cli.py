"""--dtype on the commands: accepted where the device runs it, refused in one line otherwise."""

from __future__ import annotations

import json

import pytest
import torch

from explorer.cli import main
from explorer.engine import devices


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("precision", ["bfloat16", "int8"])
def test_fill_mask_in_a_fast_precision_says_so(capsys, trained_dir, precision):
    if devices.cpu_lacks(precision):
        pytest.skip(devices.cpu_lacks(precision))
    text = "the man wrote a [MASK] in Paris ."
    code, out, _ = run(capsys, "fill-mask", text, "--model", str(trained_dir), "--dtype", precision, "--json")
    assert code == 0
    fast = json.loads(out)
    assert fast["dtype"] == precision
    code, out, _ = run(capsys, "fill-mask", text, "--model", str(trained_dir), "--json")
    exact = json.loads(out)
    assert "dtype" not in exact  # float32, the default, is exact and unmarked
    assert fast["masks"][0]["predictions"][0]["token"] == exact["masks"][0]["predictions"][0]["token"]


def test_other_commands_take_the_precision(capsys, trained_dir):
    if devices.cpu_lacks("int8"):
        pytest.skip(devices.cpu_lacks("int8"))
    code, out, _ = run(capsys, "attention", "the man wrote a letter .", "--model", str(trained_dir),
                       "--dtype", "int8", "--json")
    assert code == 0 and json.loads(out)["dtype"] == "int8"
    code, out, _ = run(capsys, "score", "the man wrote a letter .", "--model", str(trained_dir),
                       "--dtype", "int8", "--json")
    assert code == 0 and json.loads(out)["dtype"] == "int8"


@pytest.mark.parametrize(("precision", "said"), [("float16", "needs a GPU"), ("int4", "is not a precision")])
def test_a_precision_the_cpu_does_not_run_is_refused(capsys, trained_dir, precision, said):
    code, out, err = run(capsys, "fill-mask", "a [MASK] .", "--model", str(trained_dir), "--device", "cpu",
                         "--dtype", precision, "--json")
    assert code == 2 and out == ""
    assert said in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_cpu_without_native_bfloat16_refuses_it_with_the_reason(capsys, trained_dir, monkeypatch):
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.setattr(torch.cpu, probe, lambda: False, raising=False)
    monkeypatch.setattr(devices, "cpu_flags", lambda: frozenset({"avx2"}))
    code, out, err = run(capsys, "fill-mask", "a [MASK] .", "--model", str(trained_dir), "--dtype", "bfloat16")
    assert code == 2 and out == ""
    assert "lacks" in err and "float32" in err and len(err.strip().splitlines()) == 1
