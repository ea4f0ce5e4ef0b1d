"""GUI responsiveness: the longest event-loop stall while Memoir streams, reflects, indexes and imports.

A 5 ms heartbeat timer runs on the GUI thread of the real window; a stall is how much later than
5 ms a beat came. Each scenario drives the app the way a user would (the real SmolLM2 model; real
MiniLM, Chroma and SQLite), through the window and its controller:

- streaming: a long reply;
- reflecting: Remember Now on a 12-turn conversation;
- indexing: start-up with 10,000 turns that are not yet searchable (embedded at start);
- importing: Memory → Import of an export with 10,000 messages, then its indexing.

Goal: no stall above 50 ms. Prints numbers only (JSON with --json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app import dialogs  # noqa: E402
from app.controller import ChatController, ModelState  # noqa: E402
from app.first_paint import when_first_view_drawn  # noqa: E402
from app.gc import GarbageCollector  # noqa: E402
from app.main import start_loading  # noqa: E402
from app.window import MainWindow  # noqa: E402
from memory.retrieval.service import open_memory  # noqa: E402
from memory.runtime.settings import Settings, SettingsStore  # noqa: E402
from memory.store.database import Store  # noqa: E402
from memory.store.export import export_all  # noqa: E402

BEAT_MS = 5
TURNS = [
    "I am a nurse and I work night shifts at the city hospital.",
    "That sounds demanding. How do you rest during the day?",
    "My sister Ana lives in Lisbon and she visits every summer.",
    "I grow tomatoes and basil on my balcony.",
    "I am learning Portuguese so I can talk with Ana's kids.",
    "I prefer short answers with examples.",
]


class Heartbeat:
    """Beats every 5 ms on the GUI thread; remembers how late each beat was."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(BEAT_MS)
        self.timer.timeout.connect(self._beat)
        self.late_ms: list[float] = []
        self.at_s: list[float] = []  # when each beat came, from the start of the measurement
        self._last = self._started = 0.0

    def _beat(self) -> None:
        now = time.perf_counter()
        self.late_ms.append(max(0.0, (now - self._last) * 1000 - BEAT_MS))
        self.at_s.append(now - self._started)
        self._last = now

    def measure(self, action: Callable[[], None], done: Callable[[], bool], timeout: float) -> dict[str, Any]:
        """Start the heartbeat, run ``action``, spin the event loop until ``done``; the stalls seen."""
        self.late_ms.clear()
        self.at_s.clear()
        self._last = self._started = time.perf_counter()
        self.timer.start()
        started = time.perf_counter()
        action()
        wait(done, timeout)
        seconds = time.perf_counter() - started
        self.timer.stop()
        late = sorted(self.late_ms[1:]) or [0.0]
        worst = max(range(1, len(self.late_ms)), key=self.late_ms.__getitem__, default=0)
        return {
            "longest_stall_at_s": round(self.at_s[worst], 1) if self.at_s else 0.0,
            "seconds": round(seconds, 1),
            "beats": len(late),
            "longest_stall_ms": round(late[-1], 1),
            "p99_stall_ms": round(late[int(0.99 * (len(late) - 1))], 1),
            "median_stall_ms": round(statistics.median(late), 2),
            "finished": done(),
        }


def wait(condition: Callable[[], bool], timeout: float) -> None:
    """Run the real event loop until ``condition`` holds.

    The condition is polled on a thread of its own: it reads SQLite, and on the GUI thread it would
    wait for the store's lock behind the very work being measured (the app never does that).
    """
    met = threading.Event()
    deadline = time.monotonic() + timeout

    def poll() -> None:
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.1)
        met.set()

    threading.Thread(target=poll, daemon=True).start()
    loop = QEventLoop()
    check = QTimer()
    check.timeout.connect(lambda: met.is_set() and loop.quit())
    check.start(50)
    loop.exec()
    check.stop()


def open_app(home: Path) -> tuple[MainWindow, ChatController]:
    home.mkdir(parents=True, exist_ok=True)
    settings = SettingsStore(home / "settings.json")
    settings.save(Settings(n_ctx=4096, max_tokens=300, temperature=0.7))
    store = Store(home / "memoir.db")
    controller = ChatController(store, settings, memory_factory=lambda busy: open_memory(home, store, busy))
    window = MainWindow(controller)
    window.show()
    when_first_view_drawn(window, lambda: start_loading(controller))  # as app.main does
    return window, controller


def ready(controller: ChatController) -> bool:
    return controller.state == ModelState.READY and controller.memory is not None


