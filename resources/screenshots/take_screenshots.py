"""Regenerate the README screenshots of BERT Explorer running on the bundled demo model.

It opens the window the way `bert-explorer` does with no network (so the demo model loads and
its yellow banner shows), drives every tab through its widgets, waits for the results and
saves one 1400x900 PNG per view: predictions, joint, score, presentation, attention, mlm_lab,
generation, finetune, lama.

It needs a real X server; on a machine without a display, use Xvfb:

    xvfb-run -a -s "-screen 0 1600x1000x24" python resources/screenshots/take_screenshots.py [OUT_DIR]

OUT_DIR defaults to resources/screenshots (the README's images). The run takes a few minutes
on a laptop CPU, most of it the short fine-tuning run. Exit code 0 when all six are saved;
1 with the reason in the log when a step fails or times out; 2 when there is no display.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

# Before anything imports huggingface_hub: no network and no cached default model, so the
# app falls back to the demo model and explains why in its banner, as a person offline sees
# it. The empty hub cache keeps a developer's cached bert-base-cased out of the pictures.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
os.environ["HF_HUB_CACHE"] = tempfile.mkdtemp(prefix="bert-explorer-shots-hub-")
atexit.register(shutil.rmtree, os.environ["HF_HUB_CACHE"], True)
# A session of its own: the pictures show a first start, not what the developer last did.
_settings = tempfile.mkdtemp(prefix="bert-explorer-shots-settings-")
os.environ["BERT_EXPLORER_SETTINGS"] = os.path.join(_settings, "settings.ini")
atexit.register(shutil.rmtree, _settings, True)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TypeVar  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# This checkout's app, whether or not it is the one installed in the environment.
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractButton,
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTableWidget,
    QTabWidget,
    QWidget,
)

from explorer.qt.shell.app import create_window  # noqa: E402
from explorer.qt.tabs.attention.view import AttentionView  # noqa: E402
from explorer.qt.tabs.predictions.panel import FillMaskPanel  # noqa: E402
from explorer.qt.tabs.generate.tab import GenerationTab  # noqa: E402
from explorer.qt.shell.main_window import MainWindow  # noqa: E402
from explorer.qt.tabs.mlm.tab import MlmTab  # noqa: E402

log = logging.getLogger("take_screenshots")

WIDTH, HEIGHT = 1400, 900
POLL_MS = 50
# matplotlib canvases redraw on a zero-delay timer after their data changes, so a grab right
# after the data arrives can catch the old picture; nothing observable says the redraw is done.
PAINT_SETTLE_MS = 600

# Per-step timeouts, generous: the machine may be busy with other work (e.g. training).
LOAD_TIMEOUT_S = 300
ANSWER_TIMEOUT_S = 120
GENERATE_TIMEOUT_S = 600
LAMA_TIMEOUT_S = 600
FINETUNE_TIMEOUT_S = 1200

PREDICTIONS_SENTENCE = "She wrote a [MASK] to her grandmother about her [MASK] in the city."
JOINT_SENTENCE = "He was born in [MASK] [MASK] in 1950."
SCORE_SENTENCES = "The keys to the cabinet are here.\nThe keys to the cabinet is here."
PLAIN_SENTENCE = "The cat sat on the mat because it was tired."
FINETUNE_SENTENCE = "The [MASK] told the patient to rest."
GENERATION_SEED = "The weather today is"
# Short and plain, so that 15% masks a few tokens the demo model can be right or wrong about
# and the whole table of masked positions fits.
MLM_PASSAGE = (
    "The children walked to school in the morning. "
    "Their teacher read them a story about a little dog that lost its way home in the snow."
)

# A small, repetitive clinical corpus: forty steps on it move the demo model visibly towards
# "doctor" and "nurse" in FINETUNE_SENTENCE, which is what the Compare panels are there to show.
FINETUNE_CORPUS = (
    "The doctor told the patient to rest for a week.",
    "The nurse checked the patient's temperature every hour.",
    "After the surgery the doctor visited the patient in the ward.",
    "The nurse gave the patient a glass of water and the medicine.",
    "The doctor asked the patient where the pain was.",
    "The hospital was quiet at night, and the nurse read the charts.",
    "The patient thanked the doctor and the nurse before going home.",
    "The doctor wrote a prescription and the nurse explained the dose.",
    "In the clinic the doctor listened to the patient's heart.",
    "The nurse told the patient to drink more water and to sleep.",
    "The doctor said the patient should stay in the hospital one more day.",
    "The patient rested while the nurse changed the bandage.",
    "The doctor and the nurse talked about the patient's recovery.",
    "The nurse brought the patient a blanket because the room was cold.",
    "The doctor told the family that the patient was getting better.",
    "Every morning the doctor walked through the hospital to see each patient.",
)
FINETUNE_STEPS = 40

T = TypeVar("T", bound=QObject)


class StepFailed(RuntimeError):
    """A step timed out or the app reported an error; the message says which and why."""


# --- waiting and finding -------------------------------------------------------------------
def wait_until(
    condition: Callable[[], bool],
    what: str,
    timeout_s: float,
    failure: Callable[[], str | None] | None = None,
) -> None:
    """Run the event loop until `condition()` holds; raise StepFailed on timeout or on a
    `failure()` message (an error the app shows, so we stop at once instead of timing out)."""
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    problem: list[str] = []

    def poll() -> None:
        message = failure() if failure is not None else None
        if message:
            problem.append(message)
            loop.quit()
        elif condition() or time.monotonic() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(POLL_MS)
    timer.timeout.connect(poll)
    timer.start()
    try:
        if not condition():
            loop.exec()
    finally:
        timer.stop()
    if problem:
        raise StepFailed(f"while waiting for {what}: the app says: {problem[0]}")
    if not condition():
        raise StepFailed(f"timed out after {timeout_s:.0f} s waiting for {what}")


def pump(ms: int) -> None:
    """Let queued work (paints, deferred redraws) run for `ms` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def child(root: QWidget, kind: type[T], name: str) -> T:
    """The widget a person would use, found by its objectName (the app's stable handles)."""
    found = root.findChild(kind, name)
    if found is None:
        raise StepFailed(f"the window has no {kind.__name__} named {name!r}: did the app change?")
    return found


