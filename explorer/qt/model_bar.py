"""Model, device and precision pickers."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QWidget

PRESET_MODELS = (
    "bert-base-cased",
    "bert-base-uncased",
    "bert-large-cased",
    "distilbert-base-uncased",
    "roberta-base",
    "demo",  # bundled with the app: works offline
)
OPEN_FOLDER = "Open folder…"


class ModelBar(QWidget):
    """Emits loadRequested(model, device, dtype) when the person picks something new."""

    loadRequested = Signal(str, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.model_selector = QComboBox(self)
        self.model_selector.setObjectName("modelSelector")
        self.model_selector.setAccessibleName("Model")
        self.model_selector.setEditable(True)  # any hub id can be typed in
        self.model_selector.setMinimumContentsLength(28)
        self.model_selector.setToolTip("A Hugging Face hub id, or a model folder on this computer")
        self.model_selector.addItems(list(PRESET_MODELS))
        self.model_selector.insertSeparator(len(PRESET_MODELS))
        self.model_selector.addItem(OPEN_FOLDER)
        self.device_selector = QComboBox(self)
        self.device_selector.setObjectName("deviceSelector")
        self.device_selector.setAccessibleName("Device")
        self.device_selector.addItems(["auto", "cpu"])
        self.dtype_selector = QComboBox(self)
        self.dtype_selector.setObjectName("dtypeSelector")
        self.dtype_selector.setAccessibleName("Precision")
        self.dtype_selector.setToolTip("auto: float32 on the CPU, float16 on a CUDA GPU")
        self.dtype_selector.addItems(["auto", "float32", "float16", "bfloat16"])
        for label, widget in (("Model", self.model_selector), ("Device", self.device_selector), ("Precision", self.dtype_selector)):
            caption = QLabel(label, self)
            caption.setBuddy(widget)
            layout.addWidget(caption)
            layout.addWidget(widget)
        layout.addStretch(1)
        self._current = ""
        self._last: tuple[str, str, str] | None = None  # what was last asked for
        self.model_selector.activated.connect(self._on_model_activated)
        self.device_selector.activated.connect(lambda _i: self._request(self._current))
        self.dtype_selector.activated.connect(lambda _i: self._request(self._current))

    def set_model_name(self, name: str, device: str = "auto", dtype: str = "auto") -> None:
        self._current = name
        self._last = (name, device, dtype)
        if self.model_selector.findText(name) < 0:
            self.model_selector.insertItem(0, name)
        self.model_selector.setCurrentText(name)

    def show_model(self, name: str) -> None:
        """The model in use (e.g. the demo one, opened instead of another), as if picked."""
        self.set_model_name(name, self.device_selector.currentText(), self.dtype_selector.currentText())

    def set_devices(self, devices: list[str]) -> None:
        current = self.device_selector.currentText()
        self.device_selector.clear()
        self.device_selector.addItems(["auto"] + [d for d in devices if d != "auto"])
        self.device_selector.setCurrentText(current if current in devices or current == "auto" else "auto")

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a model folder")
        if not folder:
            self.model_selector.setCurrentText(self._current)
            return
        self.set_model_name(folder)
        self._request(folder)

    def _on_model_activated(self, index: int) -> None:
        text = self.model_selector.itemText(index)
        if text == OPEN_FOLDER:
            self.open_folder()
        else:
            self._request(text.strip())

    def forget_last(self) -> None:
        """After a failed load, choosing the same model again must try again."""
        self._last = None

    def _request(self, name: str) -> None:
        request = (name, self.device_selector.currentText(), self.dtype_selector.currentText())
        # An editable combo box emits `activated` again when it loses focus: without this
        # check, the first click anywhere after start reloaded the model.
        if name and request != self._last:
            self._current = name
            self._last = request
            self.loadRequested.emit(*request)
