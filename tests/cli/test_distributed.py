"""`lama` and `finetune` under torchrun: two CPU processes (gloo), tiny models.

Each test starts real processes with `python -m torch.distributed.run` (what `torchrun` is),
as a person would, and compares with one process on the same input. Both runs use one
thread per process (torchrun's own default), so the numbers are computed the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explorer.core.world import Launch, launch_from, shard
from explorer.paths import LAMA_SAMPLE

RUN_S = 240  # a whole launch, two processes on two cores, imports included


def one_thread_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    return {**env, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def single(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True,
                          env=one_thread_env(), timeout=RUN_S)


def torchrun_cmd(*args: str, n: int = 2) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}", "-m", "explorer", *args]


def torchrun(*args: str, n: int = 2) -> subprocess.CompletedProcess:
    return subprocess.run(torchrun_cmd(*args, n=n), capture_output=True, text=True, env=one_thread_env(), timeout=RUN_S)


@pytest.fixture(scope="module")
def no_dropout_bert(tmp_path_factory, bert_dir) -> Path:
    """The tiny BERT without dropout: a step is then a function of the batch alone, so one
    process and two can be compared number for number (each process draws its own dropout)."""
    folder = tmp_path_factory.mktemp("models") / "bert_no_dropout"
    shutil.copytree(bert_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    things = ["bread", "soup", "cake", "onions", "pasta", "dough", "pie", "rice"]
    places = ["in the oven", "on the stove", "in the kitchen", "on the counter", "in the pan"]
    lines = [f"The cook {verb} the {thing} {place}." for verb in ("baked", "stirred", "served")
             for thing in things for place in places]
    path = tmp_path_factory.mktemp("corpus") / "kitchen.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def leftovers(folder: Path) -> list[str]:
    """What a run left beside its output folder: hidden temporary folders included."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name != "corpus")


# --- where a process stands ---------------------------------------------------------------


