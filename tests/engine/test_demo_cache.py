"""The demo model's cache: what clean-up may delete, when the temporary folder is used, how a
damaged cache heals, and what a full or unreadable disk says (issue 21).

Most tests assemble a tiny model in place of the real one (the same writing, marking,
verifying and renaming code; milliseconds instead of a second); one heals the real model.
Faults are monkeypatched OSErrors; another user's folder is a monkeypatched user id.
"""

from __future__ import annotations

import builtins
import errno
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.engine import demo_model, models

from explorer.core import owned
from explorer.core.errors import ModelLoadError

DAY_AGO = time.time() - 2 * demo_model.STALE_S


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The id of a process that has ended (a killed start's)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture(scope="module")
def tiny_built(bert_dir):
    from transformers import BertForMaskedLM, BertTokenizer

    model, tokenizer = BertForMaskedLM.from_pretrained(str(bert_dir)), BertTokenizer.from_pretrained(str(bert_dir))
    return demo_model._Built(model, tokenizer, "tiny")


class Places:
    """The cache and temporary folders of one test, and how often the model was built."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.tmpdir = tmp_path / "tmp"
        self.tmpdir.mkdir()
        monkeypatch.setattr(demo_model.tempfile, "gettempdir", lambda: str(self.tmpdir))
        self.use_cache(tmp_path / "cache")
        self.builds = 0

    def use_cache(self, root: Path) -> None:
        self.cache = root
        self.monkeypatch.setenv("BERT_EXPLORER_CACHE", str(root))

    @property
    def temp_root(self) -> Path:
        return self.tmpdir / f"bert-explorer-{demo_model._user() or 0}"

    def name(self) -> str:
        return demo_model._folder_name()

    def block_cache(self) -> None:
        """A file where the cache folder's parent should be: nothing can be written there."""
        blocker = self.cache.parent / "blocker"
        blocker.write_text("a file, not a folder")
        self.use_cache(blocker / "cache")


@pytest.fixture
def places(tmp_path, monkeypatch, tiny_built) -> Places:
    here = Places(tmp_path, monkeypatch)

    def build(_delta):
        here.builds += 1
        return tiny_built

    monkeypatch.setattr(demo_model, "_build", build)
    return here


def _mark(folder: Path, kind: str, pid: int, **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    record = {"kind": kind, "pid": pid, "host": socket.gethostname(), "created": time.time(), **extra}
    (folder / owned.MARKER).write_text(json.dumps(record))
    return folder


def _age(path: Path) -> None:
    os.utime(path, (DAY_AGO, DAY_AGO), follow_symlinks=False)


def _manifest(folder: Path) -> dict:
    return owned.marker(folder)[demo_model.MANIFEST]


# -- Clean-up deletes only what the app marked --------------------------------------------------


def test_clean_up_never_touches_a_persons_demo_folders(places, dead_pid, tmp_path):
    root = places.cache
    theirs = {
        "demo-website": "index.html", "demo-recordings": "take1.wav",  # a person's folders
        "demo-0123456789ab": "model.safetensors",  # an older version's cache: unmarked, left
        ".demo-x.partial-1": "model.safetensors",  # an older version's killed start: unmarked
    }
    for name, file in theirs.items():
        (root / name).mkdir(parents=True)
        (root / name / file).write_text("keep me")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "notes.txt").write_text("keep me")
    (root / "demo-link").symlink_to(outside, target_is_directory=True)
    (root / "demo-file").write_text("keep me")
    (root / ".demo-link.partial-2").symlink_to(_mark(tmp_path / "marked-elsewhere", "partial", dead_pid))
    ours_stale = _mark(root / "demo-v2-000000000000", demo_model.KIND, dead_pid)  # another version, unused a day
    ours_recent = _mark(root / "demo-v2-111111111111", demo_model.KIND, dead_pid)  # another install in use
    killed = _mark(root / ".demo-v2-aaaaaaaaaaaa.partial-x1", demo_model.PARTIAL, dead_pid)
    set_aside = _mark(root / ".demo-v2-aaaaaaaaaaaa.old-1-2", demo_model.KIND, dead_pid)
    running = _mark(root / ".demo-v2-aaaaaaaaaaaa.partial-x2", demo_model.PARTIAL, os.getpid())
    for path in [*root.iterdir(), outside]:
        if path != ours_recent:
            _age(path)

    folder = demo_model.ensure_assembled()

    left = {p.name for p in root.iterdir()}
    assert left == set(theirs) | {"demo-link", "demo-file", ".demo-link.partial-2", ours_recent.name, running.name, folder.name}
    assert ours_stale.name not in left and killed.name not in left and set_aside.name not in left
    for name, file in theirs.items():
        assert (root / name / file).read_text() == "keep me"
    assert (outside / "notes.txt").read_text() == "keep me" and (root / "demo-file").read_text() == "keep me"
    assert (tmp_path / "marked-elsewhere").is_dir()  # a link is never followed


ENTRY_KINDS = ("person's folder", "file", "link", "unmarked", "demo", "partial-dead", "partial-live", "partial-unmarked")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(
    st.tuples(st.sampled_from(ENTRY_KINDS), st.booleans(), st.text("abc0123456789-._", min_size=1, max_size=12)),
    max_size=8,
))
def test_clean_up_removes_exactly_the_marked_leftovers(entries, dead_pid):
    """Property: after the sweep, every entry is still there unless it carries this app's marker
    and is stale (another version unused for a day, or a partial whose process has ended)."""
    with tempfile.TemporaryDirectory() as tmp:
        root, keep = Path(tmp), Path(tmp) / "demo-v2-keepkeepkeep"
        _mark(keep, demo_model.KIND, dead_pid)
        expected_gone, made = set(), set()
        for i, (kind, old, stem) in enumerate(entries):
            partial = kind.startswith("partial")
            name = f".demo-{stem}.partial-{i}" if partial else f"demo-{stem}-{i}"
            path = root / name
            if kind == "file":
                path.write_text("data")
            elif kind == "link":
                path.symlink_to(_mark(root / f"target-{i}", demo_model.KIND, dead_pid))
            elif kind in ("person's folder", "unmarked", "partial-unmarked"):
                path.mkdir()
                (path / "model.safetensors").write_text("data")
            elif kind == "demo":  # another version: removed once unused for a day
                _mark(path, demo_model.KIND, dead_pid)
            else:  # removed once its process has ended
                _mark(path, demo_model.PARTIAL, dead_pid if kind == "partial-dead" else os.getpid())
            if old:
                _age(path)
            if (kind == "demo" and old) or kind == "partial-dead":
                expected_gone.add(name)
            made.add(name)
        demo_model._sweep(root, keep=keep)
        left = {p.name for p in root.iterdir() if not p.name.startswith("target-")}
        assert left == (made - expected_gone) | {keep.name}


