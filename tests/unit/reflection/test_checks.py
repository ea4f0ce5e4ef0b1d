"""What the model's answers must pass: grounded in the turns they cite, and not the prompt's own
examples handed back as the user's words."""

from __future__ import annotations

from pathlib import Path

from memory.reflection.checks import asks, copies_instructions, grounding, stated_preferences
from memory.reflection.prospective import Reflector
from memory.retrieval.service import MemoryService
from memory.runtime.resources import prompt
from memory.store.database import Message, Store
from memory.store.items import TOPIC
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder
from tests.reflecting import reflect_on

INSTRUCTIONS = 'Style ("keep it short"), facts ("I\'m vegetarian"), or ("Keep answers short.").'


def window(store: Store, turns: list[tuple[str, str]]) -> list[Message]:
    conv = store.create_conversation()
    for role, text in turns:
        store.add_message(conv.id, role, text)
    return store.messages(conv.id)


def test_grounding_counts_the_summarys_content_words_found() -> None:
    assert grounding("The user rides three horses.", ["I ride three horses"]) == 1.0
    assert grounding("The user rides three cats.", ["I ride three horses"]) == 2 / 3
    assert grounding("The user", ["anything"]) == 0.0


def test_an_example_of_the_prompts_is_the_users_only_when_a_cited_turn_says_all_of_it() -> None:
    # SmolLM2 on a conversation about phones: "keep" was said, "short" never
    assert copies_instructions("keep it short", INSTRUCTIONS, ["I keep my last phone as a backup."])
    assert copies_instructions("I'm vegetarian.", INSTRUCTIONS, ["Hi there, how are you tonight?"])
    assert not copies_instructions("Keep answers short.", INSTRUCTIONS, ["Please keep your answers short"])
    assert not copies_instructions("Keep it brief.", INSTRUCTIONS, ["I keep a phone."])  # not an example


def test_the_shipped_prompt_has_examples_the_check_recognises() -> None:
    assert copies_instructions("keep it short", prompt("preferences"), ["I keep a diary."])


def test_a_preference_is_kept_only_when_the_turns_it_cites_hold_its_words(store: Store) -> None:
    turns = window(
        store,
        [
            ("user", "How are you tonight?"),
            ("assistant", "Fine, thanks."),
            ("user", "Please keep your answers short, I read on my phone."),
            ("user", "I keep my last phone around as a backup."),
        ],
    )
    answer = {
        "preferences": [
            # its words are in turn 3, but the model cited the greeting: not evidence the user sees
            {"text": "Short answers, please.", "category": "style", "references": [1]},
            {"text": "keep it short", "category": "style", "references": [4]},  # the prompt's example
            {"text": "Keep answers short.", "category": "style", "references": [3, 2]},
            "not an object",
        ]
    }
    found = stated_preferences(answer, turns, INSTRUCTIONS)
    assert found == [("Keep answers short.", "style", [turns[2].id])]


def test_a_question_is_no_preference_but_a_polite_request_is() -> None:
    assert asks("I love ice cream! Do you think you will get their fudge?")
    assert not asks("Could you stop adding emojis?")
    assert not asks("I love ice cream. Keep answers short.")


def test_a_proposal_that_asks_something_is_not_kept(store: Store) -> None:
    turns = window(
        store,
        [
            ("user", "I love ice cream! My mom bought me rocky road. Do you think you will get their fudge?"),
            ("user", "Could you stop adding emojis?"),
        ],
    )
    answer = {
        "preferences": [  # the user's whole turn handed back as their preference (seen on MSC)
            {"text": turns[0].content, "category": "facts about me", "references": [1]},
            {"text": "Could you stop adding emojis?", "category": "style", "references": [2]},
        ]
    }
    found = stated_preferences(answer, turns, INSTRUCTIONS)
    assert found == [("Could you stop adding emojis?", "style", [turns[1].id])]


def test_a_reply_s_invention_is_no_preference_of_the_user_s(store: Store) -> None:
    """Seen in the app: asked "What is my dog called?", SmolLM2 replied "Your dog is a Greyhound."
    and reflection proposed "My dog is a Greyhound." with the question as its evidence."""
    turns = window(
        store,
        [
            ("user", "What is my dog called, and what does my sister do?"),
            ("assistant", "Your dog is a Greyhound."),
            ("user", "I walked my dog today."),
            ("user", "Could you stop adding emojis?"),
            ("assistant", "Sure, no more emojis."),
            ("user", "Is my cat a Siamese?"),
        ],
    )
    answer = {
        "preferences": [
            {"text": "My dog is a Greyhound.", "category": "facts about me", "references": [1]},
            {"text": "My dog is a Greyhound.", "category": "facts about me", "references": [3]},
            {"text": "Stop adding emojis.", "category": "style", "references": [4]},
            {"text": "My cat is a Siamese.", "category": "facts about me", "references": [6]},
        ]
    }
    found = stated_preferences(answer, turns, INSTRUCTIONS)
    assert found == [("Stop adding emojis.", "style", [turns[3].id])]


def test_a_summary_is_grounded_in_the_turns_it_cites(store: Store, tmp_path: Path) -> None:
    """Its cited turns are the sources the memory shows: a summary whose words another turn said is
    not kept under the wrong sources (without the selector, the cited turn's own words stand)."""
    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    turns = window(
        store,
        [
            ("user", "We had a long week at work."),
            ("assistant", "Sounds tiring."),
            ("user", "My sister Ana moved to Oslo in March."),
        ],
    )
    model = FakeChatModel()
    model.default_json = {"action": "Add", "index": 0, "merged_summary": ""}
    model.json_replies = [
        {"memories": [{"summary": "The user's sister Ana moved to Oslo.", "references": [1]}]}
    ]
    reflect_on(memory, turns[0].conversation_id, Reflector(model, memory.retriever, merge_floor=-1.0))
    rows = store.query("SELECT text FROM memory_items WHERE kind = ?", (TOPIC,))
    assert [r["text"] for r in rows] == ["We had a long week at work."]
