"""Is there room for one more model? Asked before a second (compare) model loads.

Two bert-large models in float32 are about 2.7 GB; on a laptop that can be the difference
between a working app and one the system kills. The estimate is the weights' size on disk
scaled to the precision they load in, plus a margin for activations and the tokenizer.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

from explorer.core.errors import ModelLoadError

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
MARGIN = 1.25  # activations, the tokenizer, allocator slack: measured 1.1-1.2 on bert-base
STORED_BYTES = 4  # checkpoints on the hub are float32 unless they say otherwise


class NotEnoughMemoryError(ModelLoadError):
    """Loading one more model would not fit in the memory this machine has free."""


def weights_bytes(folder: str | Path) -> int:
    """The size of a model folder's weight files (0 when none is found)."""
    root = Path(folder)
    if not root.is_dir():
        return 0
    return sum(f.stat().st_size for f in root.iterdir() if f.is_file() and f.suffix in WEIGHT_SUFFIXES)


def needed_bytes(folder: str | Path, dtype: torch.dtype) -> int:
    scale = torch.empty((), dtype=dtype).element_size() / STORED_BYTES
    return int(weights_bytes(folder) * scale * MARGIN)


def free_bytes(device: str) -> int | None:
    """Memory free for a model on `device`, or None when it cannot be told."""
    if device.startswith("cuda") and torch.cuda.is_available():
        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def gigabytes(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


def check_room(name: str, folder: str | Path, device: str, dtype: torch.dtype, *, free: int | None = None) -> None:
    """NotEnoughMemoryError, before any weight is read, when `name` will not fit."""
    need = needed_bytes(folder, dtype)
    free = free_bytes(device) if free is None else free
    log.debug("room for %s on %s: need %s, free %s", name, device, need, free)
    if free is not None and need > free:
        raise NotEnoughMemoryError(
            f"{name} needs about {gigabytes(need)} on {device}, and only {gigabytes(free)} is free with the "
            "models already open. Compare with a smaller model, close other programs, or stop comparing first."
        )
