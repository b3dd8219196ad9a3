"""The LAMA tab in compare mode: BERT against RoBERTa (tiny, random weights) on the same facts,
checked against the engine's own evaluate run on each model directly and against brute force."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import jsonlines
import pytest
from PySide6.QtCore import Qt

from explorer.core import lama_data
from explorer.core.jobs import run_to_end
from explorer.core.lama_data import LamaReport, LamaSet
from explorer.engine.lama import evaluate
from explorer.engine.synthetic import WORDS
from explorer.paths import LAMA_SAMPLE
from explorer.qt.tabs.lama.panels import MEAN_OF_FACTS, MEAN_OF_RELATIONS
from explorer.qt.tabs.lama.table_model import COMPARE_TOP1, DISAGREE, TOP1

WAIT_MS = 30000
TEMPLATES = {"P19": "[X] was born in [Y] .", "P36": "The capital of [X] is [Y] ."}
SUBJECTS = ("She", "He", "They", "France", "England", "Germany", "Paris", "It", "We", "You")


def write_jsonl(path: Path, lines: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")


def write_folder(root: Path, golds: dict[tuple[str, str], str]) -> None:
    write_jsonl(root / "relations.jsonl", [{"relation": r, "template": t} for r, t in TEMPLATES.items()])
    for relation in TEMPLATES:
        write_jsonl(root / "TREx" / f"{relation}.jsonl", [
            {"uuid": f"{relation}-{k}", "sub_label": sub, "obj_label": golds[relation, sub], "predicate_id": relation}
            for k, sub in enumerate(SUBJECTS)
        ])


def word_of(token: str) -> str:
    return token[1:] if token[:1] in ("Ġ", "▁") else token


@pytest.fixture(scope="module")
def lama_dir(tmp_path_factory, bert, roberta) -> Path:
    """Two relations; some golds are BERT's own first answer, some RoBERTa's, so each model is
    right somewhere and the two disagree somewhere."""
    root = tmp_path_factory.mktemp("lama_compare") / "data"
    golds = {(r, s): "Paris" for r in TEMPLATES for s in SUBJECTS}
    write_folder(root, golds)
    facts = lama_data.read(root).facts
    tops = [run_to_end(evaluate(lm, facts)).results for lm in (bert, roberta)]
    for k, fact in enumerate(facts):
        if k % 3 == 2:
            continue  # stays "Paris"
        word = word_of(tops[k % 3][k].top_tokens[0])
        if word in WORDS:
            golds[fact.relation, fact.sub_label] = word
    write_folder(root, golds)
    # Under the lama protocol only these compete: two random models then agree on some facts.
    (root / "common_vocab_cased.txt").write_text("Paris\nLondon\n", encoding="utf-8")
    return root


@pytest.fixture
def tab(qtbot, window, lama_dir, model_dirs):
    """The LAMA tab with the folder above read and RoBERTa opened to compare with; closed after."""
    qtbot.waitUntil(lambda: window.lama.data is not None, timeout=WAIT_MS)
    window.tabs.setCurrentWidget(window.lama)
    tab = window.lama
    with qtbot.waitSignal(tab.jobFinished, timeout=WAIT_MS, check_params_cb=lambda r: isinstance(r, LamaSet)):
        tab.open_path(str(lama_dir))
    assert DISAGREE not in [tab.status.itemText(i) for i in range(tab.status.count())]  # not comparing yet
    with qtbot.waitSignal(window.controller.compare.loaded, timeout=WAIT_MS):
        window.compare_with(str(model_dirs["roberta"]))
    yield tab
    window.compare_with("")


def run_both(qtbot, tab) -> None:
    """Run, and wait until the compared model's run is done too."""
    compared = tab.compare.info.name
    with qtbot.waitSignal(tab.jobFinished, timeout=WAIT_MS,
                          check_params_cb=lambda r: isinstance(r, LamaReport) and r.model == compared):
        tab.run()
    assert tab._active is None


def engine_reports(tab, bert, roberta, protocol: str = "lab") -> tuple[LamaReport, LamaReport]:
    common = lama_data.find_upwards(Path(tab.path), "common_vocab_cased.txt")
    return tuple(run_to_end(evaluate(lm, tab.data.facts, protocol, common_vocab=common)) for lm in (bert, roberta))


def shown_column(tab, column: int) -> list[str]:
    return [tab.proxy.index(r, column).data() for r in range(tab.proxy.rowCount())]


def p_at_1(results) -> float:
    return sum(r.rank == 1 for r in results) / len(results)


