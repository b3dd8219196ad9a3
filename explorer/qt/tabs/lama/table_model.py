"""The LAMA facts table: a flat model over tuples, and a filter proxy that sorts in the model.

28k facts must stay fast. Qt's own sorting would call back into Python for every comparison
(about a million calls for T-REx), so sorting happens in Python on a key per row and the
proxy only filters, from a predicate over precomputed fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor

from explorer.core.lama_compare import ComparedFact
from explorer.core.lama_data import Fact, FactResult
from explorer.qt.widgets.style import PALETTE

COLUMNS = ("Relation", "Sentence", "Gold", "Top-1", "Rank", "Correct?", "Top-1 (compared)")
RELATION, SENTENCE, GOLD, TOP1, RANK, CORRECT, COMPARE_TOP1 = range(len(COLUMNS))

ALL_STATUSES, CORRECT_ONLY, WRONG_ONLY, NOT_RUN, DROPPED = "All facts", "Correct", "Wrong", "Not yet run", "Dropped"
STATUSES = (ALL_STATUSES, CORRECT_ONLY, WRONG_ONLY, NOT_RUN, DROPPED)
ALL_RELATIONS = "All relations"
DISAGREE = "Models disagree"  # a status offered only while a second model is compared

GREEN, RED, GREY = QColor(PALETTE.correct), QColor(PALETTE.wrong), QColor(PALETTE.muted)
AGREE, DISAGREES = QColor(PALETTE.agree), QColor(PALETTE.disagree)
AGREEMENT_LEGEND = "green where the two models agree, orange where they disagree"  # AGREE, DISAGREES
NOT_ONE_TOKEN = "the gold is not one token of the model's vocabulary, so it can never be ranked"

AnyIndex = QModelIndex | QPersistentModelIndex


def status_of(result: FactResult | None) -> str:
    if result is None:
        return NOT_RUN
    if result.dropped:
        return DROPPED
    return CORRECT_ONLY if result.correct else WRONG_ONLY


class LamaTableModel(QAbstractTableModel):
    """Rows are facts in a display order; `results` holds one FactResult (or None) per fact."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.facts: tuple[Fact, ...] = ()
        self.results: list[FactResult | None] = []
        self._order: list[int] = []  # row -> fact index
        self._row_of: list[int] = []  # fact index -> row
        self.haystacks: list[str] = []  # what the text search looks at, per fact
        # The compared model's results (None: no model compared), and the two models' names.
        self.compare_results: list[FactResult | None] | None = None
        self.names: tuple[str, str] = ("", "")

    # --- contents ---------------------------------------------------------------------
    def set_facts(self, facts: Sequence[Fact], results: list[FactResult | None] | None = None) -> None:
        self.beginResetModel()
        self.facts = tuple(facts)
        self.results = results if results is not None else [None] * len(self.facts)
        self._order = list(range(len(self.facts)))
        self._row_of = list(self._order)
        self.haystacks = [f"{f.sentence}\n{f.obj_label}\n{f.sub_label}\n{f.id}".casefold() for f in self.facts]
        self.endResetModel()

    def set_results(self, results: list[FactResult | None]) -> None:
        """Another protocol's results (the same facts): every row may change."""
        self.results = results
        if self.facts:
            self.dataChanged.emit(self.index(0, TOP1), self.index(len(self.facts) - 1, CORRECT))

    def set_compare(self, results: list[FactResult | None] | None, names: tuple[str, str] = ("", "")) -> None:
        """The compared model's results (None when no model is compared) and both names."""
        self.compare_results, self.names = results, names
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, TOP1, COMPARE_TOP1)
        if self.facts:
            self.dataChanged.emit(self.index(0, TOP1), self.index(len(self.facts) - 1, COMPARE_TOP1))

    def results_arrived(self, fact_indices: Iterable[int]) -> None:
        for i in fact_indices:
            row = self._row_of[i]
            self.dataChanged.emit(self.index(row, TOP1), self.index(row, COMPARE_TOP1))

    def compare_result(self, fact_index: int) -> FactResult | None:
        return None if self.compare_results is None else self.compare_results[fact_index]

    def disagree(self, fact_index: int) -> bool | None:
        """The two models' answers differ (lama_compare's rule); None where not both scored it."""
        if self.compare_results is None:
            return None
        pair = (self.results[fact_index], self.compare_results[fact_index])
        return ComparedFact(self.facts[fact_index], pair).disagree

    def fact_index(self, row: int) -> int:
        return self._order[row]

    def row_of(self, fact_index: int) -> int:
        return self._row_of[fact_index]

    # --- Qt model ---------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        a, b = self.names
        # Compare mode: "Top-1 A" and "Top-1 B", as the summary names them (a model's name
        # does not fit a column); the whole name, and what B's colours say, on hover.
        side = "A" if section == TOP1 and self.compare_results is not None else "B" if section == COMPARE_TOP1 else ""
        if role == Qt.ItemDataRole.DisplayRole:
            return f"Top-1 {side}" if side else COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole and side == "A":
            return f"A: the top-1 guess of {a}"
        if role == Qt.ItemDataRole.ToolTipRole and side == "B":
            return f"B: the top-1 guess of {b}; {AGREEMENT_LEGEND}"
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        i = self._order[index.row()]
        fact, result, col = self.facts[i], self.results[i], index.column()
        if col == COMPARE_TOP1:
            return self._compare_data(i, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(fact, result, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(fact, result, col)
        if role == Qt.ItemDataRole.ForegroundRole and col == CORRECT and result is not None:
            return QBrush({CORRECT_ONLY: GREEN, WRONG_ONLY: RED}.get(status_of(result), GREY))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (RANK, CORRECT):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _compare_data(self, i: int, role: int) -> Any:
        other = self.compare_result(i)
        if other is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return "dropped" if other.dropped else (other.top_tokens[0] if other.top_tokens else "")
        if role == Qt.ItemDataRole.ForegroundRole:
            disagree = self.disagree(i)
            return None if disagree is None else QBrush(DISAGREES if disagree else AGREE)
        if role == Qt.ItemDataRole.ToolTipRole:
            if other.dropped:
                return f"Not counted for {self.names[1]}: {other.dropped}"
            rank = "not one token of its vocabulary" if other.rank is None else f"rank of the gold {other.rank}"
            said = {True: "the models disagree", False: "both models agree"}.get(self.disagree(i), "")
            return "; ".join(x for x in (f"{self.names[1]}: {rank}", said) if x)
        return None

    @staticmethod
    def _text(fact: Fact, result: FactResult | None, col: int) -> str:
        if col == RELATION:
            return fact.relation
        if col == SENTENCE:
            return fact.sentence
        if col == GOLD:
            return fact.obj_label
        if result is None:
            return ""
        if col == TOP1:
            return result.top_tokens[0] if result.top_tokens else ""
        if col == RANK:
            return "" if result.dropped else ("–" if result.rank is None else str(result.rank))
        return {CORRECT_ONLY: "✓ yes", WRONG_ONLY: "✗ no", DROPPED: "dropped"}[status_of(result)]

    @staticmethod
    def _tooltip(fact: Fact, result: FactResult | None, col: int) -> str | None:
        if col == SENTENCE:
            return fact.sentence
        if col == RELATION:
            return f"{fact.relation} ({fact.subset}), fact {fact.id}"
        if result is None:
            return None
        if result.dropped:
            return f"Not counted: {result.dropped}"
        if col == RANK and result.rank is None:
            return NOT_ONE_TOKEN
        return None

    # --- sorting, in Python ----------------------------------------------------------
    def sort_key(self, column: int) -> Callable[[int], Any]:
        facts, results = self.facts, self.results
        if column == RELATION:
            return lambda i: (facts[i].relation, i)
        if column == SENTENCE:
            return lambda i: facts[i].sentence.casefold()
        if column == GOLD:
            return lambda i: facts[i].obj_label.casefold()
        if column == TOP1:
            return lambda i: (results[i] is None, (results[i].top_tokens or ("",))[0] if results[i] else "")
        if column == COMPARE_TOP1:
            other = self.compare_results or [None] * len(facts)
            return lambda i: (other[i] is None, (other[i].top_tokens or ("",))[0] if other[i] else "")
        if column == RANK:
            # Ranked facts first (best first), then golds that are no token, then the rest.
            def rank(i: int) -> tuple[int, int]:
                r = results[i]
                if r is None or r.dropped:
                    return (3 if r is None else 2, 0)
                return (1, 0) if r.rank is None else (0, r.rank)

            return rank
        order = {CORRECT_ONLY: 0, WRONG_ONLY: 1, DROPPED: 2, NOT_RUN: 3}
        return lambda i: order[status_of(results[i])]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not self.facts or not 0 <= column < len(COLUMNS):
            return
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        facts_before = [self._order[p.row()] for p in before]
        self._order = sorted(range(len(self.facts)), key=self.sort_key(column),
                             reverse=order == Qt.SortOrder.DescendingOrder)
        for row, i in enumerate(self._order):
            self._row_of[i] = row
        after = [self.index(self._row_of[i], p.column()) for p, i in zip(before, facts_before)]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()


class LamaFilterProxy(QSortFilterProxyModel):
    """Relation, status (correct / wrong / not yet run / dropped) and text filters."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.relation = ""  # "" for every relation
        self.status = ALL_STATUSES
        self.text = ""
        self._table: LamaTableModel = None  # type: ignore[assignment]  # set by setSourceModel

    def setSourceModel(self, model: LamaTableModel) -> None:  # type: ignore[override]
        self._table = model  # a plain Python reference: sourceModel() costs a wrapper lookup per row
        super().setSourceModel(model)

    def table(self) -> LamaTableModel:
        return self._table

    def set_filters(self, relation: str, status: str, text: str, *, refilter: bool = True) -> None:
        """refilter=False when the model is about to be reset anyway (one pass over 28k rows, not two)."""
        self.relation, self.status, self.text = relation, status, text.strip().casefold()
        if refilter:
            self._refilter()

    def _refilter(self) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+; invalidateRowsFilter is deprecated there
            self.beginFilterChange()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateRowsFilter()

    def accepts(self, fact_index: int) -> bool:
        table = self._table
        if self.relation and table.facts[fact_index].relation != self.relation:
            return False
        if self.status == DISAGREE:
            if not table.disagree(fact_index):
                return False
        elif self.status != ALL_STATUSES and status_of(table.results[fact_index]) != self.status:
            return False
        return not self.text or self.text in table.haystacks[fact_index]

    def shown_facts(self) -> list[int]:
        """Fact indices that pass the filters, in the table's order."""
        table = self.table()
        return [i for i in (table.fact_index(r) for r in range(table.rowCount())) if self.accepts(i)]

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        # Once per row (28k) on every filter change: plain list lookups only.
        if not (self.relation or self.text or self.status != ALL_STATUSES):
            return True
        return self.accepts(self._table._order[source_row])

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # The view's header asks the proxy; the model sorts itself far faster than Qt's
        # comparisons through Python would.
        self.table().sort(column, order)
