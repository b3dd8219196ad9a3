"""The style module: colours only by role (none hard-coded in a view or a plot), every role a
colour Qt and matplotlib both read, stylesheets Qt parses as meant, and the font scale."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import matplotlib
import matplotlib.colors
import pytest
from PySide6.QtGui import QColor, QFont, QPalette, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QLabel

from explorer.core.colours import PALETTE, Palette
from explorer.qt.widgets import style

PACKAGE = Path(__file__).resolve().parents[2] / "explorer"
SCANNED = (PACKAGE / "qt", PACKAGE / "plots")
# Where colours are declared (and turned into stylesheets): the only places allowed a literal.
DECLARING = {PACKAGE / "core" / "colours.py", PACKAGE / "qt" / "widgets" / "style.py"}

HEX = re.compile(r"(?<![\w&])#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3})(?!\w)")
CSS_NAMED = re.compile(r"(?:background(?:-color)?|(?<![\w-])color|border-color)\s*:\s*(?!palette\()[a-zA-Z]")
CSS_FUNCTION = re.compile(r"\brgba?\(|\bhsla?\(")
COLOUR_KEYWORDS = {"color", "colour", "colors", "c", "facecolor", "edgecolor", "cmap", "background"}
COLOUR_CLASSES = {"QColor", "QBrush", "QPen"}
QT_GLOBAL_COLOURS = {
    "white", "black", "red", "darkRed", "green", "darkGreen", "blue", "darkBlue", "cyan", "darkCyan",
    "magenta", "darkMagenta", "yellow", "darkYellow", "gray", "darkGray", "lightGray", "GlobalColor",
}  # fmt: skip


def _strings(tree: ast.AST):
    """Every string literal with its line, f-strings' literal parts included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float))


def hard_coded_colours(path: Path) -> list[str]:
    """Colours written into a source file rather than taken from a role."""
    tree = ast.parse(path.read_text(), str(path))
    found = [
        f"{path.name}:{line}: {pattern.pattern!r} in {text!r}"
        for line, text in _strings(tree)
        for pattern in (HEX, CSS_NAMED, CSS_FUNCTION)
        if pattern.search(text)
    ]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in COLOUR_CLASSES and any(_literal(a) for a in node.args):
                found.append(f"{path.name}:{node.lineno}: {name}(literal)")
            found += [
                f"{path.name}:{node.lineno}: {k.arg}=literal"
                for k in node.keywords
                if k.arg in COLOUR_KEYWORDS and _literal(k.value)
            ]
        elif isinstance(node, ast.Attribute) and node.attr in QT_GLOBAL_COLOURS:
            if isinstance(node.value, ast.Name) and node.value.id == "Qt" or node.attr == "GlobalColor":
                found.append(f"{path.name}:{node.lineno}: Qt.{node.attr}")
    return found


def test_no_colour_is_hard_coded_in_the_views_or_the_plots():
    files = [f for folder in SCANNED for f in sorted(folder.rglob("*.py")) if f not in DECLARING]
    assert len(files) > 20  # the scan did look at the code
    assert [hit for f in files for hit in hard_coded_colours(f)] == []


def test_the_scan_would_catch_a_hard_coded_colour(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        'A = "color: #b00020;"\n'  # line 1: a hex colour in a stylesheet
        'B = QColor("#abc")\n'
        "C = QColor(255, 0, 0)\n"
        'D = "background: white;"\n'  # a named colour in a stylesheet
        'E = f"<span style=\\"color: rgb(1, 2, 3)\\">{A}</span>"\n'
        "F = Qt.red\n"
        "G = Qt.GlobalColor.blue\n"
        'ax.plot([], [], color="tab:blue")\n'
        'ax.imshow(x, cmap="magma")\n'
    )
    hits = hard_coded_colours(bad)
    assert {int(h.split(":")[1]) for h in hits} == set(range(1, 10))  # every line is caught
    assert any("QColor(literal)" in h for h in hits if h.startswith("bad.py:2:"))
    fine = tmp_path / "fine.py"
    fine.write_text(
        'A = "color: palette(text);"\n'
        'B = f"#{name} {{ border-radius: 4px; }}"\n'  # an object-name selector, not a colour
        'C = f"#{int(rank)}"\n'
        'D = "&#x200a;"\n'
        "E = QColor(PALETTE.error)\n"
        'F = f"color:{SPECIAL_COLOR}"\n'
    )
    assert hard_coded_colours(fine) == []


@pytest.mark.parametrize("role, value", sorted(PALETTE.colours().items()))
def test_every_role_is_a_colour_qt_and_matplotlib_read(role, value):
    assert re.fullmatch(r"#[0-9a-f]{6}", value), f"{role}: write roles as lower-case #rrggbb"
    assert QColor(value).isValid()
    assert QColor(value).name() == value
    assert matplotlib.colors.is_color_like(value)


