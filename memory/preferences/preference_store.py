"""Preferences: what the user wants from their assistant, with consent and history.

Learned preferences arrive as *proposed*; the user accepts (possibly after editing), rejects (and a
rejected preference is never proposed again), disables, pins or deletes. What the user wrote or
edited is authoritative: learning never changes it, it may only propose a replacement. "Never
remember" rules block any proposal that mentions their words.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from memory.store.database import Store, now

CATEGORIES = ("style", "format", "topics", "facts about me", "people", "other")
ORIGINS = {"chat": "stated in chat", "edit": "learned from an edit", "user": "written by you"}
VISIBLE = ("proposed", "active", "disabled")


@dataclass(frozen=True)
class Preference:
    id: int
    text: str
    category: str
    origin: str
    status: str
    pinned: bool
    confidence: float
    evidence: tuple[int, ...]
    replaces: int | None
    user_written: bool
    created_at: str
    updated_at: str


def _pref(row: dict[str, Any]) -> Preference:
    return Preference(
        row["id"],
        row["text"],
        row["category"],
        row["origin"],
        row["status"],
        bool(row["pinned"]),
        float(row["confidence"]),
        tuple(json.loads(row["evidence"])),
        row["replaces"],
        bool(row["user_written"]),
        row["created_at"],
        row["updated_at"],
    )


def normal(text: str) -> str:
    return " ".join(text.split()).strip()


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


class PreferenceStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    # Reading --------------------------------------------------------------------------------

    def all(self, statuses: tuple[str, ...] = VISIBLE) -> list[Preference]:
        marks = ",".join("?" * len(statuses))
        rows = self.store.query(
            f"SELECT * FROM preferences WHERE status IN ({marks}) ORDER BY pinned DESC, id", statuses
        )
        return [_pref(r) for r in rows]

    def get(self, pref_id: int) -> Preference:
        rows = self.store.query("SELECT * FROM preferences WHERE id = ?", (pref_id,))
        if not rows:
            raise LookupError(f"preference {pref_id} no longer exists")
        return _pref(rows[0])

    def active(self) -> list[Preference]:
        return self.all(("active",))

    def version(self) -> str:
        """Changes whenever any preference does (the prompt's standing block is rebuilt then)."""
        row = self.store.query("SELECT count(*) AS n, max(updated_at) AS t FROM preferences")[0]
        return f"{row['n']}:{row['t']}"

    def history(self, pref_id: int) -> list[dict[str, Any]]:
        return self.store.query(
            "SELECT text, replaced_at, reason FROM preference_versions WHERE preference_id = ?"
            " ORDER BY id DESC",
            (pref_id,),
        )

    # The user's own changes -------------------------------------------------------------------

    def add(self, text: str, category: str = "other", pinned: bool = False) -> int:
        text = normal(text)
        if not text:
            raise ValueError("A preference cannot be empty.")
        with self.store.transaction() as conn:
            return self._insert(conn, text, category, "user", "active", [], 1.0, None, True, pinned)

    def edit(self, pref_id: int, text: str, reason: str = "edited by you") -> None:
        text = normal(text)
        if not text:
            raise ValueError("A preference cannot be empty; delete it instead.")
        with self.store.transaction() as conn:
            self._set_text(conn, pref_id, text, reason)

    def set_category(self, pref_id: int, category: str) -> None:
        self._update(pref_id, category=category)

    def set_enabled(self, pref_id: int, enabled: bool) -> None:
        self._update(pref_id, status="active" if enabled else "disabled")

    def set_pinned(self, pref_id: int, pinned: bool) -> None:
        self._update(pref_id, pinned=int(pinned))

    def delete(self, pref_id: int) -> str:
        """Mark deleted; returns the previous status, for undo."""
        previous = self.get(pref_id).status
        self._update(pref_id, status="deleted")
        return previous

    def restore(self, pref_id: int, status: str) -> None:
        self._update(pref_id, status=status)

    # Consent ---------------------------------------------------------------------------------

    def accept(self, pref_id: int, text: str | None = None) -> None:
        """Accept a proposal (edited first if ``text``); a proposed replacement updates its target."""
        proposal = self.get(pref_id)
        with self.store.transaction() as conn:
            if text is not None and normal(text) and normal(text) != proposal.text:
                self._set_text(conn, pref_id, normal(text), "edited before accepting")
                proposal = dataclasses.replace(proposal, text=normal(text))
            if proposal.replaces is not None:
                self._set_text(conn, proposal.replaces, proposal.text, "replaced by an accepted proposal")
                conn.execute(
                    "UPDATE preferences SET status = 'deleted', updated_at = ? WHERE id = ?", (now(), pref_id)
                )
            else:
                conn.execute(
                    "UPDATE preferences SET status = 'active', updated_at = ? WHERE id = ?", (now(), pref_id)
                )

    def reject(self, pref_id: int) -> None:
        self._update(pref_id, status="rejected")

    # Learning -----------------------------------------------------------------------------------

    def propose(
        self,
        text: str,
        category: str,
        origin: str,
        evidence: list[int],
        confidence: float = 0.5,
        auto_accept: bool = False,
        conn: sqlite3.Connection | None = None,
    ) -> int | None:
        """A learned preference, unless blocked, rejected before, or already known. Returns its id."""
        text = normal(text)
        if not text or self.blocked(text):
            return None
        if conn is None:
            with self.store.transaction() as own:
                return self._propose(own, text, category, origin, evidence, confidence, auto_accept)
        return self._propose(conn, text, category, origin, evidence, confidence, auto_accept)

    def _propose(
        self,
        conn: sqlite3.Connection,
        text: str,
        category: str,
        origin: str,
        evidence: list[int],
        confidence: float,
        auto_accept: bool,
    ) -> int | None:
        key = _key(text)
        for row in conn.execute("SELECT id, text, status, user_written FROM preferences"):
            if _key(row[1]) == key:
                return None  # known: proposed, active, rejected (never again) or deleted
        category = category if category in CATEGORIES else "other"
        status = "active" if auto_accept else "proposed"
        return self._insert(conn, text, category, origin, status, evidence, confidence, None, False, False)

    def propose_change(self, target: int, text: str, evidence: list[int], origin: str = "chat") -> int | None:
        """Learning's only way to touch a user-written preference: a proposal the user must accept."""
        text = normal(text)
        if not text or self.blocked(text):
            return None
        with self.store.transaction() as conn:
            return self._insert(
                conn, text, self.get(target).category, origin, "proposed", evidence, 0.5, target, False, False
            )

    # Never-remember rules --------------------------------------------------------------------------

    def rules(self) -> list[str]:
        return [r["text"] for r in self.store.query("SELECT text FROM never_rules ORDER BY id")]

    def add_rule(self, text: str) -> None:
        text = normal(text)
        if text:
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO never_rules (text, created_at) VALUES (?, ?)", (text, now())
                )

    def remove_rule(self, text: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM never_rules WHERE text = ?", (text,))

    def set_rules(self, rules: list[str]) -> None:
        """Replace the "never remember" rules with ``rules`` (blank ones ignored)."""
        wanted = {normal(r) for r in rules if normal(r)}
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM never_rules")
            conn.executemany(
                "INSERT INTO never_rules (text, created_at) VALUES (?, ?)",
                [(r, now()) for r in sorted(wanted)],
            )

    def blocked(self, text: str) -> bool:
        """True if ``text`` mentions any "never remember" rule (whole words, any case)."""
        folded = text.casefold()
        return any(re.search(rf"\b{re.escape(rule.casefold())}\b", folded) for rule in self.rules())

    # Internals ---------------------------------------------------------------------------------

    def _insert(
        self,
        conn: sqlite3.Connection,
        text: str,
        category: str,
        origin: str,
        status: str,
        evidence: list[int],
        confidence: float,
        replaces: int | None,
        user_written: bool,
        pinned: bool,
    ) -> int:
        stamp = now()
        cursor = conn.execute(
            "INSERT INTO preferences (text, category, origin, status, pinned, confidence, evidence, replaces,"
            " user_written, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                text,
                category,
                origin,
                status,
                int(pinned),
                confidence,
                json.dumps(evidence),
                replaces,
                int(user_written),
                stamp,
                stamp,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _set_text(self, conn: sqlite3.Connection, pref_id: int, text: str, reason: str) -> None:
        row = conn.execute("SELECT text FROM preferences WHERE id = ?", (pref_id,)).fetchone()
        if row is None:
            raise LookupError(f"preference {pref_id} no longer exists")
        if row[0] == text:
            return
        conn.execute(
            "INSERT INTO preference_versions (preference_id, text, replaced_at, reason) VALUES (?, ?, ?, ?)",
            (pref_id, row[0], now(), reason),
        )
        conn.execute(
            "UPDATE preferences SET text = ?, user_written = 1, updated_at = ? WHERE id = ?",
            (text, now(), pref_id),
        )

    def _update(self, pref_id: int, **values: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        with self.store.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE preferences SET {sets}, updated_at = ? WHERE id = ?",
                (*values.values(), now(), pref_id),
            )
            if cursor.rowcount == 0:
                raise LookupError(f"preference {pref_id} no longer exists")
