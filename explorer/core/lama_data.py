"""Reading LAMA probe data (Petroni et al. 2019): stdlib and jsonlines only, no torch.

LAMA's files come in three shapes: SQuAD / ConceptNet (`masked_sentences`, `obj_label`),
T-REx (`sub_label`, `obj_label`, `evidences[].masked_sentence`, `predicate_id`) and
Google-RE (`sub_label`, `obj_label`, `masked_sentences`, `judgments`). A fact is probed from
its relation's template ("[X] was born in [Y] .") or from an original masked sentence.

Nothing in the data aborts a run: a line that is not JSON (also 100k nested brackets), not an
object, or has a field of the wrong type is skipped and reported with file and line; a file that
cannot be read (a folder named x.jsonl, a FIFO, a loop of symbolic links, a binary file) is
skipped and reported with line 0, the whole file. Only a PATH that is wholly unusable raises,
LamaPathError, before anything is opened.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonlines

from explorer.core.errors import InvalidParameterError
from explorer.core.input_files import not_text_reason, path_problem, read_sample
from explorer.core.jobs import run_to_end
from explorer.core.results import JobStep

LAMA_MASK = "[MASK]"
# Hard-coded in LAMA's scripts/run_experiments.py; not in any data file.
GOOGLE_RE_TEMPLATES = {
    "place_of_birth": "[X] was born in [Y] .",
    "date_of_birth": "[X] (born [Y]).",
    "place_of_death": "[X] died in [Y] .",
}
SUBSETS = ("Google_RE", "TREx", "Squad", "ConceptNet")
PROBES = ("template", "sentences")
WHOLE_FILE = 0  # SkippedLine.line of a file skipped whole
MAX_LINE_BYTES = 16 * 1024 * 1024  # LAMA's longest lines (T-REx, many evidences) are tens of KB


class LamaPathError(InvalidParameterError):
    """The PATH given cannot be read as LAMA data at all (missing, a FIFO, no .jsonl files)."""


@dataclass(frozen=True)
class Fact:
    id: str
    relation: str  # LAMA's id: P19, place_of_birth, Squad, ConceptNet
    subset: str  # TREx, Google_RE, Squad, ConceptNet (or the folder's name)
    # With [MASK]: the text shown, exported and probed by the `lab` protocol. A record's several
    # masked sentences (Google-RE's `masked_sentences`) are joined with " " here; LAMA's code joins
    # them only to count words (its 100-word filter) and feeds BERT the sentences as two segments
    # (`segments`). Where there are several masks, the first is probed, as LAMA does (masked_indices[0]).
    sentence: str
    obj_label: str
    sub_label: str = ""
    has_template: bool = False
    # LAMA's rater filter (Google-RE): more judgments other than "yes" ("no", "skip", ...) than "yes".
    raters_reject: bool = False
    # The record's masked sentences one by one, as LAMA's BERT reads them ([CLS] s1 [SEP] s2 [SEP]);
    # () for a fact built by hand: its one sentence.
    segments: tuple[str, ...] = ()

    @property
    def probe_segments(self) -> tuple[str, ...]:
        """The sentences LAMA's BERT reads for this fact, one segment each."""
        return self.segments or (self.sentence,)


@dataclass(frozen=True)
class SkippedLine:
    file: str
    line: int  # 1-based, as an editor shows it; 0 (WHOLE_FILE): the whole file
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


def _is_folder(path: Path) -> bool:
    return path_problem(path, folder_ok=True) is None and path.is_dir()


def find_upwards(start: Path, name: str, levels: int = 3) -> Path | None:
    """A file of LAMA's data/ folder (relations.jsonl, common_vocab_cased.txt) near `start`."""
    here = start if _is_folder(start) else start.parent
    for folder in [here, *list(here.parents)[:levels]]:
        if path_problem(folder / name) is None:  # a regular file: never a FIFO or a folder of that name
            return folder / name
    return None


