"""Which devices torch can use here, and which one "auto" means."""

from __future__ import annotations

import torch

from explorer.core.errors import InvalidParameterError

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def available_devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found


def resolve_device(name: str = "auto") -> str:
    name = (name or "auto").lower()
    found = available_devices()
    if name == "auto":
        for preferred in ("cuda", "mps", "cpu"):
            if preferred in found:
                return preferred
    base = name.split(":")[0]
    if base not in ("cpu", "cuda", "mps"):
        raise InvalidParameterError(f"Unknown device '{name}': use auto, cpu, cuda or mps.")
    if base not in found:
        raise InvalidParameterError(
            f"Device '{name}' is not available on this machine (available: {', '.join(found)})."
        )
    return name


def resolve_dtype(name: str, device: str) -> torch.dtype:
    """float32 on CPU always; half precision only where it pays (a GPU)."""
    name = (name or "auto").lower()
    on_gpu = not device.startswith("cpu")
    if name == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    if name not in DTYPES:
        raise InvalidParameterError(f"Unknown dtype '{name}': use auto, float32, float16 or bfloat16.")
    if name != "float32" and not on_gpu:
        raise InvalidParameterError(f"{name} needs a GPU; on the CPU the model runs in float32.")
    return DTYPES[name]


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
