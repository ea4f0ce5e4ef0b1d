"""The core wired once: the one door the app, ``--self-test`` and every benchmark go through.

An :class:`Assistant` holds the store, the chat service, the preferences and their prompt block, and
— once the memory is open — recall with the user's edit phrases and the learned reranker, and the
edit learner. Answering and reflecting go through its methods, so a benchmark that calls them
measures exactly what the app does (before, each wired these parts itself, and some left the edit
phrases out). Operations say what they changed (:class:`Changes`, as Anki's operations do), so the
window refreshes what changed, once, instead of reloading its lists.

Not thread-safe by itself: the app calls reply and reflection on its model lane, storage on its io
lane, and attaches the memory from its index lane, as ``app/controller.py`` documents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

from memory.answering.chat import ChatService, ReplyResult
from memory.answering.recall_service import Recall
from memory.llm.engine import ChatModel
from memory.preferences.cipher import Cipher
from memory.preferences.preference_store import PreferenceStore
from memory.preferences.prompt_block import PreferencePrompt
from memory.reflection.jobs import ReflectionJobs
from memory.reflection.plan import Stats
from memory.reflection.prospective import reflector
from memory.retrieval.service import MemoryService
from memory.runtime.settings import Settings
from memory.store.database import Conversation, Message, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Changes:
    """What an operation changed, for the views that show it."""

    conversations: bool = False  # the list: one added, renamed or retitled, deleted
    messages: frozenset[int] = frozenset()  # conversations whose messages changed
    memories: bool = False  # memory items (added, merged, edited, forgotten)
    preferences: bool = False  # preferences proposed, learned or edited

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.conversations or other.conversations,
            self.messages | other.messages,
            self.memories or other.memories,
            self.preferences or other.preferences,
        )


@dataclass
class ReflectionPass:
    """What one pass over the queued reflection jobs did."""

    done: int = 0
    parked: list[str] = field(default_factory=list)  # errors of jobs given up on in this pass
    gave_way: bool = False  # stopped for the user; the rest runs later
    stats: list[Stats] = field(default_factory=list)  # of each job done, in order

    @property
    def changes(self) -> Changes:
        return Changes(memories=self.done > 0, preferences=self.done > 0)


class Answering(TypedDict):
    recall: Recall | None
    memories: int
    preferences: PreferencePrompt


class Assistant:
    def __init__(self, store: Store, seed: int | None = None) -> None:
        self.store = store
        self.chat = ChatService(store)
        self.preferences = PreferenceStore(store)
        self.pref_prompt = PreferencePrompt(self.preferences, None)  # relevance once embeddings are up
        self.memory: MemoryService | None = None
        self.recall: Recall | None = None  # owns the reranker: used from the model lane only
        self.cipher: Cipher | None = None
        self._seed = seed

    # Memory --------------------------------------------------------------------------------

    def attach(self, memory: MemoryService) -> None:
        """Answer with ``memory`` from now on: recall with the user's edit phrases, the reranker
        read back from SQLite, and the preferences block ranked by relevance."""
        cipher = Cipher(memory.store, memory.embedder, self.preferences)
        recall = Recall(memory, edits=cipher.phrases_for, seed=self._seed)
        self.memory, self.recall, self.cipher = memory, recall, cipher
        self.pref_prompt.embedder = memory.embedder

    def detach(self) -> MemoryService | None:
        """Answer without memories (while the memory is reopened); returns the memory to close."""
        memory, self.memory, self.recall, self.cipher = self.memory, None, None, None
        return memory

    # Conversations -------------------------------------------------------------------------

    def send(self, conversation_id: int | None, text: str) -> tuple[Conversation, Message, Changes]:
        """Store the user's message (in a new conversation if ``conversation_id`` is None)."""
        conversation = (
            self.store.create_conversation()
            if conversation_id is None
            else self.store.conversation(conversation_id)
        )
        message = self.chat.send(conversation.id, text)
        # the list shows conversations by their last activity, so it changes with every message too
        return conversation, message, Changes(conversations=True, messages=frozenset({conversation.id}))

    def delete_conversation(self, conversation_id: int) -> list[int]:
        """Delete it with its memories, those of other conversations that held its words included,
        and queue those other conversations to be reflected on again; returns their ids."""
        others = self.store.delete_conversation(conversation_id)
        if self.memory is not None:  # otherwise their words stay in their turns, unreflected
            jobs = self.jobs()
            for other in others:
                jobs.reflect_again(other)
        return others

    def reply(
        self,
        conversation_id: int,
        model: ChatModel,
        settings: Settings,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        on_started: Callable[[Message], None] = lambda _m: None,
        on_text: Callable[[int, str], None] = lambda _i, _t: None,
    ) -> ReplyResult:
        """The reply to the conversation's last message, with memories and standing preferences
        as the settings say (model lane)."""
        return self.chat.reply(
            conversation_id,
            model,
            settings,
            should_stop=should_stop,
            on_started=on_started,
            on_text=on_text,
            **self._answering(settings),
        )

    def read_ahead(
        self,
        conversation_id: int,
        draft: str,
        model: ChatModel,
        settings: Settings,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> int:
        """While the user types ``draft``: its memories chosen and the prompt before its words
        evaluated, so that sending it as it stands answers sooner (model lane). Tokens cached."""
        return self.chat.read_ahead(
            conversation_id, draft, model, settings, should_stop=should_stop, **self._answering(settings)
        )

    def _answering(self, settings: Settings) -> Answering:
        """What a reply (or a read-ahead for one) answers with: memories and standing preferences
        as the settings say."""
        recall = self.recall if settings.memories_per_answer > 0 else None
        if recall is not None:
            recall.learning = settings.learn_from_citations
        return Answering(recall=recall, memories=settings.memories_per_answer, preferences=self.pref_prompt)

    # Reflection ----------------------------------------------------------------------------

    def jobs(self, auto_accept_preferences: bool = False) -> ReflectionJobs:
        assert self.memory is not None, "reflection needs the memory open"
        return ReflectionJobs(self.store, self.memory.items, auto_accept_preferences)

    def reflect_pending(
        self,
        model: ChatModel,
        settings: Settings,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[int, int], None] = lambda _done, _total: None,
        after_job: Callable[[], object] = lambda: None,
    ) -> ReflectionPass:
        """Run queued reflection jobs until none is left or ``should_stop`` (model lane). A failing
        job is recorded on itself (retried, then parked) and the pass goes on."""
        assert self.memory is not None, "reflection needs the memory open"
        memory, jobs = self.memory, self.jobs(settings.auto_accept_preferences)
        total, outcome = jobs.pending_count(), ReflectionPass()
        while not should_stop() and (job := jobs.next_pending()) is not None:
            on_progress(outcome.done + 1, max(total, outcome.done + 1))
            try:
                stats = jobs.run(job, reflector(model, memory.retriever), should_stop)
            except Exception:
                log.warning("reflection job %s failed", job.id, exc_info=True)
                outcome.parked += [j.last_error or "" for j in jobs.parked() if j.id == job.id]
                continue
            if stats is None:
                outcome.gave_way = True
                break
            outcome.done += 1
            outcome.stats.append(stats)
            after_job()
        return outcome
