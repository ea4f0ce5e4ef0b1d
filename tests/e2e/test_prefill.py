"""Reflection reads its prompt in chunks and gives way between them (the packaged model): the same
logits as one evaluation, an interruption within a chunk, and the same answer after one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from memory.llm.engine import Interrupted, LlamaChatModel
from memory.llm.prefill import PREFILL_CHUNK, prefill
from tests.e2e.test_state_cache import LONG, fresh_logits

# These tests check the cache's mechanics (what is kept, restored, read in chunks) against a fresh
# evaluation to 1e-3. Fused attention evaluates a single token by another kernel than a batch, so
# it moves logits by ~0.5 however correct the mechanics are (as Q8_0's kernels do: bench_model_form's
# batch_drift); the packaged Q4_1 file without it is exact, so the mechanics are tested there.
FUSED = False

SCHEMA = {  # a short answer: the tiny model can loop inside a free string
    "type": "object",
    "properties": {"about_a_garden": {"type": "boolean"}, "mentions": {"type": "integer"}},
    "required": ["about_a_garden", "mentions"],
}
ASK = [
    {"role": "user", "content": LONG + "\nWas this about a garden, and how often was rain mentioned? JSON."}
]


@pytest.fixture
def model(smollm2: Path) -> Iterator[LlamaChatModel]:
    loaded = LlamaChatModel.load(smollm2, n_ctx=1024, n_threads=1, flash_attention=FUSED)
    yield loaded
    loaded.close()


def test_chunks_give_the_logits_of_one_evaluation(model: LlamaChatModel, smollm2: Path) -> None:
    prompt = model.format_prompt(ASK)
    assert len(prompt) > 2 * PREFILL_CHUNK  # several chunks
    prefill(model._llama, prompt, 0, lambda: False)
    assert model._llama.n_tokens == len(prompt) - 1
    model._llama.eval(prompt[-1:])
    llama = model._llama
    chunked = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),)).copy()
    np.testing.assert_allclose(chunked, fresh_logits(smollm2, prompt), rtol=1e-3, atol=1e-3)


def test_reflection_gives_way_within_a_chunk_and_answers_the_same_afterwards(
    model: LlamaChatModel, smollm2: Path
) -> None:
    looks = []

    def stop_after_first_chunk() -> bool:
        looks.append(model._llama.n_tokens)
        return len(looks) > 1

    with pytest.raises(Interrupted):
        model.complete_json(ASK, SCHEMA, max_tokens=64, should_stop=stop_after_first_chunk)
    assert looks == [0, PREFILL_CHUNK]  # it stopped after one chunk, not at the end of the prompt
    again = model.complete_json(ASK, SCHEMA, max_tokens=64)  # resumes from the chunk it had read
    fresh = LlamaChatModel.load(smollm2, n_ctx=1024, n_threads=1, flash_attention=FUSED)
    try:
        assert again == fresh.complete_json(ASK, SCHEMA, max_tokens=64)
    finally:
        fresh.close()


def test_a_prompt_read_ahead_gives_the_same_reply_and_leaves_only_the_rest_to_evaluate(
    model: LlamaChatModel, smollm2: Path
) -> None:
    """What the app does while the user types (memory/answering/chat.py's read_ahead): the start
    of the next prompt evaluated early, in small chunks, the send then finding it cached."""
    turns = [{"role": "system", "content": LONG}, {"role": "user", "content": "What grew best?"}]
    prompt = model.format_prompt(turns)
    upto = len(model.format_prompt(turns[:1])) - 3  # somewhere before the user's words
    looks: list[int] = []
    assert model.read_ahead(prompt, upto, lambda: looks.append(0) or len(looks) > 2) < upto  # gave way
    assert model.read_ahead(prompt, upto, lambda: False) == upto
    generation = model.generate(prompt, max_tokens=24, temperature=0.0, should_stop=lambda: False)
    reply = "".join(generation)
    assert generation.stats.reused_tokens == upto
    fresh = LlamaChatModel.load(smollm2, n_ctx=1024, n_threads=1, flash_attention=FUSED)
    try:
        again = fresh.generate(prompt, max_tokens=24, temperature=0.0, should_stop=lambda: False)
        assert reply == "".join(again)
    finally:
        fresh.close()