def test_a_killed_starts_partial_folder_is_removed_on_the_next_start(places, dead_pid):
    folder = demo_model.ensure_assembled()
    killed = _mark(places.cache / f".{folder.name}.partial-abc", demo_model.PARTIAL, dead_pid)
    (killed / "model.safetensors").write_bytes(b"half a model")
    _age(folder)
    assert models.run_to_end(models.resolve_source("demo")) == str(folder)
    assert places.builds == 1 and not killed.exists()  # reused, not rebuilt; the leftover gone
    assert time.time() - folder.stat().st_mtime < demo_model.STALE_S  # in use: no clean-up takes it


def test_a_kill_between_the_two_renames_is_recovered(places, dead_pid):
    """A damaged folder is set aside, then the new one renamed in: killed in between, the
    next start finds no folder, assembles one, and removes the set-aside one."""
    folder = demo_model.ensure_assembled()
    aside = folder.with_name(f".{folder.name}.old-1-2")
    folder.rename(aside)
    _mark(aside, demo_model.KIND, dead_pid, **{demo_model.MANIFEST: _manifest(aside)})
    assert demo_model.ensure_assembled() == folder
    assert not aside.exists() and demo_model._state(folder, private=False) is None


def test_a_failed_assembly_leaves_no_partial_folder(places, monkeypatch):
    def broken(_delta):
        raise demo_model.DemoUnavailable("The demo model's delta does not fit")

    monkeypatch.setattr(demo_model, "_build", broken)
    with pytest.raises(demo_model.DemoUnavailable, match="does not fit"):
        demo_model.ensure_assembled()
    assert [p.name for p in places.cache.iterdir()] == []


# -- The temporary folder: only when the cache fails, only when it is ours -----------------------


