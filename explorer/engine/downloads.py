"""Fetching hub models ahead of time (class preparation) and listing what is cached."""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from explorer.core.errors import ModelLoadError
from explorer.core.results import LoadProgress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Downloaded:
    name: str
    folder: str
    size_bytes: int
    already_cached: bool

    def to_json(self) -> dict:
        return {"model": self.name, "folder": self.folder, "bytes": self.size_bytes, "already_cached": self.already_cached}


@dataclass(frozen=True)
class CachedModel:
    name: str
    size_bytes: int
    folder: str
    last_modified: float  # seconds since the epoch
    is_model: bool  # has a config.json, so the explorer can open it

    def to_json(self) -> dict:
        return {"model": self.name, "bytes": self.size_bytes, "folder": self.folder, "last_modified": self.last_modified, "is_model": self.is_model}


def _folder_size(folder: Path) -> int:
    # Snapshot entries are links into the blob store: count what they point to.
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def download_steps(name: str) -> Generator[LoadProgress, None, Downloaded]:
    """Put a hub model into the local Hugging Face cache, with byte progress."""
    from explorer.engine import models
    from explorer.engine.demo_model import DEMO_NAME

    name = name.strip()
    if not name:
        raise ModelLoadError("No model given: name a hub model, e.g. bert-base-cased.")
    if name == DEMO_NAME or Path(name).expanduser().exists():
        raise ModelLoadError(f"'{name}' is already on this computer: download takes hub ids such as bert-base-cased.")
    cached = models._cached_snapshot(name)
    if cached:
        return Downloaded(name, cached, _folder_size(Path(cached)), True)
    folder = yield from models.resolve_source(name)
    size = _folder_size(Path(folder))
    yield LoadProgress("ready", f"{name} is in the cache ({size / 1e6:.0f} MB)", 1, 1)
    log.info("downloaded %s to %s", name, folder)
    return Downloaded(name, folder, size, False)


def cached_models() -> list[CachedModel]:
    """The models in the Hugging Face cache, newest first; empty when there is no cache."""
    from huggingface_hub import constants, scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        # The cache as it is set now (HF_HUB_CACHE read at this call, not when huggingface_hub
        # first imported the scanner), so a changed setting is honoured.
        info = scan_cache_dir(constants.HF_HUB_CACHE)
    except CacheNotFound:
        return []
    found = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        newest = max(repo.revisions, key=lambda r: r.last_modified, default=None)
        folder = str(newest.snapshot_path) if newest else str(repo.repo_path)
        found.append(CachedModel(
            repo.repo_id, repo.size_on_disk, folder, repo.last_modified,
            bool(newest and (newest.snapshot_path / "config.json").is_file()),
        ))
    return sorted(found, key=lambda m: m.last_modified, reverse=True)
