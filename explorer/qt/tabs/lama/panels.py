"""The LAMA tab's side panels: one fact's top-10, and the scores of what has been evaluated."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from explorer.core.lama_compare import Difference, LamaComparison
from explorer.core.lama_data import Fact, FactResult, LamaReport, Score, SkippedLine
from explorer.core.model_names import short_name
from explorer.qt.tabs.lama.table_model import GREEN, NOT_ONE_TOKEN
from explorer.qt.widgets.style import follow_zoom_rows

MEAN_OF_RELATIONS, MEAN_OF_FACTS = "mean of relations", "mean of facts"
SKIPPED_IN_TOOLTIP = 40  # a tooltip taller than the screen helps nobody; the list has them all


def _item(text: str, *, align_right: bool = False, bold: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if bold:
        font = QFont(item.font())
        font.setBold(True)
        item.setFont(font)
    return item


def compact_rows(table: QTableWidget) -> None:
    """Rows one line high: ten guesses fit without scrolling."""
    header = table.verticalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    follow_zoom_rows(table, 6)
    header.hide()


class FactDetail(QWidget):
    """One fact: its sentence, gold and rank, the model's top-10 with probabilities."""

    openInEditor = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lamaFactDetail")
        self.sentence = ""
        self.heading = QLabel("Select a fact to see the model's top 10.", self)
        self.heading.setObjectName("lamaFactHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.top = QTableWidget(0, 3, self)
        self.top.setObjectName("lamaTopK")
        self.top.setHorizontalHeaderLabels(["#", "token", "probability"])
        compact_rows(self.top)
        self.top.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.top.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.top.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.open_button = QPushButton("Open in editor", self)
        self.open_button.setObjectName("lamaOpenInEditor")
        self.open_button.setToolTip("Put this sentence in the sentence editor above (its [MASK] works with any model)")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(lambda: self.openInEditor.emit(self.sentence))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.top, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.open_button)
        layout.addLayout(row)

    def clear(self) -> None:
        self.sentence = ""
        self.heading.setText("Select a fact to see the model's top 10.")
        self.top.setRowCount(0)
        self.open_button.setEnabled(False)

    def show_fact(self, fact: Fact, result: FactResult | None,
                  compared: tuple[str, FactResult | None] | None = None) -> None:
        """`compared`: the compared model's name and result, said in one line under the rank."""
        self.sentence = fact.sentence
        self.open_button.setEnabled(True)
        where = html.escape(fact.sentence).replace("[MASK]", "<b>[MASK]</b>")
        lines = [where, f"gold: <b>{html.escape(fact.obj_label)}</b> · {html.escape(fact.relation)}"]
        if result is None:
            lines.append("<i>not evaluated yet: Run fills it in</i>")
        elif result.dropped:
            lines.append(f"<i>not counted: {html.escape(result.dropped)}</i>")
        elif result.rank is None and result.multi_token:
            lines.append("<i>a multi-token object, not among the words the joint search found</i>")
        elif result.rank is None:
            lines.append(f"<i>{NOT_ONE_TOKEN}</i>")
        else:
            several = " (a multi-token object, decoded jointly)" if result.multi_token else ""
            lines.append(f"rank of the gold: <b>{result.rank}</b>{several}")
        if compared is not None:
            lines.append(_compared_line(*compared))
        self.heading.setText("<br>".join(lines))
        tokens = result.top_tokens if result else ()
        scores = result.top_scores if result else ()
        # A multi-token answer's score is exp(mean log p per piece), not a probability of the word.
        multi = result is not None and result.multi_token
        self.top.setHorizontalHeaderLabels(["#", "word" if multi else "token", "per piece" if multi else "probability"])
        self.top.setRowCount(len(tokens))
        for row, (token, score) in enumerate(zip(tokens, scores)):
            # The gold's own token (its rank says where it is), not a string match: "Paris"
            # is "ĠParis" to RoBERTa and "paris" to an uncased model.
            is_gold = result is not None and result.rank == row + 1
            cells = (_item(str(row + 1), align_right=True, bold=is_gold), _item(token, bold=is_gold),
                     _item(f"{score * 100:.2f}%", align_right=True, bold=is_gold))
            for col, cell in enumerate(cells):
                if is_gold:
                    cell.setForeground(GREEN)
                self.top.setItem(row, col, cell)

    def shown_tokens(self) -> list[tuple[str, str]]:
        """(token, probability text) per row, as a person reads them."""
        return [(self.top.item(r, 1).text(), self.top.item(r, 2).text()) for r in range(self.top.rowCount())]


def _compared_line(name: str, other: FactResult | None) -> str:
    who = html.escape(short_name(name))
    if other is None:
        return f"{who}: <i>not evaluated yet</i>"
    if other.dropped:
        return f"{who}: <i>not counted: {html.escape(other.dropped)}</i>"
    top = html.escape(other.top_tokens[0]) if other.top_tokens else "–"
    rank = "the gold is not one token" if other.rank is None else f"rank of the gold {other.rank}"
    return f"{who}: top-1 <b>{top}</b>, {rank}"


def _p(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.3f}"