def indexed(controller: ChatController) -> bool:
    memory = controller.memory
    return memory is not None and not memory.items.pending_index(1)


def streaming_and_reflecting(heart: Heartbeat, home: Path) -> dict[str, Any]:
    window, controller = open_app(home)
    wait(lambda: ready(controller) and indexed(controller), 120)
    results: dict[str, Any] = {}
    replies: list[Any] = []
    controller.reply_finished.connect(replies.append)
    results["streaming"] = heart.measure(
        lambda: window.send("Write a long story about a dragon who learns to bake bread."),
        lambda: len(replies) == 1,
        180,
    )
    for n, text in enumerate(TURNS):  # a conversation to reflect on (not measured)
        window.send(text)
        wait(lambda n=n: len(replies) == n + 2, 180)
    pending = "SELECT count(*) AS n FROM reflection_jobs WHERE status = 'pending'"
    progress: list[str] = []
    controller.reflection_progressed.connect(progress.append)
    results["reflecting"] = heart.measure(
        window.remember_action.trigger,
        lambda: progress[-1:] == [""] and not controller.store.query(pending)[0]["n"],
        300,
    )
    controller.shutdown(window.current_id)
    window.close()
    return results


def fill_unindexed(home: Path, messages: int) -> None:
    """A data folder whose SQLite holds ``messages`` messages that were never made searchable."""
    home.mkdir(parents=True, exist_ok=True)
    store = Store(home / "memoir.db")
    with store.transaction() as conn:
        for c in range(messages // 10):
            conversation = conn.execute(
                "INSERT INTO conversations (title, created_at, updated_at)"
                " VALUES (?, '2026-01-01', '2026-01-01')",
                (f"Old conversation {c}",),
            ).lastrowid
            for m in range(10):
                role = "user" if m % 2 == 0 else "assistant"
                text = f"{TURNS[(c + m) % len(TURNS)]} (conversation {c}, turn {m})"
                conn.execute(
                    "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'complete', '2026-01-01', '2026-01-01')",
                    (conversation, role, text),
                )
    store.close()


def indexing(heart: Heartbeat, home: Path, messages: int) -> dict[str, Any]:
    fill_unindexed(home, messages)
    window, controller = open_app(home)  # start-up: the memory backfills and embeds them all
    result = heart.measure(lambda: None, lambda: ready(controller) and indexed(controller), 900)
    result["items"] = controller.memory.items.count() if controller.memory else 0
    controller.shutdown(window.current_id)
    window.close()
    return result


def importing(heart: Heartbeat, home: Path, source: Path, messages: int) -> dict[str, Any]:
    export = source / "export.zip"
    fill_unindexed(source, messages)
    store = Store(source / "memoir.db")
    export_all(store, export)
    store.close()
    window, controller = open_app(home)
    wait(lambda: ready(controller) and indexed(controller), 120)
    dialogs.open_path = lambda *_a, **_k: str(export)  # the user picks the file and confirms
    dialogs.confirm = lambda *_a, **_k: True

    def imported_and_searchable() -> bool:
        count = "SELECT count(*) AS n FROM memory_items WHERE kind = 'turn'"
        return controller.store.query(count)[0]["n"] >= messages and indexed(controller)

    result = heart.measure(window.memory_actions.import_file, imported_and_searchable, 900)
    controller.shutdown(window.current_id)
    window.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    _collector = GarbageCollector(app)  # as the app does: Qt objects are freed on this thread only
    heart = Heartbeat()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="memoir-stall-") as tmp:
        root = Path(tmp)
        results.update(streaming_and_reflecting(heart, root / "chat"))
        results["indexing"] = indexing(heart, root / "index", args.messages)
        results["importing"] = importing(heart, root / "import", root / "source", args.messages)
    results["goal_ms"] = 50
    if args.json:
        print(json.dumps(results))
    else:
        for name, r in results.items():
            if isinstance(r, dict):
                print(
                    f"{name:10s} longest stall {r['longest_stall_ms']:6.1f} ms"
                    f"  p99 {r['p99_stall_ms']:5.1f} ms"
                    f"  median {r['median_stall_ms']:4.2f} ms  over {r['seconds']} s ({r['beats']} beats)"
                    + ("" if r["finished"] else "  [timed out]")
                )
    del app
    sys.stdout.flush()
    return 0  # normal finalization, as the app (see app.main.leave)


if __name__ == "__main__":
    sys.exit(main())
