"""Two models' LAMA results on the same facts, side by side (no torch here).

Facts are matched by what they are (relation, subject, object, probed sentence), never by
position: each model's report may hold the facts in another order, or only some of them (the
GUI runs what the filters show). A fact is compared only where both models scored it: one
that a model dropped (under the `lama` protocol, an object that is not one token of its
vocabulary, which differs between tokenizers) or that is in one report only is counted apart
and said, so that both P@1 of a relation are over the same facts and their difference means
something. The scores come from `lama_data.summarise`, the one place LAMA's metrics live.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.core.errors import InvalidParameterError
from explorer.core.lama_data import (
    Fact,
    FactResult,
    LamaReport,
    Score,
    answer_record,
    summarise,
    top10_text,
    write_table,
)
from explorer.core.subwords import BPE, MARKERS, SENTENCEPIECE

FactKey = tuple[str, str, str, str, int]
# The word-start marks of byte-level BPE and SentencePiece (declared in core.subwords): a
# FactResult keeps its model's raw top tokens, and both reports' vocabularies may differ.
WORD_START_MARKERS = (MARKERS[BPE], MARKERS[SENTENCEPIECE])


def fact_key(fact: Fact, occurrence: int = 0) -> FactKey:
    """A fact's identity across two reports. `occurrence` tells apart facts that are the same
    in all four (two SQuAD lines with one sentence), matched first with first."""
    return (fact.relation, fact.sub_label, fact.obj_label, fact.sentence, occurrence)


def answer_word(result: FactResult) -> str | None:
    """A model's top-1 as a word, comparable across vocabularies: BERT's "Paris", RoBERTa's
    "ĠParis" and an uncased model's "paris" are one answer (LAMA's gold check casefolds for
    uncased models too). None when the model gave no answer."""
    if not result.top_tokens:
        return None
    token = result.top_tokens[0]
    return (token[1:] if token[:1] in WORD_START_MARKERS else token).casefold()


@dataclass(frozen=True)
class ComparedFact:
    """One fact and each model's result for it (None: not in that model's report)."""

    fact: Fact
    results: tuple[FactResult | None, FactResult | None]

    @property
    def compared(self) -> bool:
        """Both models scored it: in both reports, dropped by neither."""
        return all(r is not None and r.dropped is None for r in self.results)

    @property
    def disagree(self) -> bool | None:
        """Different top-1 words, or one right and the other not; None when not compared."""
        if not self.compared:
            return None
        a, b = self.results
        assert a is not None and b is not None
        return a.correct != b.correct or answer_word(a) != answer_word(b)


@dataclass(frozen=True)
class Difference:
    """P@1 of each model over the same facts, and B − A; None where no fact was compared."""

    p_at_1: tuple[float | None, float | None]
    difference: float | None
    facts: int

    @classmethod
    def of(cls, a: Score | None, b: Score | None) -> Difference:
        if a is None or b is None or a.n == 0:
            return cls((None, None), None, 0)
        assert a.n == b.n, "both scores must be over the same facts"
        return cls((a.p_at_1, b.p_at_1), b.p_at_1 - a.p_at_1, a.n)

    def to_json(self) -> dict[str, Any]:
        return {"p_at_1": list(self.p_at_1), "difference": self.difference, "facts": self.facts}


@dataclass(frozen=True)
class LamaComparison:
    models: tuple[str, str]
    protocol: str
    reports: tuple[LamaReport, LamaReport]  # each model's own report, as given
    facts: tuple[ComparedFact, ...]  # in A's order, then the facts only B has
    relations: dict[str, Difference]  # every relation of either report; sorted by name
    overall: Difference  # the mean over relations (those with a compared fact), as LAMA reports
    overall_facts: Difference  # the mean over compared facts
    dropped: tuple[dict[str, int], dict[str, int]]  # per model: why it dropped facts both reports hold
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, a: LamaReport, b: LamaReport) -> LamaComparison:
        """Compare two reports that keep their per-fact lists (from `summarise`, not a tally)."""
        if a.protocol != b.protocol:
            raise InvalidParameterError(
                f"The two results were scored under different protocols ({a.protocol} and {b.protocol}): "
                "run both models with the same one."
            )
        facts = _match(a, b)
        compared = [cf for cf in facts if cf.compared]
        scored = [summarise(r.model, r.protocol, [cf.fact for cf in compared], [cf.results[i] for cf in compared])
                  for i, r in enumerate((a, b))]  # type: ignore[misc]
        names = sorted({f.relation for f in (*a.facts, *b.facts)})
        relations = {n: Difference.of(scored[0].relations.get(n), scored[1].relations.get(n)) for n in names}
        dropped: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
        for cf in facts:
            for i, r in enumerate(cf.results):
                if r is not None and r.dropped and all(x is not None for x in cf.results):
                    dropped[i][r.dropped] += 1
        return cls(
            models=(a.model, b.model),
            protocol=a.protocol,
            reports=(a, b),
            facts=tuple(facts),
            relations=relations,
            overall=Difference.of(scored[0].overall, scored[1].overall),
            overall_facts=Difference.of(scored[0].overall_facts, scored[1].overall_facts),
            dropped=(dict(dropped[0]), dict(dropped[1])),
            warnings=tuple(_warnings((a.model, b.model), facts)),
        )

    @property
    def disagreements(self) -> int:
        return sum(1 for cf in self.facts if cf.disagree)

    @property
    def only_in(self) -> tuple[int, int]:
        """Facts in one model's report and not the other's."""
        return tuple(sum(1 for cf in self.facts if cf.results[1 - i] is None) for i in (0, 1))  # type: ignore[return-value]

    def to_json(self) -> dict[str, Any]:
        """The comparison's part of `lama --models A B --json` (the CLI adds `results`)."""
        return {
            "models": list(self.models),
            "relations": [{"relation": name, **d.to_json()} for name, d in self.relations.items()],
            "overall": self.overall.to_json(),
            "overall_facts": self.overall_facts.to_json(),
            "disagreements": self.disagreements,
            "not_compared": {
                "dropped": [dict(d) for d in self.dropped],
                "only_in": list(self.only_in),
            },
            "warnings": list(self.warnings),
        }

    def records(self) -> Iterable[dict]:
        """One record per fact, with both models' answers (null: not in that model's results)."""
        for cf in self.facts:
            f = cf.fact
            yield {
                "id": f.id,
                "relation": f.relation,
                "sub": f.sub_label,
                "sentence": f.sentence,
                "gold": f.obj_label,
                "disagree": cf.disagree,
                "answers": [
                    None if r is None else {"model": model, **answer_record(r)}
                    for model, r in zip(self.models, cf.results)
                ],
            }


