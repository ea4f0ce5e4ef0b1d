"""``memoir bench loop`` plumbing on a small synthetic conversation with a scripted model."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memory.evaluation import loop, loop_run
from memory.evaluation.voice import first_person
from memory.llm.engine import Generation
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder

SESSIONS = [
    [
        ("Ana", "I adopted a beagle called Biscuit last week."),
        ("Ben", "Nice! I have a golden retriever called Max."),
        ("Ana", "I work night shifts as a nurse at the hospital."),
        ("Ben", "I teach piano to kids in Porto."),
    ],
    [
        ("Ana", "Biscuit chewed my nurse shoes yesterday."),
        ("Ben", "Max swam in the river with my students."),
        ("Ana", "I started pottery classes on Tuesdays."),
        ("Ben", "I bought a new piano for the school."),
    ],
]
QUESTIONS = [
    ("What is Ana's dog called?", ["D1:1"], 4),
    ("What does Ana do for work?", ["D1:3"], 4),
    ("What did Ana start on Tuesdays?", ["D2:3"], 4),
    ("Where does Ben teach piano?", ["D1:4"], 4),
    ("What did Ben buy for the school?", ["D2:4"], 1),
    ("What did Ana and Ben talk about?", ["D1:1", "D1:2"], 3),  # evidence of both: asked by neither
    ("What is Ana's favourite colour?", ["D9:1"], 5),  # adversarial: never asked
]


def sample() -> dict[str, Any]:
    conversation: dict[str, Any] = {"speaker_a": "Ana", "speaker_b": "Ben"}
    for n, turns in enumerate(SESSIONS, 1):
        conversation[f"session_{n}_date_time"] = f"1:56 pm on {n} May, 2023"
        conversation[f"session_{n}"] = [
            {"speaker": s, "dia_id": f"D{n}:{t}", "text": text} for t, (s, text) in enumerate(turns, 1)
        ]
    qa = [{"question": q, "answer": "x", "evidence": e, "category": c} for q, e, c in QUESTIONS]
    return {"sample_id": "synthetic-1", "conversation": conversation, "qa": qa}


class EchoModel(FakeChatModel):
    """Answers with the words of the first memory it was shown, as a model that uses its notes."""

    def generate(
        self, prompt: list[int], *, max_tokens: int, temperature: float, should_stop: Callable[[], bool]
    ) -> Generation:
        text = " ".join("".join(self._last_words).split())
        first = re.search(r"\[ ?1 ?\] [^,]*, (.*?)(?: \[ ?2 ?\]| MEMORIES)", text)
        self.replies = [f"I remember: {first.group(1)}" if first else "I do not know."]
        self._turn = 0
        return super().generate(
            prompt, max_tokens=max_tokens, temperature=temperature, should_stop=should_stop
        )


def test_only_questions_about_the_user_are_asked_in_the_first_person() -> None:
    asked = loop.user_questions(sample(), "Ana")
    assert [a.text for a in asked] == [
        "What is my dog called?",
        "What do I do for work?",
        "What did I start on Tuesdays?",
    ]
    assert loop.user_questions(sample(), "Ben")[0].text == "Where do I teach piano?"


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("When did Caroline go to the LGBTQ support group?", "When did I go to the LGBTQ support group?"),
        ("What is Caroline's identity?", "What is my identity?"),
        (
            "Who supports Caroline when she has a negative experience?",
            "Who supports me when I have a negative experience?",
        ),
        ("What did Melanie tell Caroline about her kids?", "What did Melanie tell me about her kids?"),
        ("Is Caroline a member of the community?", "Am I a member of the community?"),
        ("What activities does Caroline partake in?", "What activities do I partake in?"),
    ],
)
def test_questions_turn_into_the_first_person(question: str, asked: str) -> None:
    assert first_person(question, "Caroline") == asked


def test_the_loop_runs_the_apps_reply_path_and_reports_every_part(tmp_path: Path) -> None:
    import json

    data = tmp_path / "locomo.json"
    data.write_text(json.dumps([sample()]), encoding="utf-8")
    model = EchoModel()
    model.default_json = {"memories": []}
    result = loop_run.run(data, model, FakeEmbedder())
    assert [p["user"] for p in result["plays"]] == ["Ana", "Ben"]
    assert result["learning"]["questions"] == 5
    shown = result["shown_sources"]
    assert shown["memories_shown"] > 0
    assert shown["assistant"] == 0 and shown["question"] == 0  # the other speaker's lines are Memoir's
    attribution = result["attribution"]
    assert attribution["memories_judged"] == shown["memories_shown"]
    assert attribution["precision"] is not None and attribution["not_sure_share"] < 1  # echoes were judged
    for arm in ("before", "prior", "attributed", "oracle"):
        assert 0.0 <= result["learning"][arm]["recall@5"] <= 1.0
    assert result["data"]["sha256"] and result["machine"]["cores"]
    asked = [" ".join("".join(p).split()) for p in model.prompts]
    assert any("What is my dog called" in p for p in asked)


def test_splits_keep_tune_and_check_apart() -> None:
    from memory.evaluation import report

    samples = [{"sample_id": s} for s in ("conv-26", "conv-30", "conv-41", "conv-42", "conv-43")]
    assert [s["sample_id"] for s in report.select(samples, "tune")] == ["conv-26", "conv-30", "conv-41"]
    assert [s["sample_id"] for s in report.select(samples, "check")] == ["conv-42", "conv-43"]
    assert report.select(samples, "all") == samples
    with pytest.raises(ValueError, match="unknown split"):
        report.select(samples, "dev")
    assert [s["sample_id"] for s in report.select(samples, "tune", "conv-30")] == ["conv-30"]
    with pytest.raises(ValueError, match="not in split"):
        report.select(samples, "check", "conv-26")


def test_reflection_answers_are_reused_by_exact_request(tmp_path: Path) -> None:
    from memory.evaluation.json_cache import CachedJson

    model = FakeChatModel()
    model.json_replies = [{"memories": ["first"]}, {"memories": ["second"]}]
    path = tmp_path / "cache.jsonl"
    cached = CachedJson(model, path)
    ask = [{"role": "user", "content": "turns"}]
    assert cached.complete_json(ask, {"type": "object"}, max_tokens=10) == {"memories": ["first"]}
    with path.open("a") as handle:
        handle.write('{"key": "cut by a kil')  # a run killed mid-write
    again = CachedJson(model, path)
    assert again.complete_json(ask, {"type": "object"}, max_tokens=10) == {"memories": ["first"]}
    assert again.hits == 1 and again.n_ctx == model.n_ctx  # everything else is the model's
    assert again.complete_json(ask, {"type": "object"}, max_tokens=11) == {"memories": ["second"]}