def _kind(value: Any) -> str:
    """What a JSON value is, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def _json_lines(file: Path) -> Iterator[tuple[int, Any] | SkippedLine]:
    """(line number, value) for each non-blank line of a file, or a SkippedLine for a line
    (or the whole file) that cannot be read. Never raises for what the file holds."""
    problem = path_problem(file)
    if problem:
        yield SkippedLine(str(file), WHOLE_FILE, f"{problem}: skipped")
        return
    try:
        not_text = not_text_reason(read_sample(file))
        if not_text:
            yield SkippedLine(str(file), WHOLE_FILE, f"the file is {not_text}: skipped")
            return
        with open(file, "rb") as handle:
            for number in itertools.count(1):
                raw = handle.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    while (rest := handle.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                        pass
                    yield SkippedLine(str(file), number, f"longer than {MAX_LINE_BYTES // 2**20} MB")
                    continue
                text = raw.decode("utf-8", errors="replace").strip().removeprefix("\ufeff")
                if not text:
                    continue
                try:
                    yield number, json.loads(text)
                except RecursionError:
                    yield SkippedLine(str(file), number, "not valid JSON (nested too deeply)")
                except ValueError as exc:
                    detail = str(exc).split(":", 1)[0]
                    yield SkippedLine(str(file), number, f"not valid JSON ({detail})")
    except OSError as exc:  # unreadable, or an I/O error part way through
        yield SkippedLine(str(file), WHOLE_FILE, f"cannot be read ({exc.strerror or exc}): skipped")


def read_templates(path: Path | None) -> tuple[dict[str, str], list[SkippedLine]]:
    """The relations' templates ([X] ... [Y]) from LAMA's relations.jsonl, with the lines skipped."""
    templates = dict(GOOGLE_RE_TEMPLATES)
    skipped: list[SkippedLine] = []
    if path is None:
        return templates, skipped
    for item in _json_lines(path):
        if isinstance(item, SkippedLine):
            skipped.append(item)
            continue
        number, record = item
        if not isinstance(record, dict):
            skipped.append(SkippedLine(str(path), number, f"{_kind(record)}, not a JSON object"))
            continue
        relation, template = record.get("relation"), record.get("template")
        if not isinstance(relation, str) or not relation.strip():
            skipped.append(SkippedLine(str(path), number, "no relation name (text)"))
        elif not isinstance(template, str) or "[X]" not in template or "[Y]" not in template:
            skipped.append(SkippedLine(str(path), number, "no template with [X] and [Y]"))
        else:
            templates[relation] = template
    return templates, skipped


def lama_files(path: Path) -> tuple[list[Path], list[SkippedLine]]:
    """Every data file under a LAMA folder, one subset folder, or the file itself; and the
    entries named like data files that are not (a folder, a FIFO, a loop of links)."""
    problem = path_problem(path, folder_ok=True)
    if problem:
        raise LamaPathError(f"'{path}' {problem}.")
    if not path.is_dir():
        return [path], []
    subsets = [path / s for s in SUBSETS if _is_folder(path / s)]
    folders = subsets or [path]
    files: list[Path] = []
    skipped: list[SkippedLine] = []
    for folder in folders:
        try:
            names = sorted(entry.name for entry in folder.iterdir())
        except OSError as exc:
            if folder == path:
                raise LamaPathError(f"'{path}' cannot be read ({exc.strerror or exc}).") from exc
            skipped.append(SkippedLine(str(folder), WHOLE_FILE, f"cannot be read ({exc.strerror or exc}): skipped"))
            continue
        for name in names:
            if not name.endswith(".jsonl") or name == "relations.jsonl":
                continue
            entry = folder / name
            problem = path_problem(entry)
            if problem:
                skipped.append(SkippedLine(str(entry), WHOLE_FILE, f"{problem}: skipped"))
            else:
                files.append(entry)
    if not files and not skipped:
        raise LamaPathError(f"'{path}' holds no LAMA .jsonl files (looked in {', '.join(map(str, folders))}).")
    return files, skipped


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


def _is_list_of(kind: type | tuple[type, ...]) -> Any:
    return lambda v: isinstance(v, list) and all(isinstance(x, kind) for x in v)


# The fields a fact is built from, and what each must be when present (null counts as absent).
_FIELDS: dict[str, tuple[Any, str]] = {
    "sub_label": (lambda v: isinstance(v, str), "text"),
    "predicate_id": (lambda v: isinstance(v, str), "text"),
    "uuid": (lambda v: isinstance(v, (str, int)) and not isinstance(v, bool), "text or a number"),
    "id": (lambda v: isinstance(v, (str, int)) and not isinstance(v, bool), "text or a number"),
    "masked_sentences": (_is_list_of(str), "a list of sentences (text)"),
    "evidences": (_is_list_of(dict), "a list of objects"),
    "judgments": (_is_list_of(dict), "a list of objects"),
}


def _wrong_type(record: dict) -> str | None:
    obj = record.get("obj_label")
    if obj is not None and not isinstance(obj, str):
        return f"obj_label is {_kind(obj)}, not text"
    for name, (ok, wanted) in _FIELDS.items():
        value = record.get(name)
        if value is not None and not ok(value):
            return f"{name} is {_kind(value)}, not {wanted}"
    return None


def _original_sentences(record: dict) -> tuple[str, ...] | None:
    sentences = record.get("masked_sentences")
    if sentences:
        return tuple(sentences)
    for evidence in record.get("evidences") or []:
        if isinstance(evidence.get("masked_sentence"), str) and evidence["masked_sentence"]:
            return (evidence["masked_sentence"],)
    return None


def _raters_reject(record: dict) -> bool:
    """LAMA's filter_samples: every judgment that is not "yes" ("skip" too) counts as a "no"."""
    judgments = record.get("judgments") or []
    yes = sum(1 for j in judgments if j.get("judgment") == "yes")
    return len(judgments) - yes > yes


