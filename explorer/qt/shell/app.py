"""Start the GUI: `create_window` for tests, `main` for people."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from explorer import DEFAULT_MODEL
from explorer.core.precisions import AUTO, PRECISIONS, precisions_for, precisions_said
from explorer.qt.shell.controller import ExplorerController
from explorer.qt.shell.main_window import MainWindow

log = logging.getLogger(__name__)


def _application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("BERT Explorer")
        app.setOrganizationName("BERT Explorer")
    return app  # type: ignore[return-value]


def create_window(model: str | None = None, device: str = "auto", dtype: str = "auto") -> MainWindow:
    """The main window with its inference thread started; the model loads in the background."""
    _application()
    controller = ExplorerController()
    # torch and transformers leave ~450k long-lived objects; freezing them keeps the
    # collector's full passes (200-300 ms on the UI thread, measured) out of redraws.
    controller.main.loaded.connect(lambda _info: gc.freeze())
    window = MainWindow(controller)
    session = window.remembered.session()  # {} on a first start, after a reset, or from a bad file
    window.restore(session)
    controller.start()
    # Opened without a model named, the app must still open on a working one: the demo
    # model if the default (or the last session's) cannot be had. A model named on purpose
    # is never swapped.
    fallback = model is None
    if model is None and session.get("model"):
        # The last session's model. Its device and precision only where every machine has
        # them: a GPU remembered from another machine would leave this one with no model.
        model = session["model"]
        device = session.get("device", AUTO) if session.get("device") in (AUTO, "cpu") else AUTO
        dtype = session.get("dtype", AUTO) if session.get("dtype") in precisions_for("cpu") else AUTO
        if dtype not in PRECISIONS["cuda"] and dtype != AUTO:
            device = "cpu"  # bfloat16 or int8 chosen on this CPU: "auto" could mean a GPU that runs neither
    window.load_model(model or DEFAULT_MODEL, device, dtype, fallback=fallback)
    return window


def quit_on_ctrl_c(window: MainWindow) -> None:
    """Ctrl+C in the terminal quits as Ctrl+Q does (the session saved, the model thread
    stopped). Python sees a signal only when Python code runs, which Qt's event loop does not
    do by itself: a timer gives it the chance every 200 ms."""
    signal.signal(signal.SIGINT, lambda _signum, _frame: window.close())
    ticker = QTimer(window)
    ticker.timeout.connect(lambda: None)
    ticker.start(200)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bert-explorer gui", description="Open the BERT Explorer window.")
    parser.add_argument("--model", default=None, help=f"hub id or local folder (default: {DEFAULT_MODEL})")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--dtype", default="auto", help=precisions_said())
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("BERT_EXPLORER_LOG", "WARNING").upper())
    app = _application()
    window = create_window(args.model, args.device, args.dtype)
    window.show()
    quit_on_ctrl_c(window)
    code = app.exec()
    if not window.controller.shutdown():
        # A step that cannot be interrupted (a big model still loading) is still running;
        # Qt aborts if a running QThread is destroyed, so leave without destroying it.
        log.warning("the model thread did not stop in time; exiting anyway")
        sys.stdout.flush()
        os._exit(code)
    return code
