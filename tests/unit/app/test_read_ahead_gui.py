"""The window reads ahead once the composer is still, and a send stops it."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.read_ahead import PAUSE_MS
from app.window import MainWindow
from tests.fake_model import FakeChatModel


def first_turn(qtbot: QtBot, window: MainWindow) -> None:
    """A message answered, and (reading ahead on) the conversation read after the reply."""
    with qtbot.waitSignal(window.controller.reply_finished, timeout=10000):
        window.send("Good morning")
    ahead = window.controller.read_ahead
    if window.controller.settings.read_ahead:
        qtbot.waitUntil(lambda: ahead.tokens_cached > 0, timeout=5000)
        ahead.tokens_cached = 0  # what a later wait sees is the draft's read, not this one


def type_and_pause(qtbot: QtBot, window: MainWindow, text: str) -> list[str]:
    """Type ``text`` and wait for the read-ahead; the words it read."""
    window.composer.setPlainText(text)
    qtbot.waitUntil(lambda: window.controller.read_ahead.tokens_cached > 0, timeout=5000)
    return window.controller.model.read_aheads[-1]  # type: ignore[union-attr]


def test_a_pause_in_typing_reads_the_prompt_ahead_and_the_reply_reuses_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    first_turn(qtbot, window)
    read = type_and_pause(qtbot, window, "What did I say about my dog?")
    assert read[-1] == "<user>" and "dog?" not in "".join(read)
    with qtbot.waitSignal(window.controller.reply_finished, timeout=10000) as finished:
        window.send(window.composer.toPlainText())
    assert finished.args[0].stats.reused_tokens == len(read)


def drafts_read(window: MainWindow) -> list[str]:
    """The texts read ahead from now on ("" for the read after a reply)."""
    texts: list[str] = []
    ahead = window.controller.read_ahead
    read = ahead._read
    ahead._read = lambda generation, conv, text: texts.append(text) or read(generation, conv, text)  # type: ignore[method-assign]
    return texts


def test_sending_before_the_pause_is_over_reads_nothing_ahead(qtbot: QtBot, window: MainWindow) -> None:
    first_turn(qtbot, window)
    texts = drafts_read(window)
    window.composer.setPlainText("Quick question")
    with qtbot.waitSignal(window.controller.reply_finished, timeout=10000):
        window.send(window.composer.toPlainText())
    qtbot.wait(PAUSE_MS + 300)  # the pause would have been over by now
    assert texts == [""]  # only the conversation, after the reply: no draft


def test_after_a_reply_the_conversation_is_read_and_a_message_sent_at_once_reuses_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    first_turn(qtbot, window)
    read = window.controller.model.read_aheads[-1]  # type: ignore[union-attr]
    assert "Good morning" in "".join(read)
    with qtbot.waitSignal(window.controller.reply_finished, timeout=10000) as finished:
        window.send("Quick question")  # no pause: nothing of it was read ahead
    assert finished.args[0].stats.reused_tokens == len(read)


def test_the_first_message_of_a_new_conversation_is_read_ahead(qtbot: QtBot, window: MainWindow) -> None:
    assert window.current_id is None  # nothing open: the send will make the conversation
    read = type_and_pause(qtbot, window, "What did I say about my dog?")
    with qtbot.waitSignal(window.controller.reply_finished, timeout=10000) as finished:
        window.send(window.composer.toPlainText())
    assert finished.args[0].stats.reused_tokens == len(read)


def test_reflection_is_held_while_the_user_writes_and_let_go_after_the_reply(
    qtbot: QtBot, window: MainWindow
) -> None:
    first_turn(qtbot, window)
    reflection = window.controller.reflection
    window.composer.setPlainText("And what about my cat?")
    qtbot.waitUntil(lambda: reflection.held, timeout=5000)
    assert reflection.stop.is_set()  # a pass running now gives way at its next token
    window.controller.run_reflection()
    assert not reflection.running  # and none starts while the user writes
    with qtbot.waitSignal(window.controller.reply_finished, timeout=10000):
        window.send(window.composer.toPlainText())
    assert not reflection.held  # the reply's end runs reflection as before


def test_a_draft_left_alone_lets_reflection_run_again(qtbot: QtBot, window: MainWindow) -> None:
    first_turn(qtbot, window)
    reflection = window.controller.reflection
    window.controller.read_ahead._idle.setInterval(300)  # IDLE_MS, shortened for the test
    window.composer.setPlainText("Something I may never send")
    qtbot.waitUntil(lambda: reflection.held, timeout=5000)
    qtbot.waitUntil(lambda: not reflection.held, timeout=3000)
    assert window.composer.toPlainText() == "Something I may never send"  # the draft is untouched


def test_a_model_that_cannot_read_ahead_leaves_reflection_alone(qtbot: QtBot, window: MainWindow) -> None:
    """A model server evaluates nothing ahead: holding reflection for it would gain nothing."""
    first_turn(qtbot, window)

    class ServerLike(FakeChatModel):
        read_ahead = None  # type: ignore[assignment]  # a model server has no such method

    window.controller.model.__class__ = ServerLike  # type: ignore[union-attr]
    window.composer.setPlainText("What did I say about my dog?")
    qtbot.wait(PAUSE_MS + 400)
    assert not window.controller.reflection.held


def test_a_question_mark_added_after_the_pause_is_not_read_again(qtbot: QtBot, window: MainWindow) -> None:
    """Reading again would choose the memories afresh (at random while learning) and read them
    again; the same words keep what was read."""
    first_turn(qtbot, window)
    type_and_pause(qtbot, window, "What did I say about my dog")
    reads = len(window.controller.model.read_aheads)  # type: ignore[union-attr]
    window.composer.setPlainText("What did I say about my dog?")
    qtbot.wait(PAUSE_MS + 500)
    assert len(window.controller.model.read_aheads) == reads  # type: ignore[union-attr]
    window.composer.setPlainText("What did I say about my cat?")  # other words: read again
    qtbot.waitUntil(lambda: len(window.controller.model.read_aheads) == reads + 1, timeout=5000)  # type: ignore[union-attr]


def test_read_ahead_can_be_turned_off(qtbot: QtBot, window: MainWindow) -> None:
    from dataclasses import replace

    window.controller.apply_settings(replace(window.controller.settings, read_ahead=False))
    first_turn(qtbot, window)  # nor is the conversation read after the reply
    window.composer.setPlainText("What did I say about my dog?")
    qtbot.wait(PAUSE_MS + 500)
    assert window.controller.model.read_aheads == []  # type: ignore[union-attr]
    assert not window.controller.reflection.held  # nor is reflection held for it


def test_remember_now_is_not_held_back_by_a_draft(qtbot: QtBot, window: MainWindow) -> None:
    first_turn(qtbot, window)
    reflection = window.controller.reflection
    window.composer.setPlainText("Half a thought")
    qtbot.waitUntil(lambda: reflection.held, timeout=5000)
    window.remember_now()  # the user asks for it: it runs now, not once the draft is sent
    assert not reflection.held


def test_a_message_typed_while_the_reply_streams_is_read_ahead_once_it_ends(
    qtbot: QtBot, window: MainWindow
) -> None:
    first_turn(qtbot, window)
    texts = drafts_read(window)
    model = window.controller.model
    model.delay = 0.6  # type: ignore[union-attr]  # "Second answer." outlasts the pause
    with qtbot.waitSignal(window.controller.reply_finished, timeout=10000):
        window.send("Tell me more")
        window.composer.setPlainText("What did I say about my dog?")
        qtbot.wait(PAUSE_MS + 100)  # the pause ends while the reply still streams: nothing to read yet
    model.delay = 0.0  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.controller.read_ahead.tokens_cached > 0, timeout=5000)
    assert texts == ["What did I say about my dog?"]  # the draft, not only the conversation
    read = model.read_aheads[-1]  # type: ignore[union-attr]
    with qtbot.waitSignal(window.controller.reply_finished, timeout=10000) as finished:
        window.send(window.composer.toPlainText())
    assert finished.args[0].stats.reused_tokens == len(read)