def _fact(
    file: Path, number: int, record: Any, templates: dict[str, str], probe: str
) -> tuple[Fact, tuple[str, str, str] | None] | str:
    """The fact of one line and, for a template fact, its (relation, subject, object) key; or
    why the line is skipped."""
    if not isinstance(record, dict):
        return f"{_kind(record)}, not a JSON object"
    wrong = _wrong_type(record)
    if wrong:
        return wrong
    obj = record.get("obj_label")
    if obj is None or not obj.strip():
        return "no obj_label"
    subset, relation = _subset_and_relation(file, record)
    template = templates.get(relation)
    sub = record.get("sub_label")
    use_template = probe == "template" and template is not None and isinstance(sub, str) and bool(sub.strip())
    key = None
    if use_template:
        key = (relation, sub, obj)
        sentences: tuple[str, ...] | None = (template.replace("[X]", sub).replace("[Y]", LAMA_MASK),)
    else:
        sentences = _original_sentences(record)
        if sentences is None:
            return "no masked sentence and no template to build one"
    sentence = " ".join(sentences)
    if LAMA_MASK not in sentence:
        return "no [MASK] in the sentence"
    fact = Fact(
        id=str(record.get("uuid") or record.get("id") or f"{file.stem}:{number}"),
        relation=relation,
        subset=subset,
        sentence=sentence,
        obj_label=obj.strip(),
        sub_label=sub.strip() if isinstance(sub, str) else "",
        has_template=use_template,
        raters_reject=_raters_reject(record),
        segments=sentences,
    )
    try:  # JSON's \ud800 escapes make strings no file or terminal can take
        "".join((fact.id, fact.relation, fact.sentence, fact.obj_label, fact.sub_label)).encode("utf-8")
    except UnicodeEncodeError:
        return "holds an unpaired surrogate escape (\\ud800-\\udfff), not text"
    return fact, key


def _facts_of_file(
    file: Path, templates: dict[str, str], probe: str
) -> Iterable[tuple[Fact, tuple[str, str, str] | None] | SkippedLine]:
    for item in _json_lines(file):
        if isinstance(item, SkippedLine):
            yield item
            continue
        number, record = item
        fact = _fact(file, number, record, templates, probe)
        yield SkippedLine(str(file), number, fact) if isinstance(fact, str) else fact


def _add_fact(facts: list[Fact], seen: dict[tuple[str, str, str], int], fact: Fact, key: tuple[str, str, str] | None) -> None:
    """LAMA probes each distinct (subject, object) of a template once, de-duplicating after its
    filter_samples: the pair's fact is its first record the raters do not reject (the first
    record when they reject them all, to be dropped and counted under protocol lama)."""
    if key is None:
        facts.append(fact)
        return
    at = seen.get(key)
    if at is None:
        seen[key] = len(facts)
        facts.append(fact)
    elif facts[at].raters_reject and not fact.raters_reject:
        facts[at] = fact


