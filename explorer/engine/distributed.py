"""torch.distributed for the commands that scale out (lama, finetune): one process group per
launch, NCCL between GPUs (one per process, by LOCAL_RANK), gloo between CPU processes.

The GUI never comes here: it is one process. A plain run never does either: World is only
started under a launch of more than one process (explorer.core.world).
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from explorer.core.errors import InvalidParameterError
from explorer.core.world import Launch
from explorer.engine.devices import resolve_device

# A rank waits this long for the others at a collective before it gives up (and the launch
# with it): long enough for the slowest rank's share of a LAMA batch or a validation pass.
TIMEOUT = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class World:
    """This process's part in the launch, with the device it computes on."""

    launch: Launch
    device: str  # "cpu" or "cuda:<local rank>"
    backend: str  # "gloo" or "nccl"

    @property
    def rank(self) -> int:
        return self.launch.rank

    @property
    def size(self) -> int:
        return self.launch.size

    @property
    def main(self) -> bool:
        return self.launch.main

    def gather(self, value: Any) -> list[Any]:
        """Every rank's `value` (picklable), in rank order, on every rank."""
        out: list[Any] = [None] * self.size
        dist.all_gather_object(out, value)
        return out

    def sum(self, *values: float) -> tuple[float, ...]:
        """The sums over the ranks of a few numbers (float64, so counts stay exact)."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return tuple(float(x) for x in t.tolist())

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on one (a Stop asked on one rank stops all)."""
        return self.sum(float(flag))[0] > 0

    def barrier(self) -> None:
        dist.barrier()


def start(launch: Launch, device: str = "auto") -> World:
    """Join the launch's process group (torchrun's env:// rendezvous) on this rank's device."""
    resolved = resolve_device(device)
    if resolved.startswith("cuda"):
        count = torch.cuda.device_count()
        if launch.local_rank >= count:
            raise InvalidParameterError(
                f"This machine has {count} GPU{'s' * (count != 1)} but was asked to start at least "
                f"{launch.local_rank + 1} processes on it: give torchrun --nproc_per_node {count} or fewer."
            )
        where, backend = f"cuda:{launch.local_rank}", "nccl"
        torch.cuda.set_device(where)
    elif resolved.startswith("mps"):
        raise InvalidParameterError("torch.distributed does not run on Apple's mps device: give --device cpu.")
    else:
        where, backend = "cpu", "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=TIMEOUT)
    return World(launch, where, backend)


def finish() -> None:
    """Leave the process group (at the end of a command, whatever way it ends)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


class StopRequests:
    """Ctrl+C during a distributed run: the first SIGINT only asks (`asked`), and the ranks
    agree at the next step boundary (World.any) to stop together, so no rank is left waiting
    at a collective for one that has gone; a second SIGINT stops this process at once."""

    def __init__(self) -> None:
        self.asked = False
        self._previous: Any = None

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():  # (signals go to the main thread only)
            self._previous = signal.signal(signal.SIGINT, self._on_signal)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _on_signal(self, _signum: int, _frame: Any) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True
