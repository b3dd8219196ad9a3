"""Files written for a person: checked before any work, written whole or not at all (issue 21)."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core import output_paths, strict_json
from explorer.core.errors import InvalidParameterError
from explorer.core.output_paths import atomic_path, atomic_write, check_input_file, check_output_path, not_utf8


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


@pytest.mark.parametrize("name, message", [
    ("folder", "is a folder: give a file name that ends in .png"),
    ("fifo", "is a FIFO (named pipe)"),
    ("missing/x.png", "does not exist: create it first"),
    ("file/x.png", "a part of the path before the name is a file"),
    ("x.xml", "must end in .png or .svg"),
    ("x", "must end in .png or .svg"),
    ("", "the path is empty"),
    ("\udcff.png", "is not valid UTF-8 (byte 0xff"),
    ("a" * 300 + ".png", "File name too long"),
])
def test_an_output_path_that_cannot_be_written_is_refused(tmp_path, name, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    path = str(tmp_path / name) if name else ""
    with pytest.raises(InvalidParameterError, match="^--out") as refused:
        check_output_path(path, "--out", (".png", ".svg"))
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_device_and_good_names(tmp_path):
    with pytest.raises(InvalidParameterError, match="is a device"):
        check_output_path("/dev/null", "--out", (".png",))
    assert check_output_path(str(tmp_path / "Grid.PNG"), "--out", (".png",)) == tmp_path / "Grid.PNG"
    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "real.png")
    assert check_output_path(str(link), "--out", (".png",)) == tmp_path / "real.png"  # where the file goes


def test_a_link_to_another_kind_of_file_is_refused(tmp_path):
    """`lama --out link.jsonl` with the link pointing at thesis.txt replaced the thesis."""
    thesis = tmp_path / "thesis.txt"
    thesis.write_text("two years of work")
    link = tmp_path / "link.jsonl"
    link.symlink_to(thesis)
    with pytest.raises(InvalidParameterError, match="link to .*thesis.txt.*give the file itself"):
        check_output_path(str(link), "--out", (".jsonl", ".csv"))
    assert thesis.read_text() == "two years of work"


def test_read_only_places_are_refused(tmp_path, monkeypatch):
    # os.access, as the check asks it (a test run as root could write anywhere).
    locked = tmp_path / "locked"
    locked.mkdir()
    kept = tmp_path / "kept.png"
    kept.write_text("x")
    monkeypatch.setattr(output_paths.os, "access", lambda path, mode: Path(path) not in (locked, kept))
    with pytest.raises(InvalidParameterError, match="the folder '.*locked' is not writable"):
        check_output_path(str(locked / "x.png"), "--out", (".png",))
    with pytest.raises(InvalidParameterError, match="is read-only"):
        check_output_path(str(kept), "--out", (".png",))


def test_an_input_file_is_judged_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "fifo")  # opening it would block this test forever
    for name, message in [("fifo", "FIFO"), ("", "is a folder"), ("missing", "does not exist")]:
        with pytest.raises(InvalidParameterError, match=message):
            check_input_file(str(tmp_path / name), "--common-vocab")
    with pytest.raises(InvalidParameterError, match="is a device"):
        check_input_file("/dev/null", "--common-vocab")


@given(st.text(max_size=20))
def test_not_utf8_finds_exactly_the_lone_surrogates(text):
    assert (not_utf8(text) is None) == (not any("\ud800" <= c <= "\udfff" for c in text))
    bad = text + "\udcff"
    assert "byte 0xff" in not_utf8(bad)


def test_a_write_replaces_the_file_whole_and_keeps_its_mode(tmp_path):
    target = tmp_path / "r.jsonl"
    target.write_text("old\n")
    target.chmod(0o640)
    with atomic_write(target, "w", encoding="utf-8") as handle:
        handle.write("new\n")
        assert target.read_text() == "old\n"  # not replaced until the write is whole
    assert target.read_text() == "new\n" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_a_new_file_gets_the_usual_mode_not_a_private_one(tmp_path):
    target = tmp_path / "new.csv"
    with atomic_write(target) as handle:
        handle.write("x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~output_paths._UMASK


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EIO])
def test_a_failed_write_leaves_the_old_file_and_no_half_file(tmp_path, monkeypatch, code):
    target = tmp_path / "r.jsonl"
    target.write_text("precious\n")

    def fail(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(output_paths.os, "fsync", fail)
    with pytest.raises(OSError) as failed, atomic_write(target) as handle:
        handle.write("half of it")
    assert failed.value.errno == code
    assert target.read_text() == "precious\n" and leftovers(tmp_path) == []


def test_an_error_in_the_writer_leaves_nothing(tmp_path):
    target = tmp_path / "grid.svg"
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        assert temp.suffix == ".svg" and temp.parent == tmp_path and temp.name.startswith(".grid.svg.")
        temp.write_text("<svg")
        raise RuntimeError("the figure failed")
    assert list(tmp_path.iterdir()) == []


def test_a_link_is_written_through(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with atomic_write(link) as handle:
        handle.write("new")
    assert link.is_symlink() and real.read_text() == "new"


@settings(max_examples=50)
@given(st.recursive(
    st.one_of(st.floats(), st.integers(), st.text(max_size=5), st.none(), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=20,
))
def test_strict_json_is_json_every_parser_takes(value):
    text = strict_json.dumps(value)

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    parsed = json.loads(text, parse_constant=refuse)
    clean, count = strict_json.finite(value)
    assert parsed == json.loads(json.dumps(clean))
    assert count == not_finite(value)


def not_finite(value: object) -> int:
    if isinstance(value, float):
        return int(value != value or value in (float("inf"), float("-inf")))
    if isinstance(value, dict):
        return sum(map(not_finite, value.values()))
    if isinstance(value, list):
        return sum(map(not_finite, value))
    return 0
