"""An export file read and checked before anything is imported, and what importing it would add.

Every problem is a :class:`TransferProblem` with a message for the user; nothing is changed here.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.store.database import Store
from memory.store.export import (
    DATA_NAME,
    FORMAT,
    VERSION,
    TransferProblem,
)

MAX_BYTES = 2 << 30  # refuse absurd files before reading them into memory


@dataclass
class Preview:
    conversations: int = 0  # new ones
    messages: int = 0
    memories: int = 0
    known_conversations: int = 0  # already here: skipped
    known_memories: int = 0

    def describe(self) -> str:
        parts = [
            f"{self.conversations} new conversation(s) with {self.messages} message(s)",
            f"{self.memories} new memorie(s)",
        ]
        if self.known_conversations or self.known_memories:
            parts.append(
                f"{self.known_conversations} conversation(s) and {self.known_memories} memorie(s)"
                " already here (skipped)"
            )
        return "; ".join(parts)


def read_export(path: Path) -> dict[str, Any]:
    """The export's data, checked; raises TransferProblem with a message for the user."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise TransferProblem(f"{path.name} is too large to be a Memoir export.")
        with zipfile.ZipFile(path) as archive:
            raw = archive.read(DATA_NAME)
        data = json.loads(raw.decode("utf-8"))
    except TransferProblem:
        raise
    except (zipfile.BadZipFile, KeyError) as exc:
        raise TransferProblem(f"{path.name} is not a Memoir export, or it is damaged ({exc}).") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, EOFError) as exc:
        raise TransferProblem(f"{path.name} could not be read ({exc}).") from exc
    validate(data)
    return data


def require(condition: bool, what: str) -> None:
    if not condition:
        raise TransferProblem(f"This export is malformed: {what}. Nothing was imported.")


def validate(data: Any) -> None:
    require(isinstance(data, dict) and data.get("format") == FORMAT, "it is not a Memoir export")
    require(isinstance(data.get("version"), int), "it has no format version")
    require(
        data["version"] <= VERSION,
        f"it is format version {data['version']}, newer than this Memoir reads ({VERSION})",
    )
    for key in ("conversations", "memories", "recollections", "receipts", "reflected"):
        require(isinstance(data.get(key), list), f"'{key}' is missing")
        require(all(isinstance(record, dict) for record in data[key]), f"'{key}' holds something else")
    refs: set[int] = set()
    for conv in data["conversations"]:
        require(isinstance(conv, dict) and isinstance(conv.get("uid"), str), "a conversation has no uid")
        require(
            all(isinstance(conv.get(k), str) for k in ("title", "created_at", "updated_at")),
            "a conversation lacks its title or dates",
        )
        require(isinstance(conv.get("messages"), list), "a conversation has no message list")
        for m in conv["messages"]:
            require(isinstance(m, dict) and isinstance(m.get("ref"), int), "a message has no ref")
            require(
                m["role"] in ("user", "assistant", "system") if "role" in m else False,
                "a message has no valid role",
            )
            require(
                all(isinstance(m.get(k), str) for k in ("content", "status", "created_at", "updated_at")),
                "a message lacks its text or dates",
            )
            require(m["ref"] not in refs, "two messages share a ref")
            refs.add(m["ref"])
    for item in data["memories"]:
        require(isinstance(item, dict) and isinstance(item.get("uid"), str), "a memory has no uid")
        require(
            all(
                isinstance(item.get(k), str)
                for k in ("kind", "text", "occurred_at", "created_at", "updated_at", "status")
            ),
            "a memory lacks its text or dates",
        )
        require(
            isinstance(item.get("messages"), list) and isinstance(item.get("versions"), list),
            "a memory lacks its sources or versions",
        )


def preview(store: Store, data: dict[str, Any]) -> Preview:
    known_convs = {r["uid"] for r in store.query("SELECT uid FROM conversations")}
    known_items = {r["uid"] for r in store.query("SELECT uid FROM memory_items")}
    result = Preview()
    for conv in data["conversations"]:
        if conv["uid"] in known_convs:
            result.known_conversations += 1
        else:
            result.conversations += 1
            result.messages += len(conv["messages"])
    for item in data["memories"]:
        if item["uid"] in known_items:
            result.known_memories += 1
        else:
            result.memories += 1
    return result