def read_steps(path: str | Path, probe: str = "template") -> Generator[JobStep, None, LamaSet]:
    """Read a LAMA folder, subset or file, one step per file. LamaPathError for a PATH that
    cannot be read at all (raised at the first step, before any file is opened)."""
    if probe not in PROBES:
        raise ValueError(f"probe must be one of {', '.join(PROBES)}, not '{probe}'.")
    root = Path(path).expanduser()
    files, skipped = lama_files(root)
    templates_file = find_upwards(root, "relations.jsonl")
    templates, bad_templates = read_templates(templates_file)
    skipped += bad_templates
    notes = []
    if probe == "template" and templates_file is None:
        notes.append("No relations.jsonl found near the data: T-REx facts use their original sentences.")
    facts: list[Fact] = []
    seen: dict[tuple[str, str, str], int] = {}  # a template fact's key -> its place in `facts`
    for i, file in enumerate(files):
        yield JobStep(i, len(files), f"reading {file.name}")
        for item in _facts_of_file(file, templates, probe):
            if isinstance(item, SkippedLine):
                skipped.append(item)
            else:
                _add_fact(facts, seen, *item)
    yield JobStep(len(files), len(files), f"{len(facts)} facts")
    return LamaSet(tuple(facts), tuple(skipped), probe, tuple(str(f) for f in files), tuple(notes))


def read(path: str | Path, probe: str = "template") -> LamaSet:
    return run_to_end(read_steps(path, probe))


def read_common_vocab(path: str | Path) -> frozenset[str]:
    """LAMA's common vocabulary (one word a line); LamaPathError when it cannot be read."""
    return frozenset(read_common_words(path))


def read_common_words(path: str | Path) -> tuple[str, ...]:
    """LAMA's common vocabulary in the file's order (its candidate order: ties in the ranking
    go by it); LamaPathError when it cannot be read."""
    file = Path(path).expanduser()
    problem = path_problem(file)
    if problem is None:
        try:
            not_text = not_text_reason(read_sample(file))
            if not_text is None:
                with open(file, encoding="utf-8-sig", errors="replace") as handle:
                    return tuple(line.strip() for line in handle if line.strip())
            problem = f"is {not_text}"
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror or exc})"
    raise LamaPathError(f"The common vocabulary '{path}' {problem}.")


# --- results and scores (also torch-free: the GUI summarises what it shows) -------------

DROP_NOT_ONE_TOKEN = "object is not one token of the model's vocabulary"
DROP_NOT_COMMON = "object is not in the common vocabulary"
DROP_RATERS = "raters judged the fact wrong (Google-RE)"
DROP_LONG_SENTENCE = "sentence over 100 words"
DROP_CUT = "the mask is past the model's length"
DROP_TOO_MANY_SENTENCES = "more than two masked sentences (LAMA's BERT reads one or two, as segments)"
PROTOCOLS = ("lab", "lama")


SINGLE_TOKEN, MULTI_TOKEN = "single-token", "multi-token"  # a fact's object, in the model's pieces
# `lama --multi-token`: the longest word tried and the joint search's beam (explorer.engine.lama_multi).
DEFAULT_PIECES = 3  # most multi-piece objects are 2 or 3 pieces
MAX_PIECES = 6
DEFAULT_MULTI_BEAM = 3
MAX_MULTI_BEAM = 20


@dataclass(frozen=True)
class FactResult:
    index: int  # into the facts that were evaluated
    top_tokens: tuple[str, ...]
    top_scores: tuple[float, ...]  # softmax over the whole vocabulary
    rank: int | None  # 1-based rank of the gold among the candidates; None: the gold is not one token
    dropped: str | None = None  # why the fact does not count, under the chosen protocol
    # Protocol lama: LAMA ranks within its top-k (10,000) only; a gold ranked past it scores
    # nothing (0 for MRR, a miss for P@1 and P@10). None: every rank counts.
    rank_limit: int | None = None
    # The object is several word pieces, decoded jointly (`lama --multi-token`, engine/lama_multi.py):
    # top_tokens are whole words, top_scores exp(mean log p per piece), rank its place among them.
    multi_token: bool = False

    @property
    def length_kind(self) -> str:
        return MULTI_TOKEN if self.multi_token else SINGLE_TOKEN

    @property
    def scored_rank(self) -> int | None:
        """The rank the metrics count: None for a gold past the rank limit."""
        if self.rank is None or (self.rank_limit is not None and self.rank > self.rank_limit):
            return None
        return self.rank

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


