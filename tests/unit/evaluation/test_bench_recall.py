"""The plumbing of `memoir bench locomo` on a tiny synthetic LoCoMo-format file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.main import main
from memory.evaluation import turn_recall as locomo
from tests.fakes import FakeEmbedder

SAMPLE = {
    "sample_id": "tiny-1",
    "conversation": {
        "speaker_a": "Ana",
        "speaker_b": "Ben",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Ana", "dia_id": "D1:1", "text": "I finally adopted a greyhound called Biscuit!"},
            {"speaker": "Ben", "dia_id": "D1:2", "text": "Congratulations, how old is he?"},
            {
                "speaker": "Ana",
                "dia_id": "D1:3",
                "text": "Three years old, a retired racer.",
                "blip_caption": "a photo of a grey dog on a sofa",
            },
        ],
        "session_2_date_time": "10:00 am on 20 June, 2023",
        "session_2": [
            {"speaker": "Ben", "dia_id": "D2:1", "text": "My pottery class starts next week in Porto."},
            {"speaker": "Ana", "dia_id": "D2:2", "text": "Porto is lovely, enjoy the ceramics!"},
        ],
    },
    "qa": [
        {"question": "What breed did Ana adopt?", "answer": "greyhound", "evidence": ["D1:1"], "category": 4},
        {"question": "Where is Ben's pottery class?", "answer": "Porto", "evidence": ["D2:1"], "category": 4},
        {"question": "How old is Biscuit the greyhound?", "evidence": ["D1:1", "D1:3"], "category": 1},
        {"question": "Malformed evidence is skipped", "evidence": ["D1:1; D2:1"], "category": 4},
        {
            "question": "Adversarial is skipped",
            "adversarial_answer": "x",
            "evidence": ["D1:2"],
            "category": 5,
        },
    ],
    "session_summary": {"session_1": "MUST NOT BE READ"},
    "observation": {"session_1": "MUST NOT BE READ"},
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_locomo.json"
    path.write_text(json.dumps([SAMPLE, {**SAMPLE, "sample_id": "tiny-2"}]))
    return path


def test_bench_json_shape_and_recall(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("memory.embed.embedders.default_embedder", FakeEmbedder)
    assert main(["bench", "locomo", "--data", str(data), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["questions"] == 6  # 3 usable per conversation
    assert set(out["methods"]) == {"bm25", "dense", "hybrid"}
    for method, summary in out["methods"].items():
        assert set(summary["overall"]) == {"recall@1", "recall@5", "recall@10", "recall@25"}
        assert set(summary["by_category"]) == {"1", "4"}
        assert summary["query_ms_p95"] >= summary["query_ms_p50"] >= 0
        if method != "bm25":  # vectors rank every turn, and all 5 fit in 25; BM25 needs a shared word
            assert summary["overall"]["recall@25"] == 1.0
    # BM25 returns only turns sharing a word with the question: it must find each evidence turn
    assert out["methods"]["bm25"]["by_category"]["4"]["recall@5"] == 1.0
    assert out["methods"]["hybrid"]["by_category"]["4"]["recall@1"] >= 0.5
    assert out["ingest_seconds"] > 0


def test_methods_can_be_chosen_and_unknown_ones_refused(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("memory.embed.embedders.default_embedder", FakeEmbedder)
    assert main(["bench", "locomo", "--data", str(data), "--json", "--methods", "bm25"]) == 0
    assert list(json.loads(capsys.readouterr().out)["methods"]) == ["bm25"]
    assert main(["bench", "locomo", "--data", str(data), "--methods", "bm25,magic"]) == 2
    assert "magic" in capsys.readouterr().err


def test_recall_counts_at_most_k_distinct_turns() -> None:
    assert locomo.recall(["D1:1", "D1:1", "D1:2"], ["D1:2"], 2) == 1.0
    assert locomo.recall(["D1:3", "D1:4", "D1:2"], ["D1:2"], 2) == 0.0
    assert locomo.recall(["D1:1", "D1:2"], ["D1:1", "D1:9"], 5) == 0.5


def test_dataset_summaries_are_never_ingested(data: Path, tmp_path: Path) -> None:
    ingested = locomo.ingest(SAMPLE, tmp_path, FakeEmbedder())
    texts = [m.content for c in ingested.store.conversations() for m in ingested.store.messages(c.id)]
    assert len(texts) == 5 and not any("MUST NOT" in t for t in texts)
    ingested.retriever.index.close()
    ingested.store.close()


def test_the_reranked_method_runs_online_through_the_apps_door(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("memory.embed.embedders.default_embedder", FakeEmbedder)
    assert main(["bench", "locomo", "--data", str(data), "--json", "--methods", "hybrid,reranked"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["methods"]) >= {"hybrid", "reranked"}
    reranked = out["methods"]["reranked"]
    assert reranked["questions_measured"] == 6  # every usable question, scored online
    assert reranked["overall"]["recall@5"] == 1.0 and reranked["before"]["recall@1"] >= 0.5
