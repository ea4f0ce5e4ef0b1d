"""Broken parts under a running app: a full disk, a database locked by another program, a database
that can't be opened. Each gives a clear message, and nothing typed or stored is lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app import dialogs
from app.controller import ModelState
from app.main import open_store
from app.window import MainWindow
from tests.fake_model import FakeChatModel
from tests.gui import make_window

FIRST = "This one is saved before anything breaks."
TYPED = "A message typed while the disk is in trouble, " * 100


@pytest.fixture
def window(qtbot: QtBot, memoir_home: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    w = make_window(qtbot, memoir_home, FakeChatModel(["Noted."]))
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY)
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000):
        w.send(FIRST)
    return w


def send_and_expect_refusal(qtbot: QtBot, w: MainWindow, warnings: list[str], reason: str) -> None:
    w.composer.setPlainText(TYPED)
    with qtbot.waitSignal(w.controller.not_sent, timeout=10000):
        w.send_button.click()
    assert w.composer.toPlainText() == TYPED, "the unsaved message must be given back"
    assert warnings and reason in warnings[-1] and "nothing was lost" in warnings[-1]


def contents(w: MainWindow) -> list[str]:
    assert w.current_id is not None
    return [m.content for m in w.controller.store.messages(w.current_id)]


def test_a_full_disk_gives_the_message_back_and_keeps_what_was_stored(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(dialogs, "warn", lambda _p, _t, text: warnings.append(text))
    conn = window.controller.store.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the database may not grow: a full disk
    send_and_expect_refusal(qtbot, window, warnings, "full")
    assert contents(window) == [FIRST, "Noted."]
    conn.execute("PRAGMA max_page_count = 1073741823")  # space freed: the same text goes through
    with qtbot.waitSignal(window.controller.reply_finished, timeout=5000):
        window.send_button.click()
    assert contents(window)[-2] == TYPED and window.composer.toPlainText() == ""
    assert window.controller.store.integrity_ok()
    window.controller.shutdown()


def test_a_database_locked_by_another_program_gives_the_message_back(
    qtbot: QtBot, window: MainWindow, memoir_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(dialogs, "warn", lambda _p, _t, text: warnings.append(text))
    window.controller.store.conn.execute("PRAGMA busy_timeout = 200")  # don't wait the full 5 s here
    other = sqlite3.connect(memoir_home / "memoir.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # e.g. a backup tool or a sqlite3 shell holding a write lock
    try:
        send_and_expect_refusal(qtbot, window, warnings, "locked")
    finally:
        other.execute("ROLLBACK")
        other.close()
    with qtbot.waitSignal(window.controller.reply_finished, timeout=5000):
        window.send_button.click()
    assert contents(window) == [FIRST, "Noted.", TYPED, "Noted."]
    window.controller.shutdown()


def test_text_typed_after_a_failed_send_is_kept_too(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dialogs, "warn", lambda _p, _t, _text: None)
    conn = window.controller.store.conn
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    window.composer.setPlainText(TYPED)
    window.send_button.click()
    window.composer.setPlainText("and more")  # typed before the failure came back
    qtbot.waitUntil(lambda: window.composer.toPlainText().startswith(TYPED), timeout=10000)
    assert window.composer.toPlainText() == f"{TYPED}\nand more"
    window.controller.shutdown()


@pytest.mark.parametrize("damage", ["garbage", "folder", "truncated header"])
def test_a_database_that_cannot_be_opened_is_explained_and_left_alone(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "memoir.db"
    if damage == "garbage":
        path.write_bytes(b"\x13\x37" * 4096)
    elif damage == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 84)
    before = path.read_bytes() if path.is_file() else None
    problem = open_store(path)
    assert isinstance(problem, str)
    assert str(path) in problem and "Nothing was changed" in problem
    if before is not None:
        assert path.read_bytes() == before  # kept exactly as it was, to be rescued


def test_a_database_that_turns_read_only_gives_the_message_back(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(dialogs, "warn", lambda _p, _t, text: warnings.append(text))
    conn = window.controller.store.conn
    conn.execute("PRAGMA query_only = ON")  # writes now fail as on a read-only file or mount
    send_and_expect_refusal(qtbot, window, warnings, "readonly")
    conn.execute("PRAGMA query_only = OFF")
    assert contents(window) == [FIRST, "Noted."]
    window.controller.shutdown()


def test_a_read_only_database_file_is_explained_and_left_alone(tmp_path: Path) -> None:
    """File modes don't bind root (these tests may run as root); the immutable flag does."""
    import os
    import shutil
    import subprocess

    from memory.store.database import Store

    path = tmp_path / "memoir.db"
    store = Store(path)
    store.add_message(store.create_conversation("Kept").id, "user", "still here")
    store.close()
    before = path.read_bytes()
    chattr = shutil.which("chattr")
    if chattr and not subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode:
        try:
            problem = open_store(path)
        finally:
            subprocess.run([chattr, "-i", str(path)], check=True)
    elif os.geteuid() != 0:  # a normal user: the file's mode is enough
        path.chmod(0o400)
        problem = open_store(path)
    else:
        pytest.skip("root without chattr +i here: no way to make the file read-only")
    assert isinstance(problem, str)
    assert "readonly" in problem and "Nothing was changed" in problem
    assert path.read_bytes() == before


