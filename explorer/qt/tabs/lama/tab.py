"""The LAMA tab: browse LAMA's facts, evaluate what the filters show, look at one fact closely.

Reading a folder and evaluating are both jobs on the model thread (reading T-REx is 40 MB of
JSON: the window must not wait on it). Results arrive a batch at a time and fill the table in
as they come; they are kept per protocol (and, for lama, per "clean input"), so switching
lab <-> lama shows each one's results.

In compare mode (a model in the compare slot) Run probes the same facts with the same protocol
on the main model, then on the compared one; the summary then gives each relation's P@1 of
both and the difference (core.lama_compare), the table the compared model's top-1, and the
status filter "Models disagree". The compared model's results go when that model does.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from collections.abc import Collection
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QFrame, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from explorer.core import lama_data
from explorer.core.lama_compare import LamaComparison, write_comparison
from explorer.core.lama_data import FactResult, LamaReport, LamaSet
from explorer.core.model_names import short_name
from explorer.paths import LAMA_SAMPLE
from explorer.qt.widgets import dialogs
from explorer.qt.widgets.job_bar import JobBar, format_seconds
from explorer.qt.widgets.job_tab import JobTab
from explorer.qt.widgets.style import error_label_style
from explorer.qt.tabs.lama.controls import LamaControls, fact_table
from explorer.qt.tabs.lama.panels import FactDetail, LamaSummary
from explorer.qt.tabs.lama.table_model import (
    ALL_RELATIONS,
    COMPARE_TOP1,
    DISAGREE,
    STATUSES,
    LamaFilterProxy,
    LamaTableModel,
)
from explorer.core.lama_data import ScoreTally

log = logging.getLogger(__name__)

READ_KIND, EVAL_KIND, COMPARE_KIND = "lama_read", "lama", "lama_compare"  # what the tab's one job is doing
READ_LABEL, EVAL_LABEL = "Reading LAMA files", "LAMA running"  # the status line: "LAMA running: 120/305"
COMPARE_LABEL = "LAMA running (compare)"
STOPPING_LOSES = "Stopping it clears the LAMA results: they always belong to one model."
COMPARE_STOPPING_LOSES = "Stopping it clears the compared model's LAMA results: they always belong to one model."
EXPORT_FORMATS = (("JSON lines", ".jsonl"), ("CSV", ".csv"))
SEARCH_DELAY_MS = 200  # filtering 28k rows per keystroke would lag typing
SUMMARY_EVERY_MS = 400  # a tiny model answers hundreds of batches a second


def is_sample(path: str) -> bool:
    """The sample shipped in the app's own folder (not a place to save or browse from)."""
    return Path(path).resolve() == LAMA_SAMPLE.resolve()



def _evaluated(results: list[FactResult | None], only: Collection[int] | None) -> list[int]:
    """The facts with a result (of those `only`, if given), by index."""
    return [i for i, r in enumerate(results) if r is not None and (only is None or i in only)]

