"""The LAMA reader never aborts on what the data holds: every bad line or file is skipped and
reported with file:line (line 0: the whole file); only a PATH that cannot be read at all
raises, LamaPathError, and never by opening a FIFO."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core import lama_data
from explorer.core.lama_data import WHOLE_FILE, LamaPathError

GOOD = {"uuid": "ok", "sub_label": "France", "obj_label": "Paris", "predicate_id": "P36",
        "evidences": [{"masked_sentence": "The capital of France is [MASK] ."}]}
RELATIONS = [{"relation": "P36", "template": "The capital of [X] is [Y] ."}]


def write_lines(path: Path, lines: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def lama_folder(root: Path, bad_line: object, relations: list | None = None) -> Path:
    """A LAMA folder with one good fact, then the bad line, then another good fact."""
    write_lines(root / "relations.jsonl", RELATIONS if relations is None else relations)
    write_lines(root / "TREx" / "P36.jsonl", [GOOD, bad_line, {**GOOD, "uuid": "ok2", "sub_label": "Italy", "obj_label": "Rome"}])
    return root


def skipped_at(data: lama_data.LamaSet) -> dict[tuple[str, int], str]:
    return {(Path(s.file).name, s.line): s.reason for s in data.skipped}


@pytest.mark.parametrize(
    "bad, reason",
    [
        ({**GOOD, "evidences": 5}, "evidences is a number, not a list of objects"),
        ({**GOOD, "judgments": 5}, "judgments is a number, not a list of objects"),
        ({**GOOD, "masked_sentences": "The [MASK] ."}, "masked_sentences is text, not a list of sentences"),
        ({**GOOD, "masked_sentences": [1, 2]}, "masked_sentences is a list, not a list of sentences"),
        ({**GOOD, "obj_label": 5}, "obj_label is a number, not text"),
        ({**GOOD, "sub_label": ["France"]}, "sub_label is a list, not text"),
        ({**GOOD, "predicate_id": {"id": "P36"}}, "predicate_id is an object, not text"),
        ({**GOOD, "evidences": ["The [MASK] ."]}, "evidences is a list, not a list of objects"),
        ({**GOOD, "uuid": True}, "uuid is true/false"),
        ("[" * 100_000, "not valid JSON (nested too deeply)"),
        ("[1, 2]", "a list, not a JSON object"),
        ('"text"', "text, not a JSON object"),
        ('{"obj_label": "x", "n": ' + "9" * 5000 + "}", "not valid JSON"),
        ({**GOOD, "obj_label": "\ud800"}, "unpaired surrogate"),
    ],
)
@pytest.mark.parametrize("probe", lama_data.PROBES)
def test_a_line_of_the_wrong_shape_is_skipped_with_its_line(tmp_path, bad, reason, probe):
    data = lama_data.read(lama_folder(tmp_path, bad), probe)
    assert [f.id for f in data.facts] == ["ok", "ok2"]
    assert reason in skipped_at(data)[("P36.jsonl", 2)]


def test_a_folder_named_like_a_data_file_a_fifo_and_a_loop_of_links_are_skipped_whole(tmp_path):
    root = lama_folder(tmp_path, GOOD)
    (root / "TREx" / "x.jsonl").mkdir()
    os.mkfifo(root / "TREx" / "pipe.jsonl")  # opened, it would block the reader for ever
    (root / "TREx" / "loop.jsonl").symlink_to(root / "TREx" / "loop.jsonl")
    (root / "TREx" / "binary.jsonl").write_bytes(b"\x00\x01\x02\xff" * 1000)
    data = lama_data.read(root)
    assert [f.id for f in data.facts] == ["ok", "ok2"]
    skipped = skipped_at(data)
    assert "is a folder, not a file" in skipped[("x.jsonl", WHOLE_FILE)]
    assert "FIFO" in skipped[("pipe.jsonl", WHOLE_FILE)]
    assert "loop of symbolic links" in skipped[("loop.jsonl", WHOLE_FILE)]
    assert "binary" in skipped[("binary.jsonl", WHOLE_FILE)]


@pytest.mark.parametrize(
    "relations, reason",
    [
        (b"\x00\xff\xfe" * 5000, "binary"),
        ([[1, 2], "P36"], "a list, not a JSON object"),
        ([{"relation": 5, "template": "[X] is [Y]"}], "no relation name"),
        ([{"relation": "P36", "template": 7}], "no template with [X] and [Y]"),
        ([{"relation": "P36", "template": "no slots"}], "no template with [X] and [Y]"),
    ],
)
def test_a_broken_relations_file_is_reported_and_the_facts_use_their_sentences(tmp_path, relations, reason):
    root = lama_folder(tmp_path, GOOD)
    if isinstance(relations, bytes):
        (root / "relations.jsonl").write_bytes(relations)
    else:
        write_lines(root / "relations.jsonl", relations)
    data = lama_data.read(root)
    assert {f.id: f.has_template for f in data.facts} == {"ok": False, "ok2": False}
    assert data.facts[0].sentence == "The capital of France is [MASK] ."
    assert any(Path(s.file).name == "relations.jsonl" and reason in s.reason for s in data.skipped)


def test_a_line_over_the_bound_is_skipped_and_the_next_line_read(tmp_path, monkeypatch):
    monkeypatch.setattr(lama_data, "MAX_LINE_BYTES", 1000)
    root = lama_folder(tmp_path, {**GOOD, "uuid": "long", "pad": "x" * 5000})
    data = lama_data.read(root)
    assert [f.id for f in data.facts] == ["ok", "ok2"]
    assert "longer than" in skipped_at(data)[("P36.jsonl", 2)]


@pytest.mark.parametrize("kind", ["fifo", "device", "loop", "empty folder", "unreadable"])
def test_a_path_that_cannot_be_read_is_one_clear_error_and_a_fifo_is_never_opened(tmp_path, kind, monkeypatch):
    path = tmp_path / "data"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path(os.devnull)
    elif kind == "loop":
        path.symlink_to(path)
    elif kind == "empty folder":
        path.mkdir()
    else:
        path.mkdir()
        real_iterdir = Path.iterdir

        def refuse(self):  # no chmod: the tests may run as root, who reads anything
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real_iterdir(self)

        monkeypatch.setattr(Path, "iterdir", refuse)
    expected = {"fifo": "is a FIFO", "device": "is a device", "loop": "loop of symbolic links",
                "empty folder": "holds no LAMA .jsonl files", "unreadable": "Permission denied"}[kind]
    with pytest.raises(LamaPathError, match=expected):
        lama_data.read(path)


def test_a_bad_common_vocabulary_is_one_clear_error(tmp_path):
    os.mkfifo(tmp_path / "vocab.txt")
    with pytest.raises(LamaPathError, match="common vocabulary .* is a FIFO"):
        lama_data.read_common_vocab(tmp_path / "vocab.txt")
    (tmp_path / "bin.txt").write_bytes(b"\x00" * 10)
    with pytest.raises(LamaPathError, match="binary"):
        lama_data.read_common_vocab(tmp_path / "bin.txt")
    (tmp_path / "ok.txt").write_text("\ufeffParis\n\nRome\n")
    assert lama_data.read_common_vocab(tmp_path / "ok.txt") == {"Paris", "Rome"}


FIELDS = ["uuid", "id", "sub_label", "obj_label", "predicate_id", "pred", "masked_sentences", "evidences",
          "judgments", "masked_sentence", "judgment", "relation", "template"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(["[MASK]", "The [MASK] .", "yes", "no", "P36", "[X] is [Y]"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=6),
    max_leaves=20,
)
lines = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data_lines=st.lists(lines, max_size=8), relation_lines=st.lists(lines, max_size=4),
       probe=st.sampled_from(lama_data.PROBES))
def test_any_bytes_give_facts_and_skipped_lines_and_never_an_error(data_lines, relation_lines, probe):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        relations, facts = b"\n".join(relation_lines), b"\n".join(data_lines)
        (root / "relations.jsonl").write_bytes(relations)
        (root / "TREx").mkdir()
        (root / "TREx" / "P36.jsonl").write_bytes(facts)
        data = lama_data.read(root, probe)
        n_lines = facts.count(b"\n") + 1  # lines end at \n only (not at \r or \x1c as splitlines says)
        assert all(lama_data.LAMA_MASK in f.sentence and f.obj_label for f in data.facts)
        for s in data.skipped:
            limit = n_lines if s.file.endswith("P36.jsonl") else relations.count(b"\n") + 1
            assert 0 <= s.line <= limit and s.reason
        assert len(data.facts) + sum(s.file.endswith("P36.jsonl") for s in data.skipped) <= n_lines
        for f in data.facts:  # every fact can be written and printed
            json.dumps(f.__dict__, ensure_ascii=False).encode("utf-8")
