"""How answering with memories is put together: one function, so that the app, the self-test and the
benchmarks answer through the same wiring (a benchmark measures what the app does)."""

from __future__ import annotations

from dataclasses import dataclass

from memory.cipher import Cipher
from memory.memory import MemoryService
from memory.pref_prompt import PreferencePrompt
from memory.preferences import PreferenceStore
from memory.recall import Recall


@dataclass
class Answering:
    recall: Recall  # memories for a reply, receipts, attribution and the learned reranker
    cipher: Cipher  # preferences learned from the user's edits of replies
    preferences: PreferencePrompt  # the standing preferences block


def answering(memory: MemoryService, preferences: PreferenceStore, seed: int | None = None) -> Answering:
    """Recall with the user's edit phrases, and the preference prompt, over ``memory``."""
    cipher = Cipher(memory.store, memory.embedder, preferences)
    recall = Recall(memory, edits=cipher.phrases_for, seed=seed)
    return Answering(recall, cipher, PreferencePrompt(preferences, memory.embedder))
