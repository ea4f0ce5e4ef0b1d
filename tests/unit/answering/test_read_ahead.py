"""Reading ahead while the user types: the prompt before the draft's words is evaluated, the draft's
memories are kept for the send, and nothing the user did not send is evaluated or stored."""

from __future__ import annotations

from pathlib import Path

from memory.answering.chat import ChatService
from memory.answering.recall_service import Recall
from memory.retrieval.service import MemoryService
from memory.runtime.settings import Settings
from memory.store.database import Store
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder

QUESTION = "What is my greyhound Biscuit scared of?"


def choices(recall: Recall) -> list[str]:
    """The texts memories are chosen for from now on (a preview's or a send's), in order."""
    chosen: list[str] = []
    choose = recall._choose
    recall._choose = lambda message, shown: chosen.append(message.content) or choose(message, shown)  # type: ignore[method-assign]
    return chosen


def conversation_with_a_turn(store: Store, chat: ChatService, model: FakeChatModel, recall: Recall) -> int:
    conv = store.create_conversation().id
    chat.send(conv, "Good morning")
    chat.reply(conv, model, Settings(), recall=recall)
    return conv


def test_the_prompt_is_read_up_to_the_drafts_words_and_sending_it_reuses_all_of_that(
    store: Store, memory: MemoryService
) -> None:
    chat, recall = ChatService(store), Recall(memory, seed=3)  # learning: its choice is random
    model = FakeChatModel(["Stairs [1].", "Noted."])
    conv = conversation_with_a_turn(store, chat, model, recall)
    cached = chat.read_ahead(conv, QUESTION, model, Settings(), recall=recall)
    read = model.read_aheads[-1]
    assert cached == len(read) and read[-1] == "<user>"  # up to where the draft's words begin
    assert "greyhound Biscuit is scared of stairs" in "".join(read)  # the draft's memories are in
    assert "scared of?" not in "".join(read)  # its own words are not: they were never sent
    preview = recall.recollection(0)
    assert preview is None  # nothing of the draft is stored
    chat.send(conv, QUESTION)
    result = chat.reply(conv, model, Settings(), recall=recall)
    assert result.stats.reused_tokens == cached  # only the message and the reply's start are new
    assert model.prompts[-1][:cached] == read


def test_a_message_sent_otherwise_than_drafted_gets_its_own_memories(
    store: Store, memory: MemoryService
) -> None:
    chat, recall = ChatService(store), Recall(memory, learning=False)
    model = FakeChatModel(["Hi.", "Pottery."])
    conv = conversation_with_a_turn(store, chat, model, recall)
    chat.read_ahead(conv, QUESTION, model, Settings(), recall=recall)
    chat.send(conv, "Where is my pottery class?")
    result = chat.reply(conv, model, Settings(), recall=recall)
    stored = recall.recollection(result.message.id - 1)
    assert stored is not None and stored.query == "Where is my pottery class?"
    assert "pottery class in Porto" in stored.block


def test_a_memory_forgotten_after_the_read_ahead_is_not_shown(store: Store, memory: MemoryService) -> None:
    chat, recall = ChatService(store), Recall(memory, learning=False)
    model = FakeChatModel(["Hi.", "I do not know."])
    conv = conversation_with_a_turn(store, chat, model, recall)
    chat.read_ahead(conv, QUESTION, model, Settings(), recall=recall)
    greyhound = next(i for i in memory.items.all_ids() if "greyhound" in memory.items.get(i).text)
    memory.items.delete(greyhound)
    chat.send(conv, QUESTION)
    chat.reply(conv, model, Settings(), recall=recall)
    assert "scared of stairs" not in "".join(model.prompts[-1])


def test_nothing_is_read_ahead_while_a_reply_is_due_or_for_a_blank_draft(
    store: Store, memory: MemoryService
) -> None:
    chat, recall = ChatService(store), Recall(memory, learning=False)
    model = FakeChatModel(["Hi."])
    conv = store.create_conversation().id
    assert chat.read_ahead(conv, "   ", model, Settings(), recall=recall) == 0
    chat.send(conv, "Good morning")  # not answered yet
    assert chat.read_ahead(conv, QUESTION, model, Settings(), recall=recall) == 0
    assert model.read_aheads == []


def test_a_model_that_cannot_read_ahead_is_left_alone(store: Store, memory: MemoryService) -> None:
    class Remote(FakeChatModel):
        read_ahead = None  # type: ignore[assignment]

    chat = ChatService(store)
    assert chat.read_ahead(store.create_conversation().id, QUESTION, Remote(), Settings()) == 0


def test_with_no_memory_found_the_read_ahead_still_matches_the_reply(tmp_path: Path) -> None:
    """An empty preview is no block: with one counted, the notes' guide joined the read-ahead's
    system prompt but not the reply's, and nothing read ahead was reused (seen in the GUI test)."""
    store = Store(tmp_path / "empty.db")
    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())  # nothing remembered yet
    chat, recall = ChatService(store), Recall(memory, learning=False)
    model = FakeChatModel(["Hi.", "Noted."])
    conv = conversation_with_a_turn(store, chat, model, recall)
    cached = chat.read_ahead(conv, QUESTION, model, Settings(), recall=recall)
    chat.send(conv, QUESTION)
    result = chat.reply(conv, model, Settings(), recall=recall)
    assert cached > 0 and result.stats.reused_tokens == cached


