"""A whole Memoir session under a network audit hook; prints what it saw as JSON (run by test_privacy).

It runs in its own process because an audit hook can never be removed. The session goes through the
app's own controller and window with the real model: start-up, two chats, reflection, a recalled answer
with receipts, export, import preview, index rebuild, shutdown. Every socket event is recorded.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

NETWORK_EVENTS = {
    "socket.__new__",
    "socket.bind",
    "socket.connect",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "socket.getnameinfo",
    "socket.sendto",
    "socket.sendmsg",
    "http.client.connect",
    "urllib.Request",
}
EVENTS: list[list[str]] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event in NETWORK_EVENTS:
        EVENTS.append([event, repr(args[1:] if event.startswith("socket.") and args else args)[:200]])


sys.addaudithook(_hook)  # before anything else is imported

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.controller import ChatController, ModelState  # noqa: E402
from app.gc import GarbageCollector  # noqa: E402
from app.window import MainWindow  # noqa: E402
from memory.retrieval.service import open_memory  # noqa: E402
from memory.runtime import network_guard  # noqa: E402
from memory.runtime.offline import enforce_offline  # noqa: E402
from memory.runtime.paths import data_dir, restrict_new_files  # noqa: E402
from memory.runtime.settings import Settings, SettingsStore  # noqa: E402
from memory.store.database import Store  # noqa: E402


def wait_until(app: QApplication, condition: Any, timeout: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def chat(app: QApplication, controller: ChatController, conversation_id: int, text: str) -> Any:
    done: list[Any] = []
    controller.reply_finished.connect(done.append)
    controller.send(conversation_id, text)
    wait_until(app, lambda: bool(done), what=f"a reply to {text!r}")
    controller.reply_finished.disconnect(done.append)
    return done[0]


def new_conversation(app: QApplication, controller: ChatController) -> int:
    made: list[Any] = []
    controller.conversations.new(made.append)
    wait_until(app, lambda: bool(made), what="a new conversation")
    return int(made[0].id)


def session(app: QApplication, home: Path, export_to: Path) -> dict[str, Any]:
    steps: dict[str, Any] = {}
    settings = SettingsStore(home / "settings.json")
    settings.save(Settings(n_ctx=2048, max_tokens=40, temperature=0.0))
    store = Store(home / "memoir.db")
    # An audit hook sees only its own process: the index (Chroma) stays in this one to be audited too,
    # instead of the app's child process (same code, same offline environment, inherited).
    controller = ChatController(
        store, settings, memory_factory=lambda busy: open_memory(home, store, busy, index_process=False)
    )
    window = MainWindow(controller)
    window.show()
    controller.load_model()
    controller.open_memory()
    wait_until(
        app, lambda: controller.state == ModelState.READY and controller.memory is not None, what="start"
    )
    first = new_conversation(app, controller)
    chat(app, controller, first, "I am a nurse and I work night shifts at the city hospital.")
    chat(app, controller, first, "My sister Ana lives in Lisbon with her two cats.")
    progress: list[str] = []
    controller.reflection_progressed.connect(progress.append)
    controller.reflect(first)
    pending = "SELECT count(*) AS n FROM reflection_jobs WHERE status = 'pending'"
    wait_until(app, lambda: progress[-1:] == [""] and not store.query(pending)[0]["n"], what="reflection")
    steps["topics"] = store.query("SELECT count(*) AS n FROM memory_items WHERE kind = 'topic'")[0]["n"]
    second = new_conversation(app, controller)
    answer = chat(app, controller, second, "Where does my sister live?")
    steps["receipts"] = len(answer.receipts)
    exported: list[Any] = []
    controller.memory_ops.export_all(export_to, lambda _done, _total: True, exported.append)
    wait_until(app, lambda: bool(exported), what="export")
    steps["exported"] = exported[0]
    previewed: list[Any] = []
    controller.memory_ops.read_import(export_to, previewed.append)
    wait_until(app, lambda: bool(previewed), what="import preview")
    rebuilt: list[int] = []
    controller.memory_ops.rebuild_index(lambda _done, _total: True, rebuilt.append)
    wait_until(app, lambda: bool(rebuilt), what="index rebuild")
    steps["rebuilt"] = rebuilt[0]
    window.close()
    controller.shutdown(second)
    return steps


def loopback_control() -> None:
    """A connection the hook must see (proof that it records), to an address that is allowed."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())


def main() -> int:
    enforce_offline()
    network_guard.install()  # as app.main does: the whole session runs behind Memoir's own guard
    restrict_new_files()
    app = QApplication(sys.argv[:1])
    _collector = GarbageCollector(app)  # as the app does: Qt objects are freed on this thread only
    home = data_dir()
    steps = session(app, home, Path(os.environ["MEMOIR_EXPORT"]))
    seen_in_session = len(EVENTS)
    loopback_control()
    steps["events_in_session"] = seen_in_session
    print(json.dumps({"steps": steps, "events": EVENTS}, default=str), flush=True)
    return 0  # as the app does (app.main.leave): normal interpreter finalization


if __name__ == "__main__":
    sys.exit(main())
