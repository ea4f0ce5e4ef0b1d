"""`memoir bench profile` plumbing: reflection runs through the Assistant as in the app, and what it
then believes about the user is scored; bad arguments get a clear message."""

from __future__ import annotations

import json
from pathlib import Path

from memory.evaluation import profile
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder

EPISODE = {
    "id": "made-up-1",
    "sessions": [
        {
            "time_since_previous": None,
            "turns": [
                {"speaker": "user", "text": "I restore old sailboats in my garage."},
                {"speaker": "partner", "text": "Nice! I keep bees on my roof."},
                {"speaker": "user", "text": "Do you sell the honey?"},
            ],
        }
    ],
    "user_facts": ["I restore old sailboats."],
    "partner_facts": ["I keep bees."],
}


def test_reflection_through_the_assistant_is_scored(tmp_path: Path) -> None:
    data = tmp_path / "episodes.jsonl"
    data.write_text(json.dumps(EPISODE) + "\n", encoding="utf-8")
    model = FakeChatModel()
    model.default_json = {"memories": []}  # the model adds nothing; the user's own sentence remains
    dump = tmp_path / "dump.jsonl"
    result = profile.run(data, model, FakeEmbedder(), dump)
    assert result["episodes"] == 1 and result["failed_sessions"] == 0
    assert result["statements_kept"] == 1 and result["extractions"] == 1
    assert model.json_prompts, "reflection asked the model"
    items = json.loads(dump.read_text(encoding="utf-8"))["items"]
    # the user's own sentence; not the partner's life, not a question
    assert items == ["I restore old sailboats in my garage."]
    assert result["f1"] == 1.0 and result["leakage"] == 0.0


def test_a_bad_split_or_threshold_is_named(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "episodes.jsonl"
    data.write_text(json.dumps(EPISODE) + "\n", encoding="utf-8")
    assert profile.main(data, True, None, True, None, None, split="middle") == 2
    assert "unknown split 'middle'" in capsys.readouterr().err
    assert profile.main(data, True, None, True, None, None, selector="0.1,high") == 2
    assert "--selector" in capsys.readouterr().err
