"""Which devices torch can use here, and which one "auto" means."""

from __future__ import annotations

import torch

from explorer.core.errors import InvalidParameterError
from explorer.core.precisions import ALL_PRECISIONS, AUTO, CPU_NEEDS, CPU_NEEDS_SAID, EXACT, PRECISIONS, cpu_flags
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


def cpu_lacks(precision: str) -> str:
    """Why this CPU cannot run `precision` fast ("" when it can): torch's probes, or the CPU's
    own flags (core.precisions.CPU_NEEDS), since torch's VNNI probe knows AVX512-VNNI only and
    the laptops with AVX-VNNI (Intel 12th generation on) run oneDNN's int8 kernels too."""
    cpu = getattr(torch, "cpu", None)

    def has(check: str) -> bool:
        probe = getattr(cpu, check, None)
        return bool(probe()) if callable(probe) else False

    flagged = not core_cpu_lacks(precision, cpu_flags() or frozenset()) if precision in CPU_NEEDS else False
    if precision == "bfloat16" and not (has("_is_avx512_bf16_supported") or has("_is_amx_tile_supported") or flagged):
        return f"bfloat16 on the CPU needs {CPU_NEEDS_SAID['bfloat16']}, which this CPU lacks."
    if precision == "int8":
        from explorer.engine.int8 import kernel_available

        if not (kernel_available() and (has("_is_vnni_supported") or has("_is_amx_tile_supported") or flagged)):
            return f"int8 on the CPU needs {CPU_NEEDS_SAID['int8']}, which this machine lacks."
    return ""


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
