"""Time left in a long job, from its recent pace.

The average since the start counts the set-up (loading, measuring perplexity before
training) as if every step were that slow: a fine-tuning run said "4 min 24 s left" at step 2
and ended 2.5 minutes later. The pace of the last few reports follows what the job does now.
"""

from __future__ import annotations

from collections import deque

WINDOW = 8  # reports: enough to smooth one slow step, few enough to follow a change of pace


class RecentPace:
    def __init__(self, window: int = WINDOW) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=window)

    def add(self, seconds: float, done: float) -> None:
        """A report: `done` units of work at `seconds` (any clock that only goes forward)."""
        if self._samples and done < self._samples[-1][1]:
            self._samples.clear()  # counted again from 0: a new phase
        self._samples.append((seconds, done))

    def seconds_left(self, total: float) -> float | None:
        """At the recent pace, the time to reach `total`; None until two reports show progress."""
        if len(self._samples) < 2:
            return None
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        if d1 <= d0 or t1 <= t0:
            return None
        return max(0.0, (total - d1) * (t1 - t0) / (d1 - d0))