class LamaTab(JobTab):
    """Emits showInAttention(sentence) for the selected fact, openInEditor(sentence) on request."""

    showInAttention = Signal(str)
    openInEditor = Signal(str)

    def __init__(self, controller: Any, slot: Any, parent: QWidget | None = None, *, compare: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("lamaTab")
        self.controller = controller  # reading files needs no model: a job of the session's
        self.slot = slot  # the model whose answers are scored
        self.compare = compare  # the slot of the model compared with it (None: no compare mode)
        self._compare_results: dict[str, list[FactResult | None]] = {}  # per mode, as _results
        self._compare_name = ""
        self._compare_job: tuple[Any, ...] | None = None  # the compared model's run, once the main one is done
        self.path: str | None = None
        self.data: LamaSet | None = None
        # Per mode (_mode(): the protocol, and for lama whether the input is clean), one per fact.
        self._results: dict[str, list[FactResult | None]] = {}
        self._tallies: dict[str, ScoreTally] = {}  # per mode, the sums behind the summary
        self._model_name = ""
        self._cleared_note = False  # the message says results of an earlier model were cleared
        self._probed_now: set[int] = set()
        self._active: str | None = None  # the kind of job the bar follows
        self._run: tuple[list[int], str] | None = None  # fact indices and mode of the running job
        self._started = 0.0
        self._run_started = 0.0
        self._main_counted = 0  # facts counted in the main model's half of a compare-mode run
        self._pending_path: tuple[str, str] | None = None
        self._dropped_before = 0  # facts the running job dropped before probing (told by its first step)

        self.table_model = LamaTableModel(self)
        self.proxy = LamaFilterProxy(self)
        self.proxy.setSourceModel(self.table_model)
        self._build()
        self._wire()
        self.open_path(str(LAMA_SAMPLE))

    # --- building ---------------------------------------------------------------------
    def _build(self) -> None:
        self.controls = LamaControls(self)
        c = self.controls
        # The tab's own names for the controls it drives (and tests reach for).
        self.open_folder_button, self.open_file_button, self.source = c.open_folder_button, c.open_file_button, c.source
        self.probe, self.protocol, self.batch_size = c.probe, c.protocol, c.batch_size
        self.clean_input = c.clean_input
        self.multi_token = c.multi_token
        self.relation, self.status, self.search, self.count = c.relation, c.status, c.search, c.count
        self.run_button, self.export_button = c.run_button, c.export_button
        self.job_bar = JobBar(self, stop_name="lamaStopButton")
        self.job_bar.setObjectName("lamaJobBar")
        self.message = QLabel("", self)
        self.message.setObjectName("lamaMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(error_label_style())
        self.message.hide()
        self.table = fact_table(self, self.proxy)
        self.detail = FactDetail(self)
        self.summary = LamaSummary(self)

        side = QSplitter(Qt.Orientation.Vertical, self)
        side.setObjectName("lamaSideSplitter")
        side.addWidget(self.detail)
        # The summary grows a second table in compare mode: on a 768-pixel screen it scrolls
        # rather than push the window's bottom off-screen.
        summary_scroll = QScrollArea(self)
        summary_scroll.setObjectName("lamaSummaryScroll")
        summary_scroll.setWidgetResizable(True)
        summary_scroll.setFrameShape(QFrame.Shape.NoFrame)
        summary_scroll.setWidget(self.summary)
        side.addWidget(summary_scroll)
        side.setChildrenCollapsible(False)
        main = QSplitter(self)
        main.setObjectName("lamaSplitter")
        main.addWidget(self.table)
        main.addWidget(side)
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 2)
        main.setChildrenCollapsible(False)
        main.setSizes([800, 380])
        side.setSizes([400, 260])

        layout = QVBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addWidget(self.job_bar)
        layout.addWidget(self.message)
        layout.addWidget(main, 1)

    def _wire(self) -> None:
        self.slot.loaded.connect(self._on_model_loaded)
        if self.compare is not None:
            self.compare.loaded.connect(self._on_compare_loaded)
            self.compare.closed.connect(self._on_compare_closed)
        self.open_folder_button.clicked.connect(self._open_folder_dialog)
        self.open_file_button.clicked.connect(self._open_file_dialog)
        self.probe.currentIndexChanged.connect(self._on_probe_changed)
        self.protocol.currentIndexChanged.connect(self._on_protocol_changed)
        self.clean_input.toggled.connect(self._on_protocol_changed)
        self.multi_token.toggled.connect(self._on_protocol_changed)
        self.relation.currentIndexChanged.connect(self._apply_filters)
        self.status.currentIndexChanged.connect(self._apply_filters)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_filters)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._apply_filters)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.search.setFocus,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._summary_timer = QTimer(self, singleShot=True, interval=SUMMARY_EVERY_MS)
        self._summary_timer.timeout.connect(self._refresh_summary)
        # A filter change over 28k rows can insert rows in thousands of ranges: count once after.
        self._count_timer = QTimer(self, singleShot=True, interval=0)
        self._count_timer.timeout.connect(self._update_count)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset, self.proxy.layoutChanged):
            signal.connect(lambda *_args: self._count_timer.start())
        # Selection, not the current index: focusing the table sets a current row by itself,
        # and that must not pull the attention view away from the editor's sentence.
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.run_button.clicked.connect(self.run)
        self.job_bar.stopRequested.connect(self.stop)
        self.export_button.clicked.connect(self._export_dialog)
        self.detail.openInEditor.connect(self.openInEditor)
        self._update_buttons()

    # --- opening ----------------------------------------------------------------------
    def open_path(self, path: str) -> None:
        """Read a LAMA folder, one subset folder or one .jsonl file (on the model thread)."""
        probe = self.probe.currentData()
        if self._active == EVAL_KIND:
            self.cancel_job()  # its results belong to the facts being replaced
            self._run = None
        self._pending_path = (path, probe)
        self._hide_message()
        self._active = READ_KIND
        self.job_bar.start(f"reading {Path(path).name}…")
        self.follow(self.controller.run_job(lambda session: session.read_lama(path, probe), label=READ_LABEL))
        self._update_buttons()

    def _open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a LAMA folder", self._dialog_start())
        if folder:
            self.open_path(folder)

    def _open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a LAMA file", self._dialog_start(), "LAMA (*.jsonl);;All files (*)")
        if path:
            self.open_path(path)

    def _dialog_start(self) -> str:
        """Beside the facts open now, unless they are the shipped sample (in the app's own folder)."""
        if self.path and not is_sample(self.path):
            return str(Path(self.path).parent)
        return str(dialogs.documents_folder())

    def _on_probe_changed(self, _index: int) -> None:
        path = self._pending_path[0] if self._pending_path else self.path
        if path:
            self.open_path(path)  # other sentences: other facts

    def _set_data(self, path: str, data: LamaSet) -> None:
        self.path, self.data = path, data
        self._results, self._tallies, self._compare_results = {}, {}, {}
        self.detail.clear()
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.relation.blockSignals(True)
        self.relation.clear()
        self.relation.addItem(f"{ALL_RELATIONS} ({len(data.relations)})", "")
        for name in data.relations:
            self.relation.addItem(name, name)
        self.relation.blockSignals(False)
        self._search_timer.stop()
        self.proxy.set_filters("", self.status.currentText(), self.search.text(), refilter=False)
        self.table_model.set_facts(data.facts, self._current_results())  # the reset filters once
        self._show_compare_mode()
        self._update_count()
        shown = "/".join(Path(path).parts[-2:])
        self.source.setText(f"{shown}  (shipped sample)" if is_sample(path) else shown)
        self.source.setToolTip("\n".join([path, *(f"note: {n}" for n in data.notes)]))
        self.summary.set_skipped(data.skipped, data.notes)
        self._refresh_summary()

    # --- filtering --------------------------------------------------------------------
    def _apply_filters(self, *_args: Any) -> None:
        self._search_timer.stop()
        self.proxy.set_filters(self.relation.currentData() or "", self.status.currentText(), self.search.text())
        self._update_count()

    def _update_count(self, *_args: Any) -> None:
        total = len(self.table_model.facts)
        shown = self.proxy.rowCount()
        self.count.setText(f"{shown:,} of {total:,} facts")
        self.run_button.setText(f"Run on {shown:,}" if shown != total else "Run on all")
        self._update_buttons()

    def set_filters(self, relation: str = "", status: str = STATUSES[0], text: str = "") -> None:
        """Set the three filters at once (as a person would with the widgets)."""
        self.relation.setCurrentIndex(max(0, self.relation.findData(relation)) if relation else 0)
        self.status.setCurrentText(status)
        self.search.setText(text)
        self._apply_filters()

    # --- running ----------------------------------------------------------------------
    def _cleaning(self) -> bool:
        """Clean input asked for, and it matters: only protocol lama reads LAMA's input."""
        return self.protocol.currentData() == "lama" and self.clean_input.isChecked()

    def _options(self) -> dict[str, Any]:
        """Protocol lama's options as evaluate() takes them: clean input, multi-token facts."""
        lama = self.protocol.currentData() == "lama"
        return {"clean_input": self._cleaning(),
                "multi_token": lama_data.DEFAULT_PIECES if lama and self.multi_token.isChecked() else 0}

    def _mode(self) -> str:
        """What the held results belong to: the protocol, and for lama its options."""
        options = self._options()
        return " ".join([self.protocol.currentData(), *(["clean"] if options["clean_input"] else []),
                         *(["multi"] if options["multi_token"] else [])])

    def _current_results(self) -> list[FactResult | None]:
        n = len(self.data.facts) if self.data else 0
        return self._results.setdefault(self._mode(), [None] * n)

    @property
    def comparing(self) -> bool:
        """A second model is open to compare with."""
        return self.compare is not None and self.compare.has_model

    def _current_compare_results(self) -> list[FactResult | None]:
        n = len(self.data.facts) if self.data else 0
        return self._compare_results.setdefault(self._mode(), [None] * n)

    def _names(self) -> tuple[str, str]:
        main = self._model_name or (self.slot.info.name if self.slot.has_model else "")
        other = self.compare.info.name if self.comparing else ""
        return main, other

    def _show_compare_mode(self) -> None:
        """Column, status filter, table and summary as compare mode is on or off."""
        on = self.comparing
        self.table.setColumnHidden(COMPARE_TOP1, not on)
        offered = self.status.findText(DISAGREE)
        if on and offered < 0:
            self.status.addItem(DISAGREE)
        elif not on and offered >= 0:
            if self.status.currentText() == DISAGREE:
                self.status.setCurrentIndex(0)  # refilters through currentIndexChanged
            self.status.removeItem(self.status.findText(DISAGREE))
        self.table_model.set_compare(self._current_compare_results() if on else None, self._names())
        if on and self.status.currentText() == DISAGREE:
            self._apply_filters()

    def run(self) -> None:
        """Evaluate the facts the filters show, with the current protocol and batch size."""
        if self.data is None or self._active is not None:
            return
        if not self.slot.has_model:
            self._show_message("No model is loaded yet: the facts are evaluated once one is.")
            return
        indices = self.proxy.shown_facts()
        if not indices:
            self._show_message("The filters show no facts: nothing to run.")
            return
        self._hide_message()
        facts = [self.data.facts[i] for i in indices]
        protocol, batch, options = self.protocol.currentData(), self.batch_size.value(), self._options()
        common = lama_data.find_upwards(Path(self.path or ""), "common_vocab_cased.txt")
        self._model_name = self.slot.info.name
        self._run = (indices, self._mode())
        self._run_started = time.monotonic()  # a compare-mode run's two halves are timed together
        # Compare mode: the same facts, protocol and batch on the compared model once this is done.
        self._compare_job = (facts, protocol, batch, common, options) if self.comparing else None
        self._probe(self.slot, EVAL_KIND, (facts, protocol, batch, common, options), f"probing {len(facts):,} facts…",
                    EVAL_LABEL, STOPPING_LOSES)
        self._update_buttons()

    def _run_compared(self) -> None:
        """The second half of a compare-mode run: the same facts on the compared model."""
        assert self._compare_job is not None and self._run is not None
        self._compare_name = self.compare.info.name
        run, self._compare_job = self._compare_job, None
        facts = run[0]
        self._probe(self.compare, COMPARE_KIND, run,
                    f"probing {len(facts):,} facts with {short_name(self._compare_name)}…", COMPARE_LABEL, COMPARE_STOPPING_LOSES)

    def _probe(self, slot: Any, kind: str, run: tuple, bar_text: str, label: str, loses: str) -> None:
        """Score `run` (facts, protocol, batch size, common vocabulary, lama's options) on `slot`'s model."""
        facts, protocol, batch, common, options = run
        self._probed_now = set()  # this run's facts only: earlier runs filled others
        self._dropped_before = -1
        self._active = kind
        self._started = time.monotonic()
        self.job_bar.start(bar_text)
        self.follow(slot.run_job(
            lambda model: model.lama(facts, protocol, batch_size=batch, common_vocab=common, **options),
            label=label, stopping_loses=loses,
        ))

    def stop(self) -> None:
        """Stop whichever model's run is going (a stopped main run does not go on to the compared model)."""
        if self._active:
            self._compare_job = None
            self.cancel_job()

    def job_progress(self, step: Any) -> None:
        kind = self._active
        self.job_bar.update(step)
        if kind in (EVAL_KIND, COMPARE_KIND) and self._dropped_before < 0:
            self._dropped_before = step.done  # the first step counts the facts dropped up front
        if kind in (EVAL_KIND, COMPARE_KIND) and step.payload:
            self._take_results(step.payload)

    def _store(self, kind: str | None, mode: str) -> list[FactResult | None]:
        """Where the results of a run of `kind` go: the main model's, or the compared one's."""
        held = self._compare_results if kind == COMPARE_KIND else self._results
        return held.setdefault(mode, [None] * len(self.table_model.facts))

    def _take_results(self, payload: Any) -> None:
        assert self._run is not None
        indices, mode = self._run
        main = self._active != COMPARE_KIND
        results = self._store(self._active, mode)
        tally = self._tallies.setdefault(mode, ScoreTally()) if main else None
        facts = self.table_model.facts
        arrived = []
        for r in payload:
            i = indices[r.index]
            new = dataclasses.replace(r, index=i)
            if tally is not None:
                tally.replace(facts[i].relation, results[i], new)
            results[i] = new
            arrived.append(i)
        self._probed_now.update(arrived)
        if mode == self._mode():
            self.table_model.results_arrived(arrived)
            current = self._current_fact()
            if current in arrived:
                self._show_detail(current)
        if not self._summary_timer.isActive():
            self._summary_timer.start()

    def job_finished(self, result: Any) -> None:
        kind = self._active
        if kind == READ_KIND and self._pending_path is not None:
            path, _probe = self._pending_path
            self._pending_path = None
            self._active = None
            self._set_data(path, result)
            files = len(result.sources)
            self.job_bar.finish(f"{len(result.facts):,} facts from {files} file{'s' * (files != 1)}", empty=True)
        elif kind in (EVAL_KIND, COMPARE_KIND) and self._run is not None:
            # The steps carry the probed facts; the dropped ones come only with the report.
            self._take_results([r for r in result.results if r.dropped])
            counted = result.overall_facts.n
            took = format_seconds(time.monotonic() - self._started)
            if kind == COMPARE_KIND:  # the second half: the line speaks of both models' runs
                took = format_seconds(time.monotonic() - self._run_started)
                self.job_bar.finish(
                    f"{len(result.facts):,} facts probed with A and B in {took}, "
                    f"{self._main_counted:,} and {counted:,} counted"
                )
            else:
                self._main_counted = counted
                self.job_bar.finish(f"{len(result.facts):,} facts probed in {took}, {counted:,} counted")
            if kind == EVAL_KIND and self._compare_job is not None and self.comparing:
                self._run_compared()
            else:
                self._active, self._run, self._compare_job = None, None, None
            self._refresh_summary()
        else:
            return
        self._update_buttons()

    def job_failed(self, message: str) -> None:
        self._active, self._run, self._pending_path, self._compare_job = None, None, None, None
        self.job_bar.finish("failed")
        self._show_message(message)
        self._refresh_summary()
        self._update_buttons()

    def job_cancelled(self) -> None:
        if self._active in (EVAL_KIND, COMPARE_KIND) and self._run is not None:
            results = self._store(self._active, self._run[1])
            who = f" with {short_name(self._compare_name)}" if self._active == COMPARE_KIND else ""
            text = f"stopped: {len(self._probed_now):,} of {len(self._run[0]):,} facts probed{who}"
            told = sum(1 for i in self._run[0] if results[i] is not None and results[i].dropped)
            if self._dropped_before > told:  # evaluate() hands the dropped facts over with its report only
                text += f" ({self._dropped_before - told:,} dropped ones are shown as not yet run)"
            self.job_bar.finish(text)
        else:
            self.job_bar.finish("stopped reading")
        self._active, self._run, self._pending_path, self._compare_job = None, None, None, None
        self._refresh_summary()
        self._update_buttons()

    def _on_model_loaded(self, info: Any) -> None:
        if self._cleared_note:  # it spoke of the model before this one
            self._hide_message()
            self._cleared_note = False
        if self._model_name and info.name != self._model_name and any(
            r is not None for results in self._results.values() for r in results
        ):
            self._results, self._tallies = {}, {}
            self.table_model.set_results(self._current_results())
            self._show_message(f"Results of {self._model_name} cleared: {info.name} is loaded now.")
            self._cleared_note = True
            self._refresh_summary()
            self._refresh_detail()
        self._model_name = info.name
        self._show_compare_mode()  # the main model's name heads its column
        self._refresh_summary()
        self._update_buttons()

    def _on_compare_loaded(self, info: Any) -> None:
        if self._compare_name and info.name != self._compare_name:
            self._abandon_compared_run(f"stopped: {info.name} is compared now")
            self._clear_compared(f"Results of {self._compare_name} (compared) cleared: {info.name} is compared now.")
        self._compare_name = info.name
        self._show_compare_mode()
        self._refresh_summary()
        self._refresh_detail()

    def _on_compare_closed(self) -> None:
        self._compare_job = None  # a main run still going stays; the compared half no longer comes
        self._abandon_compared_run("stopped: the compared model was closed")
        if self._compare_name:
            self._clear_compared("")
            if not self.job_bar.running:  # its last line may speak of the model just closed
                self.job_bar.finish("")
        self._compare_name = ""
        self._show_compare_mode()
        self._refresh_summary()
        self._refresh_detail()

    def _abandon_compared_run(self, text: str) -> None:
        """Drop the compared model's run now: answers still on their way are an earlier model's."""
        if self._active != COMPARE_KIND:
            return
        self.cancel_job()
        self.current_job = None  # so nothing more of it arrives here
        self._active, self._run = None, None
        self.job_bar.finish(text)
        self._update_buttons()

    def _clear_compared(self, note: str) -> None:
        had = any(r is not None for results in self._compare_results.values() for r in results)
        self._compare_results = {}
        if had and note:
            self._show_message(note)
            self._cleared_note = True

    def _on_protocol_changed(self, _index: int) -> None:
        self.table_model.set_results(self._current_results())
        self._show_compare_mode()
        self._refresh_summary()
        self._refresh_detail()

    def _update_buttons(self) -> None:
        idle = self._active is None
        self.run_button.setEnabled(idle and self.data is not None and self.proxy.rowCount() > 0)
        self.export_button.setEnabled(self._current_tally().evaluated > 0)  # a comparison needs main results too
        for w in (self.probe, self.protocol):
            w.setEnabled(idle)  # results arriving belong to the protocol and facts they started with
        self.clean_input.setEnabled(idle and self.protocol.currentData() == "lama")  # lab reads clean input anyway
        self.multi_token.setEnabled(idle and self.protocol.currentData() == "lama")  # LAMA's dropped facts

    # --- the summary, the selected fact, export -------------------------------------------
    def report(self, only: Collection[int] | None = None) -> LamaReport | None:
        """Everything evaluated under the current protocol (of the facts `only`, if given), as
        one report. Each FactResult.index is the fact's index in the loaded set (`self.data.facts`).
        """
        if self.data is None:
            return None
        results = self._current_results()
        done = _evaluated(results, only)
        if not done:
            return None
        facts = [self.data.facts[i] for i in done]
        counted = [results[i] for i in done]
        return lama_data.summarise(self._model_name, self.protocol.currentData(), facts, counted, self.data.skipped,
                                   **self._options())

    def compare_report(self, only: Collection[int] | None = None) -> LamaReport | None:
        """What the compared model answered under the current protocol (indices as in report())."""
        if self.data is None or not self._compare_name:
            return None
        results = self._current_compare_results()
        done = _evaluated(results, only)
        if not done:
            return None
        return lama_data.summarise(self._compare_name, self.protocol.currentData(),
                                   [self.data.facts[i] for i in done], [results[i] for i in done], self.data.skipped,
                                   **self._options())

    def comparison(self, only: Collection[int] | None = None) -> LamaComparison | None:
        """Both models' results under the current protocol, compared; None until both have some."""
        if not self.comparing:
            return None
        a, b = self.report(only), self.compare_report(only)
        return None if a is None or b is None else LamaComparison.of(a, b)

    def _current_tally(self) -> ScoreTally:
        return self._tallies.setdefault(self._mode(), ScoreTally())

    def _refresh_summary(self) -> None:
        self._summary_timer.stop()
        tally = self._current_tally()
        skipped = self.data.skipped if self.data else ()
        report = (tally.report(self._model_name, self.protocol.currentData(), skipped, **self._options())
                  if tally.evaluated else None)
        self.summary.set_report(report, tally.evaluated, len(self.table_model.facts))
        self.summary.set_comparison(self.comparison(), self._names() if self.comparing else ("", ""))
        self._update_buttons()

    def _current_fact(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.table_model.fact_index(self.proxy.mapToSource(rows[0]).row())

    def _on_selection_changed(self, *_args: Any) -> None:
        fact_index = self._current_fact()
        if fact_index is None:
            self.detail.clear()
            return
        self._show_detail(fact_index)
        # The attention tab computes only when it is shown, so following the selection is free.
        self.showInAttention.emit(self.data.facts[fact_index].sentence)  # type: ignore[union-attr]

    def _show_detail(self, fact_index: int) -> None:
        assert self.data is not None
        compared = (self.compare.info.name, self._current_compare_results()[fact_index]) if self.comparing else None
        self.detail.show_fact(self.data.facts[fact_index], self._current_results()[fact_index], compared)

    def _refresh_detail(self) -> None:
        current = self._current_fact()
        if current is None:
            self.detail.clear()
        else:
            self._show_detail(current)

    def select_row(self, row: int) -> None:
        """Select a row of the table as shown (filtered and sorted)."""
        self.table.selectRow(row)
        self.table.setCurrentIndex(self.proxy.index(row, 0))

    def shown_only(self) -> set[int] | None:
        """The facts the filters show, when they hide some (None: all of them)."""
        shown = self.proxy.shown_facts()
        return None if len(shown) == len(self.table_model.facts) else set(shown)

    def export(self, path: str) -> int:
        """Write the evaluated facts of the current protocol to .jsonl or .csv, those the filters
        show (all, without a filter); returns how many. In compare mode, with both models'
        results, one record per fact holds both answers."""
        only = self.shown_only()
        comparison = self.comparison(only)
        if comparison is not None:
            write_comparison(comparison, path)
            log.info("exported %d compared LAMA facts to %s", len(comparison.facts), path)
            return len(comparison.facts)
        report = self.report(only)
        if report is None:
            raise ValueError("Nothing the filters show has been evaluated yet: Run first, or clear the filters.")
        lama_data.write_records(report, path)
        log.info("exported %d LAMA results to %s", len(report.facts), path)
        return len(report.facts)

    def _export_dialog(self) -> None:
        kind = "comparison" if self.comparison() is not None else "results"
        name = f"lama_{self.protocol.currentData()}_{kind}.jsonl"
        path = dialogs.ask_save_path(self, "Export LAMA results", name, EXPORT_FORMATS)
        if not path:
            return
        try:
            count = self.export(path)
        except OSError as exc:
            self._show_message(f"Could not write {path}: {exc.strerror or exc}")
            return
        which = " (the facts the filters show)" if self.shown_only() is not None else ""
        self.job_bar.finish(f"wrote {count:,} results{which} to {Path(path).name}")

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def _hide_message(self) -> None:
        self.message.hide()