def test_run_both_and_the_summary_gives_each_p_at_1_and_the_difference(qtbot, tab, bert, roberta):
    run_both(qtbot, tab)
    ref_a, ref_b = engine_reports(tab, bert, roberta)
    facts = tab.data.facts
    # Both models' answers, as the engine gives them run on its own.
    assert [r.rank for r in tab._current_results()] == [r.rank for r in ref_a.results]
    assert [r.rank for r in tab._current_compare_results()] == [r.rank for r in ref_b.results]
    assert shown_column(tab, TOP1) == [r.top_tokens[0] for r in ref_a.results]
    assert shown_column(tab, COMPARE_TOP1) == [r.top_tokens[0] for r in ref_b.results]
    assert not tab.table.isColumnHidden(COMPARE_TOP1)
    names = (tab.slot.info.name, tab.compare.info.name)
    header = tab.table.model()
    assert header.headerData(TOP1, Qt.Orientation.Horizontal) == "Top-1 A"
    assert header.headerData(COMPARE_TOP1, Qt.Orientation.Horizontal) == "Top-1 B"
    tip = Qt.ItemDataRole.ToolTipRole
    assert names[0] in header.headerData(TOP1, Qt.Orientation.Horizontal, tip)
    assert names[1] in header.headerData(COMPARE_TOP1, Qt.Orientation.Horizontal, tip)
    assert "agree" in header.headerData(COMPARE_TOP1, Qt.Orientation.Horizontal, tip)
    # The job bar speaks of both halves of the run, as the columns name the models.
    assert tab.job_bar.label.text().startswith(f"{len(facts):,} facts probed with A and B in ")
    # Per relation P@1 of each (lab protocol: every fact counts for both), and B − A.
    by_relation = defaultdict(list)
    for fact, a, b in zip(facts, ref_a.results, ref_b.results):
        by_relation[fact.relation].append((a, b))
    expected = {name: (len(pairs), p_at_1([a for a, _ in pairs]), p_at_1([b for _, b in pairs]))
                for name, pairs in by_relation.items()}
    expected[MEAN_OF_FACTS] = (len(facts), p_at_1(ref_a.results), p_at_1(ref_b.results))
    per = list(expected[name] for name in by_relation)
    expected[MEAN_OF_RELATIONS] = (len(facts), sum(p[1] for p in per) / len(per), sum(p[2] for p in per) / len(per))
    shown = tab.summary.compare_rows()
    assert shown.keys() == expected.keys()
    for name, (n, pa, pb) in expected.items():
        assert shown[name][0] == n, name
        assert shown[name][1:] == pytest.approx((pa, pb, pb - pa), abs=5e-4), name
    assert any(pa != pb for _, pa, pb in expected.values())  # the fixture makes the difference show
    assert any(pa > 0 for _, pa, _ in expected.values()) and any(pb > 0 for _, _, pb in expected.values())
    columns = [tab.summary.compare_scores.horizontalHeaderItem(c).text() for c in range(5)]
    assert columns[2:] == ["P@1 A", "P@1 B", "B − A"]
    assert f"A: {names[0]}" in tab.summary.compare_headline.toolTip() and f"B: {names[1]}" in tab.summary.compare_headline.toolTip()
    assert not tab.summary.compare_scores.isHidden()
    # The main model's own scores stay as they were.
    assert tab.summary.score_rows()[MEAN_OF_FACTS][1] == pytest.approx(p_at_1(ref_a.results), abs=5e-4)


def test_the_disagree_filter_shows_exactly_the_facts_where_the_models_differ(qtbot, tab, bert, roberta):
    assert DISAGREE in [tab.status.itemText(i) for i in range(tab.status.count())]
    # The lama protocol: two candidates only, so the models agree on some facts; golds outside
    # them are dropped, by both, and such a fact is no disagreement.
    tab.protocol.setCurrentIndex(tab.protocol.findData("lama"))
    run_both(qtbot, tab)
    ref_a, ref_b = engine_reports(tab, bert, roberta, "lama")

    def differ(a, b) -> bool:  # a different word on top (RoBERTa's "Ġ" marks a word start), or one right only
        if a.dropped or b.dropped:
            return False
        return (a.rank == 1) != (b.rank == 1) or word_of(a.top_tokens[0]).casefold() != word_of(b.top_tokens[0]).casefold()

    scored = [f.id for f, a, b in zip(tab.data.facts, ref_a.results, ref_b.results) if not (a.dropped or b.dropped)]
    want = [f.id for f, a, b in zip(tab.data.facts, ref_a.results, ref_b.results) if differ(a, b)]
    assert 0 < len(want) < len(scored) < len(tab.data.facts)
    # P@1 of each is over the facts both scored, the same for both.
    pairs = [(a, b) for a, b in zip(ref_a.results, ref_b.results) if not (a.dropped or b.dropped)]
    pa, pb = p_at_1([a for a, _ in pairs]), p_at_1([b for _, b in pairs])
    assert tab.summary.compare_rows()[MEAN_OF_FACTS] == pytest.approx((len(pairs), pa, pb, pb - pa), abs=5e-4)
    tab.set_filters(status=DISAGREE)
    shown = [tab.data.facts[tab.table_model.fact_index(tab.proxy.mapToSource(tab.proxy.index(r, 0)).row())].id
             for r in range(tab.proxy.rowCount())]
    assert shown == want
    assert f"they disagree on {len(want):,}" in tab.summary.compare_headline.text()
    tab.set_filters(relation="P36", status=DISAGREE)  # it combines with the other filters
    assert tab.proxy.rowCount() == sum(1 for f in tab.data.facts if f.id in want and f.relation == "P36")


