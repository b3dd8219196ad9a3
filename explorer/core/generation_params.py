"""What crosses the thread boundary for text generation: parameters, steps and the result.

No torch here (the standard library only; steps carry numpy arrays): the Qt tab builds
the parameters and reads the steps, and the Qt side must never import torch. The sampler
itself is explorer/engine/generation.py.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from explorer.core.params import param, problems, seed_param

PARALLEL_SEQUENTIAL = "parallel-sequential"
SEQUENTIAL = "sequential"
PARALLEL = "parallel"
STRATEGIES = (PARALLEL_SEQUENTIAL, SEQUENTIAL, PARALLEL)

STRATEGY_HELP = {  # what the form shows on each choice
    PARALLEL_SEQUENTIAL: "one position per step, in a new random order every sweep (the lab's)",
    SEQUENTIAL: "one position per step, left to right",
    PARALLEL: "every position at once in one step",
}

# The ranges. The upper ends are far above any use and there only so that nothing overflows:
# a model reads at most some thousands of tokens and the engine checks length, top-k and
# batch memory against the model it has. The form offers less (form_high).
MAX_LENGTH = 1_000_000
MAX_BATCH_SIZE = 1_000_000
MAX_TEMPERATURE = 1000.0  # softmax(logits / 1000) is all but uniform already
MAX_TEMPERATURE_DECAY = 10.0
MAX_TOP_K = 10_000_000  # no vocabulary is larger
MAX_ITER = 10_000_000
FORM_MAX = 1_000_000


@dataclass(frozen=True)
class GenerationParams:
    """One generation run. The defaults are the lab's (Wang & Cho's sampler, decay 0.95)."""

    seed_text: str = field(default="", metadata=param(
        label="Seed text", cli="--seed-text", metavar="T",
        help="Text to start from; the samples continue it, and a [MASK] typed in it is filled in too"))
    length: int = field(default=15, metadata=param(
        label="Length", cli="--length", metavar="N", low=1, high=MAX_LENGTH,
        help="Tokens to generate after the seed text",
        form="genLengthSpin", form_high=510))  # the tab narrows it to the model's positions
    batch_size: int = field(default=5, metadata=param(
        label="Samples", what="batch size", cli="--batch-size", metavar="B", low=1, high=MAX_BATCH_SIZE,
        help="Samples drawn together in one batch", form="batchSizeSpin", form_high=256))
    temperature: float = field(default=1.0, metadata=param(
        label="Temperature", cli="--temperature", metavar="T", low=0.0, low_open=True, high=MAX_TEMPERATURE,
        help="Above 1 flattens the model's distribution, below 1 sharpens it; "
        "a small value such as 0.01 makes (nearly) greedy choices",
        form="temperatureSpin", form_low=0.001, form_high=10.0, step=0.05))
    temperature_decay: float = field(default=0.95, metadata=param(
        label="Temperature decay", cli="--temperature-decay", metavar="D", low=0.0, low_open=True,
        high=MAX_TEMPERATURE_DECAY,
        help="Multiplies the temperature after every sweep over the positions; 1 keeps it constant",
        form="temperatureDecaySpin", form_low=0.01, form_high=2.0, step=0.01))
    top_k: int = field(default=0, metadata=param(
        label="Top-k", cli="--top-k", metavar="K", low=0, high=MAX_TOP_K,
        rule="0 (the full distribution) or more, up to {high:,}",
        help="Sample among the k likeliest tokens only; 0: all of them (the full distribution)",
        form="genTopKSpin", form_high=FORM_MAX, special="all"))
    burn_in: int = field(default=0, metadata=param(
        label="Burn-in", cli="--burn-in", metavar="N", low=0, high=MAX_ITER, rule="0 or more iterations (at most {high:,})",
        help="Iterations on the full distribution before top-k applies, as Wang & Cho do",
        form="burnInSpin", form_high=FORM_MAX))
    max_iter: int = field(default=300, metadata=param(
        label="Max iterations", cli="--max-iter", metavar="N", low=1, high=MAX_ITER,
        help="Iterations to run", form="maxIterSpin", form_high=FORM_MAX))
    strategy: str = field(default=PARALLEL_SEQUENTIAL, metadata=param(
        label="Strategy", cli="--strategy", choices=STRATEGY_HELP, help="The order positions are sampled in",
        form="strategySelector"))
    seed: int = field(default=0, metadata=seed_param(
        help="Random seed: the same seed on the same device gives the same samples", form="rngSeedSpin"))

    def problems(self) -> list[str]:
        """What is wrong with these parameters on any model, in words a person can act on."""
        return problems(self)

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
    # Token positions sampled in this iteration; on a GPU, where steps are ~30 a second
    # (generation.GPU_STEP_SECONDS), in every iteration since the step before.
    positions: tuple[int, ...]
    ids: Any  # np.ndarray int64 (batch, T): every sample's token ids after this iteration
    changed: Any  # np.ndarray bool (batch, T): the token differs from the step before
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
