"""What one turn costs the GUI: how often work crosses to a lane (each crossing is a queue hop and a
callback on the GUI thread) and how often the conversation list and the transcript are reloaded.
Counted with the scripted model over one sent message and its reply (README: Architecture)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.controller import ModelState
from app.window import MainWindow
from memory.runtime.lane import SerialLane
from tests.gui import type_and_send


def count_one_turn(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    controller = window.controller
    qtbot.waitUntil(lambda: controller.state == ModelState.READY and controller.memory is not None)
    qtbot.waitUntil(lambda: not controller.reflection.running)
    qtbot.wait(1500)  # start-up work settles: index check, reflection of nothing, preferences.md seen
    crossings: Counter[str] = Counter()
    what: list[str] = []
    real_submit = SerialLane.submit

    def counted(self: SerialLane, fn: Any, *args: Any, **kwargs: Any) -> Any:
        crossings[self.name] += 1
        what.append(f"{self.name}: {getattr(fn, '__qualname__', fn)}")
        return real_submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(SerialLane, "submit", counted)
    reloads: Counter[str] = Counter()
    controller.conversations.listed.connect(lambda _c: reloads.update(["conversation list"]))
    controller.conversations.messages_loaded.connect(lambda _i, _m: reloads.update(["transcript"]))
    with qtbot.waitSignal(controller.reply_finished, timeout=5000):
        type_and_send(qtbot, window, "My cat Mochi loves cardboard boxes")
    qtbot.wait(300)  # the reply's own follow-up work (indexing it) lands
    return {
        "lanes": dict(crossings),
        "crossings": sum(crossings.values()),
        "reloads": dict(reloads),
        "what": what,
    }


def test_one_turn_reloads_the_list_once_and_the_transcript_never(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    cost = count_one_turn(qtbot, window, monkeypatch)
    assert cost["reloads"].get("conversation list", 0) == 1  # its order and title change with the turn
    assert cost["reloads"].get("transcript", 0) == 0  # the message and the reply arrive by signal
    # 6, and since reading the conversation after a reply (app/read_ahead.py, ReadAhead.replied) 7
    assert cost["crossings"] <= 7, cost
