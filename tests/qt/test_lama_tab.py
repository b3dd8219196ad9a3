"""The LAMA tab on a tiny real model and a small LAMA folder written here, against brute force."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

import jsonlines
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QTableView, QWidget

from explorer.core import lama_data
from explorer.core.lama_data import LamaReport, LamaSet
from explorer.paths import LAMA_SAMPLE
from explorer.qt.tabs.lama.panels import MEAN_OF_FACTS, MEAN_OF_RELATIONS
from explorer.qt.tabs.lama.table_model import CORRECT, RANK, TOP1

WAIT_MS = 20000
P19 = "[X] was born in [Y] ."
P36 = "The capital of [X] is [Y] ."


def logits_at_mask(lm, sentence: str) -> torch.Tensor:
    """The lab's way: one sentence, a full forward, the row of the first mask."""
    enc = lm.tokenizer(sentence.replace("[MASK]", lm.mask_token), return_tensors="pt")
    with torch.no_grad():
        logits = lm.model(**enc).logits[0]
    return logits[(enc["input_ids"][0] == lm.mask_token_id).nonzero()[0, 0]]


def first_choice(lm, sentence: str) -> str:
    """The model's own best word for the mask, so that the folder has right answers too."""
    for i in logits_at_mask(lm, sentence).argsort(descending=True).tolist():
        if i not in lm.special_ids:
            return lm.tokenizer.convert_ids_to_tokens(i)
    raise AssertionError("no ordinary token")


def reference(lm, fact, candidates: torch.Tensor | None = None) -> tuple[int | None, list[str]]:
    """Rank of the gold (None: not one token) and the top 10, by brute force."""
    row = logits_at_mask(lm, fact.sentence)
    if candidates is not None:
        row = row.masked_fill(~candidates, float("-inf"))
    top = lm.tokenizer.convert_ids_to_tokens(row.topk(10).indices.tolist())
    gold = lm.tokenizer.get_vocab().get(fact.obj_label)
    if gold is None or gold in lm.special_ids:
        return None, top
    return int((row > row[gold]).sum()) + 1, top


def scores(ranks: list[int | None]) -> tuple[int, float, float, float]:
    n = len(ranks)
    return (n, sum(r == 1 for r in ranks) / n, sum(1 for r in ranks if r and r <= 10) / n,
            sum(1 / r for r in ranks if r) / n)