def visible_error(label: QLabel) -> str | None:
    """The text of a message label while it shows an error (the app colours those red)."""
    if label.isVisible() and label.text() and "#b00020" in label.styleSheet():
        return label.text()
    return None


def click(button: QAbstractButton) -> None:
    if not button.isEnabled():
        raise StepFailed(f"{button.objectName() or button.text()!r} is disabled")
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def open_tab(window: MainWindow, page: QWidget) -> None:
    tabs = child(window, QTabWidget, "tabs")
    holder: QWidget | None = page  # a view inside a tab's page counts as that tab
    while holder is not None and tabs.indexOf(holder) < 0:
        holder = holder.parentWidget()
    index = tabs.indexOf(holder) if holder is not None else -1
    if index < 0:
        raise StepFailed(f"{page.objectName()!r} is not a tab of the window")
    QTest.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(index).center())
    wait_until(lambda: tabs.currentIndex() == index and page.isVisible(), f"the {tabs.tabText(index)} tab", 10)


def type_sentence(window: MainWindow, text: str) -> None:
    """Type into the sentence editor and press Ctrl+Enter, then wait for the guesses."""
    editor = child(window, QPlainTextEdit, "sentenceEditor")
    panel = child(window, FillMaskPanel, "fillMaskPanel")
    editor.setFocus()
    editor.selectAll()
    QTest.keyClicks(editor, text)
    QTest.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    message = child(panel, QLabel, "fillMaskMessage")
    wait_until(
        lambda: panel.result is not None and panel.result.text == text and editor.toPlainText() == text,
        f"the guesses for {text!r}",
        ANSWER_TIMEOUT_S,
        lambda: visible_error(message),
    )


