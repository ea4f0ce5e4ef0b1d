"""Conversations with the model: saving turns durably and streaming replies into the store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from memory.answering import speaker_label
from memory.answering.memory_block import GUIDE
from memory.llm import repetition
from memory.llm.engine import ChatModel, GenerationStats, TemplateRefused
from memory.llm.prefill import ReadsAhead
from memory.llm.prompt import ContextOverflow, PromptPlan, Turn, plan_prompt
from memory.llm.server_engine import ServerLost
from memory.runtime.settings import Settings
from memory.runtime.text import clean_text, title_from
from memory.store.database import CUT_OFF, DEFAULT_TITLE, Message, Store

if TYPE_CHECKING:  # recall pulls in the memory service; chat works without it
    from memory.answering.recall_service import Recall
    from memory.answering.receipts import Receipt
    from memory.preferences.prompt_block import PreferencePrompt

log = logging.getLogger(__name__)

# How often a streaming reply is written to disk: a crash loses at most this much of it.
SAVE_INTERVAL = 0.25
# Message statuses that take part in later prompts.
IN_CONTEXT = {"complete", "stopped", "interrupted", "cut off"}
TOO_LONG = "too_long"


class ReplyRefused(Exception):
    """No reply was generated; the message is written for the user."""


@dataclass
class ReplyResult:
    message: Message
    stats: GenerationStats
    dropped_turns: int
    receipts: list[Receipt] = field(default_factory=list)
    recall_seconds: float = 0.0  # retrieval, reranking and the memory block, before the prompt
    prompt_seconds: float = 0.0  # assembling and tokenizing the prompt
    recall_problem: str | None = None


class ChatService:
    """The one place where user messages and model replies meet the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._first_turn: dict[int, int] = {}  # per conversation: where its prompt history starts

    def send(self, conversation_id: int, text: str) -> Message:
        """Commit the user's message (before any generation starts) and title a new conversation."""
        text = clean_text(text)
        if not text.strip():
            raise ValueError("empty message")
        message = self.store.add_message(conversation_id, "user", text)
        if self.store.conversation(conversation_id).title == DEFAULT_TITLE:
            self.store.rename_conversation(conversation_id, title_from(text))
        return message

    def history(self, conversation_id: int) -> list[Message]:
        return [m for m in self.store.messages(conversation_id) if m.status in IN_CONTEXT]

    def reply(
        self,
        conversation_id: int,
        model: ChatModel,
        settings: Settings,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        on_started: Callable[[Message], None] = lambda _: None,
        on_text: Callable[[int, str], None] = lambda _id, _text: None,
        recall: Recall | None = None,
        memories: int = 5,
        preferences: PreferencePrompt | None = None,
    ) -> ReplyResult:
        """Generate and store the assistant's reply to the conversation's last user message,
        with up to ``memories`` memories from ``recall`` shown to the model."""
        history = self.history(conversation_id)
        if not history or history[-1].role != "user":
            raise ReplyRefused("There is no message to reply to.")
        recollection, problem = None, None
        if recall is not None:
            try:
                recollection = recall.recollect(history[-1], memories)
            except Exception as exc:  # memory is a help, never a reason not to answer
                log.warning("memories unavailable for this reply", exc_info=exc)
                problem = f"Answered without memories: {exc}"
        blocks = recall.blocks([m.id for m in history if m.role == "user"]) if recall and not problem else {}
        planning = time.perf_counter()
        try:
            plan = self._prompt(model, settings, history, blocks, preferences)
        except ContextOverflow as exc:
            self.store.update_message(history[-1].id, status=TOO_LONG)
            raise ReplyRefused(str(exc)) from exc
        prompt_seconds = time.perf_counter() - planning
        self._first_turn[conversation_id] = plan.first_turn
        message = self.store.add_message(
            conversation_id, "assistant", "", status="streaming", model=model.name
        )
        on_started(message)
        stats = self._stream_into(message.id, model, plan.tokens, settings, should_stop, on_text)
        reply = self.store.message(message.id)
        result = ReplyResult(
            reply, stats, plan.dropped, recall_problem=problem, prompt_seconds=prompt_seconds
        )
        if recall is not None and recollection is not None:
            result.recall_seconds = recollection.seconds
            result.receipts = recall.settle(reply, recollection)
        return result

    def read_ahead(
        self,
        conversation_id: int,
        draft: str,
        model: ChatModel,
        settings: Settings,
        *,
        recall: Recall | None = None,
        memories: int = 5,
        preferences: PreferencePrompt | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> int:
        """While the user types: evaluate the prompt that sending ``draft`` would build, up to
        where the draft's own words begin, and keep the memories chosen for it for the send. The
        draft's words are never evaluated, so no saved cache holds what was not sent. An empty
        ``draft`` (a reply just ended) reads the conversation as any next message will follow it:
        without the last turn's notes. Returns the tokens now cached (0 when there is nothing to do)."""
        text = clean_text(draft)
        history = self.history(conversation_id)
        if not isinstance(model, ReadsAhead) or (history and history[-1].role == "user"):
            return 0
        if not text.strip():
            if not history:
                return 0
            text = ""
        blocks = recall.blocks([m.id for m in history if m.role == "user"]) if recall and memories > 0 else {}
        previewed = (
            recall.preview(conversation_id, text, memories).block if text and recall and memories > 0 else ""
        )
        if previewed:  # an empty block is no block: with one, the notes' guide joins the system prompt
            blocks[0] = previewed  # the draft's id is 0
        # No draft yet (a reply just ended): any text stands in for it, as its words are never
        # evaluated, and where notes may come, stand-in notes: the read stops where the next turn
        # begins, whether or not it brings notes.
        stand_in = {**blocks, 0: "…"} if blocks and not text else blocks
        drafts = [Message(0, conversation_id, "user", t, "draft", "", "") for t in (text or "…", "")]
        try:
            sent = self._prompt(model, settings, [*history, drafts[0]], stand_in, preferences)
            empty = self._prompt(model, settings, [*history, drafts[1]], blocks, preferences)
        except ContextOverflow:
            return 0
        upto = next((i for i, (a, b) in enumerate(zip(sent.tokens, empty.tokens, strict=False)) if a != b), 0)
        return model.read_ahead(sent.tokens, upto, should_stop) if upto else 0

    def _prompt(
        self,
        model: ChatModel,
        settings: Settings,
        history: list[Message],
        blocks: dict[int, str],
        preferences: PreferencePrompt | None,
    ) -> PromptPlan:
        """The prompt for a reply to the last of ``history``: the system prompt (with the notes'
        guide once there are notes, and the standing preferences) and the turns that fit."""
        conversation_id = history[-1].conversation_id
        system = settings.system_prompt
        if blocks:  # what the notes are: said once, where the prefix cache keeps it, from the first
            # notes on (without notes, SmolLM2 took the guide as its task and cited "[1]" out of nowhere)
            system = f"{system}\n\n{GUIDE}".strip()
        if preferences is not None:
            standing = preferences.standing(conversation_id, history[0].content, model.count_tokens)
            system = f"{system}\n\n{standing}".strip() if standing else system
        return self._plan(model, settings, history, blocks, conversation_id, system)

    def _plan(
        self,
        model: ChatModel,
        settings: Settings,
        history: list[Message],
        blocks: dict[int, str],
        conversation_id: int,
        system: str,
    ) -> PromptPlan:
        """The prompt, with the newest user turn's memories as a system message just before it.

        Only the newest turn keeps its notes: an earlier turn's notes did their work in its reply,
        and kept, every turn would bring ~350 more tokens for each later one to be evaluated after
        (evaluation slows with depth: 209 tokens/s 800 tokens deep, 123 at 3,500; a 4,096-token
        context filled within ten turns and pushed out the user's own words). The cost, re-reading
        the last exchange without its notes, is paid right after a reply (``read_ahead`` with no
        draft), while the user reads.

        A separate message keeps a small model from copying the notes into its answer (SmolLM2 did,
        when they shared the user's message). Templates that allow system messages only first
        (some Llama 2 / Mistral ones) raise; then the notes go inside the user turn instead.
        """
        plan = partial(
            plan_prompt,
            model,
            system,
            reply_room=settings.max_tokens,
            start_hint=self._first_turn.get(conversation_id, 0),
        )
        newest = history[-1]
        notes = blocks.get(newest.id) if newest.role == "user" else None

        def turns(separate: bool) -> list[Turn]:
            return [Turn(m.role, m.content) for m in history[:-1]] + with_notes(newest, notes, separate)

        if not notes:
            return plan(turns(separate=True))
        try:
            return plan(turns(separate=True))
        except TemplateRefused:  # only here: any other error is a bug and must show as one
            return plan(turns(separate=False))

    def _stream_into(
        self,
        message_id: int,
        model: ChatModel,
        prompt: list[int],
        settings: Settings,
        should_stop: Callable[[], bool],
        on_text: Callable[[int, str], None],
    ) -> GenerationStats:
        looped = False
        generation = model.generate(
            prompt,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            should_stop=lambda: looped or should_stop(),
        )
        text, last_save = "", time.monotonic()
        try:
            for piece in generation:
                text += piece
                if repetition.runaway(text):  # a loop to the token limit helps nobody: stop, keep one copy
                    looped, text = True, repetition.trim(text)
                visible = speaker_label.shown_so_far(text)
                if visible is None:  # the first characters may be "A:", not the answer
                    continue
                on_text(message_id, visible)
                if time.monotonic() - last_save >= SAVE_INTERVAL:
                    self.store.update_message(message_id, content=visible)
                    last_save = time.monotonic()
        except ServerLost:  # what arrived is kept, marked as cut off
            self.store.update_message(message_id, content=speaker_label.shown(text), status=CUT_OFF)
            raise
        except Exception:
            self.store.update_message(message_id, content=speaker_label.shown(text), status="error")
            raise
        text = speaker_label.shown(text)
        stats = generation.stats
        if looped:  # Memoir stopped it, not the user
            stats.stopped, stats.looped = False, True
        self.store.update_message(
            message_id,
            content=text.strip(),
            status="stopped" if stats.stopped else "complete",
            tokens=stats.completion_tokens,
            tokens_per_second=round(stats.tokens_per_second, 2),
        )
        return stats

    def edit_reply(self, message_id: int, text: str) -> tuple[str, str]:
        """Replace an assistant reply with the user's edit; returns (the message it answered, the
        original reply) for learning from the edit."""
        reply = self.store.message(message_id)
        if reply.role != "assistant":
            raise ValueError("Only Memoir's replies can be edited.")
        text = clean_text(text).strip()
        if not text:
            raise ValueError("An edited reply cannot be empty.")
        before = [
            m for m in self.store.messages(reply.conversation_id) if m.id < message_id and m.role == "user"
        ]
        self.store.update_message(message_id, content=text)
        return (before[-1].content if before else ""), reply.content

    def forget_last_reply(self, conversation_id: int) -> bool:
        """Remove the last assistant reply so it can be regenerated; False if there is none."""
        messages = self.store.messages(conversation_id)
        if not messages or messages[-1].role != "assistant":
            return False
        self.store.delete_message(messages[-1].id)
        return True


def with_notes(message: Message, notes: str | None, separate: bool) -> list[Turn]:
    """A history message as prompt turns, preceded (or prefixed) by the memories it was given."""
    if not notes:
        return [Turn(message.role, message.content)]
    if separate:
        return [Turn("system", notes), Turn(message.role, message.content)]
    return [Turn(message.role, f"{notes}\n\n{message.content}")]