def write_jsonl(path: Path, lines: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def lama_dir(tmp_path_factory, bert) -> Path:
    """Two T-REx relations, Google-RE, SQuAD; broken lines; some golds the model gets right."""
    root = tmp_path_factory.mktemp("lama") / "data"
    write_jsonl(root / "relations.jsonl", [{"relation": "P19", "template": P19}, {"relation": "P36", "template": P36}])
    right_p19 = first_choice(bert, P19.replace("[X]", "She").replace("[Y]", "[MASK]"))
    right_p36 = first_choice(bert, P36.replace("[X]", "France").replace("[Y]", "[MASK]"))
    right_squad = first_choice(bert, "The cat sat on the [MASK] .")
    (root / "common_vocab_cased.txt").write_text("\n".join(["Paris", "London", "Berlin", "cat", right_p36]) + "\n")
    write_jsonl(root / "TREx" / "P19.jsonl", [
        {"uuid": "b1", "sub_label": "She", "obj_label": right_p19, "predicate_id": "P19", "evidences": []},
        {"uuid": "b2", "sub_label": "He", "obj_label": "Paris", "predicate_id": "P19", "evidences": []},
        "{not json",
        {"uuid": "b4", "sub_label": "They", "predicate_id": "P19"},
        {"uuid": "b5", "sub_label": "It", "obj_label": "London", "predicate_id": "P19", "evidences": []},
    ])
    write_jsonl(root / "TREx" / "P36.jsonl", [
        {"uuid": "c1", "sub_label": "France", "obj_label": right_p36, "predicate_id": "P36", "evidences": []},
        {"uuid": "c2", "sub_label": "England", "obj_label": "London", "predicate_id": "P36", "evidences": []},
        {"uuid": "c3", "sub_label": "Germany", "obj_label": "Zorblax", "predicate_id": "P36", "evidences": []},
    ])
    write_jsonl(root / "Squad" / "test.jsonl", [
        {"masked_sentences": ["The cat sat on the [MASK] ."], "obj_label": right_squad, "id": "s1"},
        {"masked_sentences": ["The dog sat on the mat ."], "obj_label": "mat", "id": "s2"},
        {"masked_sentences": ["She went to [MASK] with her dog ."], "obj_label": "school", "id": "s3"},
        {"masked_sentences": ["A [MASK] is a good house ."], "obj_label": "cat", "id": "s4"},
    ])
    return root


@pytest.fixture
def window(qtbot, window):
    """The shared window, on the LAMA tab with the shipped sample read."""
    qtbot.waitUntil(lambda: window.lama.data is not None, timeout=WAIT_MS)
    window.tabs.setCurrentWidget(window.lama)
    return window


def open_folder(qtbot, w, path) -> None:
    with qtbot.waitSignal(w.lama.jobFinished, timeout=WAIT_MS, check_params_cb=lambda r: isinstance(r, LamaSet)):
        w.lama.open_path(str(path))


def run_all(qtbot, w) -> None:
    with qtbot.waitSignal(w.lama.jobFinished, timeout=WAIT_MS, check_params_cb=lambda r: isinstance(r, LamaReport)):
        qtbot.mouseClick(w.findChild(QPushButton, "lamaRunButton"), Qt.MouseButton.LeftButton)


def shown_column(tab, column: int) -> list[str]:
    proxy = tab.proxy
    return [proxy.index(r, column).data() for r in range(proxy.rowCount())]


def test_named_widgets_and_the_shipped_sample_on_start(window):
    tab = window.findChild(QWidget, "lamaTab")
    assert tab is window.lama and window.tabs.tabText(window.tabs.indexOf(tab)) == "LAMA"
    for name in ("lamaTable", "lamaRunButton", "lamaSummary", "lamaTopK", "lamaStopButton", "lamaSearch",
                 "lamaRelationFilter", "lamaStatusFilter", "lamaProtocol", "lamaProbe", "lamaExportButton"):
        assert tab.findChild(QWidget, name) is not None, name
    table = tab.findChild(QTableView, "lamaTable")
    assert table.model().rowCount() == 305
    assert "shipped sample" in tab.source.text()
    assert shown_column(tab, 2)[0] == "gold"  # the first line's obj_label, in the files' order
    assert tab.summary.skipped_label.text().startswith("No malformed lines")


def test_open_a_folder_fills_the_table_and_reports_broken_lines(qtbot, window, lama_dir):
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    expected = lama_data.read(lama_dir)
    assert tab.table.model().rowCount() == len(expected.facts) == 9
    assert [tab.relation.itemData(i) for i in range(tab.relation.count())] == ["", "P19", "P36", "Squad"]
    assert shown_column(tab, 1)[0] == "She was born in [MASK] ."  # from the relation's template
    assert shown_column(tab, CORRECT) == [""] * 9  # not run yet
    assert "3 malformed lines skipped" in tab.summary.skipped_label.text()
    lines = [tab.summary.skipped_list.item(i).text() for i in range(tab.summary.skipped_list.count())]
    assert lines == ["P19.jsonl:3: " + expected.skipped[0].reason, "P19.jsonl:4: no obj_label",
                     "test.jsonl:2: no [MASK] in the sentence"]
    assert "P19.jsonl:3" in tab.summary.skipped_label.toolTip()
    tab.summary.skipped_button.click()
    assert tab.summary.skipped_list.isVisible()


def test_run_fills_the_table_and_the_summary_matches_brute_force(qtbot, window, lama_dir, bert):
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    run_all(qtbot, window)
    facts = tab.data.facts
    ref = [reference(bert, f) for f in facts]
    # Every row: the gold's rank and the top-1 the model gives when asked one sentence at a time.
    assert shown_column(tab, RANK) == ["–" if rank is None else str(rank) for rank, _ in ref]
    assert shown_column(tab, TOP1) == [top[0] for _, top in ref]
    by_relation = defaultdict(list)
    for fact, (rank, _) in zip(facts, ref):
        by_relation[fact.relation].append(rank)
    assert any(rank == 1 for rank, _ in ref) and any(rank != 1 for rank, _ in ref)
    shown = tab.summary.score_rows()
    expected = {name: scores(ranks) for name, ranks in by_relation.items()}
    expected[MEAN_OF_FACTS] = scores([rank for rank, _ in ref])
    per_relation = list(expected[name] for name in by_relation)
    expected[MEAN_OF_RELATIONS] = (len(facts), *(sum(s[k] for s in per_relation) / len(per_relation) for k in (1, 2, 3)))
    assert shown.keys() == expected.keys()
    for name, (n, p1, p10, mrr) in expected.items():
        assert shown[name][0] == n, name
        assert shown[name][1:] == pytest.approx((p1, p10, mrr), abs=5e-4), name
    # And the same numbers as the engine's own summary of what the tab holds.
    report = tab.report()
    assert report.overall.p_at_1 == pytest.approx(expected[MEAN_OF_RELATIONS][1])
    assert "9 of 9 facts evaluated" in tab.summary.headline.text()
    assert tab.job_bar.label.text().startswith("9 facts probed")


def test_filters_wrong_correct_relation_and_text(qtbot, window, lama_dir, bert):
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    tab.set_filters(relation="P36")
    assert shown_column(tab, 0) == ["P36"] * 3
    run_all(qtbot, window)  # only what the filters show
    assert sum(r is not None for r in tab._current_results()) == 3
    tab.set_filters(status="Not yet run")
    assert tab.proxy.rowCount() == 6 and "6 of 9" in tab.count.text()
    run_all(qtbot, window)
    assert tab.proxy.rowCount() == 0  # the rows left as their results came in
    wrong = [f.id for f in tab.data.facts if reference(bert, f)[0] != 1]
    tab.set_filters(status="Wrong")
    assert tab.proxy.rowCount() == len(wrong) > 0
    assert set(shown_column(tab, CORRECT)) == {"✗ no"}
    tab.set_filters(status="Correct")
    assert tab.proxy.rowCount() == 9 - len(wrong) > 0
    assert set(shown_column(tab, RANK)) == {"1"}
    tab.set_filters(status="Correct", text="zorblax")  # the filters combine
    assert tab.proxy.rowCount() == 0
    tab.set_filters(status="Wrong", text="zorblax")  # case-insensitive, in the gold too
    assert shown_column(tab, 2) == ["Zorblax"]
    tab.set_filters(text="capital of eng")
    assert shown_column(tab, 2) == ["London"]
    # Typing goes through a short debounce, not a filter per keystroke.
    tab.set_filters()
    qtbot.keyClicks(tab.search, "Zorblax")
    qtbot.waitUntil(lambda: tab.proxy.rowCount() == 1, timeout=WAIT_MS)


def test_selecting_a_row_shows_its_top_10_and_feeds_the_attention_view(qtbot, window, lama_dir, bert):
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    run_all(qtbot, window)
    with qtbot.waitSignal(tab.showInAttention, timeout=WAIT_MS) as sent:
        tab.select_row(2)
    fact = tab.data.facts[tab.table_model.fact_index(tab.proxy.mapToSource(tab.proxy.index(2, 0)).row())]
    assert sent.args == [fact.sentence]
    rank, top = reference(bert, fact)
    shown = tab.detail.shown_tokens()
    assert [t for t, _ in shown] == top and len(shown) == 10
    result = tab._current_results()[tab.data.facts.index(fact)]
    assert shown[0][1] == f"{result.top_scores[0] * 100:.2f}%"
    assert sorted((float(p[:-1]) for _, p in shown), reverse=True) == [float(p[:-1]) for _, p in shown]
    assert f"rank of the gold: <b>{rank}</b>" in tab.detail.heading.text()
    # The attention tab now computes this sentence when shown (the lab's show(idx, layer)).
    with qtbot.waitSignal(window.attention.answered, timeout=WAIT_MS,
                          check_params_cb=lambda r: r.text == fact.sentence):
        window.tabs.setCurrentWidget(window.attention)
    # "Open in editor" sends it to the sentence editor.
    window.tabs.setCurrentWidget(tab)
    qtbot.mouseClick(tab.findChild(QPushButton, "lamaOpenInEditor"), Qt.MouseButton.LeftButton)
    assert window.editor.toPlainText() == fact.sentence


def test_export_writes_csv_and_jsonl_that_read_back(qtbot, window, lama_dir, tmp_path):
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    assert not tab.export_button.isEnabled()
    with pytest.raises(ValueError):
        tab.export(str(tmp_path / "nothing.jsonl"))
    run_all(qtbot, window)
    assert tab.export_button.isEnabled()
    facts, results = tab.data.facts, tab._current_results()
    assert tab.export(str(tmp_path / "out.jsonl")) == 9
    with jsonlines.open(tmp_path / "out.jsonl") as reader:
        records = list(reader)
    assert [r["id"] for r in records] == [f.id for f in facts]
    assert [r["rank"] for r in records] == [r.rank for r in results]
    assert [t["token"] for t in records[0]["top10"]] == list(results[0].top_tokens)
    assert records[0]["top10"][0]["score"] == pytest.approx(results[0].top_scores[0])
    assert {"id", "relation", "sentence", "gold", "top10", "rank"} <= records[0].keys()
    tab.export(str(tmp_path / "out.csv"))
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["gold"] for r in rows] == [f.obj_label for f in facts]
    assert [r["rank"] for r in rows] == ["" if r.rank is None else str(r.rank) for r in results]
    assert rows[0]["top10"].split()[0].startswith(results[0].top_tokens[0] + ":")
    # With a filter on, the export holds the facts the filters show, and no other.
    tab.set_filters(text=facts[0].sentence.split()[0])
    shown = set(tab.proxy.shown_facts())
    assert 0 < len(shown) < len(facts)
    assert tab.export(str(tmp_path / "shown.jsonl")) == len(shown)
    with jsonlines.open(tmp_path / "shown.jsonl") as reader:
        assert sorted(r["id"] for r in reader) == sorted(facts[i].id for i in shown)


