"""Export everything to one documented file (read back by ``memory/store/importer.py``).

The export is a zip: ``memoir-export.json`` (the data; format below), one Markdown file per
conversation for reading, and ``README.txt``. Writing goes to a temporary file renamed into place, and
an import runs in one transaction, so a cancel or a crash never leaves half of either.

Format "memoir-export", version 1: ``conversations`` (each with a ``uid`` and its ``messages``, every
message with a ``ref`` unique in the file), ``memories`` (``uid``, kind, text, the conversation uid and
message refs it comes from, its earlier ``versions``), ``recollections`` and ``receipts`` (what replies
were given and cited, by message ref and memory uid), ``reflected`` (how far each conversation was
reflected on), ``reranker`` (weights as base64 float32, its feature weights as base64 float64),
``preferences`` (items with versions and evidence refs, "never remember" rules, and reply edits with
their context vectors) and ``settings``.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory.store.database import Store, now

FORMAT, VERSION = "memoir-export", 1
DATA_NAME = "memoir-export.json"
MESSAGE_FIELDS = (
    "role",
    "content",
    "status",
    "created_at",
    "updated_at",
    "model",
    "tokens",
    "tokens_per_second",
)
MEMORY_FIELDS = (
    "kind",
    "text",
    "index_text",
    "embed_text",
    "speaker",
    "occurred_at",
    "created_at",
    "updated_at",
    "status",
    "source",
)
Progress = Callable[[int, int], bool]  # (done, total) -> keep going?


class TransferProblem(Exception):
    """A file that cannot be imported, or an export that cannot be written; the text is for the user."""


class Cancelled(Exception):
    """The user cancelled; nothing was changed."""


def _check(progress: Progress, done: int, total: int) -> None:
    if not progress(done, total):
        raise Cancelled()


# Export --------------------------------------------------------------------------------------


def snapshot(store: Store, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything in the store as the export's JSON object."""
    q = store.query
    convs = q("SELECT id, uid, title, created_at, updated_at FROM conversations ORDER BY id")
    conv_uid = {c["id"]: c["uid"] for c in convs}
    messages: dict[int, list[dict[str, Any]]] = {}
    for m in q(f"SELECT id, conversation_id, {', '.join(MESSAGE_FIELDS)} FROM messages ORDER BY id"):
        messages.setdefault(m.pop("conversation_id"), []).append({"ref": m.pop("id"), **m})
    items = q(
        f"SELECT id, uid, conversation_id, message_ids, user_edited, {', '.join(MEMORY_FIELDS)}"
        " FROM memory_items ORDER BY id"
    )
    item_uid = {i["id"]: i["uid"] for i in items}
    versions: dict[int, list[dict[str, Any]]] = {}
    for v in q("SELECT item_id, text, message_ids, replaced_at, reason FROM memory_versions ORDER BY id"):
        versions.setdefault(v["item_id"], []).append(
            {
                "text": v["text"],
                "messages": json.loads(v["message_ids"]),
                "replaced_at": v["replaced_at"],
                "reason": v["reason"],
            }
        )
    memories = [
        {
            "uid": i["uid"],
            **{f: i[f] for f in MEMORY_FIELDS},
            "user_edited": bool(i["user_edited"]),
            "conversation": conv_uid.get(i["conversation_id"]),
            "messages": json.loads(i["message_ids"]),
            "versions": versions.get(i["id"], []),
        }
        for i in items
    ]
    recollections = [
        {
            "message": r["message_id"],
            "query": r["query"],
            "block": r["block"],
            "candidates": [[item_uid[i], s] for i, s in json.loads(r["candidates"]) if i in item_uid],
            "shown": [item_uid[i] for i in json.loads(r["shown"]) if i in item_uid],
            "created_at": r["created_at"],
        }
        for r in q("SELECT * FROM recollections ORDER BY message_id")
    ]
    receipts = [
        {
            "reply": r["reply_id"],
            "position": r["position"],
            "memory": item_uid.get(r["item_id"]),
            "kind": r["kind"],
            "text": r["text"],
            "cited": r["cited"],
            "feedback": r["feedback"],
            "source": r["source"],
            "how": r["how"],
        }
        for r in q("SELECT * FROM receipts ORDER BY reply_id, position")
    ]
    reflected = [
        {"conversation": conv_uid[r["conversation_id"]], "upto": r["reflected_upto"]}
        for r in q("SELECT conversation_id, reflected_upto FROM reflection_state ORDER BY conversation_id")
        if r["conversation_id"] in conv_uid
    ]
    weights = q("SELECT version, dimension, w_q, w_m, updates, updated_at FROM reranker WHERE id = 1")
    reranker = None
    if weights:
        w = weights[0]
        reranker = {
            **{k: w[k] for k in ("version", "dimension", "updates", "updated_at")},
            "w_q": base64.b64encode(w["w_q"]).decode("ascii"),
            "w_m": base64.b64encode(w["w_m"]).decode("ascii"),
        }
        for f in q("SELECT * FROM reranker_features WHERE id = 1"):
            reranker["features"] = {
                "names": json.loads(f["names"]),
                **{
                    k: base64.b64encode(f[k]).decode("ascii")
                    for k in ("theta", "first_moment", "second_moment")
                },
            }
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now(),
        "conversations": [
            {k: c[k] for k in ("uid", "title", "created_at", "updated_at")}
            | {"messages": messages.get(c["id"], [])}
            for c in convs
        ],
        "memories": memories,
        "recollections": recollections,
        "receipts": receipts,
        "reflected": reflected,
        "reranker": reranker,
        "preferences": _preferences(store),
        "settings": settings,
    }