def test_the_temporary_folder_is_used_only_when_the_cache_cannot_be_written(places, tmp_path):
    writable = places.cache
    places.block_cache()
    in_temp = demo_model.ensure_assembled()
    assert in_temp.parent == places.temp_root
    assert places.temp_root.stat().st_mode & 0o777 == 0o700  # made private
    places.use_cache(writable)
    in_cache = demo_model.ensure_assembled()
    assert in_cache.parent == writable and places.builds == 2  # not the temporary copy


def _plant(root: Path, name: str) -> Path:
    """A folder that looks like a whole demo model, as another user could leave it."""
    planted = root / name
    planted.mkdir(parents=True)
    (planted / "config.json").write_text("{}")
    (planted / "model.safetensors").write_bytes(b"planted")
    files = {}
    for path in planted.iterdir():
        st = path.stat()
        files[path.name] = {"size": st.st_size, "sha256": demo_model._digest(path), "mtime_ns": st.st_mtime_ns}
    return _mark(planted, demo_model.KIND, 1, **{demo_model.MANIFEST: files})


def test_a_temporary_folder_of_another_user_is_refused(places, monkeypatch):
    places.block_cache()
    monkeypatch.setattr(demo_model, "_user", lambda: 4242)  # we are 4242; the folders are root's
    planted = _plant(places.temp_root, places.name())
    with pytest.raises(ModelLoadError, match=f"{places.temp_root} belongs to another user"):
        models.load("demo")
    assert (planted / "model.safetensors").read_bytes() == b"planted" and places.builds == 0


@pytest.mark.parametrize("where", ["root", "demo folder"])
def test_a_temporary_folder_others_can_write_is_refused(places, where):
    places.block_cache()
    planted = _plant(places.temp_root, places.name())
    places.temp_root.chmod(0o700)
    (places.temp_root if where == "root" else planted).chmod(0o777)
    shown = places.temp_root if where == "root" else planted
    with pytest.raises(demo_model.DemoUnavailable, match=f"{shown} can be written by other users"):
        demo_model.ensure_assembled()
    assert (planted / "model.safetensors").read_bytes() == b"planted" and places.builds == 0


def test_a_link_in_the_temporary_folder_is_refused(places, tmp_path):
    places.block_cache()
    places.temp_root.mkdir(mode=0o700)
    (places.temp_root / places.name()).symlink_to(_plant(tmp_path / "elsewhere", "model"))
    with pytest.raises(demo_model.DemoUnavailable, match="is not a folder"):
        demo_model.ensure_assembled()


def test_the_temporary_copy_is_hashed_in_full(places):
    """Same size, same mtime, other bytes: the cache trusts the mtime, the temporary folder
    (shared machine) does not."""
    places.block_cache()
    folder = demo_model.ensure_assembled()
    weights = folder / "model.safetensors"
    before = weights.stat()
    weights.write_bytes(b"\0" * before.st_size)
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))
    demo_model._digest_of.cache_clear()
    assert demo_model._state(folder, private=True) == "model.safetensors has changed since it was written"
    assert demo_model.ensure_assembled() == folder and places.builds == 2


# -- Caches that heal -----------------------------------------------------------------------------


def _truncate(folder: Path) -> None:
    with open(folder / "model.safetensors", "r+b") as handle:
        handle.truncate(100)


def _zero(folder: Path) -> None:  # same size; written after assembly, so another mtime
    path = folder / "model.safetensors"
    path.write_bytes(b"\0" * path.stat().st_size)


def _no_tokenizer(folder: Path) -> None:
    (folder / "tokenizer.json").unlink()


def _bad_config(folder: Path) -> None:
    (folder / "config.json").write_text("{")


def _extra_weights(folder: Path) -> None:  # transformers could read this instead
    (folder / "pytorch_model.bin").write_bytes(b"other weights")


@pytest.mark.parametrize("damage", [_truncate, _zero, _no_tokenizer, _bad_config, _extra_weights])
def test_a_damaged_cache_is_put_together_again(places, damage, caplog):
    folder = demo_model.ensure_assembled()
    manifest = _manifest(folder)
    damage(folder)
    assert demo_model.ready_folder() is None
    with caplog.at_level(logging.WARNING, logger=demo_model.__name__):
        assert demo_model.ensure_assembled() == folder
    assert places.builds == 2 and f"the demo model in {folder} is damaged" in caplog.text
    assert {n: v["sha256"] for n, v in _manifest(folder).items()} == {n: v["sha256"] for n, v in manifest.items()}
    assert demo_model._state(folder, private=True) is None  # every byte as recorded
    assert not [p for p in places.cache.iterdir() if p.name.startswith(".")]  # nothing set aside is left