def _match(a: LamaReport, b: LamaReport) -> list[ComparedFact]:
    def keyed(report: LamaReport) -> dict[FactKey, tuple[Fact, FactResult]]:
        seen: Counter[tuple] = Counter()
        out = {}
        for fact, result in zip(report.facts, report.results):
            key = fact_key(fact)
            out[fact_key(fact, seen[key])] = (fact, result)
            seen[key] += 1
        return out

    in_a, in_b = keyed(a), keyed(b)
    facts = [ComparedFact(fact, (r, in_b[k][1] if k in in_b else None)) for k, (fact, r) in in_a.items()]
    facts += [ComparedFact(fact, (None, r)) for k, (fact, r) in in_b.items() if k not in in_a]
    return facts


def _counted(reasons: Counter[str]) -> str:
    return "; ".join(f"{reason}: {n:,}" for reason, n in sorted(reasons.items()))


def _warnings(models: tuple[str, str], facts: list[ComparedFact]) -> list[str]:
    out = []
    for i in (0, 1):
        this, other = models[i], models[1 - i]
        alone = Counter(r.dropped for cf in facts if (r := cf.results[i]) is not None and r.dropped
                        and (o := cf.results[1 - i]) is not None and o.dropped is None)
        if alone:
            out.append(f"{this} dropped {sum(alone.values()):,} facts that {other} scored ({_counted(alone)}): "
                       "they are not compared.")
    both = sum(1 for cf in facts if all(r is not None and r.dropped for r in cf.results))
    if both:
        out.append(f"Both models dropped {both:,} facts: they are not compared.")
    for i in (0, 1):
        only = sum(1 for cf in facts if cf.results[i] is not None and cf.results[1 - i] is None)
        if only:
            out.append(f"{only:,} facts have results of {models[i]} only (not run with {models[1 - i]}): "
                       "they are not compared.")
    for i in (0, 1):
        # Under the lab protocol such a fact counts, as a miss: say when it is one model's only.
        cannot = sum(1 for cf in facts if cf.compared and cf.results[i].rank is None  # type: ignore[union-attr]
                     and cf.results[1 - i].rank is not None)  # type: ignore[union-attr]
        if cannot:
            out.append(f"In {cannot:,} compared facts the object is not one token of {models[i]}'s vocabulary "
                       f"(it is of {models[1 - i]}'s): {models[i]} can never be right there.")
    return out


COMPARISON_COLUMNS = ("id", "relation", "sub", "sentence", "gold", "disagree",
                      "a_model", "a_rank", "a_correct", "a_dropped", "a_top10",
                      "b_model", "b_rank", "b_correct", "b_dropped", "b_top10")


def _comparison_row(r: dict) -> list:
    row = [r["id"], r["relation"], r["sub"], r["sentence"], r["gold"], "" if r["disagree"] is None else r["disagree"]]
    for answer in r["answers"]:
        if answer is None:
            row += [""] * 5
        else:
            row += [answer["model"], answer["rank"] or "", answer["correct"], answer["dropped"] or "",
                    top10_text(answer["top10"])]
    return row


def write_comparison(comparison: LamaComparison, path: str | Path) -> None:
    """One record per fact with both models' answers: JSONL, or CSV when the file ends in .csv."""
    write_table(path, comparison.records(), COMPARISON_COLUMNS, _comparison_row)
