"""The LAMA tab's controls (source, probe, protocol, clean input, batch; filters, Run, Export) and its table."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from explorer.core.lama_data import DEFAULT_PIECES
from explorer.qt.tabs.lama.table_model import COMPARE_TOP1, CORRECT, GOLD, RANK, RELATION, SENTENCE, STATUSES, TOP1
from explorer.qt.widgets.style import follow_zoom_rows

PROBES = (("template", "template"), ("original sentences", "sentences"))
PROTOCOLS = (("lab: whole vocabulary", "lab"), ("lama: common vocabulary", "lama"))


class LamaControls(QWidget):
    """Two rows of plain widgets; the tab wires them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.open_folder_button = QPushButton("Open folder…", self)
        self.open_folder_button.setObjectName("lamaOpenFolder")
        self.open_folder_button.setToolTip("A LAMA data folder, or one subset (TREx, Google_RE, Squad, ConceptNet)")
        self.open_file_button = QPushButton("Open file…", self)
        self.open_file_button.setObjectName("lamaOpenFile")
        self.open_file_button.setToolTip("One LAMA .jsonl file (e.g. one T-REx relation)")
        self.source = QLabel("", self)
        self.source.setObjectName("lamaSource")
        self.probe = QComboBox(self)
        self.probe.setObjectName("lamaProbe")
        self.probe.setToolTip("T-REx and Google-RE: probe with the relation's template (as LAMA does) "
                              "or with the original masked sentences")
        for label, value in PROBES:
            self.probe.addItem(label, value)
        self.protocol = QComboBox(self)
        self.protocol.setObjectName("lamaProtocol")
        self.protocol.setToolTip("lab: rank the gold over the whole vocabulary (the lab's correct@1)\n"
                                 "lama: LAMA's own: only the common vocabulary competes; golds that are not "
                                 "one token of it are dropped and counted")
        for label, value in PROTOCOLS:
            self.protocol.addItem(label, value)
        self.clean_input = QCheckBox("clean input", self)
        self.clean_input.setObjectName("lamaCleanInput")
        self.clean_input.setToolTip(
            "Protocol lama, BERT-style (WordPiece) models: split text glued to [MASK] as the tokenizer normally "
            "does and read a record's two sentences as one segment.\nOff: as LAMA's code reads them: the text "
            "glued to [MASK] (\"[MASK]).\") stays one piece after the mask, and two sentences are two segments "
            "([CLS] s1 [SEP] s2 [SEP]).\nThe lab protocol always reads the input the clean way.")
        self.multi_token = QCheckBox("multi-token facts", self)
        self.multi_token.setObjectName("lamaMultiToken")
        self.multi_token.setToolTip(
            f"Protocol lama: also evaluate the facts whose object is several word pieces, which LAMA drops: the mask "
            f"is read as a word of 1 to {DEFAULT_PIECES} pieces, filled jointly (most confident piece first, as "
            f"X-FACTR does), candidates ranked by mean log-probability per piece. The summary gives P@1 for single- "
            f"and multi-token facts apart; the table shows the predicted word.")
        self.batch_size = QSpinBox(self)
        self.batch_size.setObjectName("lamaBatchSize")
        self.batch_size.setAccessibleName("Batch size")
        self.batch_size.setPrefix("batch ")
        self.batch_size.setRange(1, 256)
        self.batch_size.setValue(32)
        self.batch_size.setToolTip("Sentences per forward pass (sorted by length, so batches pad little)")

        self.relation = QComboBox(self)
        self.relation.setObjectName("lamaRelationFilter")
        self.relation.setToolTip("Show the facts of one relation (P19 place of birth, …), or all")
        self.relation.setAccessibleName("Relation")
        self.relation.setMinimumContentsLength(14)
        self.status = QComboBox(self)
        self.status.setObjectName("lamaStatusFilter")
        self.status.setToolTip("Show all facts, the right or wrong ones, those not yet run, or (comparing) where the models disagree")
        self.status.setAccessibleName("Show")
        self.status.addItems(STATUSES)
        self.search = QLineEdit(self)
        self.search.setObjectName("lamaSearch")
        self.search.setToolTip("Find facts by sentence, gold answer, subject or id (Ctrl+F)")
        self.search.setPlaceholderText("Search sentence, gold, subject, id…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.count = QLabel("", self)
        self.count.setObjectName("lamaCount")
        self.run_button = QPushButton("Run", self)
        self.run_button.setObjectName("lamaRunButton")
        self.run_button.setToolTip("Evaluate the facts the filters show")
        self.export_button = QPushButton("Export…", self)
        self.export_button.setObjectName("lamaExportButton")
        self.export_button.setToolTip("The evaluated facts the filters show (all, without a filter), one record "
                                      "each: id, relation, sentence, gold, top-10 with scores, rank (.jsonl or .csv)")

        top = QHBoxLayout()
        top.addWidget(self.open_folder_button)
        top.addWidget(self.open_file_button)
        top.addWidget(self.source, 1)
        for label, w in (("Probe", self.probe), ("Protocol", self.protocol)):
            caption = QLabel(label, self)
            caption.setBuddy(w)
            top.addWidget(caption)
            top.addWidget(w)
        top.addWidget(self.clean_input)
        top.addWidget(self.multi_token)
        top.addWidget(self.batch_size)
        filters = QHBoxLayout()
        filters.addWidget(self.relation)
        filters.addWidget(self.status)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.count)
        filters.addWidget(self.run_button)
        filters.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(filters)


class FactTable(QTableView):
    """A table whose selection goes when the selected row is filtered away.

    A plain view in single selection selects the next row instead, and the attention tab,
    which follows the selection, would silently show a fact nobody picked."""

    def rowsAboutToBeRemoved(self, parent: QModelIndex | QPersistentModelIndex, start: int, end: int) -> None:  # noqa: N802
        current = self.currentIndex()
        if current.isValid() and current.parent() == parent and start <= current.row() <= end:
            self.selectionModel().clear()  # selection and current row both: nothing to move on to
        super().rowsAboutToBeRemoved(parent, start, end)


def fact_table(parent: QWidget, model: QAbstractItemModel) -> QTableView:
    """The facts table, set up so that 28k rows stay cheap: fixed row heights, no word wrap."""
    table = FactTable(parent)
    table.setObjectName("lamaTable")
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    # No sort column to start with: the facts in the files' order.
    table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    table.setSortingEnabled(True)
    vertical = table.verticalHeader()
    vertical.hide()
    # Fixed row heights: the view never measures 28k rows.
    vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    follow_zoom_rows(table, 8)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(SENTENCE, QHeaderView.ResizeMode.Stretch)
    for col, width in ((RELATION, 110), (GOLD, 110), (TOP1, 110), (RANK, 60), (CORRECT, 80), (COMPARE_TOP1, 130)):
        header.resizeSection(col, width)
    table.setColumnHidden(COMPARE_TOP1, True)  # shown while a second model is compared
    return table