class FailingCommit:
    """The store's connection, except that the COMMIT of the next new message fails as SQLite would
    say it (other lanes' writes, e.g. indexing, commit as usual)."""

    def __init__(self, conn: sqlite3.Connection, error: str) -> None:
        self._conn = conn
        self.error: str | None = error
        self._armed = False

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.startswith("INSERT INTO messages") and self.error is not None:
            self._armed = True
        if sql == "COMMIT" and self._armed:
            error, self.error, self._armed = self.error or "", None, False
            raise sqlite3.OperationalError(error)
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


@pytest.mark.parametrize("error", ["database or disk is full", "database is locked"])
def test_a_failed_commit_rolls_back_and_the_store_stays_usable(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(dialogs, "warn", lambda _p, _t, text: warnings.append(text))
    store = window.controller.store
    real = store.db.conn
    store.db.conn = FailingCommit(real, error)  # type: ignore[assignment]
    window.composer.setPlainText(TYPED)
    with qtbot.waitSignal(window.controller.not_sent, timeout=10000):
        window.send_button.click()
    assert window.composer.toPlainText() == TYPED, "the unsaved message must be given back"
    # Before the fix the connection stayed inside the transaction for good. Another lane (indexing)
    # may hold a transaction of its own for a moment on the same connection, so wait it out.
    qtbot.waitUntil(lambda: not real.in_transaction, timeout=3000)
    assert contents(window) == [FIRST, "Noted."]
    with qtbot.waitSignal(window.controller.reply_finished, timeout=5000):
        window.send_button.click()  # the next write goes through on the same connection
    assert contents(window)[-2] == TYPED
    store.db.conn = real
    window.controller.shutdown()


def test_deleted_text_is_overwritten_in_the_database_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even on an SQLite built with secure_delete off (python.org's macOS and Windows builds)."""
    from memory.store.database import Store

    real_connect = sqlite3.connect

    def built_with_secure_delete_off(*args: object, **kwargs: object) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)  # type: ignore[call-overload]
        conn.execute("PRAGMA secure_delete = OFF")
        return conn

    monkeypatch.setattr(sqlite3, "connect", built_with_secure_delete_off)
    store = Store(tmp_path / "memoir.db")
    assert store.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    secret = "my bank PIN is 8126, do not tell anyone"
    conversation = store.create_conversation("Secret")
    store.add_message(conversation.id, "user", secret)
    store.delete_conversation(conversation.id)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    for path in tmp_path.iterdir():
        assert secret.encode() not in path.read_bytes(), path.name
