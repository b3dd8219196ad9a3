"""Offline use from the command line: `download`, the demo model, and the fallback to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import huggingface_hub
import pytest

from explorer.cli import main
from explorer.engine.fill_mask import fill_mask


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_default_model_unavailable_falls_back_to_demo_with_a_json_warning(capsys, empty_hub_cache, demo_lm):
    code, out, err = run(capsys, "fill-mask", "Nice to [MASK] you.", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "demo"
    assert "bert-base-cased" in data["warnings"][0] and "demo model" in data["warnings"][0]
    assert "warning:" in err  # a person reading stderr sees it too
    expected = fill_mask(demo_lm, "Nice to [MASK] you.", 10)
    assert [p["token_id"] for p in data["masks"][0]["predictions"]] == [c.token_id for c in expected.masks[0].candidates]


def test_model_demo_is_chosen_explicitly_without_warnings(capsys, demo_lm):
    code, out, err = run(capsys, "attention", "Nice to [MASK] you.", "--model", "demo", "--json")
    data = json.loads(out)
    assert code == 0 and err == ""
    assert data["model"] == "demo" and data["heads"] == 12 and data["warnings"] == []


def test_a_model_named_explicitly_is_never_swapped(capsys, empty_hub_cache):
    code, out, err = run(capsys, "fill-mask", "x [MASK]", "--model", "bert-base-cased")
    assert code == 2 and out == ""
    assert "--model demo" in err and "Open a model folder" in err


def test_a_bad_device_is_not_a_reason_to_suggest_the_demo(capsys):
    code, _, err = run(capsys, "fill-mask", "x [MASK]", "--device", "tpu")
    assert code == 2 and "Unknown device" in err and "--model demo" not in err


def test_finetune_without_a_model_falls_back_to_demo(capsys, empty_hub_cache, demo_lm, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(["the cat sat on the mat and the dog sat on the rug ."] * 60))
    code, out, _ = run(capsys, "finetune", str(corpus), "--out", str(tmp_path / "adapted"), "--max-steps", "2",
                       "--batch-size", "4", "--chunk-size", "16", "--json")
    data = json.loads(out)
    assert code == 0 and data["model"] == "demo" and "bert-base-cased" in data["warnings"][0]
    assert (tmp_path / "adapted" / "config.json").is_file()


def test_download_offline_setting_fails_clearly(capsys, empty_hub_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out, err = run(capsys, "download", "bert-base-cased")
    assert code == 2
    errors = [line for line in err.splitlines() if "error" in line]  # the others are progress
    assert errors == [line for line in errors if line.startswith("bert-explorer: error:")]
    assert len(errors) == 1 and "HF_HUB_OFFLINE" in errors[0]  # the reason itself, on the one line


def test_download_with_the_hub_unreachable_fails_clearly_and_fast(tmp_path):
    # A real process, as a person runs it: no offline setting, and nothing listening where
    # the hub should be (connection refused), so the probe answers at once.
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_CACHE": str(tmp_path / "hub")}
    env.pop("HF_HUB_OFFLINE", None)
    done = subprocess.run([sys.executable, "-m", "explorer", "download", "bert-base-cased", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    data = json.loads(done.stdout)
    assert data["downloaded"] == [] and data["failed"][0]["model"] == "bert-base-cased"
    assert "Cannot reach the Hugging Face hub" in data["failed"][0]["error"]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["demo", "."])
def test_download_refuses_what_is_already_local(capsys, name):
    code, _, err = run(capsys, "download", name)
    assert code == 2 and "already on this computer" in err


def _fake_cached_model(cache: Path, repo: str, files: dict[str, str]) -> None:
    """The hub cache's own layout: blobs, a snapshot of links to them, and refs/main."""
    root = cache / f"models--{repo.replace('/', '--')}"
    snapshot = root / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (root / "blobs").mkdir()
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text("0123abcd")
    for i, (name, text) in enumerate(files.items()):
        blob = root / "blobs" / f"blob{i}"
        blob.write_text(text)
        (snapshot / name).symlink_to(Path("..", "..", "blobs", blob.name))


def test_download_list_shows_the_cache(capsys, empty_hub_cache, monkeypatch):
    code, out, _ = run(capsys, "download", "--list")
    assert code == 0 and "No models" in out
    assert "demo" in out and "bundled" in out  # the one model that never needs downloading
    _fake_cached_model(empty_hub_cache, "someone/tiny-bert", {"config.json": "{}", "vocab.txt": "x" * 1000})
    code, out, _ = run(capsys, "download", "--list", "--json")
    listed = json.loads(out)
    assert code == 0 and [m["model"] for m in listed] == ["someone/tiny-bert"]
    assert listed[0]["is_model"] and listed[0]["bytes"] == 1002


def test_download_of_a_cached_model_says_so_without_a_network(capsys, empty_hub_cache, monkeypatch):
    _fake_cached_model(empty_hub_cache, "someone/tiny-bert", {"config.json": "{}"})
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out, _ = run(capsys, "download", "someone/tiny-bert")
    assert code == 0 and "already in the cache" in out