def test_lama_protocol_drops_and_counts_and_keeps_each_protocols_results(qtbot, window, lama_dir, bert):
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    run_all(qtbot, window)
    lab_ranks = [r.rank for r in tab._current_results()]
    tab.protocol.setCurrentIndex(tab.protocol.findData("lama"))
    assert shown_column(tab, CORRECT) == [""] * 9  # nothing run under this protocol yet
    run_all(qtbot, window)
    results = tab._current_results()
    dropped = {f.id: r.dropped for f, r in zip(tab.data.facts, results)}
    assert dropped["c3"] == lama_data.DROP_NOT_ONE_TOKEN
    assert dropped["s3"] == lama_data.DROP_NOT_COMMON  # "school" is a token, but not a common one
    assert "Dropped (not counted)" in tab.summary.dropped.text() and lama_data.DROP_NOT_ONE_TOKEN in tab.summary.dropped.text()
    report = lama_data.summarise("m", "lama", tab.data.facts, results)
    shown = tab.summary.score_rows()
    assert shown[MEAN_OF_FACTS][0] == report.overall_facts.n < 9
    assert shown[MEAN_OF_RELATIONS][1] == pytest.approx(report.overall.p_at_1, abs=5e-4)
    vocab = bert.tokenizer.get_vocab()
    common = lama_data.read_common_vocab(lama_dir / "common_vocab_cased.txt")
    candidates = torch.zeros(bert.model.config.vocab_size, dtype=torch.bool)
    candidates[[vocab[w] for w in common if w in vocab]] = True
    for fact, result in zip(tab.data.facts, results):
        if result.dropped is None:
            assert result.rank == reference(bert, fact, candidates)[0]
    tab.set_filters(status="Dropped")
    assert tab.proxy.rowCount() == sum(1 for r in results if r.dropped)
    tab.set_filters()
    tab.protocol.setCurrentIndex(tab.protocol.findData("lab"))
    assert [r.rank for r in tab._current_results()] == lab_ranks  # each protocol keeps its own