def test_export_writes_both_models_answers(qtbot, tab, tmp_path, bert, roberta):
    run_both(qtbot, tab)
    ref_a, ref_b = engine_reports(tab, bert, roberta)
    names = [tab.slot.info.name, tab.compare.info.name]
    assert tab.export(str(tmp_path / "both.jsonl")) == len(tab.data.facts)
    with jsonlines.open(tmp_path / "both.jsonl") as reader:
        records = list(reader)
    assert [r["id"] for r in records] == [f.id for f in tab.data.facts]
    for record, a, b in zip(records, ref_a.results, ref_b.results):
        assert [x["model"] for x in record["answers"]] == names
        assert [x["rank"] for x in record["answers"]] == [a.rank, b.rank]
        assert [t["token"] for t in record["answers"][0]["top10"]] == list(a.top_tokens)
        assert [t["token"] for t in record["answers"][1]["top10"]] == list(b.top_tokens)
    tab.export(str(tmp_path / "both.csv"))
    with open(tmp_path / "both.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["a_model"], r["b_model"]) for r in rows] == [tuple(names)] * len(rows)
    assert [r["b_rank"] for r in rows] == ["" if b.rank is None else str(b.rank) for b in ref_b.results]
    assert rows[0]["b_top10"].split()[0].startswith(ref_b.results[0].top_tokens[0] + ":")


def test_closing_the_compared_model_clears_its_results(qtbot, tab, window, tmp_path):
    run_both(qtbot, tab)
    tab.set_filters(status=DISAGREE)
    main_ranks = [r.rank for r in tab._current_results()]
    with qtbot.waitSignal(window.controller.compare.closed, timeout=WAIT_MS):
        window.compare_with("")
    assert all(r is None for r in tab._current_compare_results())
    assert tab.comparison() is None and tab.table.isColumnHidden(COMPARE_TOP1)
    assert DISAGREE not in [tab.status.itemText(i) for i in range(tab.status.count())]
    assert tab.status.currentIndex() == 0 and tab.proxy.rowCount() == len(tab.data.facts)
    assert tab.summary.compare_scores.isHidden()
    assert tab.job_bar.label.text() == ""  # it spoke of the model just closed
    assert [r.rank for r in tab._current_results()] == main_ranks  # the main model's stay
    assert tab.export(str(tmp_path / "main.jsonl")) == len(tab.data.facts)
    with jsonlines.open(tmp_path / "main.jsonl") as reader:
        assert "answers" not in next(iter(reader))  # one model's records again


def test_stop_stops_the_compared_models_run_and_keeps_the_main_results(qtbot, tab, window, model_dirs, tmp_path):
    # 3,050 facts (the shipped sample ten times): the compared model cannot finish before Stop lands.
    lines = LAMA_SAMPLE.read_text(encoding="utf-8").splitlines()
    (tmp_path / "Squad").mkdir()
    (tmp_path / "Squad" / "test.jsonl").write_text("\n".join(lines * 10) + "\n", encoding="utf-8")
    with qtbot.waitSignal(tab.jobFinished, timeout=WAIT_MS, check_params_cb=lambda r: isinstance(r, LamaSet)):
        tab.open_path(str(tmp_path / "Squad" / "test.jsonl"))
    total = len(tab.data.facts)
    tab.batch_size.setValue(16)
    stopped: list = []

    def stop_in_compare(step):
        if tab._active == "lama_compare" and step.payload and not stopped:
            stopped.append(step)
            tab.job_bar.stopRequested.emit()

    tab.jobProgress.connect(stop_in_compare)
    with qtbot.waitSignal(tab.jobCancelled, timeout=WAIT_MS * 4):
        tab.run()
    tab.jobProgress.disconnect(stop_in_compare)
    assert all(r is not None for r in tab._current_results())  # the main run had finished
    held = sum(r is not None for r in tab._current_compare_results())
    assert 0 < held < total
    assert tab.job_bar.label.text().startswith(f"stopped: {held:,} of {total:,} facts probed with")
    assert tab._active is None and tab.run_button.isEnabled()
    # Another model to compare with: the results of the one before go, and it is said.
    with qtbot.waitSignal(window.controller.compare.loaded, timeout=WAIT_MS):
        window.compare_with(str(model_dirs["distilbert"]))
    assert all(r is None for r in tab._current_compare_results())
    assert "cleared" in tab.message.text() and not tab.message.isHidden()


def test_stop_during_the_main_run_does_not_go_on_to_the_compared_model(qtbot, tab):
    tab.batch_size.setValue(1)
    stopped: list = []

    def stop_at_first(step):
        if tab._active == "lama" and not stopped:
            stopped.append(step)
            tab.job_bar.stopRequested.emit()

    tab.jobProgress.connect(stop_at_first)
    with qtbot.waitSignal(tab.jobCancelled, timeout=WAIT_MS):
        tab.run()
    tab.jobProgress.disconnect(stop_at_first)
    assert tab._active is None and tab.current_job is not None and not tab.current_job.running
    assert all(r is None for r in tab._current_compare_results())
