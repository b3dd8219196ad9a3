"""Which precisions each kind of device runs: the one list the window offers from.

Standard library only, so the window can offer only what a device runs before torch has
loaded. `devices.resolve_dtype` is the engine's check; a test keeps every precision offered
here one that it accepts. A new precision (bfloat16 or int8 on the CPU, say) goes here.
"""

from __future__ import annotations

from collections.abc import Iterable

AUTO = "auto"
PRECISIONS: dict[str, tuple[str, ...]] = {
    "cpu": ("float32",),
    "cuda": ("float32", "float16", "bfloat16"),
    "mps": ("float32", "float16"),
}
AUTO_ORDER = ("cuda", "mps", "cpu")  # the device "auto" picks: the first of these found


def device_kind(device: str, found: Iterable[str] = ("cpu",)) -> str:
    """cpu, cuda or mps: what `device` ("auto", "cuda:1", ...) runs on, given the devices found."""
    base = (device or AUTO).split(":")[0].lower()
    if base == AUTO:
        present = set(found)
        return next((kind for kind in AUTO_ORDER if kind in present), "cpu")
    return base


def precisions_for(device: str, found: Iterable[str] = ("cpu",)) -> tuple[str, ...]:
    """"auto" and then every precision `device` runs (a device not known: float32 only)."""
    return (AUTO, *PRECISIONS.get(device_kind(device, found), ("float32",)))
