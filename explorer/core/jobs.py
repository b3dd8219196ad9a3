"""Long jobs are generators of progress steps that return their result (no torch here)."""

from __future__ import annotations

from collections.abc import Generator
from typing import TypeVar

S = TypeVar("S")
R = TypeVar("R")


def collect(steps: Generator[S, None, R]) -> tuple[R, list[S]]:
    """Run a job to its end without a progress view: its result and every step it yielded."""
    seen: list[S] = []
    while True:
        try:
            seen.append(next(steps))
        except StopIteration as done:
            return done.value, seen


def run_to_end(steps: Generator[S, None, R]) -> R:
    return collect(steps)[0]