def set_line(edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    QTest.keyClicks(edit, text)


def save(window: MainWindow, out_dir: Path, name: str) -> None:
    """Grab the whole window (not the screen: no pointer, no other windows) at 1400x900."""
    demo_banner = child(window, QWidget, "demoBanner")
    error_banner = child(window, QWidget, "errorBanner")
    if not demo_banner.isVisible():
        raise StepFailed(f"{name}: the demo banner is not showing")
    if error_banner.isVisible():
        raise StepFailed(f"{name}: the error banner is showing: {child(error_banner, QLabel, 'errorText').text()}")
    if (window.width(), window.height()) != (WIDTH, HEIGHT):
        raise StepFailed(f"{name}: the window is {window.width()}x{window.height()}, not {WIDTH}x{HEIGHT}")
    # No blinking caret or selected spin-box text in the picture: nobody is typing in it.
    focused = QApplication.focusWidget() or window.focusWidget()
    if focused is not None:
        focused.clearFocus()
    pump(PAINT_SETTLE_MS)
    path = out_dir / f"{name}.png"
    if not window.grab().save(str(path)):
        raise StepFailed(f"could not write {path}")
    log.info("saved %s", path)


# --- the six pictures ------------------------------------------------------------------------
def start(window: MainWindow) -> None:
    status = child(window, QLabel, "statusLoad")
    window.resize(WIDTH, HEIGHT)
    window.show()
    wait_until(lambda: window.windowHandle() is not None and window.windowHandle().isExposed(), "the window to show", 30)
    # Under a bare Xvfb no window manager activates the window, and an inactive window never
    # delivers focus-out, so a caret or a selection would stay in every picture.
    window.activateWindow()
    window.raise_()
    try:
        wait_until(window.isActiveWindow, "the window to become active", 5)
    except StepFailed as exc:
        log.warning("%s; a text caret may show in the pictures", exc)
    # The fallback to the demo model is the point: a real model here would make other pictures.
    wait_until(
        lambda: status.text() == "ready" and window.controller.main.info is not None,
        "the demo model to load",
        LOAD_TIMEOUT_S,
        lambda: child(window, QLabel, "errorText").text() if child(window, QWidget, "errorBanner").isVisible() else None,
    )
    info = window.controller.main.info
    if not info.is_demo:
        raise StepFailed(f"the window opened {info.name!r}, not the demo model; these screenshots show the demo model")
    log.info("loaded %s (%d layers x %d heads) on %s", info.name, info.num_layers, info.num_heads, info.device)


def shoot_predictions(window: MainWindow, out_dir: Path) -> None:
    panel = child(window, FillMaskPanel, "fillMaskPanel")
    open_tab(window, panel)
    type_sentence(window, PREDICTIONS_SENTENCE)
    wait_until(
        lambda: [len(c) for c in panel.visible_candidates()] == [10, 10],
        "ten guesses for each of the two masks",
        ANSWER_TIMEOUT_S,
    )
    save(window, out_dir, "predictions")


def shoot_joint(window: MainWindow, out_dir: Path) -> None:
    """Two masks filled together (the Together box) beside each mask's own guesses."""
    panel = child(window, FillMaskPanel, "fillMaskPanel")
    open_tab(window, panel)
    type_sentence(window, JOINT_SENTENCE)
    joint = window.predictions.joint
    wait_until(
        lambda: joint.result is not None and joint.result.text == JOINT_SENTENCE and joint.visible_fillings(),
        "the joint fillings",
        ANSWER_TIMEOUT_S,
    )
    save(window, out_dir, "joint")


def shoot_score(window: MainWindow, out_dir: Path) -> None:
    """A minimal pair scored: each sentence's PLL and its per-token surprise."""
    tab = window.score
    open_tab(window, tab)
    child(window, QPlainTextEdit, "scoreSentences").setPlainText(SCORE_SENTENCES)
    click(child(window, QAbstractButton, "scoreButton"))
    wait_until(lambda: len(tab.shown_results()) == 1, "the sentences scored", ANSWER_TIMEOUT_S)
    save(window, out_dir, "score")


def shoot_presentation(window: MainWindow, out_dir: Path) -> None:
    """Presentation mode (F5) on the predictions: full screen, 175%, the sentence and one tab."""
    panel = child(window, FillMaskPanel, "fillMaskPanel")
    open_tab(window, panel)
    type_sentence(window, PREDICTIONS_SENTENCE)
    wait_until(lambda: [len(c) for c in panel.visible_candidates()] == [10, 10], "the guesses", ANSWER_TIMEOUT_S)
    window.presentation.enter()
    try:
        wait_until(lambda: window.isFullScreen() and window.width() > WIDTH, "full screen", 30)
        focused = QApplication.focusWidget()
        if focused is not None:
            focused.clearFocus()
        pump(PAINT_SETTLE_MS * 3)  # the zoom lays every card out again
        path = out_dir / "presentation.png"
        if not window.grab().save(str(path)):
            raise StepFailed(f"could not write {path}")
        log.info("saved %s", path)
    finally:
        window.presentation.leave()
    wait_until(lambda: (window.width(), window.height()) == (WIDTH, HEIGHT), "the window back to its size", 30)


def shoot_attention(window: MainWindow, out_dir: Path) -> None:
    type_sentence(window, PLAIN_SENTENCE)
    view = child(window, AttentionView, "attentionView")
    open_tab(window, view)
    busy = child(view, QLabel, "attentionBusy")
    wait_until(
        lambda: view.result is not None and view.result.text == PLAIN_SENTENCE and not busy.text(),
        "the attention weights",
        ANSWER_TIMEOUT_S,
        lambda: visible_error(child(view, QLabel, "attentionMessage")),
    )
    layer = child(view, QSpinBox, "layerSelector")
    # Layer 2 of the demo model has heads with visibly different patterns (diagonals, [CLS]).
    layer.setFocus()
    QTest.keyClick(layer, Qt.Key.Key_PageDown)
    QTest.keyClick(layer, Qt.Key.Key_PageDown)
    scale = child(view, QLabel, "attentionScale")
    wait_until(lambda: layer.value() == 2 and scale.text().startswith("dark 0"), "layer 2 drawn", 30)
    save(window, out_dir, "attention")


def shoot_internals(window: MainWindow, out_dir: Path) -> None:
    from explorer.qt.tabs.internals.tab import InternalsTab

    type_sentence(window, PLAIN_SENTENCE)
    tab = child(window, InternalsTab, "internalsTab")
    open_tab(window, tab)
    wait_until(
        lambda: tab.result is not None and tab.result.text == PLAIN_SENTENCE,
        "the forward pass by hand", ANSWER_TIMEOUT_S, lambda: visible_error(child(tab, QLabel, "internalsNote")),
    )
    head = child(tab, QSpinBox, "internalsHead")
    head.setValue(3)
    wait_until(lambda: tab.result.head == 3, "head 3", ANSWER_TIMEOUT_S)
    tab.select_step("probs")
    pump(300)
    save(window, out_dir, "internals")


def shoot_mlm_lab(window: MainWindow, out_dir: Path) -> None:
    tab = child(window, MlmTab, "mlmTab")
    open_tab(window, tab)
    passage = child(tab, QPlainTextEdit, "mlmPassage")
    passage.setFocus()
    passage.selectAll()
    QTest.keyClicks(passage, MLM_PASSAGE)
    seed = child(tab, QSpinBox, "mlmSeed")
    wanted = seed.value() + 1
    # One "Mask again", as in the README's picture (seed 1): a draw with a right and a wrong guess.
    click(child(tab, QPushButton, "remaskButton"))
    busy = child(tab, QLabel, "mlmBusy")
    wait_until(
        lambda: tab.result is not None and tab.result.text == MLM_PASSAGE and tab.result.seed == wanted
        and not busy.text(),
        "the masked passage, its loss and reconstruction",
        ANSWER_TIMEOUT_S,
        lambda: visible_error(child(tab, QLabel, "mlmMessage")),
    )
    lens_table = child(tab, QTableWidget, "mlmLensTable")
    wait_until(
        lambda: tab.lens.result is not None and tab.lens.result.position == tab.selected and lens_table.rowCount() > 0,
        "the layer lens of the first masked token",
        ANSWER_TIMEOUT_S,
    )
    save(window, out_dir, "mlm_lab")


def shoot_generation(window: MainWindow, out_dir: Path) -> None:
    tab = child(window, GenerationTab, "generationTab")
    open_tab(window, tab)
    set_line(child(tab, QLineEdit, "seedTextEdit"), GENERATION_SEED)
    samples = child(tab, QListWidget, "generationSamples")
    wanted = child(tab, QSpinBox, "batchSizeSpin").value()
    click(child(tab, QPushButton, "generateButton"))
    wait_until(
        lambda: tab.result is not None and not tab.running and samples.count() == wanted,
        f"{wanted} samples",
        GENERATE_TIMEOUT_S,
        lambda: visible_error(child(tab, QLabel, "generationMessage")),
    )
    save(window, out_dir, "generation")


def shoot_lama(window: MainWindow, out_dir: Path) -> None:
    tab = child(window, QWidget, "lamaTab")
    open_tab(window, tab)
    source = child(tab, QLabel, "lamaSource")
    run = child(tab, QPushButton, "lamaRunButton")
    message = child(tab, QLabel, "lamaMessage")
    lama_error = lambda: message.text() if message.isVisible() else None  # noqa: E731
    # The tab opens the shipped SQuAD sample by itself at start-up.
    wait_until(lambda: "shipped sample" in source.text() and run.isEnabled(), "the shipped LAMA sample", ANSWER_TIMEOUT_S, lama_error)
    count = child(tab, QLabel, "lamaCount")
    total = count.text().split(" of ")[-1].split()[0]
    click(run)
    headline = child(tab, QLabel, "lamaSummaryHeadline")
    wait_until(
        lambda: f"{total} of {total} facts evaluated" in headline.text() and run.isEnabled(),
        f"all {total} facts probed",
        LAMA_TIMEOUT_S,
        lama_error,
    )
    # Show the facts the model gets right (a short table with green ticks), unless there are none.
    status = child(tab, QComboBox, "lamaStatusFilter")
    status.setCurrentText("Correct")
    table = child(tab, QTableView, "lamaTable")
    wait_until(lambda: count.text().startswith(f"{table.model().rowCount():,} of"), "the Correct filter", 30)
    if table.model().rowCount() == 0:
        log.warning("the demo model gets no LAMA fact right; showing all facts instead")
        status.setCurrentText("All facts")
        wait_until(lambda: table.model().rowCount() > 0, "the facts table", 30)
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(table.model().index(0, 1)).center())
    top = child(tab, QTableWidget, "lamaTopK")
    wait_until(lambda: bool(table.selectionModel().selectedRows()) and top.rowCount() > 0, "the top 10 of the first fact", 30)
    save(window, out_dir, "lama")


