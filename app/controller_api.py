"""What the controller's helpers (memory_ops, preference_ops) may use of it,
declared apart so that none imports the controller back (no import circle)."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import SignalInstance

from app.conversations import Conversations
from app.lanes import Lanes
from memory.answering.chat import ChatService
from memory.llm.engine import ChatModel
from memory.preferences.cipher import Cipher
from memory.preferences.preference_store import PreferenceStore
from memory.retrieval.service import MemoryService
from memory.runtime.lane import SerialLane
from memory.runtime.settings import Settings
from memory.store.database import Store


class PreferencesReload(Protocol):
    def load(self, write_file: bool = False) -> None: ...


class Core(Protocol):
    """The controller as its helpers see it (:class:`app.controller.ChatController` is one)."""

    store: Store
    settings: Settings
    lanes: Lanes
    conversations: Conversations
    io_lane: SerialLane
    index_lane: SerialLane
    model_lane: SerialLane

    @property
    def model(self) -> ChatModel | None: ...
    @property
    def memory(self) -> MemoryService | None: ...
    @property
    def chat(self) -> ChatService: ...
    @property
    def cipher(self) -> Cipher | None: ...
    @property
    def preferences(self) -> PreferenceStore: ...
    @property
    def problem(self) -> SignalInstance: ...
    @property
    def message_added(self) -> SignalInstance: ...
    @property
    def preference_ops(self) -> PreferencesReload: ...

    def forget_states(self) -> None: ...