def test_an_older_unmarked_cache_is_left_as_it_is(places):
    """A folder at the demo's name without the marker (not ours to judge): never used, never
    replaced; the temporary folder serves, and the reason names the folder."""
    older = places.cache / places.name()
    older.mkdir(parents=True)
    (older / "model.safetensors").write_bytes(b"whatever it is")
    folder = demo_model.ensure_assembled()
    assert folder.parent == places.temp_root
    assert (older / "model.safetensors").read_bytes() == b"whatever it is"


@pytest.mark.parametrize("mtime", ["changed", "put back"])
def test_a_damaged_demo_cache_heals_and_the_demo_loads(demo_lm, monkeypatch, tmp_path, mtime):
    """The real model: zeroed weights in the cache are found and put together again, at start
    (another mtime) or when the load fails (the mtime put back: `dd conv=notrunc`, `touch -d`)."""
    shutil.copytree(Path(demo_lm.source), tmp_path / "cache" / Path(demo_lm.source).name, symlinks=True)
    monkeypatch.setenv("BERT_EXPLORER_CACHE", str(tmp_path / "cache"))
    copy = tmp_path / "cache" / Path(demo_lm.source).name
    assert demo_model.ready_folder() == copy
    _zero(copy) if mtime == "changed" else _zero_in_place(copy / "model.safetensors")
    lm = models.load("demo")
    assert lm.source == str(copy) and demo_model._state(copy, private=True) is None
    assert lm.model.state_dict()["cls.predictions.bias"].equal(demo_lm.model.state_dict()["cls.predictions.bias"])


def _zero_in_place(path: Path) -> None:
    """`dd conv=notrunc` then `touch -d`: other bytes, same size, same mtime (the quick check
    at start sees nothing; only the load fails)."""
    before = path.stat()
    with open(path, "r+b") as handle:
        handle.write(b"\0" * before.st_size)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.parametrize("file", ["model.safetensors", "tokenizer.json", "config.json"])
def test_a_file_zeroed_in_place_with_its_mtime_put_back_heals_when_the_load_fails(places, file, caplog):
    """issue 21: every run failed with 'Its weights may be damaged: save or download the model
    again' (wrong advice for the demo model), and the cache never healed."""
    folder = demo_model.ensure_assembled()
    _zero_in_place(folder / file)
    assert demo_model.ready_folder() == folder  # the quick check at start passes it
    with caplog.at_level(logging.WARNING, logger=demo_model.__name__):
        lm = models.load("demo")
    assert lm.source == str(folder) and places.builds == 2
    assert f"the demo model in {folder} is damaged ({file} has changed since it was written)" in caplog.text
    assert demo_model._state(folder, private=False, reread=True) is None
    assert not [p for p in places.cache.iterdir() if p.name.startswith(".")]  # the atomic rebuild left nothing


def test_a_demo_that_does_not_load_though_its_files_are_whole_says_what_fits_the_demo(places, monkeypatch):
    """Nothing to heal (the files are as written): not rebuilt, and no advice to 'save or
    download the model again'; the message names the folder and says what to do."""
    import transformers

    folder = demo_model.ensure_assembled()

    def broken(*args, **kwargs):
        raise RuntimeError("this transformers cannot read it")

    monkeypatch.setattr(transformers.AutoModelForMaskedLM, "from_pretrained", broken)
    with pytest.raises(ModelLoadError) as failed:
        models.load("demo")
    message = str(failed.value)
    assert f"The bundled demo model in '{folder}' does not load although its files are as they were written" in message
    assert "this transformers cannot read it" in message and "Reinstall BERT Explorer" in message
    assert "BERT_EXPLORER_CACHE" in message and "save or download" not in message.lower()
    assert "\n" not in message and places.builds == 1


def test_a_demo_that_still_fails_after_it_was_put_together_again_says_so(places, monkeypatch):
    folder = demo_model.ensure_assembled()
    _zero_in_place(folder / "model.safetensors")
    heals = []

    def rebuilt_to_no_avail(damaged):  # a rebuild that cannot help (a damaged package, say)
        heals.append(damaged)
        return damaged

    monkeypatch.setattr(demo_model, "reassemble_if_damaged", rebuilt_to_no_avail)
    with pytest.raises(ModelLoadError, match=f"The bundled demo model in '{folder}' does not load although it was "
                       "just put together again.*Reinstall BERT Explorer.*BERT_EXPLORER_CACHE"):
        models.load("demo")
    assert heals == [folder]  # one retry, never a loop