PREFERENCE_FIELDS = (
    "text",
    "category",
    "origin",
    "status",
    "pinned",
    "confidence",
    "user_written",
    "created_at",
    "updated_at",
)


def _preferences(store: Store) -> dict[str, Any]:
    """Preferences with their versions (message evidence by ref), never-remember rules, reply edits."""
    q = store.query
    uid_of = {r["id"]: r["uid"] for r in q("SELECT id, uid FROM preferences")}
    versions: dict[int, list[dict[str, Any]]] = {}
    for v in q("SELECT preference_id, text, replaced_at, reason FROM preference_versions ORDER BY id"):
        versions.setdefault(v.pop("preference_id"), []).append(v)
    items = [
        {
            "uid": p["uid"],
            **{f: p[f] for f in PREFERENCE_FIELDS},
            "evidence": json.loads(p["evidence"]),
            "replaces": uid_of.get(p["replaces"]),
            "versions": versions.get(p["id"], []),
        }
        for p in q("SELECT * FROM preferences ORDER BY id")
    ]
    edits = [
        {**e, "vector": base64.b64encode(e["vector"]).decode("ascii") if e["vector"] else None}
        for e in q(
            "SELECT message_id AS message, context, original, edited, phrase, vector, created_at"
            " FROM reply_edits ORDER BY id"
        )
    ]
    return {
        "items": items,
        "never": [r["text"] for r in q("SELECT text FROM never_rules ORDER BY id")],
        "edits": edits,
    }


def export_all(
    store: Store, path: Path, settings: dict[str, Any] | None = None, progress: Progress = lambda _d, _t: True
) -> dict[str, int]:
    """Write the export zip to ``path`` (atomically); returns what it holds."""
    data = snapshot(store, settings)
    conversations = data["conversations"]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".memoir-export-", suffix=".zip", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(DATA_NAME, json.dumps(data, ensure_ascii=False, indent=1))
            archive.writestr("README.txt", README)
            for n, conv in enumerate(conversations, 1):
                _check(progress, n, len(conversations))
                archive.writestr(
                    f"conversations/{n:04d}.md", markdown(conv["title"], conv["created_at"], conv["messages"])
                )
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return {
        "conversations": len(conversations),
        "messages": sum(len(c["messages"]) for c in conversations),
        "memories": len(data["memories"]),
    }


def markdown(title: str, created_at: str, messages: list[dict[str, Any]]) -> str:
    """A conversation as Markdown, for reading or sharing."""
    lines = [f"# {title}", "", f"_Started {created_at[:16].replace('T', ' ')} UTC_", ""]
    for m in messages:
        who = "You" if m["role"] == "user" else f"Memoir ({m['model']})" if m.get("model") else "Memoir"
        note = "" if m["status"] == "complete" else f" — {m['status']}"
        lines += [f"**{who}** · {m['created_at'][:16].replace('T', ' ')}{note}", "", m["content"], ""]
    return "\n".join(lines)


def conversation_markdown(store: Store, conversation_id: int) -> str:
    conv = store.conversation(conversation_id)
    messages = [m.__dict__ for m in store.messages(conversation_id)]
    return markdown(conv.title, conv.created_at, messages)


README = """Memoir export (format "memoir-export", version 1)

memoir-export.json  everything: conversations and messages, memories with the messages they come from
                    and their earlier versions, which memories replies were given and cited, the
                    learned memory ranking, and settings. Import it in Memoir (File > Import...).
conversations/      each conversation as Markdown, for reading.
"""