@pytest.mark.parametrize("role, name", sorted(PALETTE.colormaps().items()))
def test_every_colormap_role_names_a_matplotlib_colormap(role, name):
    assert matplotlib.colormaps[name].N > 0


def test_the_palette_has_colour_roles_and_colormaps_and_cannot_be_changed_in_place():
    assert set(PALETTE.colours()) | set(PALETTE.colormaps()) == {f for f in Palette.__dataclass_fields__}
    assert {"error", "correct", "wrong", "changed_bg", "compare_a", "compare_b", "agree", "disagree"} <= set(
        PALETTE.colours()
    )
    with pytest.raises(AttributeError):
        PALETTE.error = "#000000"  # type: ignore[misc]


# --- the stylesheets, read back through Qt's own parsers ---------------------------------


def _span_format(declaration: str) -> QTextCharFormat:
    doc = QTextDocument()
    doc.setHtml(f'<span style="{declaration}">x</span>')
    cursor = QTextCursor(doc)
    cursor.setPosition(1)
    return cursor.charFormat()


def test_css_gives_a_span_the_colours_and_weight_asked_for():
    fmt = _span_format(style.css(PALETTE.seed, background=PALETTE.changed_bg, weight=600, italic=True))
    assert fmt.foreground().color() == QColor(PALETTE.seed)
    assert fmt.background().color() == QColor(PALETTE.changed_bg)
    assert fmt.fontWeight() == 600
    assert fmt.fontItalic()
    plain = _span_format(style.css(PALETTE.note))
    assert plain.foreground().color() == QColor(PALETTE.note)
    assert not plain.fontItalic() and plain.fontWeight() == QFont.Weight.Normal
    assert _span_format(style.css(PALETTE.note, bold=True)).fontWeight() == QFont.Weight.Bold


def test_the_error_label_style_colours_a_label_and_the_plain_style_restores_it(qtbot):
    label = QLabel("x")
    qtbot.addWidget(label)
    ordinary = label.palette().color(QPalette.ColorRole.WindowText)
    label.setStyleSheet(style.error_label_style())
    label.ensurePolished()
    assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(PALETTE.error)
    label.setStyleSheet(style.plain_label_style())
    label.ensurePolished()
    assert label.palette().color(QPalette.ColorRole.WindowText) == ordinary


def test_a_banner_is_filled_with_its_role_colour(qtbot):
    from explorer.qt.shell.banners import DemoBanner, ErrorBanner

    for banner, fill in ((ErrorBanner(), PALETTE.error_banner_bg), (DemoBanner(), PALETTE.demo_banner_bg)):
        qtbot.addWidget(banner)
        banner.resize(400, 48)
        banner.show()
        image = banner.grab().toImage()
        assert image.pixelColor(3, image.height() // 2) == QColor(fill)


# --- the font scale ----------------------------------------------------------------------


@pytest.fixture
def scale_restored():
    yield
    style.set_font_scale(1.0)


def test_the_font_scale_starts_at_the_system_size_and_scales_points(qtbot, scale_restored):
    assert style.font_scale() == 1.0
    assert style.scaled_pt(10) == 10
    with qtbot.waitSignal(style.font_scale_notifier().changed, timeout=1000) as blocker:
        assert style.set_font_scale(1.5) == 1.5
    assert blocker.args == [1.5]
    assert style.font_scale() == 1.5
    assert style.scaled_pt(10) == pytest.approx(15.0)
    assert style.scaled_pt(9.5) == pytest.approx(14.25)


def test_setting_the_same_scale_again_says_nothing(qtbot, scale_restored):
    style.set_font_scale(1.25)
    with qtbot.assertNotEmitted(style.font_scale_notifier().changed):
        style.set_font_scale(1.25)


def test_the_font_scale_stops_at_the_ends_of_its_range(qtbot, scale_restored):
    assert style.set_font_scale(10) == style.MAX_FONT_SCALE
    assert style.set_font_scale(0.1) == style.MIN_FONT_SCALE
    assert style.font_scale() == style.MIN_FONT_SCALE
    assert style.MIN_FONT_SCALE <= 0.75 and style.MAX_FONT_SCALE >= 2.5  # the range the classroom asks for


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "2", None, True])
def test_a_font_scale_that_is_not_a_positive_number_is_refused(bad, scale_restored):
    with pytest.raises(ValueError, match="positive number"):
        style.set_font_scale(bad)  # type: ignore[arg-type]
    assert style.font_scale() == 1.0


def test_a_deleted_receiver_is_disconnected(qtbot, scale_restored):
    seen: list[float] = []

    class Receiver(QLabel):
        def on_scale(self, scale: float) -> None:
            seen.append(scale)

    receiver = Receiver()
    style.font_scale_notifier().changed.connect(receiver.on_scale)
    style.set_font_scale(1.5)
    receiver.deleteLater()
    qtbot.waitUntil(lambda: not _alive(receiver))
    style.set_font_scale(2.0)  # must neither call into the deleted label nor crash
    assert seen == [1.5]


def _alive(obj: object) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)