def test_stop_works_mid_run_and_keeps_what_was_probed(qtbot, window, tmp_path):
    tab = window.lama
    assert Path(tab.path) == LAMA_SAMPLE
    # 3,050 facts, one per step: a slow machine cannot finish before Stop lands.
    lines = LAMA_SAMPLE.read_text(encoding="utf-8").splitlines()
    (tmp_path / "Squad").mkdir()
    (tmp_path / "Squad" / "test.jsonl").write_text("\n".join(lines * 10) + "\n", encoding="utf-8")
    open_folder(qtbot, window, tmp_path / "Squad" / "test.jsonl")
    total = len(tab.data.facts)
    assert total == 3050
    tab.batch_size.setValue(1)
    stop = tab.findChild(QPushButton, "lamaStopButton")
    first = []

    def stop_at_first(step):
        if tab._active == "lama" and step.payload and not first:
            first.append(step.done)
            qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)

    window.lama.jobProgress.connect(stop_at_first)
    with qtbot.waitSignal(window.lama.jobCancelled, timeout=WAIT_MS):
        tab.run()
    done = sum(r is not None for r in tab._current_results())
    assert 0 < done < total
    assert tab.job_bar.label.text().startswith(f"stopped: {done:,} of {total:,}")
    shown = tab.summary.score_rows()
    held = [r for r in tab._current_results() if r is not None]
    report = lama_data.summarise("m", "lab", [tab.data.facts[r.index] for r in held], held)
    assert shown[MEAN_OF_FACTS][0] == report.overall_facts.n == done - sum(1 for r in held if r.dropped)
    assert shown[MEAN_OF_FACTS][1:] == pytest.approx(
        (report.overall_facts.p_at_1, report.overall_facts.p_at_10, report.overall_facts.mrr), abs=5e-4)
    assert tab.run_button.isEnabled() and not stop.isEnabled()
    tab.set_filters(status="Not yet run")
    assert tab.proxy.rowCount() == total - done
    # Again over every fact, stopped at once: it counts its own facts, not the first run's.
    tab.set_filters()
    arrived: list[int] = []
    window.lama.jobProgress.disconnect(stop_at_first)

    def stop_again(step):
        if tab._active == "lama" and step.payload:
            arrived.extend(r.index for r in step.payload)
            if len(arrived) == len(step.payload):
                qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)

    window.lama.jobProgress.connect(stop_again)
    with qtbot.waitSignal(window.lama.jobCancelled, timeout=WAIT_MS):
        tab.run()
    window.lama.jobProgress.disconnect(stop_again)
    assert tab.job_bar.label.text().startswith(f"stopped: {len(set(arrived)):,} of {total:,}")