# Reciprocal ranks are summed exactly: each 1/rank (a float) is a whole multiple of 2**-1074,
# the smallest float, so as an integer count of those the sum is the same in any order and
# after any removal. The running tally (facts in arrival order, a rerun replacing a result)
# then gives bit for bit what `summarise` gives (facts in file order).
_RR_BITS = 1074
_RR_UNIT = 1 << _RR_BITS


def _reciprocal_rank(rank: int | None) -> int:
    if not rank:
        return 0
    num, den = (1.0 / rank).as_integer_ratio()  # den: a power of two, at most 2**1074
    return num << (_RR_BITS - den.bit_length() + 1)


class ScoreTally:
    """The one place LAMA's metrics are computed: running sums per relation, so that the
    GUI's live summary costs O(relations) per refresh (recomputing over 28k results every few
    hundred ms took 50-150 ms of the UI thread), and `summarise` feeds it every fact at once."""

    def __init__(self) -> None:
        # relation -> [facts counted, right at 1, gold in the top 10, sum of 1/rank in _RR_UNIT]
        self._sums: dict[str, list[int]] = {}
        self._lengths: dict[str, list[int]] = {}  # the same sums, by the object's length (SINGLE_TOKEN / MULTI_TOKEN)
        self.dropped: Counter[str] = Counter()
        self.evaluated = 0

    def _add(self, relation: str, result: FactResult, sign: int) -> None:
        self.evaluated += sign
        if result.dropped:
            self.dropped[result.dropped] += sign
            if self.dropped[result.dropped] == 0:
                del self.dropped[result.dropped]
            return
        rank = result.scored_rank
        for sums in (self._sums.setdefault(relation, [0, 0, 0, 0]), self._lengths.setdefault(result.length_kind, [0, 0, 0, 0])):
            sums[0] += sign
            sums[1] += sign * (rank == 1)
            sums[2] += sign * (rank is not None and rank <= 10)
            sums[3] += sign * _reciprocal_rank(rank)

    def replace(self, relation: str, old: FactResult | None, new: FactResult) -> None:
        """A fact's result arrived (again: a second run replaces the first)."""
        if old is not None:
            self._add(relation, old, -1)
        self._add(relation, new, +1)

    def scores(self) -> tuple[dict[str, Score], Score, Score]:
        """(per relation, the mean over relations as LAMA reports it, the mean over facts)."""
        relations = {name: _score(*sums) for name, sums in self._sums.items() if sums[0] > 0}
        k = len(relations)
        overall = Score(  # fsum: the same whichever order the relations arrived in
            math.fsum(s.p_at_1 for s in relations.values()) / k if k else 0.0,
            math.fsum(s.p_at_10 for s in relations.values()) / k if k else 0.0,
            math.fsum(s.mrr for s in relations.values()) / k if k else 0.0,
            sum(s.n for s in relations.values()),
        )
        totals = [sum(sums[i] for sums in self._sums.values()) for i in range(4)]
        return relations, overall, _score(*totals)

    def by_length(self) -> dict[str, Score]:
        """The mean over facts of single-token and of multi-token objects (both, n 0 for none:
        a person who asked for multi-token facts sees that there were none)."""
        return {kind: _score(*self._lengths.get(kind, [0, 0, 0, 0])) for kind in (SINGLE_TOKEN, MULTI_TOKEN)}

    def report(
        self, model: str, protocol: str, skipped: Iterable[SkippedLine] = (), *, clean_input: bool = False,
        multi_token: int = 0,
    ) -> LamaReport:
        """The scores as `summarise` gives them, without the per-fact lists."""
        relations, overall, by_fact = self.scores()
        return LamaReport(model, protocol, (), (), relations, overall, by_fact, dict(self.dropped), tuple(skipped),
                          clean_input, multi_token, self.by_length() if multi_token else {})


def _score(n: int, at1: int, at10: int, rr: int) -> Score:
    if n <= 0:
        return Score(0.0, 0.0, 0.0, 0)
    return Score(at1 / n, at10 / n, rr / (n * _RR_UNIT), n)  # int / int: correctly rounded


