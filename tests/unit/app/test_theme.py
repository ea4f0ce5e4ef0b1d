"""Light and dark follow the system: the stylesheet's colours filled from the theme, the palette, the
transcript painted in the theme's colours, and a switch of the system's scheme while Memoir runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app import theme
from app.controller import ModelState
from app.resources import app_icon, stylesheet
from tests.fake_model import FakeChatModel
from tests.gui import make_window, type_and_send


@pytest.fixture
def app_theme(qapp: QApplication) -> Iterator[QApplication]:
    yield qapp
    theme.choose(qapp, "light", stylesheet())  # the next test starts light, as the suite does
    theme.choose(qapp, "system")


def test_the_window_icon_is_read_from_the_resources_package(qapp: QApplication) -> None:
    icon = app_icon()
    assert not icon.isNull() and icon.availableSizes(), "the PNG decoded from the package's bytes"


def test_every_colour_in_the_stylesheet_comes_from_the_theme() -> None:
    template = stylesheet()
    assert "@transcript" in template
    for colours in (theme.LIGHT, theme.DARK):
        filled = theme.stylesheet(template, colours)
        assert "@" not in filled.split("*/", 1)[1]  # after the header comment, no name is left unfilled
        assert colours.transcript in filled and colours.border in filled


def test_dark_paints_the_transcript_and_palette_dark(
    qtbot: QtBot, memoir_home: Path, app_theme: QApplication
) -> None:
    theme.apply(app_theme, stylesheet(), dark=True)
    assert theme.current() is theme.DARK
    assert app_theme.palette().color(QPalette.ColorRole.Window).lightness() < 64
    w = make_window(qtbot, memoir_home, FakeChatModel(["A reply long enough to fill its bubble with text."]))
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY)
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, w, "Hello")
    image = w.transcript.viewport().grab().toImage()
    colours = {
        image.pixelColor(x, y).name() for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)
    }
    assert theme.DARK.transcript in colours and theme.DARK.reply_bubble in colours
    assert theme.LIGHT.transcript not in colours and theme.LIGHT.reply_bubble not in colours
    w.controller.shutdown()


def test_a_switch_of_the_system_scheme_is_followed(app_theme: QApplication) -> None:
    theme.apply(app_theme, stylesheet(), dark=False)
    repaints: list[int] = []
    theme.follow_system(app_theme, stylesheet(), lambda: repaints.append(1))
    # as the platform theme announces it (the offscreen platform has none to change)
    app_theme.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert theme.current() is theme.DARK and repaints
    assert QColor(theme.DARK.transcript).name() in app_theme.styleSheet()
    app_theme.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert theme.current() is theme.LIGHT


def test_settings_can_fix_the_appearance_and_the_system_is_then_ignored(
    qtbot: QtBot, app_theme: QApplication
) -> None:
    from PySide6.QtWidgets import QComboBox, QDialog

    from app.settings_dialog import SettingsDialog
    from memory.runtime.settings import Settings

    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    combo = dialog._editors["appearance"]
    assert isinstance(combo, QComboBox) and combo.currentText() == "System"
    combo.setCurrentText("Dark")
    dialog.done(QDialog.DialogCode.Accepted)
    chosen = dialog.settings().appearance
    assert chosen == "dark"
    theme.follow_system(app_theme, stylesheet(), lambda: None)
    theme.use(chosen)
    assert theme.current() is theme.DARK and theme.appearance() == "dark"
    app_theme.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)  # the system goes light
    assert theme.current() is theme.DARK  # Settings said dark
    theme.use("system")
    assert theme.appearance() == "system"
    assert Settings(appearance="purple").validated().appearance == "system"  # a bad value in the file
