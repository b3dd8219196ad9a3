"""Reading LAMA probe data (Petroni et al. 2019): stdlib and jsonlines only, no torch.

LAMA's files come in three shapes: SQuAD / ConceptNet (`masked_sentences`, `obj_label`),
T-REx (`sub_label`, `obj_label`, `evidences[].masked_sentence`, `predicate_id`) and
Google-RE (`sub_label`, `obj_label`, `masked_sentences`, `judgments`). A fact is probed from
its relation's template ("[X] was born in [Y] .") or from an original masked sentence.
Broken lines are skipped and reported with file and line, never raised.
"""

from __future__ import annotations

import csv
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jsonlines

from explorer.engine.jobs import run_to_end
from explorer.engine.results import JobStep

LAMA_MASK = "[MASK]"
# Hard-coded in LAMA's scripts/run_experiments.py; not in any data file.
GOOGLE_RE_TEMPLATES = {
    "place_of_birth": "[X] was born in [Y] .",
    "date_of_birth": "[X] (born [Y]).",
    "place_of_death": "[X] died in [Y] .",
}
SUBSETS = ("Google_RE", "TREx", "Squad", "ConceptNet")
PROBES = ("template", "sentences")


@dataclass(frozen=True)
class Fact:
    id: str
    relation: str  # LAMA's id: P19, place_of_birth, Squad, ConceptNet
    subset: str  # TREx, Google_RE, Squad, ConceptNet (or the folder's name)
    # With [MASK]. A record's several masked sentences are joined (LAMA does so for SQuAD and
    # ConceptNet); where that gives several masks (3 SQuAD lines), the first is probed, as the lab does.
    sentence: str
    obj_label: str
    sub_label: str = ""
    has_template: bool = False
    raters_reject: bool = False  # Google-RE: more "no" than "yes" judgments


@dataclass(frozen=True)
class SkippedLine:
    file: str
    line: int  # 1-based, as an editor shows it
    reason: str


@dataclass(frozen=True)
class LamaSet:
    facts: tuple[Fact, ...]
    skipped: tuple[SkippedLine, ...]
    probe: str
    sources: tuple[str, ...]  # the files read
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def relations(self) -> list[str]:
        return sorted({f.relation for f in self.facts})


def find_upwards(start: Path, name: str, levels: int = 3) -> Path | None:
    """A file of LAMA's data/ folder (relations.jsonl, common_vocab_cased.txt) near `start`."""
    here = start if start.is_dir() else start.parent
    for folder in [here, *list(here.parents)[:levels]]:
        if (folder / name).is_file():
            return folder / name
    return None


def read_templates(path: Path | None) -> dict[str, str]:
    templates = dict(GOOGLE_RE_TEMPLATES)
    if path is None:
        return templates
    with jsonlines.open(path) as reader:
        for record in reader.iter(skip_invalid=True):
            if isinstance(record, dict) and record.get("relation") and record.get("template"):
                templates[record["relation"]] = record["template"]
    return templates


