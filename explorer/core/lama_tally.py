"""Running sums behind the LAMA summary, so that it costs O(relations) per refresh.

Recomputing the metrics over 28k results every few hundred ms took 50-150 ms of the UI
thread (more while the model thread competes for the GIL); the tally adds each batch as it
arrives. It computes what `lama_data.summarise` computes (the tests hold the two together);
export still goes through `summarise`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from explorer.core.lama_data import FactResult, LamaReport, Score, SkippedLine


class ScoreTally:
    def __init__(self) -> None:
        # relation -> [facts counted, right at 1, gold in the top 10, sum of reciprocal ranks]
        self._sums: dict[str, list[float]] = {}
        self.dropped: Counter[str] = Counter()
        self.evaluated = 0

    def _add(self, relation: str, result: FactResult, sign: int) -> None:
        self.evaluated += sign
        if result.dropped:
            self.dropped[result.dropped] += sign
            if self.dropped[result.dropped] == 0:
                del self.dropped[result.dropped]
            return
        rank = result.rank
        sums = self._sums.setdefault(relation, [0, 0, 0, 0.0])
        sums[0] += sign
        sums[1] += sign * (rank == 1)
        sums[2] += sign * (rank is not None and rank <= 10)
        sums[3] += sign * (1.0 / rank if rank else 0.0)

    def replace(self, relation: str, old: FactResult | None, new: FactResult) -> None:
        """A fact's result arrived (again: a second run replaces the first)."""
        if old is not None:
            self._add(relation, old, -1)
        self._add(relation, new, +1)

    def report(self, model: str, protocol: str, skipped: Iterable[SkippedLine] = ()) -> LamaReport:
        """The scores as `summarise` would give them, without the per-fact lists."""
        relations = {
            name: Score(at1 / n, at10 / n, rr / n, int(n)) for name, (n, at1, at10, rr) in self._sums.items() if n > 0
        }
        k = len(relations)
        overall = Score(
            sum(s.p_at_1 for s in relations.values()) / k if k else 0.0,
            sum(s.p_at_10 for s in relations.values()) / k if k else 0.0,
            sum(s.mrr for s in relations.values()) / k if k else 0.0,
            sum(s.n for s in relations.values()),
        )
        n = sum(int(v[0]) for v in self._sums.values())
        totals = [sum(v[i] for v in self._sums.values()) for i in (1, 2, 3)]
        by_fact = Score(*(t / n for t in totals), n) if n else Score(0.0, 0.0, 0.0, 0)
        return LamaReport(model, protocol, (), (), relations, overall, by_fact, dict(self.dropped), tuple(skipped))
