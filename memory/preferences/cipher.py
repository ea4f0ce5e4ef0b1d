"""Learning from the user's edits of replies (CIPHER, Gao et al. 2024).

Each edit is stored as (context, original reply, edited reply); the model reads a short preference
phrase into it, stored with the context's embedding and proposed as a preference. When answering, the
phrases of the k nearest past contexts are given to the model with the message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memory.embed.minilm import Embedder
from memory.llm.engine import ChatModel
from memory.llm.repetition import stub_or_loop
from memory.preferences.preference_store import PreferenceStore, normal
from memory.runtime.resources import prompt
from memory.runtime.text import fence_safe, fill
from memory.store.database import Store, now

NEAREST = 5
NEAR_ENOUGH = 0.5  # MiniLM cosine: a past context this alike counts as "a similar request"
PHRASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"preference": {"type": "string", "maxLength": 120}},
    "required": ["preference"],
}


class Cipher:
    def __init__(self, store: Store, embedder: Embedder, preferences: PreferenceStore) -> None:
        self.store = store
        self.embedder = embedder
        self.preferences = preferences

    def learn(
        self,
        message_id: int,
        context: str,
        original: str,
        edited: str,
        model: ChatModel,
        auto_accept: bool = False,
    ) -> str:
        """Store the edit and the phrase the model reads into it, and propose it; returns the phrase."""
        text = fill(
            prompt("cipher"),
            context=fence_safe(context),
            original=fence_safe(original),
            edited=fence_safe(edited),
        )
        answer = model.complete_json([{"role": "user", "content": text}], PHRASE_SCHEMA, max_tokens=80)
        phrase = normal(str(answer.get("preference", ""))) if isinstance(answer, dict) else ""
        if stub_or_loop(phrase, min_words=2):
            phrase = ""
        vector = np.asarray(self.embedder.embed([context])[0], dtype=np.float32)
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO reply_edits (message_id, context, original, edited, phrase, vector, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (message_id, context, original, edited, phrase, vector.tobytes(), now()),
            )
        if phrase:
            self.preferences.propose(phrase, "style", "edit", [message_id], 0.5, auto_accept)
        return phrase

    def phrases_for(self, context: str, k: int = NEAREST) -> list[str]:
        """Preference phrases of the k most similar past contexts (at least NEAR_ENOUGH alike)."""
        rows = self.store.query(
            "SELECT phrase, vector FROM reply_edits WHERE phrase != '' AND vector IS NOT NULL"
        )
        if not rows:
            return []
        query = np.asarray(self.embedder.embed([context])[0], dtype=np.float32)
        scored = []
        for row in rows:
            vector = np.frombuffer(row["vector"], dtype=np.float32)
            if vector.shape == query.shape:
                scored.append((float(vector @ query), row["phrase"]))
        scored.sort(key=lambda s: -s[0])
        blocked = {p.text.casefold() for p in self.preferences.all(("rejected", "deleted", "disabled"))}
        found: list[str] = []
        for similarity, phrase in scored[:k]:
            if similarity >= NEAR_ENOUGH and phrase.casefold() not in blocked and phrase not in found:
                found.append(phrase)
        return found
