"""`bench/eval.py --quick`: the commands `make eval` runs, on synthetic files, write results files
that say what made them (commit, date, machine, data and its sha256, split)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.bench_scripts import bench_script

ROOT = Path(__file__).resolve().parents[3]


def eval_module() -> Any:
    return bench_script("eval")


def test_quick_runs_write_results_with_their_provenance(tmp_path: Path) -> None:
    bench = eval_module()
    results = tmp_path / "results"
    assert (
        bench.main(
            ["--quick", "--results", str(results), "--only", "turn_recall_check,profile_selector_check"]
        )
        == 0
    )
    locomo = json.loads((results / "turn_recall_check.json").read_text())
    assert locomo["split"] == "check" and locomo["questions"] == 4  # conv-42 and conv-43, two each
    assert locomo["command"] == "memoir bench locomo --split check --methods bm25,dense,hybrid"
    assert set(locomo["methods"]) == {"bm25", "dense", "hybrid"}
    data = bench.synthetic(tmp_path)  # the same synthetic files again: same bytes, same hash
    assert locomo["data"]["sha256"] == hashlib.sha256((data / "locomo_dev.json").read_bytes()).hexdigest()
    profile = json.loads((results / "profile_selector_check.json").read_text())
    assert profile["split"] == "check" and profile["selector"]["0.15"]["episodes"] == 20
    for run in (locomo, profile):
        assert len(run["commit"]) == 40 and run["date"].startswith("20")
        assert run["machine"]["cores"] >= 1 and run["machine"]["cpu"]


def test_quick_never_writes_over_the_committed_results() -> None:
    with pytest.raises(SystemExit):
        eval_module().main(["--quick"])


def test_an_unknown_run_is_named() -> None:
    with pytest.raises(SystemExit):
        eval_module().main(["--only", "turn_recall_everything", "--quick", "--results", "/nonexistent"])


def test_the_block_size_run_measures_the_apps_block_at_every_length(tmp_path: Path) -> None:
    results = tmp_path / "results"
    assert eval_module().main(["--quick", "--results", str(results), "--only", "block_size_check"]) == 0
    block = json.loads((results / "block_size_check.json").read_text())
    assert block["split"] == "check" and block["questions"] == 4
    lengths = block["lengths"]
    assert lengths["whole"]["coverage"] == 1.0  # each synthetic answer is in its turn, shown whole
    assert lengths["80"]["block_tokens"] <= lengths["whole"]["block_tokens"]
    assert block["shortest_within_tolerance"] == 80  # the synthetic turns are all short
