"""Where this process stands in a `torchrun` (or `accelerate launch`) launch: no torch here,
so the command line can tell rank 0 from the others before anything heavy is imported.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK (and MASTER_ADDR / MASTER_PORT) in every
process it starts; `accelerate launch` does the same. A plain run has none of them: one
process, rank 0 of 1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from explorer.core.errors import InvalidParameterError

# The commands that split their work across the processes of a launch; any other command
# would only run N times over, so under a launch of more than one process it is refused.
DISTRIBUTED_COMMANDS = ("lama", "finetune")


@dataclass(frozen=True)
class Launch:
    rank: int = 0  # this process, 0 .. size - 1 (over every machine)
    size: int = 1  # processes in all
    local_rank: int = 0  # this process on its own machine: which GPU it takes

    @property
    def main(self) -> bool:
        """Rank 0: the one process that prints, writes files and saves models."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def launch_from(env: Mapping[str, str] | None = None) -> Launch:
    """This process's place in the launch, from torchrun's variables (one process without them)."""
    env = os.environ if env is None else env
    if "WORLD_SIZE" not in env:
        return Launch()
    try:
        size, rank = int(env["WORLD_SIZE"]), int(env.get("RANK", "0"))
        local = int(env.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise InvalidParameterError(
            f"WORLD_SIZE, RANK and LOCAL_RANK must be whole numbers (torchrun sets them): {exc}."
        ) from None
    if size < 1 or not 0 <= rank < size or local < 0:
        raise InvalidParameterError(f"RANK {rank} of WORLD_SIZE {size} is not a place in a launch (torchrun sets them).")
    return Launch(rank, size, local)


def shard(count: int, launch: Launch) -> range:
    """Which of `count` work items (batches) this process takes: every size-th, from its rank.
    Round-robin rather than contiguous blocks, so the ranks' shares of a length-sorted list
    cost about the same."""
    return range(launch.rank, count, launch.size)
