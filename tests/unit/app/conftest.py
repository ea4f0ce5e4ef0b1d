"""Fixtures shared by the GUI tests: a shown main window over a scripted model, ready to chat."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.controller import ModelState
from app.window import MainWindow
from tests.fake_model import FakeChatModel
from tests.gui import REPLY, make_window


@pytest.fixture
def window(qtbot: QtBot, memoir_home: Path) -> Iterator[MainWindow]:
    model = FakeChatModel([REPLY, "Second answer."], delay=0.002)
    model.default_json = {"memories": []}  # switching conversations triggers reflection
    w = make_window(qtbot, memoir_home, model)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY)
    yield w
    w.controller.shutdown()
