"""The vector index in a child process of its own, behind the same methods as :class:`VectorIndex`.

Why: chromadb's Rust bindings hold Python's GIL for the whole of each write (a 64-vector upsert takes
~0.1 s here, often 0.2–0.4 s as a collection grows). In the app's process that froze the window for as
long — its GUI thread runs Python to paint. A child process has its own GIL; the app only sends the
vectors down a pipe. The pipe carries our own objects between our own processes, never stored data.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from memory.embed.minilm import Vectors
from memory.index.vector_index import OpenReport, VectorIndex
from memory.runtime import network_guard
from memory.runtime.offline import enforce_offline
from memory.store.items import MemoryItem

log = logging.getLogger(__name__)


class IndexProcessError(RuntimeError):
    """The index process stopped or could not start; the SQLite data is untouched."""


LOCK_WAIT_S = 30.0


def _hold_folder(path: Path, wait_s: float) -> Any:
    """An exclusive lock on the index folder, held until this process exits.

    After a kill -9 of the app, its index process finishes the write in hand before it sees the
    pipe close; an app restarted in that moment must not open the same Chroma files alongside it.
    The lock goes with the process that holds it, however it ends. (POSIX only: Windows has no
    fcntl, and there the folder is not locked.)
    """
    try:
        import fcntl
    except ImportError:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    # beside the folder, not in it: a damaged index folder is moved aside and made anew
    handle = path.with_name(path.name + ".lock").open("a")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise IndexProcessError(
                    f"the search index in {path} is still in use by another Memoir process"
                ) from None
            time.sleep(0.05)


def _serve(conn: Connection, path: Path, embedder_name: str, dimension: int, wait_s: float) -> None:
    """The child: open the index, report how, then answer calls until told to close."""
    enforce_offline()  # chromadb is imported here too: the same switches and the same guard as the app
    network_guard.install()
    try:
        _lock = _hold_folder(path, wait_s)
        index = VectorIndex(path, embedder_name, dimension)
    except Exception as exc:  # sent up as it is: the parent raises it
        conn.send(("error", exc))
        return
    conn.send(("ok", index.report))
    while True:
        try:
            name, args = conn.recv()
        except EOFError:  # the app went away
            break
        if name == "close":
            index.close()
            conn.send(("ok", None))
            break
        try:
            conn.send(("ok", getattr(index, name)(*args)))
        except Exception as exc:
            conn.send(("error", exc))


class IndexProcess:
    """A :class:`VectorIndex` run in a child process; safe to call from several threads."""

    def __init__(
        self, path: Path, embedder_name: str, dimension: int, lock_wait_s: float = LOCK_WAIT_S
    ) -> None:
        self.path = path
        self.embedder_name = embedder_name
        self.dimension = dimension
        self._lock = threading.Lock()
        context = multiprocessing.get_context("spawn")  # never fork a process that runs Qt threads
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child, path, embedder_name, dimension, lock_wait_s),
            name="memoir-index",
            daemon=True,
        )
        self._process.start()
        child.close()
        self.report: OpenReport = self._answer()

    def _answer(self) -> Any:
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise IndexProcessError(
                f"the search index process stopped (exit code {self._process.exitcode})"
            ) from exc
        if status == "error":
            raise value
        return value

    def _call(self, name: str, *args: Any) -> Any:
        with self._lock:
            try:
                self._conn.send((name, args))
            except (BrokenPipeError, OSError) as exc:
                raise IndexProcessError("the search index process is not running") from exc
            return self._answer()

    @property
    def needs_rebuild(self) -> bool:
        return bool(self.report.reason)

    def reset(self) -> None:
        self._call("reset")

    def compact(self) -> None:
        self._call("compact")

    def wipe(self) -> None:
        self._call("wipe")

    def upsert(self, items: list[MemoryItem], vectors: Vectors) -> None:
        if items:
            self._call("upsert", items, np.asarray(vectors, dtype=np.float32))

    def delete(self, ids: list[int]) -> None:
        if ids:
            self._call("delete", ids)

    def query(self, vector: Vectors, k: int, where: dict[str, Any] | None = None) -> list[tuple[int, float]]:
        result: list[tuple[int, float]] = self._call("query", vector, k, where)
        return result

    def vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        result: dict[int, np.ndarray] = self._call("vectors", ids) if ids else {}
        return result

    def count(self) -> int:
        return int(self._call("count"))

    def ids(self) -> set[int]:
        result: set[int] = self._call("ids")
        return result

    def close(self) -> None:
        with self._lock:
            if self._process.is_alive():
                try:
                    self._conn.send(("close", ()))
                    self._answer()
                except (OSError, EOFError, IndexProcessError):
                    pass
            self._process.join(timeout=10)
            if self._process.is_alive():
                log.warning("the search index process did not stop; terminating it")
                self._process.terminate()
                self._process.join(timeout=5)
            self._conn.close()