def shoot_finetune(window: MainWindow, out_dir: Path, work: Path) -> None:
    corpus = work / "ft_corpus.txt"
    # Each line is a document, repeated: a small text the model visibly learns in a few steps.
    # No held-out line is then unseen, and the tab says that its perplexity is partly memory.
    corpus.write_text("\n".join(FINETUNE_CORPUS * 12) + "\n", encoding="utf-8")
    type_sentence(window, FINETUNE_SENTENCE)
    tab = child(window, QWidget, "finetuneTab")
    open_tab(window, tab)
    set_line(child(tab, QLineEdit, "corpusEdit"), str(corpus))
    child(tab, QSpinBox, "chunkSizeSpin").setValue(32)
    child(tab, QSpinBox, "maxStepsSpin").setValue(FINETUNE_STEPS)
    child(tab, QDoubleSpinBox, "learningRateSpin").setValue(1e-4)
    child(tab, QSpinBox, "ftBatchSizeSpin").setValue(8)
    child(tab, QSpinBox, "ftSeedSpin").setValue(42)
    set_line(child(tab, QLineEdit, "outputDirEdit"), str(work / "ft_out"))
    child(tab, QCheckBox, "overwriteCheck").setChecked(True)
    message = child(tab, QLabel, "finetuneMessage")
    perplexity = child(tab, QLabel, "perplexityLabel")
    use = child(tab, QPushButton, "useModelButton")
    click(child(tab, QPushButton, "finetuneStartButton"))
    wait_until(
        lambda: use.isEnabled() and "after: training" not in perplexity.text() and "after:" in perplexity.text(),
        f"{FINETUNE_STEPS} fine-tuning steps and the perplexity after",
        FINETUNE_TIMEOUT_S,
        lambda: message.text() if "#b00020" in message.styleSheet() and message.text() else None,
    )
    base = child(tab, FillMaskPanel, "compareBase")
    adapted = child(tab, FillMaskPanel, "compareAdapted")
    click(child(tab, QPushButton, "compareButton"))
    wait_until(
        lambda: base.result is not None and adapted.result is not None
        and base.result.text == FINETUNE_SENTENCE and adapted.result.text == FINETUNE_SENTENCE,
        "the base and adapted models' guesses",
        ANSWER_TIMEOUT_S,
        lambda: visible_error(child(adapted, QLabel, "compareAdaptedMessage")),
    )
    save(window, out_dir, "finetune")


