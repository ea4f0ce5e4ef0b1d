"""Headless maintenance commands (``memoir index rebuild|check``)."""

from __future__ import annotations

import sys

from memory.retrieval.service import open_memory
from memory.runtime.paths import data_dir
from memory.runtime.settings import SettingsStore
from memory.store.database import Store


def index_command(action: str) -> int:
    home = data_dir()
    store = Store(home / "memoir.db")
    settings = SettingsStore(home / "settings.json").load()
    memory = open_memory(home, store, embedding_model=settings.embedding_model_path)
    try:
        if memory.index_problem:
            print(memory.index_problem, file=sys.stderr)
        added = memory.backfill()
        if action == "rebuild":
            total = memory.items.count()
            done = memory.indexer.rebuild(
                progress=lambda n: print(f"\rembedded {n}/{total}", end="", file=sys.stderr, flush=True)
            )
            print(f"\nindex rebuilt: {done} items embedded ({added} new turn items)", file=sys.stderr)
        else:
            report = memory.indexer.check()
            done = memory.indexer.sync()
            print(
                f"checked {report.sqlite_items} items: {report.missing} missing, {report.stale} stale;"
                f" {done} embedded",
                file=sys.stderr,
            )
        return 0
    finally:
        memory.close()
        store.close()
