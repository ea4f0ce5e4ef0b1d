"""The ``memoir`` command: the desktop app by default, or a headless self-test."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memory import __version__
from memory.runtime import network_guard
from memory.runtime.offline import enforce_offline
from memory.runtime.paths import restrict_new_files

if TYPE_CHECKING:
    from app.controller import ChatController
    from memory.store.database import Store


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="memoir", description="A private assistant that remembers you.")
    parser.add_argument("--model", type=Path, help="a GGUF chat model to use for this session")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run one real chat turn without a window, print JSON, exit 0 on success",
    )
    # for bench/bench_startup.py: print a line once the window is on screen, then quit
    parser.add_argument("--quit-when-shown", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"memoir {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    index = commands.add_parser("index", help="maintain the search index")
    index.add_argument(
        "action",
        choices=["rebuild", "check"],
        help="rebuild: re-embed everything from SQLite; check: repair drift",
    )
    bench = commands.add_parser("bench", help="measure Memoir's memory on a benchmark file")
    bench.add_argument("suite", choices=["locomo", "profile", "loop", "block"])
    bench.add_argument("--data", type=Path, required=True, help="a LoCoMo JSON or MSC profile JSONL file")
    bench.add_argument("--json", action="store_true", help="print JSON on stdout")
    bench.add_argument("--methods", default="bm25,dense,hybrid", help="locomo: comma-separated methods")
    bench.add_argument("--dump", type=Path, help="profile: write the scored items, one JSON line per episode")
    bench.add_argument("--raw-turns", action="store_true", help="profile: score raw user turns (the floor)")
    bench.add_argument(
        "--selector", default="", help="profile: score the self-disclosure selector alone at these thresholds"
    )
    bench.add_argument(
        "--limit", type=int, help="only the first N conversations or episodes (loop: questions per user)"
    )
    bench.add_argument("--split", default="all", help="all, tune or check (../shared/bench/README.md)")
    bench.add_argument("--out", type=Path, help="also write the JSON result to this file")
    bench.add_argument("--threads", type=int, default=0, help="loop: llama.cpp threads (0: every core)")
    bench.add_argument(
        "--only", default="", help="loop: only these conversation ids of the split (comma-separated)"
    )
    return parser.parse_args(argv)


def run_command(args: argparse.Namespace) -> int:
    if args.command == "bench" and args.suite == "profile":
        from memory.evaluation import profile

        return profile.main(
            args.data,
            args.json,
            args.dump,
            args.raw_turns,
            args.limit,
            args.model,
            args.split,
            args.out,
            args.selector,
        )
    if args.command == "bench" and args.suite == "block":
        from memory.evaluation import block_size

        return block_size.main(args.data, args.json, args.split, args.model, args.out)
    if args.command == "bench" and args.suite == "loop":
        from memory.evaluation import loop_run as loop

        return loop.main(
            args.data, args.json, args.split, args.limit, args.model, args.out, args.threads, args.only
        )
    if args.command == "bench":
        from memory.evaluation import turn_recall as locomo

        methods = [m for m in args.methods.split(",") if m]
        return locomo.main(args.data, methods, args.json, args.limit, args.model, args.split, args.out)
    from memory.assistant.cli import index_command

    return index_command(args.action)


def main(argv: list[str] | None = None) -> int:
    enforce_offline()  # before any library that might phone home is imported
    network_guard.install()  # and if one tries anyway, the connection is refused
    restrict_new_files()  # the user's data is theirs alone, whichever library writes it
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.self_test:
        from memory.assistant.selftest import main as self_test

        return self_test(args.model)
    if args.command:
        return run_command(args)
    return run_gui(args.model, args.quit_when_shown)


def run_gui(model_override: Path | None, quit_when_shown: bool = False) -> int:
    started = time.perf_counter()
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app import theme
    from app.controller import ChatController
    from app.first_paint import when_first_view_drawn
    from app.gc import GarbageCollector
    from app.resources import app_icon, stylesheet
    from app.welcome import WELCOMED, show_welcome
    from app.window import MainWindow
    from memory.retrieval.service import open_memory
    from memory.runtime.paths import data_dir
    from memory.runtime.settings import SettingsStore

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Memoir")
    app.setDesktopFileName("memoir")  # ties the window to memoir.desktop (its icon, on Wayland too)
    home = data_dir()
    lock = instance_lock(home)
    if lock is None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.information(
            None,
            "Memoir is already running",
            f"Memoir is already open with your data ({home}). Switch to its window; "
            "two copies at once could overwrite each other's changes.",
        )
        return 1
    collector = GarbageCollector(app)  # Qt objects must only ever be freed on this thread
    app.setWindowIcon(app_icon())
    looks = stylesheet()
    settings_store = SettingsStore(home / "settings.json")
    theme.choose(app, settings_store.load().appearance, looks)  # light or dark, as the system is
    store = open_store(home / "memoir.db")
    if isinstance(store, str):
        from app import dialogs

        dialogs.warn(None, "Memoir cannot open your data", store)
        lock.unlock()
        return 1
    controller = ChatController(
        store,
        settings_store,
        model_override=model_override,
        memory_factory=lambda busy: open_memory(
            home, store, busy, settings_store.load().embedding_model_path
        ),
    )
    ui_state = QSettings(str(home / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(controller, ui_state)
    theme.follow_system(app, looks, window.transcript.viewport().update)
    window.show()
    logging.getLogger(__name__).info("window shown after %.3f s", time.perf_counter() - started)
    if settings_store.problem:
        window.statusBar().showMessage(settings_store.problem, 15000)
    when_first_view_drawn(window, lambda: start_loading(controller))
    if not ui_state.value(WELCOMED, False, type=bool):  # the first start: say what Memoir keeps, and where
        ui_state.setValue(WELCOMED, True)
        QTimer.singleShot(0, lambda: show_welcome(window, controller))
    if quit_when_shown:
        QTimer.singleShot(0, lambda: (print("memoir: window shown", flush=True), app.quit()))
    try:
        code = app.exec()
    finally:
        controller.shutdown(window.current_id)
    del collector
    lock.unlock()
    return leave(code)


def start_loading(controller: ChatController) -> None:
    """Load the model and open the memory, in the background; the window is already usable."""
    controller.load_model()
    controller.open_memory()


def open_store(path: Path) -> Store | str:
    """The store at ``path``, or a message for the user saying why it can't be opened.

    Nothing is created over, moved or repaired here: a damaged or unreadable file stays exactly as
    it was, so that it can still be rescued.
    """
    import sqlite3

    from memory.store.database import Store

    try:
        return Store(path)
    except (sqlite3.Error, OSError) as exc:
        logging.getLogger(__name__).error("the database could not be opened: %s", type(exc).__name__)
        return (
            f"Memoir could not open your conversations in {path}:\n{exc}.\n\n"
            "Nothing was changed. If another program is using the file, close it. If the disk is full "
            "or read-only, free some space or fix its permissions. If the file is damaged, keep a copy "
            "of it before trying anything else. Then start Memoir again."
        )


def instance_lock(home: Path) -> Any:
    """A lock on the data directory held while the app runs, or None if another instance holds it.

    QLockFile records the holder's pid and host, so a lock left by a crashed instance is taken over.
    """
    from PySide6.QtCore import QLockFile

    home.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(home / "memoir.lock"))
    lock.setStaleLockTime(0)  # only a dead holder makes it stale, never its age
    return lock if lock.tryLock(200) else None


def leave(code: int) -> int:
    """The exit code, once everything is saved and closed; Python then finalizes normally.

    The app used to skip finalization (``os._exit``): "bool_dealloc: deallocating True or False"
    fired in the garbage collection at exit about one time in three. That is PySide6 6.12.0's
    reference bug — an invalid QVariant, and a ``True`` from a Python model, returned without a new
    reference (tests/unit/app/test_qt_binding.py checks any version for it) — and PySide6 is pinned below
    6.12. With 6.11.3, 14 runs finalized cleanly (whole offline sessions with the real model, window
    start-and-quit, and test-suite subsets), so nothing needs skipping; a crash there would now show.
    """
    logging.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
