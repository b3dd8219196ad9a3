"""Model, device and precision pickers."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QWidget

from explorer.core.model_names import short_name
from explorer.core.precisions import AUTO, COST, precisions_for
from explorer.qt.widgets.dialogs import documents_folder

PRESET_MODELS = (
    "bert-base-cased",
    "bert-base-uncased",
    "bert-large-cased",
    "distilbert-base-uncased",
    "roberta-base",
    "demo",  # bundled with the app: works offline
)
OPEN_FOLDER = "Open folder…"
NO_COMPARE = "none"
COMPARE_BOX_CHARS = 22  # what the compare box shows of a name: the bar must fit 1366 px
COMPARE_HELP = (
    "A second model to compare with: every tab then shows both, on the same input. "
    "It loads on the same device and precision."
)

Request = tuple[str, str, str]  # model, device, precision


class ModelBar(QWidget):
    """Emits loadRequested(model, device, dtype) when the person picks something new.

    Keeps the request that loaded the model in use apart from the last one asked for: a
    load that fails or is called off shows the model in use again, and only a model that
    loaded joins the list (a typo never stays in it).
    """

    loadRequested = Signal(str, str, str)
    compareRequested = Signal(str)  # a model to open beside the one in use; "" for none

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.model_selector = QComboBox(self)
        self.model_selector.setObjectName("modelSelector")
        self.model_selector.setAccessibleName("Model")
        self.model_selector.setEditable(True)  # any hub id can be typed in
        # Typed names join the list once they load (model_loaded), not when Enter is pressed.
        self.model_selector.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_selector.setMinimumContentsLength(28)
        self.model_selector.setToolTip("A Hugging Face hub id, or a model folder on this computer")
        self.model_selector.addItems(list(PRESET_MODELS))
        self.model_selector.insertSeparator(len(PRESET_MODELS))
        self.model_selector.addItem(OPEN_FOLDER)
        self.device_selector = QComboBox(self)
        self.device_selector.setObjectName("deviceSelector")
        self.device_selector.setToolTip("Where the model runs: auto takes a GPU when there is one")
        self.device_selector.setAccessibleName("Device")
        self.device_selector.addItems([AUTO, "cpu"])
        self.dtype_selector = QComboBox(self)
        self.dtype_selector.setObjectName("dtypeSelector")
        self.dtype_selector.setAccessibleName("Precision")
        self.dtype_selector.setToolTip(
            "auto: float32 on the CPU, float16 on a CUDA GPU. Only what the device runs is offered; "
            "each choice's tooltip says what it costs.")
        self._found = ["cpu"]  # the devices this machine has (set_devices)
        self._offer_precisions()
        for label, widget in (("Model", self.model_selector), ("Device", self.device_selector), ("Precision", self.dtype_selector)):
            caption = QLabel(label, self)
            caption.setBuddy(widget)
            layout.addWidget(caption)
            layout.addWidget(widget)
        self.compare_selector = QComboBox(self)
        self.compare_selector.setObjectName("compareModelSelector")
        self.compare_selector.setAccessibleName("Compare with")
        self.compare_selector.setEditable(True)
        self.compare_selector.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.compare_selector.setMinimumContentsLength(COMPARE_BOX_CHARS)
        self.compare_selector.setToolTip(COMPARE_HELP)
        self.compare_selector.addItems([NO_COMPARE, *PRESET_MODELS])
        self.compare_selector.insertSeparator(len(PRESET_MODELS) + 1)
        self.compare_selector.addItem(OPEN_FOLDER)
        caption = QLabel("Compare with", self)
        caption.setBuddy(self.compare_selector)
        layout.addWidget(caption)
        layout.addWidget(self.compare_selector)
        layout.addStretch(1)
        self._compared = ""  # the model open for comparison ("" for none)
        self._in_use: Request | None = None  # what loaded the model in use
        self._last: Request | None = None  # what was last asked for (loading, or in use)
        self.model_selector.activated.connect(self._on_model_activated)
        # With NoInsert, Enter on a name not in the list activates nothing: ask for it here.
        self.model_selector.lineEdit().returnPressed.connect(self._on_name_entered)
        self.device_selector.activated.connect(self._on_device_chosen)
        self.dtype_selector.activated.connect(lambda _i: self._request(self._last_name()))
        self.compare_selector.activated.connect(self._on_compare_activated)
        self.compare_selector.lineEdit().returnPressed.connect(lambda: self._ask_compare(self._typed_compare()))

    # --- told by the window -----------------------------------------------------------
    def set_model_name(self, name: str, device: str = AUTO, dtype: str = AUTO) -> None:
        """A load has been asked for (from here or elsewhere): show it."""
        self._last = (name, device, dtype)
        self.model_selector.setCurrentText(name)
        if self.device_selector.findText(device) >= 0:
            self.device_selector.setCurrentText(device)
            self._offer_precisions()
        if self.dtype_selector.findText(dtype) >= 0:
            self.dtype_selector.setCurrentText(dtype)

    def model_loaded(self, name: str) -> None:
        """The model `name` is in use now (the demo one, perhaps, opened instead of another)."""
        _asked, device, dtype = self._last or ("", self.device_selector.currentText(), self.dtype_selector.currentText())
        self._in_use = self._last = (name, device, dtype)
        if self.model_selector.findText(name) < 0:
            self.model_selector.insertItem(0, name)
        self.model_selector.setCurrentText(name)

    def show_in_use(self) -> None:
        """After a load failed or was called off: the model, device and precision in use."""
        self._last = self._in_use
        if self._in_use is None:
            return  # nothing in use: the name stays, to be corrected
        self.set_model_name(*self._in_use)

    def set_devices(self, devices: list[str]) -> None:
        self._found = [d for d in devices if d != AUTO] or ["cpu"]
        current = self.device_selector.currentText()
        self.device_selector.clear()
        self.device_selector.addItems([AUTO, *self._found])
        self.device_selector.setCurrentText(current if current in self._found else AUTO)
        self._offer_precisions()

    def compare_shown(self, name: str) -> None:
        """The model open for comparison now ("" for none): a failed one leaves the box.

        A folder shows as its short name (the box is narrow: a path showed as
        "mp/shots/kitchen-model"); the item keeps the whole path, which the tooltip says."""
        self._compared = name
        box = self.compare_selector
        if not name:
            box.setCurrentText(NO_COMPARE)
            box.setToolTip(COMPARE_HELP)
            return
        index = next((i for i in range(box.count()) if self._compare_name(i) == name), -1)
        if index < 0:
            box.insertItem(1, short_name(name, COMPARE_BOX_CHARS), name)
            index = 1
        box.setCurrentIndex(index)
        box.setToolTip(f"Compared with {name}\n\n{COMPARE_HELP}")

    # --- the person's choices (the boxes, or the Model menu) -----------------------------
    def choose_model(self, name: str) -> None:
        self.model_selector.setCurrentText(name)
        self._request(name)

    def choose_device(self, device: str) -> None:
        if self.device_selector.findText(device) >= 0:
            self.device_selector.setCurrentText(device)
            self._on_device_chosen(self.device_selector.currentIndex())

    def choose_dtype(self, dtype: str) -> None:
        if self.dtype_selector.findText(dtype) >= 0:
            self.dtype_selector.setCurrentText(dtype)
            self._request(self._last_name())

    def _compare_name(self, index: int) -> str:
        """The model an item of the compare box stands for: its whole path, or its text."""
        data = self.compare_selector.itemData(index)
        return data if isinstance(data, str) and data else self.compare_selector.itemText(index)

    def _typed_compare(self) -> str:
        text = self.compare_selector.currentText().strip()
        index = self.compare_selector.findText(text)
        return self._compare_name(index) if index >= 0 else text

    def _on_compare_activated(self, index: int) -> None:
        text = self._compare_name(index)
        if text == OPEN_FOLDER:
            folder = QFileDialog.getExistingDirectory(self, "Open a model folder to compare with", str(documents_folder()))
            if not folder:
                self.compare_shown(self._compared)
                return
            text = folder
        self._ask_compare(text.strip())

    def _ask_compare(self, name: str) -> None:
        wanted = "" if name in ("", NO_COMPARE) else name
        if wanted != self._compared:  # (an editable box activates again on losing focus)
            self._compared = wanted
            self.compareRequested.emit(wanted)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a model folder", str(documents_folder()))
        if not folder:
            self.model_selector.setCurrentText(self._last_name())  # not "Open folder…"
            return
        self.model_selector.setCurrentText(folder)
        self._request(folder)

    def _on_model_activated(self, index: int) -> None:
        text = self.model_selector.itemText(index)
        if text == OPEN_FOLDER:
            self.open_folder()
        else:
            self._request(text.strip())

    def _on_name_entered(self) -> None:
        text = self.model_selector.currentText().strip()
        if text != OPEN_FOLDER:
            self._request(text)

    def _on_device_chosen(self, _index: int) -> None:
        self._offer_precisions()
        self._request(self._last_name())

    def _offer_precisions(self) -> None:
        """Only the precisions the chosen device runs; auto when the one chosen is not one."""
        offered = precisions_for(self.device_selector.currentText(), self._found)
        current = self.dtype_selector.currentText()
        self.dtype_selector.clear()
        self.dtype_selector.addItems(list(offered))
        for i, name in enumerate(offered):
            if name in COST:
                self.dtype_selector.setItemData(i, f"{name}: {COST[name]}", Qt.ItemDataRole.ToolTipRole)
        self.dtype_selector.setCurrentText(current if current in offered else AUTO)

    def _last_name(self) -> str:
        return self._last[0] if self._last else ""

    def _request(self, name: str) -> None:
        request = (name, self.device_selector.currentText(), self.dtype_selector.currentText())
        # An editable combo box emits `activated` again when it loses focus: without this
        # check, the first click anywhere after start reloaded the model.
        if name and request != self._last:
            self._last = request
            self.loadRequested.emit(*request)
