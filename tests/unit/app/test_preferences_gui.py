"""The preferences panel through qtbot: inbox, table actions with undo, the live file, Edit Reply."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app import dialogs
from app.controller import ModelState
from app.preferences_panel import PreferenceTableModel
from app.window import MainWindow
from memory.preferences.preference_store import Preference
from tests.fake_model import FakeChatModel
from tests.gui import make_window, type_and_send


def pref(n: int, text: str, status: str = "active") -> Preference:
    return Preference(n, text, "style", "user", status, False, 1.0, (), None, True, "", "2026-01-01")


def test_preference_table_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = PreferenceTableModel()
    model.set_preferences([pref(1, "Be brief."), pref(2, "Use metric units.", "disabled")])
    qtmodeltester.check(model)
    edits: list[tuple[int, str]] = []
    model.edit_requested.connect(lambda i, t: edits.append((i, t)))
    assert model.setData(model.index(0, 0), "Be very brief.")
    assert not model.setData(model.index(0, 1), "not a category")
    assert edits == [(1, "Be very brief.")]


@pytest.fixture
def window(qtbot: QtBot, memoir_home: Path) -> MainWindow:
    model = FakeChatModel(["Here is a very long answer about oats and eggs and toast."])
    model.default_json = {"preference": "Answer with a short list."}
    w = make_window(qtbot, memoir_home, model)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY and w.controller.memory is not None)
    yield w
    w.controller.shutdown()


def visible(w: MainWindow) -> list[tuple[str, str]]:
    model = w.preference_actions.panel.model
    return [(model.preference(r).text, model.preference(r).status) for r in range(model.rowCount())]


def test_add_edit_disable_pin_delete_undo(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions, ops = window.preference_actions, window.controller.preference_ops
    panel = actions.panel
    actions.panel_action.trigger()
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "Keep answers short.")
    with qtbot.waitSignal(ops.changed, timeout=5000):
        panel.buttons["add"].click()
    assert visible(window) == [("Keep answers short.", "active")]
    with qtbot.waitSignal(ops.changed, timeout=5000):
        panel.model.setData(panel.model.index(0, 0), "Keep answers very short.")
    panel.table.selectRow(0)
    with qtbot.waitSignal(ops.changed, timeout=5000):
        panel.buttons["toggle"].click()
    assert visible(window) == [("Keep answers very short.", "disabled")]
    panel.table.selectRow(0)
    with qtbot.waitSignal(ops.changed, timeout=5000):
        panel.buttons["pin"].click()
    assert panel.model.preference(0).pinned
    panel.table.selectRow(0)
    with qtbot.waitSignal(ops.changed, timeout=5000):
        panel.buttons["delete"].click()
    assert visible(window) == []
    with qtbot.waitSignal(ops.changed, timeout=5000):
        actions._undo_button.click()
    assert visible(window) == [("Keep answers very short.", "disabled")]
    text = ops.file.path.read_text()
    assert "[pinned] [off] Keep answers very short." in text  # the file follows


def test_new_proposals_are_announced_and_counted_in_the_menu(qtbot: QtBot, window: MainWindow) -> None:
    """With the panel closed, a proposal reflection made is not missed: the status bar says so and
    the menu item counts what waits; with the panel in front nothing is announced."""
    store, ops, actions = (
        window.controller.preferences,
        window.controller.preference_ops,
        window.preference_actions,
    )
    with qtbot.waitSignal(ops.changed, timeout=5000):
        ops.load()
    assert actions.panel_action.text() == "&Preferences Panel"
    store.propose("Please keep your answers short.", "style", "chat", [])
    with qtbot.waitSignal(ops.changed, timeout=5000):
        ops.load()
    said = window.statusBar().currentMessage()
    assert "“Please keep your answers short.”" in said and "Preferences Panel" in said
    assert actions.panel_action.text() == "&Preferences Panel (1 to review)"
    window.statusBar().clearMessage()
    actions.panel_action.trigger()
    qtbot.waitUntil(lambda: not actions.dock.visibleRegion().isEmpty())
    store.propose("Use metric units.", "format", "chat", [])
    with qtbot.waitSignal(ops.changed, timeout=5000):
        ops.load()
    assert window.statusBar().currentMessage() == ""  # the user is looking at the inbox
    assert actions.panel_action.text() == "&Preferences Panel (2 to review)"


def test_inbox_accept_edit_accept_and_reject(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, ops = window.controller.preferences, window.controller.preference_ops
    for text in ("Use metric units.", "Call me Sam.", "Be cheerful."):
        store.propose(text, "style", "chat", [])
    panel = window.preference_actions.panel
    with qtbot.waitSignal(ops.changed, timeout=5000):
        ops.load()
    assert panel.inbox_proxy.rowCount() == 3 and "Proposed (3)" in panel.inbox_label.text()
    panel.inbox.selectRow(0)
    with qtbot.waitSignal(ops.changed, timeout=5000):
        panel.buttons["accept"].click()
    panel.inbox.selectRow(0)
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "Call me Samantha.")
    with qtbot.waitSignal(ops.changed, timeout=5000):
        panel.buttons["edit_accept"].click()
    panel.inbox.selectRow(0)
    with qtbot.waitSignal(ops.changed, timeout=5000):
        panel.buttons["reject"].click()
    assert sorted(visible(window)) == [("Call me Samantha.", "active"), ("Use metric units.", "active")]
    assert store.propose("Be cheerful.", "style", "chat", []) is None  # rejected: never proposed again


def test_editing_the_file_applies_live_and_a_broken_file_is_reported(
    qtbot: QtBot, window: MainWindow
) -> None:
    ops, store = window.controller.preference_ops, window.controller.preferences
    with qtbot.waitSignal(ops.changed, timeout=5000):
        ops.change("add", "Be brief.")
    path = ops.file.path
    with qtbot.waitSignal(ops.changed, timeout=10000):
        path.write_text(path.read_text() + "\n## people\n- Call me Sam.\n")
    assert {p.text for p in store.active()} == {"Be brief.", "Call me Sam."}
    panel = window.preference_actions.panel
    with qtbot.waitSignal(ops.problem, timeout=10000, check_params_cb=bool):
        path.write_text(path.read_text() + "this line is not a preference\n")
    assert "not applied" in panel.problem.text() and "line" in panel.problem.text()
    assert {p.text for p in store.active()} == {"Be brief.", "Call me Sam."}


def test_edit_reply_keeps_the_users_version_and_proposes_what_it_shows(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    with qtbot.waitSignal(window.controller.reply_finished, timeout=5000) as done:
        type_and_send(qtbot, window, "Breakfast ideas?")
    reply = done.args[0].message
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "- oats\n- eggs")
    ops = window.controller.preference_ops
    with qtbot.waitSignal(ops.changed, timeout=5000):
        window.preference_actions.edit_reply(reply)
    assert window.controller.store.message(reply.id).content == "- oats\n- eggs"
    assert window.transcript_model.messages()[-1].content == "- oats\n- eggs"
    assert visible(window) == [("Answer with a short list.", "proposed")]
    assert window.controller.preferences.all()[0].origin == "edit"


def test_never_remember_rules_and_history_are_read_off_the_gui_thread(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.preference_actions as module

    store, ops, actions = (
        window.controller.preferences,
        window.controller.preference_ops,
        window.preference_actions,
    )
    store.add_rule("divorce")
    asked: list[str] = []

    def answer(*args: object, **kwargs: object) -> str:
        asked.append(str(args[3]))
        return "divorce\nweight"

    monkeypatch.setattr(dialogs, "ask_text", answer)
    with qtbot.waitSignal(ops.changed, timeout=5000):
        actions.edit_rules()
    assert asked == ["divorce"] and store.rules() == ["divorce", "weight"]
    mine = store.add("Be brief.")
    store.edit(mine, "Be very brief.")
    with qtbot.waitSignal(ops.changed, timeout=5000):
        ops.load()
    shown: list[str] = []
    monkeypatch.setattr(module.QMessageBox, "information", lambda _p, _t, text: shown.append(text))
    actions.show_history(mine)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "Be very brief." in shown[0] and "Be brief." in shown[0]
