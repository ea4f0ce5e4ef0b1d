"""Assembles the prompt under a token budget, keeping its prefix stable for llama.cpp's cache."""

from __future__ import annotations

from dataclasses import dataclass

from memory.llm.engine import ChatModel

# Per-message template overhead (role markers, separators), refined by the exact check below.
TEMPLATE_OVERHEAD = 8
# When old turns must go, drop enough that the history fills at most this share of the budget:
# the prompt prefix then stays identical (and cached) for many turns instead of shifting each turn.
REFILL_SHARE = 0.6


class ContextOverflow(Exception):
    """The newest message alone does not fit the model's context; the message says why."""


@dataclass(frozen=True)
class Turn:
    role: str
    content: str


@dataclass
class PromptPlan:
    tokens: list[int]
    first_turn: int  # index of the oldest turn kept
    dropped: int  # turns left out because they no longer fit


def plan_prompt(
    model: ChatModel,
    system: str,
    turns: list[Turn],
    *,
    reply_room: int,
    start_hint: int = 0,
) -> PromptPlan:
    """Fit ``system`` + the newest turns into ``model.n_ctx - reply_room`` tokens.

    Turns drop out oldest first. ``start_hint`` is the previous plan's first turn: it is kept
    while everything fits so that the prompt prefix does not change from one turn to the next.
    """
    if not turns:
        raise ValueError("a prompt needs at least one turn")
    budget = model.n_ctx - reply_room
    system_cost = model.count_tokens(system) + TEMPLATE_OVERHEAD if system else 0
    costs = [model.count_tokens(t.content) + TEMPLATE_OVERHEAD for t in turns]
    if system_cost + costs[-1] > budget:
        raise ContextOverflow(
            f"This message is about {costs[-1]:,} tokens, but the model's context holds "
            f"{model.n_ctx:,} tokens with {reply_room:,} kept for the reply. Shorten the message, "
            "or raise the context size in Settings."
        )
    first = _first_turn(costs, budget - system_cost, min(max(start_hint, 0), len(turns) - 1))
    first = _user_first(turns, first)
    while True:
        tokens = model.format_prompt(_messages(system, turns[first:]))
        if len(tokens) <= budget or first == len(turns) - 1:
            break
        first = _user_first(turns, first + 1)  # the estimate was short: drop one more
    if len(tokens) > budget:
        raise ContextOverflow(
            f"This message needs {len(tokens):,} prompt tokens; the model's context holds "
            f"{model.n_ctx:,} with {reply_room:,} kept for the reply."
        )
    return PromptPlan(tokens=tokens, first_turn=first, dropped=first)


def _first_turn(costs: list[int], budget: int, hint: int) -> int:
    if sum(costs[hint:]) <= budget:
        return hint
    target = int(budget * REFILL_SHARE)
    first, total = len(costs) - 1, costs[-1]
    while first > 0 and total + costs[first - 1] <= target:
        first -= 1
        total += costs[first]
    return first


def _user_first(turns: list[Turn], first: int) -> int:
    """Many chat templates insist the conversation opens with a user turn (a user turn's memories,
    a system turn just before it, stay with it)."""
    while first < len(turns) - 1 and turns[first].role not in ("user", "system"):
        first += 1
    return first


def _messages(system: str, turns: list[Turn]) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": t.role, "content": t.content} for t in turns]