# -- Full and unwritable disks --------------------------------------------------------------------


def _under(path, root: Path) -> bool:
    try:
        return Path(os.fsdecode(path)).is_relative_to(root)
    except TypeError:  # a file descriptor
        return False


def _disk_full_saving_under(monkeypatch, tiny_built, *roots: Path) -> None:
    """safetensors' own report of a full disk (not an OSError) for folders under roots."""
    from safetensors import SafetensorError

    original = type(tiny_built.model).save_pretrained

    def save(model, folder, *args, **kwargs):
        if any(_under(folder, root) for root in roots):
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        return original(model, folder, *args, **kwargs)

    monkeypatch.setattr(type(tiny_built.model), "save_pretrained", save)


def test_a_full_cache_falls_back_to_the_temporary_folder(places, monkeypatch, tiny_built, caplog):
    _disk_full_saving_under(monkeypatch, tiny_built, places.cache)
    with caplog.at_level(logging.WARNING, logger=demo_model.__name__):
        folder = demo_model.ensure_assembled()
    assert folder.parent == places.temp_root
    assert f"no space left on device in {places.cache}" in caplog.text
    assert "does not fit" not in caplog.text and places.builds == 1  # built once for both


def test_no_space_anywhere_says_so_and_names_each_folder(places, monkeypatch, tiny_built):
    _disk_full_saving_under(monkeypatch, tiny_built, places.cache, places.tmpdir)
    with pytest.raises(ModelLoadError) as caught:
        models.load("demo")
    message = str(caught.value)
    assert f"no space left on device in {places.cache}" in message
    assert f"no space left on device in {places.temp_root}" in message
    assert "does not fit" not in message and "BERT_EXPLORER_CACHE" in message
    assert not [p for p in places.cache.iterdir()] and places.temp_root.is_dir()  # no partial left


def test_too_little_room_is_found_before_the_model_is_built(places, monkeypatch):
    usage = shutil.disk_usage(places.tmpdir)
    monkeypatch.setattr(demo_model.shutil, "disk_usage", lambda path: usage._replace(free=10 * 2**20))
    with pytest.raises(demo_model.DemoUnavailable) as caught:
        demo_model.ensure_assembled()
    assert f"no space left on device in {places.cache} (10 MB free, 100 MB needed)" in str(caught.value)
    assert places.builds == 0


def _refuse(monkeypatch, module, name: str, root: Path, code: int = errno.EACCES, writing_only: bool = False) -> None:
    original = getattr(module, name)

    def refused(path, *args, **kwargs):
        mode = args[0] if args else kwargs.get("mode", "r")
        if _under(path, root) and (not writing_only or not isinstance(mode, str) or set(mode) & set("wax+")):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(module, name, refused)


@pytest.mark.parametrize("call", ["mkdir", "rename", "open", "enospc-mkdir", "enospc-open"])
def test_an_unwritable_or_full_cache_falls_back_with_the_reason(places, monkeypatch, call, caplog):
    code = errno.ENOSPC if call.startswith("enospc") else errno.EACCES
    name = call.removeprefix("enospc-")
    if name == "open":
        _refuse(monkeypatch, builtins, "open", places.cache, code, writing_only=True)
    else:
        _refuse(monkeypatch, os, name, places.cache, code)
    with caplog.at_level(logging.WARNING, logger=demo_model.__name__):
        folder = demo_model.ensure_assembled()
    monkeypatch.undo()
    assert folder.parent.name == places.temp_root.name
    assert f"{os.strerror(code).lower()} in {places.cache}" in caplog.text
    assert not places.cache.exists() or not list(places.cache.iterdir())  # no partial folder left


def test_a_cache_only_another_user_can_read_falls_back(places, monkeypatch, caplog):
    cached = demo_model.ensure_assembled()
    _refuse(monkeypatch, builtins, "open", cached)  # as a folder of mode 0700 of another user reads
    with caplog.at_level(logging.WARNING, logger=demo_model.__name__):
        folder = demo_model.ensure_assembled()
    monkeypatch.undo()
    assert folder.parent.name == places.temp_root.name
    assert f"permission denied in {cached}" in caplog.text
    assert demo_model._state(cached, private=False) is None  # theirs is left as it was