@dataclass(frozen=True)
class LamaReport:
    model: str
    protocol: str
    facts: tuple[Fact, ...]
    results: tuple[FactResult, ...]  # one per fact, in the order of `facts`
    relations: dict[str, Score]
    # The mean over relations (n: facts counted). Its P@1 is LAMA's own number (run_experiments.py
    # averages each relation's P@1); LAMA averages nothing else over relations: P@10 and MRR are ours.
    overall: Score
    overall_facts: Score  # the mean over facts
    dropped: dict[str, int]
    skipped: tuple[SkippedLine, ...] = ()
    clean_input: bool = False  # protocol lama: the input as the tokenizer normally reads it (see lama.evaluate)
    multi_token: int = 0  # > 0: multi-token objects decoded as words of up to this many pieces
    by_length: dict[str, Score] = field(default_factory=dict)  # with multi_token: single- and multi-token facts apart

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "protocol": self.protocol,
            **({"clean_input": self.clean_input} if self.protocol == "lama" else {}),
            "lama_number": LAMA_NUMBER,
            "overall": self.overall.to_json(),
            "overall_facts": self.overall_facts.to_json(),
            **({"multi_token": {"max_pieces": self.multi_token,
                                "by_length": {k: v.to_json() for k, v in self.by_length.items()}}}
               if self.multi_token else {}),
            "relations": {name: s.to_json() for name, s in sorted(self.relations.items())},
            "dropped": dict(self.dropped),
            "skipped_lines": [{"file": s.file, "line": s.line, "reason": s.reason} for s in self.skipped],
        }

    def records(self) -> Iterable[dict]:
        """One record per fact, for JSONL and CSV export."""
        for fact, r in zip(self.facts, self.results):
            yield {"id": fact.id, "relation": fact.relation, "sentence": fact.sentence, "gold": fact.obj_label,
                   **answer_record(r)}


# Where the report's JSON holds the figure LAMA's own scripts print (mean P@1 over relations).
LAMA_NUMBER = "overall.p@1"


def answer_record(r: FactResult) -> dict:
    """A model's answer to one fact, as the exports write it."""
    return {
        "top10": [{"token": t, "score": s} for t, s in zip(r.top_tokens, r.top_scores)],
        "rank": r.rank,
        "correct": r.correct,
        "dropped": r.dropped,
        **({"multi_token": True} if r.multi_token else {}),
    }


def top10_text(top10: Iterable[dict]) -> str:
    """A record's top-10 in one CSV cell: "token:score token:score ..."."""
    return " ".join(f"{t['token']}:{t['score']:.4f}" for t in top10)


def summarise(
    model: str, protocol: str, facts: Iterable[Fact], results: Iterable[FactResult], skipped: Iterable[SkippedLine] = (),
    *, clean_input: bool = False, multi_token: int = 0,
) -> LamaReport:
    """The report of results (one per fact, in the order of `facts`), scored by ScoreTally."""
    facts, results = tuple(facts), tuple(results)
    tally = ScoreTally()
    for fact, r in zip(facts, results):
        tally.replace(fact.relation, None, r)
    relations, overall, by_fact = tally.scores()
    return LamaReport(model, protocol, facts, results, relations, overall, by_fact, dict(tally.dropped), tuple(skipped),
                      clean_input, multi_token, tally.by_length() if multi_token else {})


RECORD_COLUMNS = ("id", "relation", "sentence", "gold", "rank", "correct", "dropped", "top10")


def _record_row(r: dict) -> list:
    return [r["id"], r["relation"], r["sentence"], r["gold"], r["rank"] or "", r["correct"], r["dropped"] or "",
            top10_text(r["top10"])]


def write_records(report: LamaReport, path: str | Path) -> None:
    """One record per fact: JSONL, or CSV (top-10 flattened) when the file ends in .csv."""
    write_table(path, report.records(), RECORD_COLUMNS, _record_row)


def write_table(path: str | Path, records: Iterable[dict], columns: Sequence[str], row: Callable[[dict], list]) -> None:
    """Records as JSON lines, or as CSV (`columns`, then `row(record)` each) when the file ends
    in .csv; written whole or not at all (explorer.core.output_paths)."""
    from explorer.core import strict_json
    from explorer.core.output_paths import atomic_write

    records = list(records)  # before the file opens: a failure leaves nothing behind
    if str(path).lower().endswith(".csv"):
        with atomic_write(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows(row(r) for r in records)
    else:
        with atomic_write(path, "w", encoding="utf-8") as handle:
            jsonlines.Writer(handle, dumps=strict_json.dumps).write_all(records)
