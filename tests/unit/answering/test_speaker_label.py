import pytest

from memory.answering.chat import ChatService
from memory.answering.speaker_label import shown, shown_so_far
from memory.runtime.settings import Settings
from memory.store.database import Store
from tests.fake_model import FakeChatModel


@pytest.mark.parametrize(
    ("reply", "seen"),
    [
        ("A: Sure, here it is.", "Sure, here it is."),
        ("Assistant: Hello!", "Hello!"),
        ("  memoir :\nHello!", "Hello!"),
        ("A good question.", "A good question."),
        ("Assistance is near.", "Assistance is near."),
        ("AI: a field of computer science.", "AI: a field of computer science."),
        ("Q: what? A: this.", "Q: what? A: this."),  # only a name that opens the reply
        ("A:", "A:"),  # nothing after it: kept as written rather than an empty reply
        ("A", "A"),
    ],
)
def test_a_finished_reply_loses_only_a_leading_speaker_name(reply: str, seen: str) -> None:
    assert shown(reply) == seen


@pytest.mark.parametrize(
    ("so_far", "seen"),
    [
        ("A", None),  # may become "A:" or "A good …"
        ("Assist", None),
        ("A:", None),
        ("A: ", None),
        ("A: Sure", "Sure"),
        ("A good", "A good"),
        ("Me too", "Me too"),
        ("Hello", "Hello"),
    ],
)
def test_a_streaming_reply_holds_back_only_what_may_be_a_name(so_far: str, seen: str | None) -> None:
    assert shown_so_far(so_far) == seen


def test_the_name_is_neither_streamed_nor_stored(store: Store) -> None:
    chat = ChatService(store)
    conv = store.create_conversation()
    chat.send(conv.id, "Hi there")
    streamed: list[str] = []
    result = chat.reply(
        conv.id,
        FakeChatModel(["A: Hello, how can I help?"]),
        Settings(),
        on_text=lambda _id, text: streamed.append(text),
    )
    assert result.message.content == "Hello, how can I help?"
    assert streamed[0] == "Hello,"
    assert not any(text.startswith("A") for text in streamed)
    assert store.messages(conv.id)[-1].content == "Hello, how can I help?"
