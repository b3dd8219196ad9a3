"""Which precisions each kind of device runs, and what each costs: the one list the window,
the CLI and the notebook offer from.

Standard library only, so the window can offer only what a device runs before torch has
loaded. `devices.resolve_precision` is the engine's check (it asks torch about the CPU); a
test keeps every precision offered here one that it accepts.
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Iterable
from pathlib import Path

AUTO = "auto"
EXACT = "float32"  # what "auto" means on a CPU, and the reference every other precision is measured against
PRECISIONS: dict[str, tuple[str, ...]] = {
    "cpu": ("float32", "bfloat16", "int8"),
    "cuda": ("float32", "float16", "bfloat16"),
    "mps": ("float32", "float16"),
}
AUTO_ORDER = ("cuda", "mps", "cpu")  # the device "auto" picks: the first of these found
ALL_PRECISIONS = tuple(dict.fromkeys(p for names in PRECISIONS.values() for p in names))

# A CPU runs these fast only with the instructions named (any one of them); /proc/cpuinfo's names.
CPU_NEEDS: dict[str, tuple[str, ...]] = {
    "bfloat16": ("avx512_bf16", "amx_bf16"),
    "int8": ("avx512_vnni", "avx_vnni", "amx_int8"),
}
CPU_NEEDS_SAID = {
    "bfloat16": "native bfloat16 arithmetic (AVX512-BF16 or AMX)",
    "int8": "int8 dot-product instructions (AVX512-VNNI, AVX-VNNI or AMX) and an x86 build of torch",
}

# What a fast precision costs, measured on the demo model against float32 and on bert-base's
# shape for speed (benchmarks/precision.py; README "Precision"). Shown in the window's
# tooltips and the status bar; the CLI's JSON names the precision ("dtype").
COST = {
    "float32": "exact: the reference the other precisions are measured against",
    "bfloat16": "about 2x faster than float32 on this kind of CPU; the top guess equals float32's "
    "for 98% of the demo model's cloze sentences",
    "int8": "about 3x faster than float32 on this kind of CPU; the top guess equals float32's for "
    "95-97% of the demo model's cloze sentences and 9.6 of its top 10 are float32's (weights and "
    "activations in 8 bits, per token and per channel, with SmoothQuant)",
    "float16": "half precision on a GPU",
}


def precisions_said() -> str:
    """The choices in words, for a --dtype help or error: derived from PRECISIONS."""
    def names(kinds: tuple[str, ...]) -> str:
        return " or ".join(dict.fromkeys(p for k in kinds for p in PRECISIONS[k] if p != EXACT))

    return (f"auto (float16 on a CUDA GPU, else float32), float32 (exact), {names(('cpu',))} on a CPU, "
            f"{names(('cuda', 'mps'))} on a GPU")


def device_kind(device: str, found: Iterable[str] = ("cpu",)) -> str:
    """cpu, cuda or mps: what `device` ("auto", "cuda:1", ...) runs on, given the devices found."""
    base = (device or AUTO).split(":")[0].lower()
    if base == AUTO:
        present = set(found)
        return next((kind for kind in AUTO_ORDER if kind in present), "cpu")
    return base


@functools.cache
def cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags (Linux's /proc/cpuinfo), or None where they cannot be read
    (then every CPU precision is offered and the engine, which asks torch, decides)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(("flags", "Features")) and ":" in line:
            return frozenset(line.split(":", 1)[1].split())
    return None


def cpu_lacks(precision: str, flags: frozenset[str] | None = None) -> str:
    """Why this CPU cannot run `precision` fast ("" when it can, or when that is unknown)."""
    needs = CPU_NEEDS.get(precision)
    flags = cpu_flags() if flags is None else flags
    if not needs or flags is None:
        return ""
    if precision == "int8" and platform.machine().lower() not in ("x86_64", "amd64", "i686", "x86"):
        return f"int8 on the CPU needs {CPU_NEEDS_SAID['int8']}; this is a {platform.machine()} machine."
    if any(flag in flags for flag in needs):
        return ""
    return f"{precision} on the CPU needs {CPU_NEEDS_SAID[precision]}, which this CPU lacks."


def precisions_for(device: str, found: Iterable[str] = ("cpu",), flags: frozenset[str] | None = None) -> tuple[str, ...]:
    """"auto" and then every precision `device` runs (a device not known: float32 only)."""
    kind = device_kind(device, found)
    names = PRECISIONS.get(kind, (EXACT,))
    if kind == "cpu":
        names = tuple(n for n in names if not cpu_lacks(n, flags))
    return (AUTO, *names)