def test_sorting_by_a_column_keeps_the_selection(qtbot, window, lama_dir):
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    run_all(qtbot, window)
    tab.select_row(0)
    selected = tab._current_fact()
    tab.table.sortByColumn(RANK, Qt.SortOrder.AscendingOrder)
    ranks = [int(x) for x in shown_column(tab, RANK) if x != "–"]
    assert ranks == sorted(ranks) and shown_column(tab, RANK)[-1] == "–"
    assert tab._current_fact() == selected
    tab.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    golds = shown_column(tab, 2)
    assert golds == sorted(golds, key=str.casefold, reverse=True)


def test_a_missing_path_is_explained_and_the_old_facts_stay(qtbot, window, tmp_path):
    tab = window.lama
    with qtbot.waitSignal(window.lama.jobFailed, timeout=WAIT_MS):
        tab.open_path(str(tmp_path / "nope"))
    assert tab.message.isVisible() and "does not exist" in tab.message.text()
    assert tab.proxy.rowCount() == 305 and tab.run_button.isEnabled()


def test_probe_from_the_original_sentences(qtbot, window, lama_dir):
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    with qtbot.waitSignal(window.lama.jobFinished, timeout=WAIT_MS, check_params_cb=lambda r: isinstance(r, LamaSet)):
        tab.probe.setCurrentIndex(tab.probe.findData("sentences"))
    # T-REx lines here have no evidence sentences: without the template they cannot be probed.
    assert set(shown_column(tab, 0)) == {"Squad"}
    assert "no masked sentence" in tab.summary.skipped_label.toolTip()


def test_the_running_tally_equals_summarise_also_when_a_run_replaces_results(lama_dir):
    from explorer.core.lama_data import FactResult
    from explorer.core.lama_data import ScoreTally

    facts = lama_data.read(lama_dir).facts
    tally, held = ScoreTally(), [None] * len(facts)

    def arrive(i, rank, dropped=None):
        new = FactResult(i, ("x",), (0.5,), rank, dropped)
        tally.replace(facts[i].relation, held[i], new)
        held[i] = new

    for i, rank in enumerate([1, 3, None, 12, 1, 2, 7, 1, 40]):
        arrive(i, rank)
    arrive(2, None, lama_data.DROP_NOT_ONE_TOKEN)
    arrive(4, 5)  # a second run of the same fact replaces the first
    arrive(5, None, lama_data.DROP_NOT_COMMON)
    arrive(5, 1)
    got = tally.report("m", "lab")
    want = lama_data.summarise("m", "lab", facts, held)
    assert tally.evaluated == len(facts)
    assert got.dropped == want.dropped == {lama_data.DROP_NOT_ONE_TOKEN: 1}
    assert got.relations.keys() == want.relations.keys()
    for name, score in want.relations.items():
        assert got.relations[name].n == score.n
        assert (got.relations[name].p_at_1, got.relations[name].p_at_10, got.relations[name].mrr) == pytest.approx(
            (score.p_at_1, score.p_at_10, score.mrr))
    for a, b in ((got.overall, want.overall), (got.overall_facts, want.overall_facts)):
        assert a.n == b.n and (a.p_at_1, a.p_at_10, a.mrr) == pytest.approx((b.p_at_1, b.p_at_10, b.mrr))


