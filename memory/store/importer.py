"""Reading, checking and applying a Memoir export (see ``memory/store/export.py`` for the format).

Conversations and memories carry uids, so importing the same file twice adds nothing the second time.
Everything is applied in one transaction: a malformed file, a cancel or a crash changes nothing.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from typing import Any

from memory.store import sources
from memory.store.database import Store
from memory.store.export import (
    MEMORY_FIELDS,
    MESSAGE_FIELDS,
    PREFERENCE_FIELDS,
    Cancelled,
    Progress,
    TransferProblem,
)
from memory.store.import_preview import Preview, preview, require

log = logging.getLogger(__name__)


def apply(store: Store, data: dict[str, Any], progress: Progress = lambda _d, _t: True) -> Preview:
    """Import ``data`` in one transaction; returns what was added. A file that validation let
    through but that does not fit (a wrong type deep inside) is refused whole, like any other."""
    try:
        return _apply(store, data, progress)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError, sqlite3.Error) as exc:
        log.info("import refused, rolled back: %s", type(exc).__name__)  # no content in logs
        raise TransferProblem(
            f"This export is malformed ({type(exc).__name__} while importing). Nothing was imported."
        ) from exc


def _apply(store: Store, data: dict[str, Any], progress: Progress) -> Preview:
    added = preview(store, data)
    total = len(data["conversations"]) + len(data["memories"])
    with store.transaction() as conn:
        refs: dict[int, int] = {}  # message ref -> id here
        conv_ids: dict[str, int] = {}
        for n, conv in enumerate(data["conversations"], 1):
            _check(progress, n, total)
            _conversation(conn, conv, refs, conv_ids)
        items: dict[str, int] = {}
        for n, item in enumerate(data["memories"], len(data["conversations"]) + 1):
            _check(progress, n, total)
            _memory(conn, item, refs, conv_ids, items)
        _replies(conn, data, refs, items)
        _reranker(conn, data.get("reranker"))
        _preferences(conn, data.get("preferences"), refs)
    return added


def _check(progress: Progress, done: int, total: int) -> None:
    if not progress(done, total):
        raise Cancelled()


def _conversation(conn: Any, conv: dict[str, Any], refs: dict[int, int], conv_ids: dict[str, int]) -> None:
    row = conn.execute("SELECT id FROM conversations WHERE uid = ?", (conv["uid"],)).fetchone()
    if row is not None:  # already here: map its messages by position, add nothing
        conv_ids[conv["uid"]] = row[0]
        here = [
            r[0]
            for r in conn.execute("SELECT id FROM messages WHERE conversation_id = ? ORDER BY id", (row[0],))
        ]
        refs.update(zip((m["ref"] for m in conv["messages"]), here, strict=False))
        return
    cursor = conn.execute(
        "INSERT INTO conversations (uid, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
        (conv["uid"], conv["title"], conv["created_at"], conv["updated_at"]),
    )
    conv_ids[conv["uid"]] = cursor.lastrowid
    for m in conv["messages"]:
        cursor = conn.execute(
            f"INSERT INTO messages (conversation_id, {', '.join(MESSAGE_FIELDS)})"
            f" VALUES (?{', ?' * len(MESSAGE_FIELDS)})",
            (conv_ids[conv["uid"]], *(m.get(f) for f in MESSAGE_FIELDS)),
        )
        refs[m["ref"]] = cursor.lastrowid


def _field(conn: Any, item: dict[str, Any], name: str, message_ids: list[int]) -> Any:
    if name in ("index_text", "embed_text"):
        return item.get(name) or ""
    if name == "source" and item.get("source") not in sources.SOURCES:
        return _source_of(conn, item, message_ids)  # an export from before sources were kept
    return item.get(name)


def _source_of(conn: Any, item: dict[str, Any], message_ids: list[int]) -> str:
    """Whose words an imported memory holds, told as migration 009 tells it for stored ones."""
    if item.get("kind") != "turn":
        return sources.EDIT if item.get("user_edited") else sources.REFLECTION
    row = (
        conn.execute("SELECT role FROM messages WHERE id = ?", (message_ids[0],)).fetchone()
        if message_ids
        else None
    )
    role = row[0] if row else ("assistant" if str(item.get("speaker", "")).lower() == "assistant" else "user")
    return sources.of_turn(role, str(item.get("text", "")))


def _memory(
    conn: Any, item: dict[str, Any], refs: dict[int, int], conv_ids: dict[str, int], items: dict[str, int]
) -> None:
    row = conn.execute("SELECT id FROM memory_items WHERE uid = ?", (item["uid"],)).fetchone()
    if row is not None:
        items[item["uid"]] = row[0]
        return
    message_ids = [refs[r] for r in item["messages"] if r in refs]
    cursor = conn.execute(
        "INSERT INTO memory_items (uid, conversation_id, message_ids, user_edited, "
        f"{', '.join(MEMORY_FIELDS)})"
        f" VALUES (?, ?, ?, ?{', ?' * len(MEMORY_FIELDS)})",
        (
            item["uid"],
            conv_ids.get(item.get("conversation") or ""),
            json.dumps(message_ids),
            int(bool(item.get("user_edited"))),
            *(_field(conn, item, f, message_ids) for f in MEMORY_FIELDS),
        ),
    )
    item_id = cursor.lastrowid
    items[item["uid"]] = item_id
    if not item.get("index_text") or not item.get("embed_text"):
        conn.execute("UPDATE memory_items SET index_text = text WHERE id = ? AND index_text = ''", (item_id,))
        conn.execute("UPDATE memory_items SET embed_text = text WHERE id = ? AND embed_text = ''", (item_id,))
    conn.executemany(
        "INSERT OR IGNORE INTO memory_item_messages (item_id, message_id) VALUES (?, ?)",
        [(item_id, m) for m in message_ids],
    )
    for v in item["versions"]:
        conn.execute(
            "INSERT INTO memory_versions (item_id, text, message_ids, replaced_at, reason)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                item_id,
                str(v.get("text", "")),
                json.dumps([refs[r] for r in v.get("messages", []) if r in refs]),
                str(v.get("replaced_at", "")),
                str(v.get("reason", "")),
            ),
        )


def _replies(conn: Any, data: dict[str, Any], refs: dict[int, int], items: dict[str, int]) -> None:
    for r in data["recollections"]:
        if r.get("message") not in refs:
            continue
        candidates = [[items[u], s] for u, s in r.get("candidates", []) if u in items]
        shown = [items[u] for u in r.get("shown", []) if u in items]
        conn.execute(
            "INSERT OR IGNORE INTO recollections VALUES (?, ?, ?, ?, ?, ?)",
            (
                refs[r["message"]],
                str(r.get("query", "")),
                str(r.get("block", "")),
                json.dumps(candidates),
                json.dumps(shown),
                str(r.get("created_at", "")),
            ),
        )
    for r in data["receipts"]:
        if r.get("reply") not in refs:
            continue
        conn.execute(
            "INSERT OR IGNORE INTO receipts (reply_id, position, item_id, kind, text, cited, feedback,"
            " source, how) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                refs[r["reply"]],
                r["position"],
                items.get(r.get("memory") or ""),
                str(r.get("kind", "")),
                str(r.get("text", "")),
                r.get("cited"),
                r.get("feedback"),
                r.get("source") if r.get("source") in sources.SOURCES else None,
                str(r.get("how") or ""),
            ),
        )
    for r in data["reflected"]:
        conv = conn.execute("SELECT id FROM conversations WHERE uid = ?", (r.get("conversation"),)).fetchone()
        if conv is not None and r.get("upto") in refs:
            conn.execute("INSERT OR IGNORE INTO reflection_state VALUES (?, ?)", (conv[0], refs[r["upto"]]))


def _reranker(conn: Any, weights: dict[str, Any] | None) -> None:
    """The imported ranking is taken only if this store has learned none of its own."""
    if not weights or conn.execute("SELECT 1 FROM reranker").fetchone():
        return
    try:
        w_q, w_m = base64.b64decode(weights["w_q"]), base64.b64decode(weights["w_m"])
        dimension = int(weights["dimension"])
    except (KeyError, ValueError, TypeError) as exc:
        raise TransferProblem(
            f"This export's memory ranking is damaged ({exc}). Nothing was imported."
        ) from exc
    conn.execute(
        "INSERT INTO reranker VALUES (1, ?, ?, ?, ?, ?, ?)",
        (
            int(weights.get("version", 1)),
            dimension,
            w_q,
            w_m,
            int(weights.get("updates", 0)),
            str(weights.get("updated_at", "")),
        ),
    )
    features = weights.get("features")
    if features:
        try:
            row = (
                json.dumps(list(features["names"])),
                *(base64.b64decode(features[k]) for k in ("theta", "first_moment", "second_moment")),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise TransferProblem(
                f"This export's memory ranking is damaged ({exc}). Nothing was imported."
            ) from exc
        conn.execute("INSERT OR REPLACE INTO reranker_features VALUES (1, ?, ?, ?, ?)", row)


def _preferences(conn: Any, data: Any, refs: dict[int, int]) -> None:
    """Preferences not already here (by uid), their versions, rules and reply edits."""
    if not isinstance(data, dict):
        return
    ids: dict[str, int] = {r[1]: r[0] for r in conn.execute("SELECT id, uid FROM preferences")}
    added: list[tuple[int, dict[str, Any]]] = []
    for p in data.get("items", []):
        require(
            isinstance(p, dict) and isinstance(p.get("uid"), str) and isinstance(p.get("text"), str),
            "a preference lacks its text",
        )
        if p["uid"] in ids:
            continue
        evidence = [refs[r] for r in p.get("evidence", []) if r in refs]
        cursor = conn.execute(
            f"INSERT INTO preferences (uid, evidence, {', '.join(PREFERENCE_FIELDS)})"
            f" VALUES (?, ?{', ?' * len(PREFERENCE_FIELDS)})",
            (p["uid"], json.dumps(evidence), *(p.get(f) for f in PREFERENCE_FIELDS)),
        )
        ids[p["uid"]] = cursor.lastrowid
        added.append((cursor.lastrowid, p))
    for pref_id, p in added:
        if p.get("replaces") in ids:
            conn.execute("UPDATE preferences SET replaces = ? WHERE id = ?", (ids[p["replaces"]], pref_id))
        for v in p.get("versions", []):
            conn.execute(
                "INSERT INTO preference_versions (preference_id, text, replaced_at, reason)"
                " VALUES (?, ?, ?, ?)",
                (pref_id, str(v.get("text", "")), str(v.get("replaced_at", "")), str(v.get("reason", ""))),
            )
    for rule in data.get("never", []):
        conn.execute(
            "INSERT OR IGNORE INTO never_rules (text, created_at) VALUES (?, datetime('now'))", (str(rule),)
        )
    known = {(r[0], r[1]) for r in conn.execute("SELECT context, edited FROM reply_edits")}
    for e in data.get("edits", []):
        if not isinstance(e, dict) or (e.get("context"), e.get("edited")) in known:
            continue
        vector = base64.b64decode(e["vector"]) if e.get("vector") else None
        conn.execute(
            "INSERT INTO reply_edits (message_id, context, original, edited, phrase, vector, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                refs.get(int(e.get("message") or 0)),
                str(e.get("context", "")),
                str(e.get("original", "")),
                str(e.get("edited", "")),
                str(e.get("phrase", "")),
                vector,
                str(e.get("created_at", "")),
            ),
        )
