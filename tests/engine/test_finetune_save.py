"""Saving a model in place of another: a kill, a full disk or a refused write at any moment
loses neither model, and leaves nothing behind once the next run has looked."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.core import finetune_checks, saving

from explorer.engine import models
from explorer.core.errors import InvalidParameterError, ModelLoadError
from explorer.core.finetune_checks import check_params
from explorer.core.finetune_params import FinetuneParams
from explorer.core.jobs import collect
from explorer.core.owned import MARKER, mark_ours, marker
from explorer.core.saving import SaveError, recover, replace_folder

ROOT = Path(__file__).resolve().parents[2]

# A save in its own process, killed (os._exit: no clean-up runs) at the moment named in argv[2]:
# "write" half-way through writing, "between" the two renames, "cleanup" as the old folder is
# deleted.
KILLED_SAVE = """
import os, shutil, sys
from pathlib import Path
from explorer.core.saving import replace_folder

target, moment = Path(sys.argv[1]), sys.argv[2]
renames = []
real_rename = os.rename

def rename(src, dst):
    renames.append(src)
    if moment == "between" and len(renames) == 2:
        os._exit(9)
    real_rename(src, dst)

def write(folder):
    (folder / "weights").write_text("new")
    if moment == "write":
        os._exit(9)

os.rename = rename
if moment == "cleanup":
    shutil.rmtree = lambda *args, **kwargs: os._exit(9)
replace_folder(target, write, kind="model")
"""


def killed_save(target: Path, moment: str) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(target), moment], cwd=ROOT, capture_output=True, timeout=60)
    assert done.returncode == 9, done.stderr.decode()


def old_model(target: Path) -> Path:
    """A model this app saved earlier, at `target`."""
    target.mkdir(parents=True)
    (target / "weights").write_text("old")
    mark_ours(target, "model", files=["weights"])
    return target


def write_new(folder: Path) -> None:
    (folder / "weights").write_text("new")


def beside(target: Path) -> list[str]:
    """Everything in the target's folder but the target (and the corpus some tests put there)."""
    return sorted(p.name for p in target.parent.iterdir() if p.name not in (target.name, "c.txt"))


def test_a_save_replaces_the_folder_and_leaves_nothing_beside_it(tmp_path):
    target = old_model(tmp_path / "m")
    replace_folder(target, write_new, kind="model")
    assert (target / "weights").read_text() == "new" and marker(target)["kind"] == "model"
    assert marker(target)["files"] == ["weights"]  # what a later --overwrite may replace
    assert beside(target) == []
    replace_folder(tmp_path / "fresh", write_new, kind="checkpoint")
    assert marker(tmp_path / "fresh")["kind"] == "checkpoint" and beside(target) == ["fresh"]


def test_a_kill_between_the_two_renames_is_undone_by_the_next_run(tmp_path):
    target = old_model(tmp_path / "m")
    killed_save(target, "between")
    assert not target.exists()  # what the issue saw: --out gone, both models hidden beside it
    assert {name.split("-")[0] for name in beside(target)} == {".m.old", ".m.partial"}
    done = recover(target)
    assert (target / "weights").read_text() == "old" and marker(target)["kind"] == "model"  # its own marker back
    assert beside(target) == [] and len(done) == 2


def test_the_next_check_recovers_the_output_folder(tmp_path):
    """The next `finetune --out` to that folder puts the model back before it looks at it."""
    target = old_model(tmp_path / "m")
    killed_save(target, "between")
    corpus = tmp_path / "c.txt"
    corpus.write_text("text\n")
    with pytest.raises(InvalidParameterError, match="exists and is not empty"):
        check_params(FinetuneParams(corpus=str(corpus), out=str(target)))
    assert (target / "weights").read_text() == "old" and beside(target) == []


@pytest.mark.parametrize("moment, left", [("write", "old"), ("cleanup", "new")])
def test_a_kill_while_writing_or_cleaning_up_leaves_one_whole_model(tmp_path, moment, left):
    target = old_model(tmp_path / "m")
    killed_save(target, moment)
    assert (target / "weights").read_text() == left and len(beside(target)) == 1
    recover(target)
    assert (target / "weights").read_text() == left and beside(target) == []