def test_a_plain_run_is_rank_0_of_1_and_torchruns_variables_place_a_process():
    assert launch_from({}) == Launch(0, 1, 0) and not launch_from({}).distributed
    placed = launch_from({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert placed == Launch(3, 4, 1) and placed.distributed and not placed.main
    with pytest.raises(Exception, match="RANK 4 of WORLD_SIZE 4"):
        launch_from({"WORLD_SIZE": "4", "RANK": "4"})
    with pytest.raises(Exception, match="whole numbers"):
        launch_from({"WORLD_SIZE": "two"})


@pytest.mark.parametrize("count", [0, 1, 5, 8, 13])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_the_shards_cover_every_item_once(count, size):
    shares = [list(shard(count, Launch(rank, size))) for rank in range(size)]
    assert sorted(i for share in shares for i in share) == list(range(count))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


# --- the launches -------------------------------------------------------------------------


def test_lama_on_two_processes_writes_what_one_process_writes(bert_dir, tmp_path):
    common = [str(LAMA_SAMPLE), "--model", str(bert_dir), "--batch-size", "8", "--json"]
    one = single("lama", *common, "--out", str(tmp_path / "one.jsonl"))
    two = torchrun("lama", *common, "--out", str(tmp_path / "two.jsonl"))
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert json.loads(two.stdout) == json.loads(one.stdout)  # printed once, by rank 0
    assert len((tmp_path / "two.jsonl").read_text().splitlines()) == json.loads(one.stdout)["overall"]["n"] + sum(
        json.loads(one.stdout)["dropped"].values())


def test_finetune_on_two_processes_takes_the_step_one_process_takes_on_both_batches(no_dropout_bert, corpus, tmp_path):
    from explorer.engine import models

    common = [str(corpus), "--model", str(no_dropout_bert), "--max-steps", "2", "--chunk-size", "16", "--json"]
    one = single("finetune", *common, "--batch-size", "4", "--out", str(tmp_path / "one"))
    two = torchrun("finetune", *common, "--batch-size", "2", "--out", str(tmp_path / "two"))
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    a, b = json.loads(one.stdout), json.loads(two.stdout)
    assert (b["world_size"], b["batch_size"], b["effective_batch_size"]) == (2, 2, 4)
    assert (a["world_size"], a["effective_batch_size"]) == (1, 4)
    # The held-out set, gathered, and the first step: each process held half of the global batch.
    assert b["perplexity_before"] == pytest.approx(a["perplexity_before"], rel=1e-6)
    assert b["losses"][0] == pytest.approx(a["losses"][0], rel=1e-5)
    assert b["losses"][1] == pytest.approx(a["losses"][1], rel=1e-4)  # after one synced update
    card = json.loads((tmp_path / "two" / "explorer_card.json").read_text())
    assert card["world_size"] == 2 and card["batch_size"] == 2
    assert models.load(str(tmp_path / "two")).model is not None
    assert leftovers(tmp_path / "two") == ["one", "two"]  # rank 1 saved nothing, nothing half-done


def _rank_pids(parent: int) -> dict[int, int]:
    """rank -> pid of the processes torchrun started (read from /proc: their RANK variable)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = dict(line.split("=", 1) for line in (entry / "environ").read_text().split("\0") if "=" in line)
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        if ppid == parent and "RANK" in env:
            found[int(env["RANK"])] = int(entry.name)
    return found


def _start_long_training(model: Path, corpus: Path, out: Path) -> subprocess.Popen:
    args = [str(corpus), "--model", str(model), "--max-steps", "100000", "--batch-size", "2", "--chunk-size", "16",
            "--out", str(out)]
    return subprocess.Popen(torchrun_cmd("finetune", *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=one_thread_env())


def _wait_for_training(run: subprocess.Popen) -> dict[int, int]:
    """Until rank 0 reports a training step (on stderr, a line every 2 s when not a terminal)."""
    deadline = time.monotonic() + RUN_S
    seen = ""
    while time.monotonic() < deadline:
        line = run.stderr.readline()
        seen += line
        if "step " in line:
            pids = _rank_pids(run.pid)
            if len(pids) == 2:
                return pids
        if run.poll() is not None:
            break
    run.kill()
    raise AssertionError(f"training never started: {seen}")


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the ranks' processes in /proc")
def test_a_killed_rank_ends_the_launch_with_an_error_and_nothing_saved(bert_dir, corpus, tmp_path):
    run = _start_long_training(bert_dir, corpus, tmp_path / "out")
    pids = _wait_for_training(run)
    os.kill(pids[1], signal.SIGKILL)
    _out, err = run.communicate(timeout=RUN_S)
    assert run.returncode != 0, err
    assert leftovers(tmp_path / "out") == []  # no model, no checkpoint, no hidden half-saved folder


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the ranks' processes in /proc")
def test_ctrl_c_on_rank_0_stops_every_rank_together_and_saves_nothing(bert_dir, corpus, tmp_path):
    run = _start_long_training(bert_dir, corpus, tmp_path / "out")
    pids = _wait_for_training(run)
    os.kill(pids[0], signal.SIGINT)  # rank 0 alone: the others learn it at the next step
    _out, err = run.communicate(timeout=RUN_S)
    assert run.returncode != 0
    assert "bert-explorer: stopped" in err
    assert "rank 1" not in err  # a Stop is not rank 1's failure
    assert leftovers(tmp_path / "out") == []


def test_other_commands_are_refused_under_a_launch(bert_dir):
    run = torchrun("fill-mask", "Paris is the [MASK] of France.", "--model", str(bert_dir))
    assert run.returncode != 0
    assert "only lama and finetune split their work" in run.stderr
    assert run.stderr.count("only lama and finetune") == 1  # said by rank 0 alone


def test_a_rank_other_than_0_is_silent_but_says_its_own_failure(capsys, monkeypatch, bert_dir):
    """In-process, as rank 1 of 2: its output goes nowhere. A failure before it joined the group
    is rank 0's to say first (every rank checks the same arguments): it waits, and torchrun
    ends it once rank 0 has ended; still alive after the wait, the failure is its own and it
    says so. One after joining is its own at once."""
    import explorer.cli as cli
    import explorer.commands as commands
    import explorer.commands.lama as lama_command
    from explorer.cli import main

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    waited = []
    monkeypatch.setattr(cli.time, "sleep", waited.append)  # (no torchrun here to end it)

    def before_joining(_args):
        print("a summary only rank 0 prints")
        raise commands.CliError("the facts file is empty")

    monkeypatch.setattr(lama_command, "run", before_joining)
    assert main(["lama", "x.jsonl", "--model", str(bert_dir)]) == 2
    assert waited == [cli.RANK_0_FIRST_S]
    assert capsys.readouterr() == ("", "rank 1: bert-explorer: error: the facts file is empty\n")
    waited.clear()

    def after_joining(_args):
        commands._joined.append(object())  # as join_launch leaves it (no process group here)
        raise commands.CliError("CUDA out of memory on this GPU")

    monkeypatch.setattr(lama_command, "run", after_joining)
    monkeypatch.setattr(commands, "leave_launch", lambda **_kw: commands._joined.clear())
    monkeypatch.setattr("explorer.cli.leave_launch", lambda **_kw: commands._joined.clear())
    assert main(["lama", "x.jsonl", "--model", str(bert_dir)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "rank 1: bert-explorer: error: CUDA out of memory on this GPU\n"
    assert waited == []  # after joining, nobody else could have said it: at once
