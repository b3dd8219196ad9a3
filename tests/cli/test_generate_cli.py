"""`bert-explorer generate`: the JSON contract, plain output, progress, exit codes."""

from __future__ import annotations

import io
import json
import sys

import pytest

from explorer.cli import main
from explorer.engine.generation import generate
from explorer.core.generation_params import GenerationParams
from explorer.core.jobs import run_to_end

ARGS = ["--seed-text", "The cat", "--length", "4", "--batch-size", "3", "--max-iter", "8", "--seed", "5"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def engine_samples(lm, **kw) -> list[str]:
    return list(run_to_end(generate(lm, GenerationParams(**kw))).samples)


def test_json_contract(capsys, bert_dir, bert):
    code, out, err = run(capsys, "generate", *ARGS, "--temperature", "0.8", "--top-k", "20", "--model", str(bert_dir), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"model", "params", "samples", "iterations", "seconds", "warnings"}
    assert data["warnings"] == []
    assert data["model"] == str(bert_dir) and data["iterations"] == 8
    assert isinstance(data["seconds"], float) and data["seconds"] >= 0
    assert data["params"] == {
        "seed_text": "The cat", "length": 4, "batch_size": 3, "temperature": 0.8, "temperature_decay": 0.95,
        "top_k": 20, "burn_in": 0, "max_iter": 8, "strategy": "parallel-sequential", "seed": 5,
    }
    assert data["samples"] == engine_samples(bert, **data["params"])
    assert "1/8" in err  # progress goes to stderr, never into the JSON


def test_plain_output_is_one_sample_a_line(capsys, bert_dir, bert):
    code, out, err = run(capsys, "generate", *ARGS, "--strategy", "parallel", "--model", str(bert_dir))
    assert code == 0
    params = dict(seed_text="The cat", length=4, batch_size=3, max_iter=8, seed=5, strategy="parallel")
    assert out.splitlines() == engine_samples(bert, **params)
    assert "8 iterations in" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--length", "0"], "argument --length: must be at least 1"),
        (["--temperature", "0"], "argument --temperature: must be above 0"),
        (["--max-iter", "0"], "argument --max-iter: must be at least 1"),
        (["--batch-size", "0"], "argument --batch-size: must be at least 1"),
        (["--top-k", "-3"], "argument --top-k: must be at least 0"),
        # issue 21: inf, nan, overflow and absurd values, refused before the model loads
        (["--temperature-decay", "1e300"], "argument --temperature-decay: must be above 0 and at most 10"),
        (["--temperature", "inf"], "argument --temperature: must be a finite number"),
        (["--temperature", "nan"], "argument --temperature: must be a finite number"),
        (["--temperature", "1e999"], "argument --temperature: must be a finite number"),
        (["--seed", "99999999999999999999999"], "argument --seed: must be at least 0 and at most 9223372036854775807"),
        (["--seed", "-1"], "argument --seed: must be at least 0"),
        (["--length", "99999999999999999999"], "argument --length: must be at least 1 and at most"),
        (["--top-k", "99999999999999999999"], "argument --top-k: must be at least 0 and at most"),
        (["--max-iter", "1.5"], "argument --max-iter: must be a whole number"),
        (["--seed-text", "the \udcff\udcfe cat"], "argument --seed-text: is not valid UTF-8 (byte 0xff"),
    ],
)
def test_bad_parameters_exit_2_with_one_line_before_loading(capsys, argv, message):
    # The model folder does not exist: a check that came after loading would name the model.
    code, out, err = run(capsys, "generate", *argv, "--model", "/no/such/folder")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bert-explorer generate: error:") and message in lines[0]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--length", "100"], "reads at most 64"),
        (["--batch-size", "1000000"], "use a smaller batch size or length"),
    ],
)
def test_parameters_too_large_for_the_model_exit_2_with_one_line(capsys, bert_dir, argv, message):
    code, out, err = run(capsys, "generate", *argv, "--model", str(bert_dir))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bert-explorer: error:") and message in lines[0]


def test_a_temperature_that_grows_past_any_float_is_capped(bert):
    # decay 10 for 400 sweeps is 10**400: a float overflows (OverflowError) without the cap.
    from explorer.core.generation_params import MAX_TEMPERATURE, temperature_at

    params = GenerationParams(temperature=1.0, temperature_decay=10.0)
    assert temperature_at(params, 400) == MAX_TEMPERATURE
    assert temperature_at(GenerationParams(temperature_decay=0.01), 400) == 0.0
    steps = list(run_to_end(generate(bert, GenerationParams(length=1, max_iter=400, temperature_decay=10.0))).samples)
    assert len(steps) == 5


def test_a_missing_model_exits_2(capsys, tmp_path):
    code, out, err = run(capsys, "generate", "--model", str(tmp_path / "nope"))
    assert code == 2 and out == "" and "does not exist" in err


def test_unknown_strategy_is_a_usage_error(capsys):
    code, out, err = run(capsys, "generate", "--strategy", "random")
    assert code == 2 and out == "" and "invalid choice" in err and len(err.strip().splitlines()) == 1


def test_ctrl_c_prints_the_samples_so_far(capsys, monkeypatch, bert_dir):
    class InterruptOnFirstWrite(io.StringIO):
        """stderr that raises KeyboardInterrupt as a progress line is written: like Ctrl+C."""

        writes = 0

        def write(self, text):
            InterruptOnFirstWrite.writes += 1
            if InterruptOnFirstWrite.writes == 1:
                raise KeyboardInterrupt
            return super().write(text)

        def isatty(self):
            return True  # a line for every step

    stderr = InterruptOnFirstWrite()
    monkeypatch.setattr(sys, "stderr", stderr)
    code = main(["generate", *ARGS, "--max-iter", "100000", "--model", str(bert_dir), "--json"])
    out = capsys.readouterr().out
    assert code == 130
    data = json.loads(out)
    assert data["iterations"] == 1 and len(data["samples"]) == 3
    assert "stopped after 1 of 100000 iterations" in stderr.getvalue()