class LamaSummary(QWidget):
    """P@1 / P@10 / MRR (mean of relations and of facts, then each relation), counts,
    why facts were dropped, and which lines of the files could not be read."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lamaSummary")
        self.headline = QLabel("Nothing evaluated yet.", self)
        self.headline.setObjectName("lamaSummaryHeadline")
        self.headline.setWordWrap(True)
        self.scores = QTableWidget(0, 5, self)
        self.scores.setObjectName("lamaScores")
        self.scores.setHorizontalHeaderLabels(["relation", "n", "P@1", "P@10", "MRR"])
        compact_rows(self.scores)
        self.scores.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Fixed widths, not ResizeToContents: that measures every cell again after each
        # change, and the table changes a few times a second during a run.
        header = self.scores.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        digits = self.fontMetrics().horizontalAdvance
        header.resizeSection(1, digits("000,000") + 14)
        for col in range(2, 5):
            header.resizeSection(col, max(digits("0.000"), digits("P@10")) + 16)
        # Compare mode: each relation's P@1 of both models over the facts both scored, and B − A.
        self.compare_headline = QLabel("", self)
        self.compare_headline.setObjectName("lamaCompareHeadline")
        self.compare_headline.setWordWrap(True)
        self.compare_scores = QTableWidget(0, 5, self)
        self.compare_scores.setObjectName("lamaCompareScores")
        compact_rows(self.compare_scores)
        self.compare_scores.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.compare_scores.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, digits("000,000") + 14)
        for col in range(2, 5):
            header.resizeSection(col, max(digits("0.000"), digits("P@1 A")) + 16)
        self.compare_warnings = QLabel("", self)
        self.compare_warnings.setObjectName("lamaCompareWarnings")
        self.compare_warnings.setTextFormat(Qt.TextFormat.PlainText)
        self.compare_warnings.setWordWrap(True)
        for w in (self.compare_headline, self.compare_scores, self.compare_warnings):
            w.hide()
        self.dropped = QLabel("", self)
        self.dropped.setObjectName("lamaDropped")
        self.dropped.setTextFormat(Qt.TextFormat.PlainText)  # reasons hold apostrophes, not markup
        self.dropped.setWordWrap(True)
        self.skipped_label = QLabel("", self)
        self.skipped_label.setObjectName("lamaSkippedLabel")
        self.skipped_label.setTextFormat(Qt.TextFormat.PlainText)
        self.skipped_label.setWordWrap(True)
        self.skipped_button = QPushButton("Show lines", self)
        self.skipped_button.setObjectName("lamaShowSkipped")
        self.skipped_button.setToolTip("List the lines of the data files that could not be read, and why")
        self.skipped_button.setCheckable(True)
        self.skipped_list = QListWidget(self)
        self.skipped_list.setObjectName("lamaSkippedList")
        self.skipped_list.hide()
        self.skipped_button.toggled.connect(self._toggle_skipped)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headline)
        layout.addWidget(self.scores, 1)
        layout.addWidget(self.compare_headline)
        layout.addWidget(self.compare_scores, 1)
        layout.addWidget(self.compare_warnings)
        layout.addWidget(self.dropped)
        skipped_row = QHBoxLayout()
        skipped_row.addWidget(self.skipped_label, 1)
        skipped_row.addWidget(self.skipped_button)
        layout.addLayout(skipped_row)
        layout.addWidget(self.skipped_list)
        self.set_skipped(())

    def _toggle_skipped(self, shown: bool) -> None:
        self.skipped_list.setVisible(shown)
        self.skipped_button.setText("Hide lines" if shown else "Show lines")

    def set_skipped(self, skipped: Sequence[SkippedLine], notes: Sequence[str] = ()) -> None:
        """The lines of the data that could not be read, with file:line as an editor shows it."""
        lines = [f"{Path(s.file).name}:{s.line}: {s.reason}" for s in skipped]
        self.skipped_list.clear()
        self.skipped_list.addItems(lines)
        for row, s in enumerate(skipped):
            self.skipped_list.item(row).setToolTip(f"{s.file}:{s.line}")
        text = "No malformed lines." if not skipped else f"{len(skipped)} malformed line{'s' * (len(skipped) != 1)} skipped."
        self.skipped_label.setText(" ".join([text, *notes]))
        tip = "\n".join(lines[:SKIPPED_IN_TOOLTIP])
        if len(lines) > SKIPPED_IN_TOOLTIP:
            tip += f"\n… and {len(lines) - SKIPPED_IN_TOOLTIP} more (Show lines)"
        self.skipped_label.setToolTip(tip)
        self.skipped_button.setVisible(bool(skipped))
        if not skipped:
            self.skipped_button.setChecked(False)

    def set_report(self, report: LamaReport | None, evaluated: int = 0, total: int = 0) -> None:
        """`evaluated` of `total` facts have a result; the report covers those."""
        if report is None or evaluated == 0:
            self.headline.setText(f"Nothing evaluated yet ({total:,} facts loaded).")
            self.scores.setRowCount(0)
            self.dropped.setText("")
            return
        counted = report.overall_facts.n
        self.headline.setText(
            f"<b>{html.escape(report.model)}</b> · protocol <b>{report.protocol}</b>"
            f"{' (clean input)' if report.clean_input and report.protocol == 'lama' else ''}"
            f"{' · multi-token facts' if report.multi_token else ''} · "
            f"{evaluated:,} of {total:,} facts evaluated, {counted:,} counted"
        )
        rows: list[tuple[str, Score, bool]] = [
            (MEAN_OF_RELATIONS, report.overall, True),
            (MEAN_OF_FACTS, report.overall_facts, True),
        ]
        # Multi-token facts on: the two kinds of object apart (each a mean of facts).
        rows += [(f"{kind} facts", score, True) for kind, score in report.by_length.items()]
        rows += [(name, score, False) for name, score in sorted(report.relations.items())]
        self.scores.setRowCount(len(rows))
        for row, (name, s, bold) in enumerate(rows):
            cells = (name, f"{s.n:,}", f"{s.p_at_1:.3f}", f"{s.p_at_10:.3f}", f"{s.mrr:.3f}")
            for col, text in enumerate(cells):
                item = self.scores.item(row, col)
                if item is None or item.font().bold() != bold:
                    self.scores.setItem(row, col, _item(text, align_right=col > 0, bold=bold))
                elif item.text() != text:  # most cells stay as they are between two refreshes
                    item.setText(text)
        self.scores.item(0, 0).setToolTip("Each relation's score, averaged: how LAMA reports a subset")
        self.scores.item(1, 0).setToolTip("Every counted fact weighs the same")
        if report.dropped:
            parts = [f"  {reason}: {count}" for reason, count in sorted(report.dropped.items())]
            self.dropped.setText("\n".join(["Dropped (not counted):", *parts]))
        else:
            self.dropped.setText("No fact dropped.")

    def score_rows(self) -> dict[str, tuple[int, float, float, float]]:
        """What the scores table shows, read back: name -> (n, P@1, P@10, MRR)."""
        out = {}
        for row in range(self.scores.rowCount()):
            cells = [self.scores.item(row, col).text() for col in range(5)]
            out[cells[0]] = (int(cells[1].replace(",", "")), float(cells[2]), float(cells[3]), float(cells[4]))
        return out

    def set_comparison(self, comparison: LamaComparison | None, names: tuple[str, str] = ("", "")) -> None:
        """Per relation P@1 of each model over the facts both scored, and B − A; None hides it.
        `names` name the two models while nothing is compared yet."""
        shown = comparison is not None or any(names)
        for w in (self.compare_headline, self.compare_scores, self.compare_warnings):
            w.setVisible(shown)
        if not shown:
            return
        a, b = comparison.models if comparison is not None else names
        self.compare_scores.setHorizontalHeaderLabels(["relation", "n", "P@1 A", "P@1 B", "B − A"])
        for col, name in ((2, a), (3, b)):
            self.compare_scores.horizontalHeaderItem(col).setToolTip(f"P@1 of {name}")
        self.compare_scores.horizontalHeaderItem(4).setToolTip(f"P@1 of {b} minus P@1 of {a}")
        if comparison is None:
            self.compare_headline.setText(
                f"Compared with <b>{html.escape(short_name(b))}</b> (B): Run evaluates the facts with both models.")
            self.compare_headline.setToolTip(f"A: {a}\nB: {b}")
            self.compare_scores.setRowCount(0)
            self.compare_warnings.setText("")
            return
        self.compare_headline.setText(
            f"<b>{html.escape(short_name(a))}</b> (A) vs <b>{html.escape(short_name(b))}</b> (B) · "
            f"{comparison.overall_facts.facts:,} facts scored by both · they disagree on {comparison.disagreements:,}")
        self.compare_headline.setToolTip(f"A: {a}\nB: {b}")
        rows: list[tuple[str, Difference, bool]] = [
            (MEAN_OF_RELATIONS, comparison.overall, True),
            (MEAN_OF_FACTS, comparison.overall_facts, True),
        ]
        rows += [(name, d, False) for name, d in comparison.relations.items()]
        self.compare_scores.setRowCount(len(rows))
        for row, (name, d, bold) in enumerate(rows):
            cells = (name, f"{d.facts:,}", _p(d.p_at_1[0]), _p(d.p_at_1[1]), _signed(d.difference))
            for col, text in enumerate(cells):
                item = self.compare_scores.item(row, col)
                if item is None or item.font().bold() != bold:
                    self.compare_scores.setItem(row, col, _item(text, align_right=col > 0, bold=bold))
                elif item.text() != text:
                    item.setText(text)
        self.compare_warnings.setText("\n".join(comparison.warnings))

    def compare_rows(self) -> dict[str, tuple[int, float | None, float | None, float | None]]:
        """What the comparison table shows, read back: name -> (n, P@1 of A, P@1 of B, B − A)."""
        def number(text: str) -> float | None:
            return None if text == "–" else float(text)

        out = {}
        for row in range(self.compare_scores.rowCount()):
            cells = [self.compare_scores.item(row, col).text() for col in range(5)]
            out[cells[0]] = (int(cells[1].replace(",", "")), number(cells[2]), number(cells[3]), number(cells[4]))
        return out