# --- issue 21 ----------------------------------------------------------------------------------

def test_filtering_the_selected_fact_away_clears_the_selection(qtbot, window, lama_dir):
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    tab.set_filters(relation="P36")
    with qtbot.waitSignal(tab.showInAttention, timeout=WAIT_MS):
        tab.select_row(0)
    sent: list[str] = []
    tab.showInAttention.connect(sent.append)
    assert shown_column(tab, 2)[0] != "London"
    tab.set_filters(relation="P36", text="England")  # the selected fact goes; another stays
    assert shown_column(tab, 2) == ["London"]
    assert tab._current_fact() is None and tab.table.selectionModel().selectedRows() == []
    assert sent == []  # the attention tab keeps the sentence it had
    assert tab.detail.heading.text().startswith("Select a fact")


def test_export_defaults_to_documents_not_the_apps_folder(qtbot, window, lama_dir, save_dialog):
    documents, offered = save_dialog
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    run_all(qtbot, window)
    tab.export_button.click()
    assert offered == [str(documents / "lama_lab_results.jsonl")]


def test_the_status_bar_shows_the_running_job(qtbot, window, lama_dir):
    tab = window.lama
    open_folder(qtbot, window, lama_dir)
    tab.batch_size.setValue(1)
    seen: list[str] = []
    window.lama.jobProgress.connect(lambda _s: seen.append(window.status_load.text()) if window.lama._active == "lama" else None)
    run_all(qtbot, window)
    assert seen and all(text.startswith("LAMA running") for text in seen)
    assert any(re.fullmatch(r"LAMA running: \d+/9", text) for text in seen)  # said once, with the count
    assert window.status_load.text() == "ready"


def big_sample(tmp_path) -> Path:
    """3,050 facts (the sample ten times): with batch size 1 no machine finishes before we act."""
    lines = LAMA_SAMPLE.read_text(encoding="utf-8").splitlines()
    (tmp_path / "Squad").mkdir()
    (tmp_path / "Squad" / "test.jsonl").write_text("\n".join(lines * 10) + "\n", encoding="utf-8")
    return tmp_path / "Squad" / "test.jsonl"


def test_switching_model_while_lama_runs_asks_and_says_what_it_cleared(qtbot, window, tmp_path, model_dirs, monkeypatch):
    from explorer.qt.widgets import dialogs

    tab = window.lama
    open_folder(qtbot, window, big_sample(tmp_path))
    tab.batch_size.setValue(1)
    old = window.controller.main.info.name
    progress: list = []
    window.lama.jobProgress.connect(lambda step: progress.append(step) if window.lama._active == "lama" else None)
    tab.run()
    qtbot.waitUntil(lambda: any(s.payload for s in progress), timeout=WAIT_MS)
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text, *_a, **_k: asked.append(text) or False)
    loads: list[str] = []
    window.controller.main.loading.connect(loads.append)
    other = str(model_dirs["distilbert"])
    window.model_bar.loadRequested.emit(other, "auto", "auto")
    assert len(asked) == 1 and "LAMA" in asked[0] and "clears the LAMA results" in asked[0]
    assert loads == [] and tab.job_bar.running  # Keep running
    assert window.status_load.text().startswith("LAMA running")
    assert window.model_bar.model_selector.currentText() == old
    monkeypatch.setattr(dialogs, "confirm", lambda *_a, **_k: True)
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS):
        window.model_bar.loadRequested.emit(other, "auto", "auto")
    assert tab.job_bar.label.text().startswith("stopped") or "cleared" in tab.message.text()
    assert tab.message.isVisible() and f"Results of {old} cleared" in tab.message.text()
    assert all(r is None for r in tab._current_results())
    assert window.status_load.text() == "ready"
    # The note speaks of the model before; it goes when yet another one loads.
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS):
        window.model_bar.loadRequested.emit(old, "auto", "auto")
    assert not tab.message.isVisible()
