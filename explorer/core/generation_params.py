"""What crosses the thread boundary for text generation: parameters, steps and the result.

No torch here (the standard library only; steps carry numpy arrays): the Qt tab builds
the parameters and reads the steps, and the Qt side must never import torch. The sampler
itself is explorer/engine/generation.py.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

PARALLEL_SEQUENTIAL = "parallel-sequential"
SEQUENTIAL = "sequential"
PARALLEL = "parallel"
STRATEGIES = (PARALLEL_SEQUENTIAL, SEQUENTIAL, PARALLEL)

STRATEGY_HELP = {
    PARALLEL_SEQUENTIAL: "one position per step, in a new random order every sweep (the lab's)",
    SEQUENTIAL: "one position per step, left to right",
    PARALLEL: "every position at once in one step",
}

MAX_SEED = 2**63 - 1  # what torch.Generator.manual_seed takes
# The other ranges (the CLI's argument types use these too). The upper ends are far above
# any use and there only so that nothing overflows: a model reads at most some thousands of
# tokens and the engine checks length, top-k and batch memory against the model it has.
MAX_LENGTH = 1_000_000
MAX_BATCH_SIZE = 1_000_000
MAX_TEMPERATURE = 1000.0  # softmax(logits / 1000) is all but uniform already
MAX_TEMPERATURE_DECAY = 10.0
MAX_TOP_K = 10_000_000  # no vocabulary is larger
MAX_ITER = 10_000_000


@dataclass(frozen=True)
class GenerationParams:
    """One generation run. The defaults are the lab's (Wang & Cho's sampler, decay 0.95)."""

    seed_text: str = ""
    length: int = 15  # tokens to generate after the seed text (masks typed in it are filled too)
    batch_size: int = 5
    temperature: float = 1.0
    temperature_decay: float = 0.95  # multiplies the temperature after every full sweep
    top_k: int = 0  # 0 = the full distribution
    burn_in: int = 0  # iterations on the full distribution before top-k applies
    max_iter: int = 300
    strategy: str = PARALLEL_SEQUENTIAL
    seed: int = 0

    def problems(self) -> list[str]:
        """What is wrong with these parameters on any model, in words a person can act on."""
        out: list[str] = []
        if self.strategy not in STRATEGIES:
            out.append(f"Unknown strategy '{self.strategy}': use one of {', '.join(STRATEGIES)}.")
        if not 1 <= self.length <= MAX_LENGTH:
            out.append(f"Length must be at least 1 token (and at most {MAX_LENGTH:,}), got {self.length}.")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            out.append(f"Batch size must be at least 1 sample (and at most {MAX_BATCH_SIZE:,}), got {self.batch_size}.")
        if not (math.isfinite(self.temperature) and 0 < self.temperature <= MAX_TEMPERATURE):
            out.append(
                f"Temperature must be above 0 and at most {MAX_TEMPERATURE:g}, got {self.temperature:g}: "
                "use a small value such as 0.01 for (nearly) greedy choices."
            )
        if not (math.isfinite(self.temperature_decay) and 0 < self.temperature_decay <= MAX_TEMPERATURE_DECAY):
            out.append(
                f"Temperature decay must be above 0 and at most {MAX_TEMPERATURE_DECAY:g} (1 keeps it constant), "
                f"got {self.temperature_decay:g}."
            )
        if not 0 <= self.top_k <= MAX_TOP_K:
            out.append(f"Top-k must be 0 (the full distribution) or more, up to {MAX_TOP_K:,}, got {self.top_k}.")
        if not 0 <= self.burn_in <= MAX_ITER:
            out.append(f"Burn-in must be 0 or more iterations (at most {MAX_ITER:,}), got {self.burn_in}.")
        if not 1 <= self.max_iter <= MAX_ITER:
            out.append(f"Max iterations must be at least 1 (and at most {MAX_ITER:,}), got {self.max_iter}.")
        if not 0 <= self.seed <= MAX_SEED:
            out.append(f"The random seed must be between 0 and {MAX_SEED}, got {self.seed}.")
        return out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class GenerationStep:
    """The state of the whole batch after one iteration.

    `done`, `total` and `message` are what progress bars read (JobBar, the CLI's drive).
    """

    iteration: int  # iterations done, from 1
    total: int  # max iterations
    sweep: int  # the sweep this iteration belongs to, from 1
    temperature: float  # the temperature this iteration sampled with
    top_k: int  # the top-k it sampled with; 0 = the full distribution (burn-in, or none asked)
    positions: tuple[int, ...]  # token positions sampled in this iteration
    ids: Any  # np.ndarray int64 (batch, T): every sample's token ids after this iteration
    changed: Any  # np.ndarray bool (batch, T): the token differs from before this iteration
    pieces: tuple[tuple[str, ...], ...]  # per sample, per token: what to show ("" for [CLS]/[SEP])
    starts_word: tuple[tuple[bool, ...], ...]  # per sample, per token: False for a "##" piece
    kinds: tuple[str, ...]  # per token: "special", "seed" or "generated" (the same for all samples)
    texts: tuple[str, ...]  # every sample as text: wordpieces joined into words (byte-level BPE decoded)
    seconds: float  # since the run started
    sweep_end: bool = False  # the last iteration of its sweep (the temperature decays after it)

    @property
    def done(self) -> int:
        return self.iteration

    @property
    def message(self) -> str:
        return f"iter {self.iteration} (temp {format_temperature(self.temperature)})"

    @property
    def batch_size(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class GenerationResult:
    model: str
    params: GenerationParams
    samples: tuple[str, ...]
    iterations: int
    seconds: float
    stopped: bool = False  # ended by Stop before max iterations: the samples are the chain so far
    tokens: tuple[tuple[str, ...], ...] = field(default_factory=tuple)  # per sample, as in GenerationStep.pieces

    @classmethod
    def from_step(cls, model: str, params: GenerationParams, step: GenerationStep, *, stopped: bool) -> GenerationResult:
        """The samples as they stand after `step`: the whole result, or what Stop leaves."""
        return cls(
            model=model,
            params=params,
            samples=tuple(step.texts),
            iterations=step.iteration,
            seconds=step.seconds,
            stopped=stopped,
            tokens=tuple(step.pieces),
        )

    def to_json(self) -> dict[str, Any]:
        """The CLI's stable JSON contract."""
        return {
            "model": self.model,
            "params": self.params.to_json(),
            "samples": list(self.samples),
            "iterations": self.iterations,
            "seconds": round(self.seconds, 3),
        }


def temperature_at(params: GenerationParams, sweep: int) -> float:
    """The temperature of sweep `sweep` (from 0): decayed after every sweep, and never past
    MAX_TEMPERATURE (a decay above 1 heats the chain; a float overflows after enough sweeps)."""
    try:
        value = params.temperature * params.temperature_decay**sweep
    except OverflowError:
        value = math.inf
    return min(value, MAX_TEMPERATURE)


def format_temperature(t: float) -> str:
    """As the lab prints it (two decimals), until decay takes it below 0.01."""
    return f"{t:.2f}" if t >= 0.01 else f"{t:.0e}"


def join_pieces(pieces: tuple[str, ...], starts_word: tuple[bool, ...]) -> str:
    """Wordpieces to words: a piece that does not start a word is glued to the one before."""
    words: list[str] = []
    for piece, start in zip(pieces, starts_word):
        if not piece:
            continue
        if start or not words:
            words.append(piece)
        else:
            words[-1] += piece
    return " ".join(words)
