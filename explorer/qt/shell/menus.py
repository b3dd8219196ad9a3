"""The menu bar: File, View, Model, Help. Every entry calls what a button or the model bar
already does (the menus add a way in, not a second behaviour); keys come from shortcuts.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QPushButton, QToolButton

from explorer.qt.shell import help_dialogs
from explorer.qt.shell.model_bar import PRESET_MODELS
from explorer.qt.shell.shortcuts import keys

NOTHING_TO_EXPORT = "This tab has nothing to export: the Attention and LAMA tabs do."


class Menus:
    """Builds the window's menu bar; `actions` by name (their objectNames too, for tests)."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.actions: dict[str, QAction] = {}
        bar = window.menuBar()
        bar.setObjectName("menuBar")

        file = bar.addMenu("&File")
        self._action(file, "open_folder", "Open model folder…", window.model_bar.open_folder)
        self._action(file, "open_lama", "Open LAMA data…", self._open_lama)
        self.recent_sentences = file.addMenu("Recent sentences")
        self.recent_sentences.setObjectName("recentSentencesMenu")
        self.recent_sentences.aboutToShow.connect(self._fill_recent_sentences)
        file.addSeparator()
        self._action(file, "export", "Export current view…", self._export)
        file.addSeparator()
        self._action(file, "quit", "Quit", window.close)

        view = bar.addMenu("&View")
        self._action(view, "zoom_in", "Zoom in", lambda: window.zoom_by(+1))
        self._action(view, "zoom_out", "Zoom out", lambda: window.zoom_by(-1))
        self._action(view, "zoom_reset", "Actual size (100%)", lambda: window.zoom_by(0))
        self._action(view, "presentation", "Presentation mode", window.presentation.toggle)
        view.addSeparator()
        strip = self._action(view, "token_strip", "Show the token strip", window.tokens.setVisible)
        strip.setCheckable(True)
        strip.setChecked(True)
        view.addSeparator()
        self._action(view, "reset", "Reset to defaults", window.reset_to_defaults)

        model = bar.addMenu("&Model")
        for name in PRESET_MODELS:
            self._action(model, f"model_{name}", name, lambda _=False, n=name: window.model_bar.choose_model(n))
            self.actions[f"model_{name}"].setCheckable(True)
        model.aboutToShow.connect(self._mark_model_in_use)
        self.recent_folders = model.addMenu("Recent folders")
        self.recent_folders.setObjectName("recentFoldersMenu")
        self.recent_folders.aboutToShow.connect(self._fill_recent_folders)
        model.addAction(self.actions["open_folder"])
        model.addSeparator()
        self.devices = self._choices(model, "Device", window.model_bar.device_selector, window.model_bar.choose_device)
        self.precisions = self._choices(model, "Precision", window.model_bar.dtype_selector, window.model_bar.choose_dtype)
        model.addSeparator()
        self._action(model, "download", "Download…", window.ask_download)

        helps = bar.addMenu("&Help")
        self._action(helps, "shortcuts", "Keyboard shortcuts", lambda: help_dialogs.show_shortcuts(window))
        self._action(helps, "explain", "What am I looking at?", lambda: help_dialogs.explain_view(window))
        self._action(helps, "about", "About BERT Explorer", lambda: help_dialogs.show_about(window))

        # The last sentences, also beside the editor (the same menu).
        recent = QToolButton(window)
        recent.setObjectName("recentSentencesButton")
        recent.setText("Recent")
        recent.setToolTip("The last 20 sentences, to bring one back")
        recent.setMenu(self.recent_sentences)
        recent.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        window.editor_side.insertWidget(2, recent)

        # Where people look: the same explanation, at the tabs' own corner.
        corner = QToolButton(window.tabs)
        corner.setObjectName("explainButton")
        corner.setDefaultAction(self.actions["explain"])
        corner.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        corner.setToolTip("What the tab in front shows, in plain words")
        window.tabs.setCornerWidget(corner, Qt.Corner.TopRightCorner)

        window.tabs.currentChanged.connect(lambda _i: self._offer_export())
        self._offer_export()

    # --- building ---------------------------------------------------------------------
    def _action(self, menu: QMenu, name: str, text: str, slot: Callable[..., Any]) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"{name}Action")
        try:
            action.setShortcuts([QKeySequence(k) for k in keys(name)])
        except KeyError:
            pass  # an entry without a key
        action.triggered.connect(slot)
        menu.addAction(action)
        self.window.addAction(action)  # its keys work with the menu bar hidden (presentation mode)
        self.actions[name] = action
        return action

    def _choices(self, menu: QMenu, title: str, combo: Any, choose: Callable[[str], None]) -> QMenu:
        """A submenu that mirrors one of the model bar's boxes each time it opens."""
        sub = menu.addMenu(title)
        sub.setObjectName(f"{title.lower()}Menu")

        def fill() -> None:
            sub.clear()
            for i in range(combo.count()):
                text = combo.itemText(i)
                action = sub.addAction(text, lambda t=text: choose(t))
                action.setCheckable(True)
                action.setChecked(text == combo.currentText())
                tip = combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
                if tip:  # what a precision costs, as the box says it
                    action.setToolTip(tip)
            sub.setToolTipsVisible(True)

        sub.aboutToShow.connect(fill)
        return sub

    def _mark_model_in_use(self) -> None:
        in_use = self.window.model_bar.model_selector.currentText()
        for name in PRESET_MODELS:
            self.actions[f"model_{name}"].setChecked(name == in_use)

    def _fill_recent_sentences(self) -> None:
        menu = self.recent_sentences
        menu.clear()
        sentences = self.window.remembered.recent_sentences()
        for text in sentences:
            shown = text if len(text) <= 70 else text[:69] + "…"
            menu.addAction(shown, lambda t=text: self.window.editor.setPlainText(t))
        if not sentences:
            menu.addAction("(none yet)").setEnabled(False)

    def _fill_recent_folders(self) -> None:
        menu = self.recent_folders
        menu.clear()
        folders = self.window.remembered.recent_folders()
        for folder in folders:
            menu.addAction(folder, lambda f=folder: self.window.model_bar.choose_model(f))
        if not folders:
            menu.addAction("(none yet)").setEnabled(False)

    # --- doing ------------------------------------------------------------------------
    def _open_lama(self) -> None:
        self.window.tabs.setCurrentWidget(self.window.lama)
        self.window.lama.controls.open_folder_button.click()

    def _export_button(self) -> QPushButton | None:
        tab = self.window.tabs.currentWidget()
        if tab is self.window.attention_tab:
            return self.window.attention_tab.main.export_button
        if tab is self.window.lama:
            return self.window.lama.export_button
        return None

    def _offer_export(self) -> None:
        button = self._export_button()
        action = self.actions["export"]
        action.setEnabled(button is not None)
        action.setToolTip("" if button is not None else NOTHING_TO_EXPORT)

    def _export(self) -> None:
        button = self._export_button()
        if button is None:
            self.window.statusBar().showMessage(NOTHING_TO_EXPORT, 6000)
        elif not button.isEnabled():
            self.window.statusBar().showMessage("Nothing to export yet: " + (button.toolTip() or "run it first."), 6000)
        else:
            button.click()
