"""How answering with memories is put together: one function, so that the app, the self-test and the
benchmarks answer through the same wiring (a benchmark measures what the app does)."""

from __future__ import annotations

from dataclasses import dataclass

from memory.answering.recall_service import Recall
from memory.preferences.cipher import Cipher
from memory.preferences.preference_store import PreferenceStore
from memory.preferences.prompt_block import PreferencePrompt
from memory.retrieval.service import MemoryService


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
