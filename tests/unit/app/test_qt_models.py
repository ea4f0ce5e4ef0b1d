from pytestqt.modeltest import ModelTester

from app.models import ConversationListModel, TranscriptModel
from memory.store.database import Store


def test_conversation_model(qtmodeltester: ModelTester, store: Store) -> None:
    model = ConversationListModel()
    for i in range(3):
        store.create_conversation(f"c{i}")
    model.set_conversations(store.conversations())
    qtmodeltester.check(model)
    renamed: list[tuple[int, str]] = []
    model.rename_requested.connect(lambda cid, title: renamed.append((cid, title)))
    assert model.setData(model.index(0), "  New   name ")
    assert renamed == [(model.conversation(0).id, "New name")]
    assert not model.setData(model.index(0), "   ")


def test_transcript_model(qtmodeltester: ModelTester, store: Store) -> None:
    conv = store.create_conversation()
    model = TranscriptModel()
    model.set_messages(conv.id, [store.add_message(conv.id, "user", "hi")])
    qtmodeltester.check(model)
    reply = store.add_message(conv.id, "assistant", "", status="streaming")
    model.upsert(reply)
    assert model.update_text(reply.id, "partial") == 1
    assert model.data(model.index(1)) == "partial"
    other = store.create_conversation()
    model.upsert(store.add_message(other.id, "user", "elsewhere"))
    assert model.rowCount() == 2
    qtmodeltester.check(model)
