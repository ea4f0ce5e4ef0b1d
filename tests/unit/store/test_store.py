import os
import sqlite3
import stat
from pathlib import Path

import pytest

from memory.runtime.paths import data_dir
from memory.store import migrations
from memory.store.database import DEFAULT_TITLE, INTERRUPTED, Store


def test_conversation_lifecycle(store: Store) -> None:
    conv = store.create_conversation()
    assert conv.title == DEFAULT_TITLE
    store.rename_conversation(conv.id, "  Trip   to\nLisbon ")
    assert store.conversation(conv.id).title == "Trip to Lisbon"
    store.add_message(conv.id, "user", "hi")
    store.delete_conversation(conv.id)
    assert store.conversations() == []
    assert store.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    with pytest.raises(Store.DoesNotExist):
        store.conversation(conv.id)


def test_conversations_sorted_by_last_activity(store: Store) -> None:
    a = store.create_conversation("a")
    b = store.create_conversation("b")
    store.add_message(a.id, "user", "later")
    assert [c.title for c in store.conversations()] == ["a", "b"]
    assert b.id != a.id


def test_messages_round_trip_any_text(store: Store) -> None:
    conv = store.create_conversation()
    text = "emoji 🎉, RTL שלום, combining e\u0301, <b>html</b>, tab\t"
    message = store.add_message(conv.id, "user", text)
    assert store.messages(conv.id)[0].content == text
    store.update_message(message.id, content="changed", status="stopped")
    assert store.message(message.id).status == "stopped"
    with pytest.raises(ValueError):
        store.update_message(message.id, role="assistant")


def test_streaming_reply_left_by_a_crash_is_marked_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    first = Store(path)
    conv = first.create_conversation()
    first.add_message(conv.id, "assistant", "half a rep", status="streaming")
    first.conn.close()  # no clean shutdown
    second = Store(path)
    assert second.recovered == 1
    [message] = second.messages(conv.id)
    assert (message.status, message.content) == (INTERRUPTED, "half a rep")
    assert second.integrity_ok()


def test_migrations_are_recorded_and_not_rerun(tmp_path: Path) -> None:
    s = Store(tmp_path / "m.db")
    assert migrations.apply(s.conn) == []
    names = [r[0] for r in s.conn.execute("SELECT name FROM _migrations")]
    assert names == [name for name, _ in migrations.MIGRATIONS]


def test_failing_migration_rolls_back(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)

    def broken(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE half (x)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrations.apply(conn, [("001_broken", broken)])
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half" not in tables
    assert conn.execute("SELECT count(*) FROM _migrations").fetchone()[0] == 0


def test_store_uses_wal_and_private_file(tmp_path: Path) -> None:
    s = Store(tmp_path / "w.db")
    assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(os.stat(s.path).st_mode) == 0o600


def test_data_dir_is_private_and_overridable(memoir_home: Path) -> None:
    path = data_dir()
    assert path == memoir_home
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
