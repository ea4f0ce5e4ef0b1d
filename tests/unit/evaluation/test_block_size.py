"""The answer coverage that chooses the memory notes' length."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory.evaluation import block_size
from memory.evaluation.block_size import coverage


def test_coverage_counts_the_answers_stemmed_content_words() -> None:
    assert coverage("a parrot", ["I adopted parrots."]) == 1.0
    assert coverage("the radio news", ["It whistles the radio tune."]) == 0.5
    assert coverage("the", ["anything"]) is None  # nothing to find: left out, not counted as 0


def test_bad_arguments_get_a_message_and_no_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "locomo.json"
    data.write_text(json.dumps([]), encoding="utf-8")
    assert block_size.main(data, True, "middle", None, None) == 2
    assert "unknown split 'middle'" in capsys.readouterr().err
    # a split with no conversation in the file: nothing to measure, said so, no results file written
    out = tmp_path / "out.json"
    assert block_size.main(data, True, "check", None, out) == 2
    assert "no question of split check" in capsys.readouterr().err and not out.exists()
    assert block_size.main(data, True, "check", tmp_path / "missing.gguf", out) == 2
    assert "missing.gguf" in capsys.readouterr().err