def lama_files(path: Path) -> list[Path]:
    """Every data file under a LAMA folder, one subset folder, or the file itself."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"'{path}' does not exist.")
    subsets = [path / s for s in SUBSETS if (path / s).is_dir()]
    folders = subsets or [path]
    files = [f for folder in folders for f in sorted(folder.glob("*.jsonl")) if f.name != "relations.jsonl"]
    if not files:
        raise FileNotFoundError(f"'{path}' holds no LAMA .jsonl files (looked in {', '.join(map(str, folders))}).")
    return files


def _subset_and_relation(file: Path, record: dict) -> tuple[str, str]:
    subset = file.parent.name
    if record.get("predicate_id"):
        return subset, str(record["predicate_id"])
    if subset == "Google_RE" or file.stem.endswith("_test") and "pred" in record:
        return "Google_RE", file.stem.removesuffix("_test")
    if subset in ("Squad", "ConceptNet"):
        return subset, subset
    # A lone file or a substitute folder: T-REx relations are named like the file (P17.jsonl).
    stem = file.stem.removesuffix("_test")
    return subset, stem if stem[:1] == "P" and stem[1:].isdigit() else (subset or stem)


def _original_sentence(record: dict) -> str | None:
    sentences = record.get("masked_sentences")
    if isinstance(sentences, list) and sentences:
        return " ".join(str(s) for s in sentences)
    for evidence in record.get("evidences") or []:
        if isinstance(evidence, dict) and evidence.get("masked_sentence"):
            return str(evidence["masked_sentence"])
    return None


def _raters_reject(record: dict) -> bool:
    judgments = record.get("judgments") or []
    no = sum(1 for j in judgments if isinstance(j, dict) and j.get("judgment") == "no")
    yes = sum(1 for j in judgments if isinstance(j, dict) and j.get("judgment") == "yes")
    return no > yes


def _facts_of_file(
    file: Path, templates: dict[str, str], probe: str, seen: set[tuple[str, str, str]]
) -> Iterable[Fact | SkippedLine]:
    with open(file, encoding="utf-8", errors="replace") as handle:
        reader = jsonlines.Reader(handle)
        number = 0
        while True:
            number += 1  # the reader takes exactly one line per read()
            try:
                record = reader.read(skip_empty=False)
            except EOFError:
                break
            except jsonlines.InvalidLineError as exc:
                if exc.line.strip():
                    detail = str(exc).split(":", 1)[-1].split("(line")[0].strip()
                    yield SkippedLine(str(file), number, f"not valid JSON ({detail})")
                continue
            if not isinstance(record, dict):
                yield SkippedLine(str(file), number, "not a JSON object")
                continue
            obj = record.get("obj_label")
            if not isinstance(obj, str) or not obj.strip():
                yield SkippedLine(str(file), number, "no obj_label")
                continue
            subset, relation = _subset_and_relation(file, record)
            template = templates.get(relation)
            sub = record.get("sub_label")
            use_template = probe == "template" and template is not None and isinstance(sub, str) and sub.strip()
            if use_template:
                key = (relation, sub, obj)
                if key in seen:  # LAMA probes each distinct (subject, object) once
                    continue
                seen.add(key)
                sentence = template.replace("[X]", sub).replace("[Y]", LAMA_MASK)
            else:
                sentence = _original_sentence(record)
                if sentence is None:
                    yield SkippedLine(str(file), number, "no masked sentence and no template to build one")
                    continue
            if LAMA_MASK not in sentence:
                yield SkippedLine(str(file), number, "no [MASK] in the sentence")
                continue
            fact_id = str(record.get("uuid") or record.get("id") or f"{file.stem}:{number}")
            yield Fact(
                id=fact_id,
                relation=relation,
                subset=subset,
                sentence=sentence,
                obj_label=obj.strip(),
                sub_label=sub.strip() if isinstance(sub, str) else "",
                has_template=bool(use_template),
                raters_reject=_raters_reject(record),
            )


def read_steps(path: str | Path, probe: str = "template") -> Generator[JobStep, None, LamaSet]:
    """Read a LAMA folder, subset or file, one step per file."""
    if probe not in PROBES:
        raise ValueError(f"probe must be one of {', '.join(PROBES)}, not '{probe}'.")
    root = Path(path).expanduser()
    files = lama_files(root)
    templates_file = find_upwards(root, "relations.jsonl")
    templates = read_templates(templates_file)
    notes = []
    if probe == "template" and templates_file is None:
        notes.append("No relations.jsonl found near the data: T-REx facts use their original sentences.")
    facts: list[Fact] = []
    skipped: list[SkippedLine] = []
    seen: set[tuple[str, str, str]] = set()
    for i, file in enumerate(files):
        yield JobStep(i, len(files), f"reading {file.name}")
        for item in _facts_of_file(file, templates, probe, seen):
            (facts if isinstance(item, Fact) else skipped).append(item)
    yield JobStep(len(files), len(files), f"{len(facts)} facts")
    return LamaSet(tuple(facts), tuple(skipped), probe, tuple(str(f) for f in files), tuple(notes))


def read(path: str | Path, probe: str = "template") -> LamaSet:
    return run_to_end(read_steps(path, probe))


def read_common_vocab(path: str | Path) -> frozenset[str]:
    with open(path, encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


# --- results and scores (also torch-free: the GUI summarises what it shows) -------------

DROP_NOT_ONE_TOKEN = "object is not one token of the model's vocabulary"
DROP_NOT_COMMON = "object is not in the common vocabulary"
DROP_RATERS = "raters judged the fact wrong (Google-RE)"
DROP_LONG_SENTENCE = "sentence over 100 words"
DROP_CUT = "the mask is past the model's length"
PROTOCOLS = ("lab", "lama")


@dataclass(frozen=True)
class FactResult:
    index: int  # into the facts that were evaluated
    top_tokens: tuple[str, ...]
    top_scores: tuple[float, ...]  # softmax over the whole vocabulary
    rank: int | None  # 1-based rank of the gold among the candidates; None: the gold is not one token
    dropped: str | None = None  # why the fact does not count, under the chosen protocol

    @property
    def correct(self) -> bool:
        return self.rank == 1


@dataclass(frozen=True)
class Score:
    p_at_1: float
    p_at_10: float
    mrr: float
    n: int

    def to_json(self) -> dict[str, float | int]:
        return {"p@1": self.p_at_1, "p@10": self.p_at_10, "mrr": self.mrr, "n": self.n}


def score_of(results: Iterable[FactResult]) -> Score:
    counted = [r for r in results if r.dropped is None]
    n = len(counted)
    if n == 0:
        return Score(0.0, 0.0, 0.0, 0)
    p1 = sum(r.rank == 1 for r in counted) / n
    p10 = sum(r.rank is not None and r.rank <= 10 for r in counted) / n
    mrr = sum(1.0 / r.rank for r in counted if r.rank) / n
    return Score(p1, p10, mrr, n)


@dataclass(frozen=True)
class LamaReport:
    model: str
    protocol: str
    facts: tuple[Fact, ...]
    results: tuple[FactResult, ...]  # one per fact, in the order of `facts`
    relations: dict[str, Score]
    overall: Score  # the mean over relations, as LAMA reports (n: facts counted)
    overall_facts: Score  # the mean over facts
    dropped: dict[str, int]
    skipped: tuple[SkippedLine, ...] = ()

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "protocol": self.protocol,
            "overall": self.overall.to_json(),
            "overall_facts": self.overall_facts.to_json(),
            "relations": {name: s.to_json() for name, s in sorted(self.relations.items())},
            "dropped": dict(self.dropped),
            "skipped_lines": [{"file": s.file, "line": s.line, "reason": s.reason} for s in self.skipped],
        }

    def records(self) -> Iterable[dict]:
        """One record per fact, for JSONL and CSV export."""
        for fact, r in zip(self.facts, self.results):
            yield {
                "id": fact.id,
                "relation": fact.relation,
                "sentence": fact.sentence,
                "gold": fact.obj_label,
                "top10": [{"token": t, "score": s} for t, s in zip(r.top_tokens, r.top_scores)],
                "rank": r.rank,
                "correct": r.correct,
                "dropped": r.dropped,
            }


def summarise(
    model: str, protocol: str, facts: Iterable[Fact], results: Iterable[FactResult], skipped: Iterable[SkippedLine] = ()
) -> LamaReport:
    facts, results = tuple(facts), tuple(results)
    by_relation: dict[str, list[FactResult]] = {}
    dropped: dict[str, int] = {}
    for fact, r in zip(facts, results):
        if r.dropped:
            dropped[r.dropped] = dropped.get(r.dropped, 0) + 1
        else:
            by_relation.setdefault(fact.relation, []).append(r)
    relations = {name: score_of(rs) for name, rs in by_relation.items()}
    scored = [s for s in relations.values() if s.n]
    k = len(scored)
    overall = Score(
        sum(s.p_at_1 for s in scored) / k if k else 0.0,
        sum(s.p_at_10 for s in scored) / k if k else 0.0,
        sum(s.mrr for s in scored) / k if k else 0.0,
        sum(s.n for s in scored),
    )
    return LamaReport(
        model, protocol, facts, results, relations, overall, score_of(results), dropped, tuple(skipped)
    )


def write_records(report: LamaReport, path: str | Path) -> None:
    """One record per fact: JSONL, or CSV (top-10 flattened) when the file ends in .csv."""
    records = list(report.records())
    if str(path).lower().endswith(".csv"):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "relation", "sentence", "gold", "rank", "correct", "dropped", "top10"])
            for r in records:
                top = " ".join(f"{t['token']}:{t['score']:.4f}" for t in r["top10"])
                writer.writerow(
                    [r["id"], r["relation"], r["sentence"], r["gold"], r["rank"] or "", r["correct"], r["dropped"] or "", top]
                )
    else:
        with jsonlines.open(path, "w") as writer:
            writer.write_all(records)
