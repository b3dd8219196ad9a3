"""Which devices torch can use here, and which one "auto" means."""

from __future__ import annotations

import torch

from explorer.core.errors import InvalidParameterError
from explorer.core.precisions import (
    ALL_PRECISIONS, AUTO, AUTO_ORDER, CPU_NEEDS, CPU_NEEDS_SAID, EXACT, PRECISIONS, cpu_flags,
)
from explorer.core.precisions import cpu_lacks as core_cpu_lacks

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
        return next(kind for kind in AUTO_ORDER if kind in found)
    base = name.split(":")[0]
    if base not in PRECISIONS:  # the device kinds this app knows are the ones its precisions are declared for
        raise InvalidParameterError(f"Unknown device '{name}': use auto, cpu, cuda or mps.")
    if base not in found:
        raise InvalidParameterError(
            f"Device '{name}' is not available on this machine (available: {', '.join(found)})."
        )
    return name


# torch's own probes for the instructions core.precisions.CPU_NEEDS names (any one will do).
TORCH_PROBES = {
    "bfloat16": ("_is_avx512_bf16_supported", "_is_amx_tile_supported"),
    "int8": ("_is_vnni_supported", "_is_amx_tile_supported"),
}


def _probe(name: str) -> bool:
    probe = getattr(getattr(torch, "cpu", None), name, None)
    return bool(probe()) if callable(probe) else False


def cpu_lacks(precision: str) -> str:
    """Why this CPU cannot run `precision` fast ("" when it can): torch's probes, or else the
    CPU's own flags (core.precisions.cpu_lacks), since torch's VNNI probe knows AVX512-VNNI
    only and the laptops with AVX-VNNI (Intel 12th generation on) run oneDNN's int8 kernels too."""
    if precision not in CPU_NEEDS:
        return ""
    if precision == "int8":
        from explorer.engine.int8 import kernel_available

        if not kernel_available():
            return f"int8 on the CPU needs {CPU_NEEDS_SAID['int8']}; this build of torch has no oneDNN int8 kernels."
    if any(_probe(name) for name in TORCH_PROBES[precision]):
        return ""
    flags = cpu_flags()
    if flags is None:  # nothing to read: torch's word is the last
        return f"{precision} on the CPU needs {CPU_NEEDS_SAID[precision]}, which this CPU lacks."
    return core_cpu_lacks(precision, flags)


def resolve_precision(name: str, device: str) -> tuple[str, torch.dtype]:
    """The precision's name ("auto" resolved) and the dtype to load the weights in (int8
    loads in float32 and is quantized after). InvalidParameterError, saying why and what to
    use instead, for a precision this device does not run."""
    name = (name or AUTO).lower()
    kind = device.split(":")[0]
    if name == AUTO:
        name = "float16" if kind == "cuda" else EXACT
    if name not in ALL_PRECISIONS:
        raise InvalidParameterError(f"Unknown precision '{name}': use auto, {', '.join(ALL_PRECISIONS)}.")
    offered = PRECISIONS.get(kind, (EXACT,))
    if name not in offered:
        if kind == "cpu":
            offered = tuple(p for p in offered if not cpu_lacks(p))
        where = "needs a GPU" if kind == "cpu" else f"does not run on {device} (int8 is for the CPU)"
        raise InvalidParameterError(f"{name} {where}; on {device} use {', '.join(offered)} (or auto).")
    why = cpu_lacks(name) if kind == "cpu" else ""
    if why:
        raise InvalidParameterError(f"{why} Use float32 (or auto) here.")
    return name, DTYPES.get(name, torch.float32)


def resolve_dtype(name: str, device: str) -> torch.dtype:
    """The dtype the weights load in for precision `name` on `device` (see resolve_precision)."""
    return resolve_precision(name, device)[1]


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