def test_a_failed_second_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    target = old_model(tmp_path / "m")
    real_rename, calls = os.rename, []

    def rename(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(SaveError, match="Input/output error.*Nothing was saved"):
        replace_folder(target, write_new, kind="model")
    assert (target / "weights").read_text() == "old" and marker(target)["kind"] == "model" and beside(target) == []


def test_a_swap_that_cannot_even_be_undone_is_undone_by_the_next_run_of_the_same_process(tmp_path, monkeypatch):
    """The window saves more than once in one process: a folder of its own that it is no
    longer writing is a leftover, even though its writer (this process) is alive."""
    target = old_model(tmp_path / "m")
    real_rename, calls = os.rename, []

    def rename(src, dst):
        calls.append(src)
        if len(calls) >= 2:  # the rename in, and the rename back
            raise OSError(errno.EIO, "Input/output error")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(SaveError):
        replace_folder(target, write_new, kind="model")
    monkeypatch.setattr(os, "rename", real_rename)
    assert not target.exists() and [n.split("-")[0] for n in beside(target)] == [".m.old"]
    replace_folder(target, write_new, kind="model")  # the next save: the old model first comes back
    assert (target / "weights").read_text() == "new" and beside(target) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_a_full_disk_or_a_refused_write_leaves_the_folder_as_it_was(tmp_path, code):
    target = old_model(tmp_path / "m")

    def write(folder: Path) -> None:
        (folder / "weights").write_text("half")
        raise OSError(code, os.strerror(code))

    with pytest.raises(SaveError, match="No space left|No permission") as failed:
        replace_folder(target, write, kind="model")
    assert "\n" not in str(failed.value) and "nothing was saved" in str(failed.value)
    assert (target / "weights").read_text() == "old" and beside(target) == []


def test_a_refusal_at_save_time_moves_nothing(tmp_path):
    target = old_model(tmp_path / "m")
    with pytest.raises(SaveError, match="changed meanwhile. Nothing was saved"):
        replace_folder(target, write_new, kind="model", refusal=lambda folder: "It changed meanwhile.")
    assert (target / "weights").read_text() == "old" and beside(target) == []


def test_a_save_whose_writer_is_alive_is_left_alone(tmp_path):
    target = old_model(tmp_path / "m")
    for kind in ("partial", "old"):
        folder = tmp_path / f".m.{kind}-other"
        folder.mkdir()
        (folder / MARKER).write_text(json.dumps(
            {"kind": kind, "pid": os.getppid(), "host": os.uname().nodename, "created": 0, "target": "m"}))
    target.rename(tmp_path / "elsewhere")  # even with the target missing: that save is still going on
    assert recover(target) == []
    assert beside(target) == [".m.old-other", ".m.partial-other", "elsewhere"]


def test_hidden_folders_that_are_not_ours_are_never_deleted(tmp_path):
    target = tmp_path / "m"
    for name in (".m.partial-x", ".m.old-y"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "thesis.tex").write_text("mine")
    stranger = tmp_path / ".m.partial-z"  # ours, but for another folder's save
    stranger.mkdir()
    (stranger / MARKER).write_text(json.dumps({"kind": "partial", "pid": 2**22 + 7, "host": os.uname().nodename, "target": "n"}))
    assert recover(target) == []
    replace_folder(target, write_new, kind="model")
    assert beside(target) == [".m.old-y", ".m.partial-x", ".m.partial-z"]
    assert (tmp_path / ".m.old-y" / "thesis.tex").read_text() == "mine"



# --- the next open of the folder as a model, and saves to other folders (issue 21) ---------------


def old_real_model(target: Path, bert_dir: Path) -> Path:
    """A model this app saved earlier at `target`, that loads."""
    shutil.copytree(bert_dir, target)
    mark_ours(target, "model", files=sorted(os.listdir(target)))
    return target


@pytest.mark.parametrize("given", ["absolute", "relative"])
def test_opening_the_folder_as_a_model_puts_it_back(tmp_path, bert_dir, monkeypatch, caplog, given):
    """`finetune --out kout --overwrite` killed between its renames, then `fill-mask --model
    kout`: the model comes back (said in the log and the load's progress), not "does not exist"
    (an absolute path) or a hub lookup of 'kout' (a bare name)."""
    target = old_real_model(tmp_path / "kout", bert_dir)
    killed_save(target, "between")
    assert not target.exists()
    monkeypatch.chdir(tmp_path)
    name = str(target) if given == "absolute" else "kout"
    with caplog.at_level(logging.WARNING, logger=saving.__name__):
        lm, steps = collect(models.load_steps(name))
    assert lm.source == name and (target / "config.json").is_file() and marker(target)["kind"] == "model"
    assert beside(target) == []  # the new half is removed: the swap never finished
    said = [s.message for s in steps if s.stage == "resolve"]
    assert len(said) == 1 and said[0].startswith(f"Put '{name}' back from '.kout.old-")
    assert f"put '{name}' back from '.kout.old-" in caplog.text


def test_a_missing_folder_with_nothing_to_put_back_still_does_not_exist(tmp_path):
    folder = tmp_path / ".m.old-x"  # hidden and marked, but a person's: not ours to move
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="does not exist"):
        models.load(str(tmp_path / "m"))
    assert folder.is_dir() and not (tmp_path / "m").exists()


