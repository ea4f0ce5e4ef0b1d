import pytest

from memory.llm.prompt import REFILL_SHARE, ContextOverflow, Turn, plan_prompt
from tests.fake_model import FakeChatModel


def turns(n: int, words: int = 20) -> list[Turn]:
    roles = ["user", "assistant"]
    return [Turn(roles[i % 2], " ".join([f"w{i}"] * words)) for i in range(n)]


def test_everything_fits() -> None:
    model = FakeChatModel(n_ctx=4096)
    plan = plan_prompt(model, "sys", turns(5), reply_room=100)
    assert plan.first_turn == 0 and plan.dropped == 0
    assert len(plan.tokens) <= 4096 - 100


def test_oldest_turns_drop_first_and_budget_holds() -> None:
    model = FakeChatModel(n_ctx=400)
    history = turns(41)  # ends with a user turn
    plan = plan_prompt(model, "system words", history, reply_room=100)
    assert plan.dropped > 0
    assert len(plan.tokens) <= 300
    assert history[plan.first_turn].role == "user"
    # the newest turn is always present
    assert model._last_words[-3].strip() == "w40"


def test_window_start_is_kept_while_it_fits_so_the_prefix_is_stable() -> None:
    model = FakeChatModel(n_ctx=600)
    history = turns(41)
    first = plan_prompt(model, "s", history, reply_room=100)
    history += [Turn("assistant", "short"), Turn("user", "short")]
    second = plan_prompt(model, "s", history, reply_room=100, start_hint=first.first_turn)
    assert second.first_turn == first.first_turn
    assert second.tokens[: len(first.tokens) - 1] == first.tokens[:-1]


def test_refill_leaves_room_for_many_turns() -> None:
    model = FakeChatModel(n_ctx=1000)
    plan = plan_prompt(model, "", turns(101), reply_room=100)
    assert len(plan.tokens) <= 900 * REFILL_SHARE + 30


def test_message_longer_than_the_context_is_refused() -> None:
    model = FakeChatModel(n_ctx=512)
    with pytest.raises(ContextOverflow, match="Shorten the message"):
        plan_prompt(model, "s", [Turn("user", "word " * 5000)], reply_room=128)
