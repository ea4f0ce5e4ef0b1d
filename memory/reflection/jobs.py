"""Durable reflection jobs: queued in SQLite, resumed after a crash, applied atomically, parked
after repeated failure with the error kept for the user to see."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from memory.llm.engine import Interrupted
from memory.preferences.preference_store import PreferenceStore
from memory.reflection.plan import Plan, Stats
from memory.reflection.prospective import Reflector
from memory.store.database import Message, Store, now
from memory.store.items import TOPIC, ItemStore
from memory.store.sources import USER

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
REFLECTABLE = ("complete", "stopped", "interrupted", "cut off")
_MARKS = ", ".join("?" * len(REFLECTABLE))


@dataclass(frozen=True)
class Job:
    id: int
    conversation_id: int
    upto_message_id: int
    status: str
    attempts: int
    last_error: str | None


class ReflectionJobs:
    def __init__(self, store: Store, items: ItemStore, auto_accept: bool = False) -> None:
        self.auto_accept = auto_accept  # learned preferences become active without asking
        self.store = store
        self.items = items

    def reflected_upto(self, conversation_id: int) -> int:
        rows = self.store.query(
            "SELECT reflected_upto FROM reflection_state WHERE conversation_id = ?", (conversation_id,)
        )
        return int(rows[0]["reflected_upto"]) if rows else 0

    def enqueue(self, conversation_id: int) -> Job | None:
        """Queue the conversation's unreflected turns; extends a pending job instead of adding one."""
        rows = self.store.query(
            f"SELECT max(id) AS last FROM messages WHERE conversation_id = ? AND status IN ({_MARKS})",
            (conversation_id, *REFLECTABLE),
        )
        last = rows[0]["last"] if rows else None
        if last is None or last <= self.reflected_upto(conversation_id):
            return None
        stamp = now()
        with self.store.transaction() as conn:
            pending = conn.execute(
                "SELECT id FROM reflection_jobs WHERE conversation_id = ? AND status = 'pending'",
                (conversation_id,),
            ).fetchone()
            if pending:
                conn.execute(
                    "UPDATE reflection_jobs SET upto_message_id = ?, updated_at = ? WHERE id = ?",
                    (last, stamp, pending[0]),
                )
            else:
                conn.execute(
                    "INSERT INTO reflection_jobs (conversation_id, upto_message_id, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?)",
                    (conversation_id, last, stamp, stamp),
                )
        return self.next_pending(conversation_id)

    def reflect_again(self, conversation_id: int) -> Job | None:
        """Queue all of the conversation's turns again (after memories that held its words were
        deleted with another conversation): repeats of what is still known only add sources."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM reflection_state WHERE conversation_id = ?", (conversation_id,))
        return self.enqueue(conversation_id)

    def next_pending(self, conversation_id: int | None = None) -> Job | None:
        where = "status = 'pending'" + (" AND conversation_id = ?" if conversation_id is not None else "")
        params: tuple[Any, ...] = (conversation_id,) if conversation_id is not None else ()
        rows = self.store.query(f"SELECT * FROM reflection_jobs WHERE {where} ORDER BY id LIMIT 1", params)
        return Job(**{k: rows[0][k] for k in Job.__dataclass_fields__}) if rows else None

    def parked(self) -> list[Job]:
        rows = self.store.query("SELECT * FROM reflection_jobs WHERE status = 'parked' ORDER BY id")
        return [Job(**{k: r[k] for k in Job.__dataclass_fields__}) for r in rows]

    def pending_count(self) -> int:
        return int(
            self.store.query("SELECT count(*) AS n FROM reflection_jobs WHERE status = 'pending'")[0]["n"]
        )

    def messages_for(self, job: Job) -> list[Message]:
        rows = self.store.query(
            "SELECT * FROM messages WHERE conversation_id = ? AND id > ? AND id <= ?"
            f" AND status IN ({_MARKS})"
            " ORDER BY id",
            (
                job.conversation_id,
                self.reflected_upto(job.conversation_id),
                job.upto_message_id,
                *REFLECTABLE,
            ),
        )
        return [Message(**r) for r in rows]

    def run(self, job: Job, reflector: Reflector, should_stop: Any = lambda: False) -> Stats | None:
        """Reflect on the job's turns and apply the result. None if it gave way to the user."""
        try:
            plan = reflector.plan(self.messages_for(job), should_stop)
        except Interrupted:
            return None  # still pending; not a failure
        except Exception as exc:  # a model or parse failure: retried, then parked with its error
            self._failed(job, exc)
            raise
        self.apply(job, plan)
        return plan.stats

    def apply(self, job: Job, plan: Plan) -> None:
        """Write adds, merges (old text kept as a version), proposed preferences, the watermark and
        the job's end at once."""
        stamp = now()
        occurred = self._last_time(job)
        preferences = PreferenceStore(self.store)
        with self.store.transaction() as conn:
            for text, category, evidence in plan.preferences:
                preferences.propose(text, category, "chat", evidence, 0.5, self.auto_accept, conn=conn)
            # merged into a memory the user forgot meanwhile: what was merged in is added alone
            gone = {t for t in plan.merges if not self._exists(conn, t)}
            missing = [part for t in gone for part in plan.merges[t].parts]
            for memory in [*plan.adds, *missing]:
                cursor = conn.execute(
                    "INSERT INTO memory_items (kind, text, index_text, embed_text, conversation_id,"
                    " message_ids, occurred_at, created_at, updated_at, source)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        TOPIC,
                        memory.summary,
                        memory.summary,
                        memory.summary,
                        job.conversation_id,
                        json.dumps(memory.message_ids),
                        occurred,
                        stamp,
                        stamp,
                        memory.source,
                    ),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO memory_item_messages (item_id, message_id) VALUES (?, ?)",
                    [(cursor.lastrowid, m) for m in memory.message_ids],
                )
            for target, memory in plan.merges.items():
                if target not in gone:
                    self._merge(conn, target, memory, stamp)
            conn.execute(
                "INSERT INTO reflection_state (conversation_id, reflected_upto) VALUES (?, ?)"
                " ON CONFLICT(conversation_id) DO UPDATE"
                " SET reflected_upto = max(reflected_upto, excluded.reflected_upto)",
                (job.conversation_id, job.upto_message_id),
            )
            conn.execute(
                "UPDATE reflection_jobs SET status = 'done', updated_at = ? WHERE id = ?", (stamp, job.id)
            )

    @staticmethod
    def _merge(conn: Any, target: int, memory: Any, stamp: str) -> None:
        row = conn.execute(
            "SELECT text, message_ids, source FROM memory_items WHERE id = ?", (target,)
        ).fetchone()
        if row[0] != memory.summary:  # a repeat only adds sources: no text to keep
            reason = "joined with more of your words" if memory.source == USER else "merged by reflection"
            conn.execute(
                "INSERT INTO memory_versions (item_id, text, message_ids, replaced_at, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                (target, row[0], row[1], stamp, reason),
            )
        refs = sorted({*json.loads(row[1]), *memory.message_ids})
        # new text is the model's, or the user's words joined; a repeat keeps whose words they were,
        # unless it is the user's own sentence: then a summary that copied it word for word is theirs
        repeat = row[0] == memory.summary
        source = row[2] if repeat and memory.source != USER else memory.source
        conn.execute(
            "UPDATE memory_items SET text = ?, index_text = ?, embed_text = ?, message_ids = ?,"
            " updated_at = ?, indexed_hash = NULL, source = ? WHERE id = ?",
            (memory.summary, memory.summary, memory.summary, json.dumps(refs), stamp, source, target),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO memory_item_messages (item_id, message_id) VALUES (?, ?)",
            [(target, m) for m in memory.message_ids],
        )

    @staticmethod
    def _exists(conn: Any, item_id: int) -> bool:
        """Still there and not forgotten (a forgotten memory waits for its purge; merged into, it
        would take what was merged in with it, or bring the forgotten words back on Undo)."""
        row = conn.execute("SELECT 1 FROM memory_items WHERE id = ? AND status = 'active'", (item_id,))
        return row.fetchone() is not None

    def _last_time(self, job: Job) -> str:
        rows = self.store.query("SELECT created_at FROM messages WHERE id = ?", (job.upto_message_id,))
        return rows[0]["created_at"] if rows else datetime.now(UTC).isoformat()

    def _failed(self, job: Job, exc: BaseException) -> None:
        attempts = job.attempts + 1
        status = "parked" if attempts >= MAX_ATTEMPTS else "pending"
        log.warning("reflection job %s failed (%s/%s): %s", job.id, attempts, MAX_ATTEMPTS, exc)
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE reflection_jobs SET attempts = ?, status = ?, last_error = ?, updated_at = ?"
                " WHERE id = ?",
                (attempts, status, f"{type(exc).__name__}: {exc}"[:500], now(), job.id),
            )

    def versions(self, item_id: int) -> list[dict[str, Any]]:
        return self.store.query("SELECT * FROM memory_versions WHERE item_id = ? ORDER BY id", (item_id,))