def _marked(folder: Path, kind: str, pid: int, **extra) -> Path:
    folder.mkdir()
    (folder / MARKER).write_text(json.dumps({"kind": kind, "pid": pid, "host": os.uname().nodename, "created": 0, **extra}))
    return folder


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_save_to_another_folder_clears_leftovers_of_finished_swaps_beside_it(tmp_path, dead_pid):
    """Leftovers of dead saves to other folders of the same parent: removed only when their
    own target is there (the swap is over); a folder whose target is missing is left to be
    put back when that folder is next opened or saved to, never restored into another name."""
    finished = old_model(tmp_path / "a")
    killed_save(finished, "cleanup")  # a: the new model; .a.old-*: the old one, deletion cut short
    unwritten = old_model(tmp_path / "b")
    killed_save(unwritten, "write")  # b: the old model; .b.partial-*: half a new one
    gone = old_model(tmp_path / "c")
    killed_save(gone, "between")  # no c: .c.old-* and .c.partial-* wait for c to be named
    for name in (".a.partial-mine", ".a.old-mine"):  # hidden, ours-looking names, but a person's
        (tmp_path / name).mkdir()
        (tmp_path / name / "thesis.tex").write_text("mine")
    stranger = _marked(tmp_path / ".a.partial-z", "partial", dead_pid, target="z")  # ours, for z's save
    alive = _marked(tmp_path / ".a.partial-live", "partial", os.getppid(), target="a")  # a save going on
    before = {p.name for p in tmp_path.iterdir()}
    replace_folder(tmp_path / "new", write_new, kind="model")
    left = {p.name for p in tmp_path.iterdir()}
    swept = before - left
    assert {n.split("-")[0] for n in swept} == {".a.old", ".b.partial"} and len(swept) == 2
    assert (tmp_path / "a" / "weights").read_text() == "new" and (tmp_path / "b" / "weights").read_text() == "old"
    assert not gone.exists() and {n.split("-")[0] for n in left if n.startswith(".c.")} == {".c.old", ".c.partial"}
    assert stranger.is_dir() and alive.is_dir() and (tmp_path / ".a.old-mine" / "thesis.tex").read_text() == "mine"
    assert recover(gone) and (gone / "weights").read_text() == "old"  # c comes back when named

# --- before training: the output folder is checked for what a save needs -------------------------


@pytest.fixture
def params(tmp_path: Path) -> FinetuneParams:
    corpus = tmp_path / "c.txt"
    corpus.write_text("text\n")
    return FinetuneParams(corpus=str(corpus), out=str(tmp_path / "deep" / "er" / "out"))


def test_an_unwritable_place_is_refused_before_training(params, monkeypatch):
    monkeypatch.setattr(finetune_checks.os, "access", lambda path, mode: False)
    with pytest.raises(InvalidParameterError, match="no permission to write there"):
        check_params(params)


@pytest.mark.parametrize("code, said", [(errno.EROFS, "read-only file system"), (errno.ENOSPC, "the disk is full")])
def test_the_place_is_written_to_not_only_asked(params, monkeypatch, code, said):
    """os.access says yes on a read-only mount: a file is made there and removed."""

    def mkstemp(**kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(finetune_checks.tempfile, "mkstemp", mkstemp)
    with pytest.raises(InvalidParameterError, match=f"{said}.*Choose another folder"):
        check_params(params)


def test_a_parent_that_is_a_file_is_refused(params, tmp_path):
    (tmp_path / "deep").write_text("a file")
    with pytest.raises(InvalidParameterError, match="is a file, not a folder"):
        check_params(params)


def test_no_room_for_the_model_is_refused_before_training(params, bert_dir, monkeypatch):
    weights = (bert_dir / "model.safetensors").stat().st_size
    assert finetune_checks.model_bytes(str(bert_dir)) >= weights * 1.2
    usage = type("usage", (), {"free": weights})
    monkeypatch.setattr(finetune_checks.shutil, "disk_usage", lambda path: usage)
    with pytest.raises(InvalidParameterError, match="Not enough room.*MB needed"):
        check_params(params, str(bert_dir))
    check_params(params)  # without the base model's folder (the window's first check), no estimate


def test_the_checkpoint_folder_follows_the_same_rule(params, tmp_path):
    checkpoint = tmp_path / "deep" / "er" / "out.checkpoint"
    checkpoint.mkdir(parents=True)
    (checkpoint / "notes.txt").write_text("mine")
    with_checkpoints = FinetuneParams(**{**params.__dict__, "checkpoint_every": 10, "overwrite": True})
    with pytest.raises(InvalidParameterError, match="out.checkpoint.*never replaced"):
        check_params(with_checkpoints)
    assert (checkpoint / "notes.txt").read_text() == "mine"
    (checkpoint / "notes.txt").unlink()
    (checkpoint / "config.json").write_text('{"model_type": "bert"}')
    (checkpoint / "model.safetensors").write_bytes(b"weights")
    mark_ours(checkpoint, "checkpoint")
    check_params(FinetuneParams(**{**with_checkpoints.__dict__, "overwrite": False}))  # its own: replaced anyway