def test_a_new_conversations_first_message_is_read_ahead_too(store: Store, memory: MemoryService) -> None:
    """The window has no conversation until the first message is sent: the draft is read ahead
    as the opening of a conversation-to-be (NEW), and the one the send makes finds it all."""
    from memory.answering.recall_service import NEW

    chat, recall = ChatService(store), Recall(memory, seed=5)
    model = FakeChatModel(["Stairs [1]."])
    cached = chat.read_ahead(NEW, QUESTION, model, Settings(), recall=recall)
    assert cached > 0 and "greyhound Biscuit is scared of stairs" in "".join(model.read_aheads[-1])
    conv = store.create_conversation().id
    chat.send(conv, QUESTION)
    result = chat.reply(conv, model, Settings(), recall=recall)
    assert result.stats.reused_tokens == cached


def test_a_new_conversations_preview_is_not_used_for_a_later_message(
    store: Store, memory: MemoryService
) -> None:
    from memory.answering.recall_service import NEW

    chat, recall = ChatService(store), Recall(memory, learning=False)
    model = FakeChatModel(["Hi.", "Noted."])
    conv = conversation_with_a_turn(store, chat, model, recall)
    recall.preview(NEW, QUESTION)
    chosen = choices(recall)
    chat.send(conv, QUESTION)  # the second message of an existing conversation: chosen afresh
    chat.reply(conv, model, Settings(), recall=recall)
    assert chosen == [QUESTION]


def test_a_question_mark_added_before_enter_keeps_what_was_read_ahead(
    store: Store, memory: MemoryService
) -> None:
    """The last pause often comes before the last keystroke: the same words, in the same order,
    search and focus the notes the same, so the preview holds and the prompt before them too."""
    chat, recall = ChatService(store), Recall(memory, seed=7)
    model = FakeChatModel(["Hi.", "Stairs [1]."])
    conv = conversation_with_a_turn(store, chat, model, recall)
    chosen = choices(recall)
    cached = chat.read_ahead(conv, QUESTION.rstrip("?"), model, Settings(), recall=recall)
    chat.send(conv, QUESTION)
    result = chat.reply(conv, model, Settings(), recall=recall)
    assert chosen == [QUESTION.rstrip("?")]  # chosen once, for the draft; the send kept that choice
    assert cached > 0 and result.stats.reused_tokens == cached


def test_other_words_or_asking_what_memoir_said_are_chosen_afresh() -> None:
    from memory.answering.recall_service import same_words

    assert same_words("What is my dog scared of", "what is my dog scared of?")
    assert not same_words("Where is my sister", "Where is my sister now?")
    assert not same_words("What did I say about the cello", "What did you say about the cello")


def test_only_the_newest_turn_keeps_its_notes(store: Store, memory: MemoryService) -> None:
    chat, recall = ChatService(store), Recall(memory, learning=False)
    model = FakeChatModel(["Stairs [1].", "In Porto [1]."])
    conv = store.create_conversation().id
    chat.send(conv, QUESTION)
    chat.reply(conv, model, Settings(), recall=recall)
    assert "scared of stairs" in "".join(model.prompts[-1])  # its own notes, with it
    chat.send(conv, "Where is my pottery class?")
    chat.reply(conv, model, Settings(), recall=recall)
    later = "".join(model.prompts[-1])
    assert "pottery class in Porto" in later
    assert later.count("<<<MEMORIES") == 1  # the first turn's notes did their work in its reply
    assert later.index(QUESTION) < later.index("<<<MEMORIES")  # the one block is the new turn's
    assert "Stairs [1]." in later  # the first turn itself stays


def test_after_a_reply_the_conversation_is_read_as_the_next_message_follows_it(
    store: Store, memory: MemoryService
) -> None:
    chat, recall = ChatService(store), Recall(memory, learning=False)
    model = FakeChatModel(["Stairs [1].", "In Porto [1]."])
    conv = store.create_conversation().id
    chat.send(conv, QUESTION)
    chat.reply(conv, model, Settings(), recall=recall)
    cached = chat.read_ahead(conv, "", model, Settings(), recall=recall)  # no draft yet
    read = "".join(model.read_aheads[-1])
    assert cached and "Stairs [1]." in read and "<<<MEMORIES" not in read
    assert recall.recollection(0) is None  # nothing previewed: there was no draft
    chat.send(conv, "Where is my pottery class?")  # sent at once, with no pause to read ahead
    result = chat.reply(conv, model, Settings(), recall=recall)
    assert result.stats.reused_tokens == cached
    assert model.prompts[-1][:cached] == model.read_aheads[-1]


def test_nothing_is_read_after_a_reply_in_an_empty_conversation(store: Store, memory: MemoryService) -> None:
    chat, model = ChatService(store), FakeChatModel(["Hi."])
    assert chat.read_ahead(store.create_conversation().id, "", model, Settings()) == 0
    assert model.read_aheads == []