# --- running --------------------------------------------------------------------------------
def stop_jobs(window: MainWindow) -> None:
    """Press every Stop that is enabled, so closing does not wait on a job."""
    for name in ("stopButton", "finetuneStopButton", "lamaStopButton"):
        button = window.findChild(QPushButton, name)
        if button is not None and button.isEnabled():
            log.info("stopping the job behind %s", name)
            button.click()


def close(window: MainWindow) -> bool:
    """Close as a person does; True if the model thread stopped."""
    stop_jobs(window)
    window.close()
    stopped = window.controller.thread.wait(5000)
    if not stopped:
        log.warning("the model thread did not stop in time")
    return stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=HERE, help=f"where to write the PNGs (default: {HERE})")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="take only these (predictions, presentation, attention, ...)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        log.error('no display: run under an X server, e.g. xvfb-run -a -s "-screen 0 1600x1000x24" python %s', sys.argv[0])
        return 2
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)

    began = time.monotonic()
    window = create_window()  # no model named: the app's own start-up, with its demo fallback
    app = QApplication.instance()
    assert app is not None
    # A short name: the fine-tune tab shows this path in three places, one beside its progress bar.
    work = Path(tempfile.mkdtemp(prefix="shots-"))
    shots: list[tuple[str, Callable[[], None]]] = [
        ("start", lambda: start(window)),
        ("predictions", lambda: shoot_predictions(window, out_dir)),
        ("joint", lambda: shoot_joint(window, out_dir)),
        ("score", lambda: shoot_score(window, out_dir)),
        ("presentation", lambda: shoot_presentation(window, out_dir)),
        ("attention", lambda: shoot_attention(window, out_dir)),
        ("internals", lambda: shoot_internals(window, out_dir)),
        ("mlm_lab", lambda: shoot_mlm_lab(window, out_dir)),
        ("generation", lambda: shoot_generation(window, out_dir)),
        ("lama", lambda: shoot_lama(window, out_dir)),
        # Last: its sentence differs and its training is the slowest step.
        ("finetune", lambda: shoot_finetune(window, out_dir, work)),
    ]
    if args.only:
        shots = [(name, step) for name, step in shots if name == "start" or name in args.only]
    code = 0
    try:
        for name, step in shots:
            t0 = time.monotonic()
            step()
            log.info("%s: %.1f s", name, time.monotonic() - t0)
    except StepFailed as exc:
        log.error("%s", exc)
        code = 1
    finally:
        stopped = close(window)
        app.processEvents()
        shutil.rmtree(work, ignore_errors=True)
    log.info("%s in %.0f s", "done" if code == 0 else "failed", time.monotonic() - began)
    if not stopped:
        # Qt aborts when a running QThread is destroyed; leave without destroying it.
        logging.shutdown()
        os._exit(code or 1)
    return code


if __name__ == "__main__":
    sys.exit(main())
