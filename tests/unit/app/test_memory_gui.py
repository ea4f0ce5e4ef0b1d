"""The memory browser, search and export/import in the window, driven through qtbot."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app import dialogs
from app.controller import ModelState
from app.memory_dialogs import AboutMeDialog
from app.memory_panel import MemoryTableModel
from app.window import MainWindow
from memory.retrieval.book import Entry
from memory.store.items import TOPIC
from tests.fake_model import FakeChatModel
from tests.gui import make_window, type_and_send


def entry(n: int, text: str) -> Entry:
    return Entry(n, TOPIC, text, 1, "Dogs", (1,), f"2026-01-0{n}T10:00", "", "", False, n, 0, 0, 0, 0)


def test_memory_table_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = MemoryTableModel()
    model.set_entries([entry(1, "The user has a greyhound."), entry(2, "The user likes tea.")])
    qtmodeltester.check(model)
    assert model.data(model.index(1, 0)) == "The user likes tea."
    requested: list[tuple[int, str]] = []
    model.edit_requested.connect(lambda i, t: requested.append((i, t)))
    assert model.setData(model.index(0, 0), "  The user has a shy greyhound. ")
    assert not model.setData(model.index(0, 0), "   ")
    assert requested == [(1, "The user has a shy greyhound.")]


def test_the_tooltip_names_every_conversation_a_memory_holds_words_from(qtbot: QtBot) -> None:
    model = MemoryTableModel()
    joined = Entry(
        1, TOPIC, "I have a greyhound. He hates rain.", 1, "Dogs", (1, 5), "2026-01-01T10:00", "", "",
        False, 0, 0, 0, 0, 0, conversation_titles=("Dogs", "Rainy walks"),
    )  # fmt: skip
    model.set_entries([joined, entry(2, "The user likes tea.")])
    tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert "From “Dogs” and “Rainy walks”, 2026-01-01 10:00" in tip
    assert "From “Dogs”, 2026-01-02 10:00" in model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole)


@pytest.fixture
def window(qtbot: QtBot, memoir_home: Path) -> MainWindow:
    model = FakeChatModel(["Noted."])
    model.default_json = {"memories": []}
    w = make_window(qtbot, memoir_home, model)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY and w.controller.memory is not None)
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, w, "My cat Mochi loves cardboard boxes")
    memory = w.controller.memory
    assert memory is not None
    memory.items.add(TOPIC, "The user has a cat called Mochi.", conversation_id=w.current_id, message_ids=[1])
    memory.indexer.sync()
    yield w
    w.controller.shutdown()


def shown(w: MainWindow) -> list[str]:
    model = w.memory_actions.panel.model
    return [model.entry(r).text for r in range(model.rowCount())]


def test_browse_edit_forget_undo_and_forget_for_good(qtbot: QtBot, window: MainWindow) -> None:
    actions, ops = window.memory_actions, window.controller.memory_ops
    with qtbot.waitSignal(ops.entries_loaded, timeout=5000):
        actions.browser_action.trigger()
    assert shown(window) == ["The user has a cat called Mochi."]
    panel = actions.panel
    panel.select_row(0)
    assert panel.forget_button.isEnabled()
    with qtbot.waitSignal(ops.entries_loaded, timeout=5000):
        panel.model.setData(panel.model.index(0, 0), "The user has a tabby cat, Mochi.")
    assert shown(window) == ["The user has a tabby cat, Mochi."]
    item = panel.model.entry(0)
    assert item.user_edited and item.versions == 1

    panel.select_row(0)
    with qtbot.waitSignal(ops.entries_loaded, timeout=5000):
        panel.forget_button.click()
    assert shown(window) == []
    assert actions._undo_button.isVisible()
    with qtbot.waitSignal(ops.entries_loaded, timeout=5000):
        actions._undo_button.click()
    assert shown(window) == ["The user has a tabby cat, Mochi."]

    panel.select_row(0)
    actions._undo_timer.setInterval(50)
    memory = window.controller.memory
    assert memory is not None
    panel.forget_button.click()
    qtbot.waitUntil(
        lambda: memory.store.query("SELECT count(*) AS n FROM memory_items WHERE kind='topic'")[0]["n"] == 0
    )
    qtbot.waitUntil(lambda: item.id not in memory.index.ids())


def test_search_shows_what_the_assistant_would_find(qtbot: QtBot, window: MainWindow) -> None:
    actions, ops = window.memory_actions, window.controller.memory_ops
    actions.browser_action.trigger()
    actions.panel.kinds.setCurrentText("Everything")
    with qtbot.waitSignal(
        ops.entries_loaded, timeout=5000, check_params_cb=lambda q, _e: q == "cardboard boxes"
    ):
        actions.panel.search.setText("cardboard boxes")
    assert shown(window)[0] == "My cat Mochi loves cardboard boxes"
    assert actions.panel.model.entry(0).score is not None


def test_search_all_conversations_and_jump(qtbot: QtBot, window: MainWindow) -> None:
    first = window.current_id
    with qtbot.waitSignal(window.controller.conversations.listed):
        window.new_conversation()
    dialog = window.memory_actions.search_all()
    with qtbot.waitSignal(window.controller.memory_ops.messages_found, timeout=5000):
        dialog.query.setText("cardboard")
    html = dialog.results.toHtml()
    assert "cardboard" in html and "font-weight" in html  # the match is highlighted
    with qtbot.waitSignal(window.controller.conversations.messages_loaded, timeout=5000):
        dialog._open(f"memoir-message:{first}:1")
    assert window.current_id == first
    assert window.transcript.currentIndex().data(Qt.ItemDataRole.UserRole + 1).id == 1


def test_about_me_lists_memories_with_links(qtbot: QtBot, window: MainWindow) -> None:
    ops = window.controller.memory_ops
    prefs = window.controller.preferences
    prefs.accept(prefs.propose("Please keep your answers short.", "style", "chat", []))  # type: ignore[arg-type]
    prefs.propose("Use metric units.", "format", "chat", [])  # waits for the user
    with qtbot.waitSignal(ops.about_loaded, timeout=5000) as loaded:
        window.memory_actions.about_action.trigger()
    [(_category, entries)] = loaded.args[0][0]  # (categories need real embeddings: tested in the core)
    assert entries[0].text == "The user has a cat called Mochi."
    qtbot.waitUntil(lambda: bool(window.findChildren(AboutMeDialog)))
    dialog = window.findChildren(AboutMeDialog)[-1]
    shown = dialog.text.toPlainText()
    assert "The user has a cat called Mochi." in shown
    assert "How you like to be answered" in shown and "Please keep your answers short." in shown
    assert "Use metric units." not in shown and "1 proposal from your chats waits for you" in shown
    with qtbot.waitSignal(window.controller.conversations.messages_loaded, timeout=5000):
        dialog._open(f"memoir-message:{window.current_id}:1")


def test_export_delete_everything_import(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "backup.zip"
    monkeypatch.setattr(dialogs, "save_path", lambda *a: str(target))
    monkeypatch.setattr(dialogs, "open_path", lambda *a: str(target))
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    warnings: list[str] = []
    monkeypatch.setattr(dialogs, "warn", lambda _p, _t, text: warnings.append(text))
    actions, store = window.memory_actions, window.controller.store
    preference = "Answer in the voice of a cheerful pirate captain."
    window.controller.preferences.add(preference)
    prefs_file = window.controller.preference_ops.file
    prefs_file.write()
    assert preference in prefs_file.path.read_text(encoding="utf-8")
    actions.export_action.trigger()
    qtbot.waitUntil(target.exists, timeout=5000)
    with qtbot.waitSignal(window.controller.conversations.listed, timeout=5000):
        actions.wipe_action.trigger()
    assert store.conversations() == [] and window.transcript_model.rowCount() == 0
    qtbot.waitUntil(lambda: preference not in prefs_file.path.read_text(encoding="utf-8"), timeout=5000)
    memory = window.controller.memory
    assert memory is not None
    qtbot.waitUntil(lambda: memory.index.count() == 0)
    with qtbot.waitSignal(window.controller.conversations.listed, timeout=5000):
        actions.import_action.trigger()
    assert [c.title for c in store.conversations()] == ["My cat Mochi loves cardboard boxes"]
    qtbot.waitUntil(lambda: bool(memory.search("Mochi", k=1)), timeout=5000)
    actions.import_action.trigger()  # the same file again: nothing to add, and the user is told
    qtbot.waitUntil(lambda: bool(warnings), timeout=5000)
    assert "Nothing to import" in warnings[-1] and len(store.conversations()) == 1
    target.write_text("garbage")
    actions.import_action.trigger()
    qtbot.waitUntil(lambda: len(warnings) == 2, timeout=5000)
    assert "not a Memoir export" in warnings[-1] and len(store.conversations()) == 1


def test_imported_messages_without_search_items_become_searchable(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export may hold messages but not their turn items (made before they were indexed)."""
    from memory.store.database import Store
    from memory.store.export import export_all

    source = Store(tmp_path / "source.db")
    conversation = source.create_conversation("From another machine")
    source.add_message(conversation.id, "user", "My parrot Kiwi whistles the Tetris theme")
    export_all(source, tmp_path / "bare.zip")
    source.close()
    monkeypatch.setattr(dialogs, "open_path", lambda *a: str(tmp_path / "bare.zip"))
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    memory = window.controller.memory
    assert memory is not None
    window.memory_actions.import_action.trigger()

    def found() -> list[str]:
        return [h.item.text for h in memory.search("parrot Kiwi Tetris", k=1, method="bm25")]

    qtbot.waitUntil(lambda: found() == ["My parrot Kiwi whistles the Tetris theme"], timeout=5000)
    qtbot.waitUntil(lambda: not memory.items.pending_index(), timeout=5000)  # and embedded


def test_rebuild_index_from_the_menu_and_date_filter(qtbot: QtBot, window: MainWindow) -> None:
    memory = window.controller.memory
    assert memory is not None
    window.memory_actions.rebuild_action.trigger()
    qtbot.waitUntil(lambda: "Search index rebuilt" in window.statusBar().currentMessage(), timeout=10000)
    qtbot.waitUntil(lambda: memory.index.count() == memory.items.count() >= 2)
    actions, ops = window.memory_actions, window.controller.memory_ops
    actions.browser_action.trigger()
    with qtbot.waitSignal(ops.entries_loaded, timeout=5000):
        actions.panel.dates.setCurrentText("Last 7 days")
    assert shown(window) == ["The user has a cat called Mochi."]  # made just now
