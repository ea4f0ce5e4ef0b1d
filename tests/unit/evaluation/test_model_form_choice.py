"""How ``bench/bench_model_form.py`` chooses how the app runs the packaged model: of the faithful,
stable runs (a form, with or without fused attention) that generate at GENERATION_FLOOR of the
packaged file's speed or more, the fastest deep in a conversation."""

from __future__ import annotations

from typing import Any

from tests.bench_scripts import bench_script


def run(
    deep: float, generation: float, drift: float = 0.01, perplexity: float = 43.0, agreeing: float = 15.0
) -> dict[str, Any]:
    return {
        "prompt_tokens_per_s": deep * 1.3,
        "deep_prompt_tokens_per_s": deep,
        "generation_tokens_per_s": generation,
        "perplexity": perplexity,
        "greedy": {"mean_agreeing_first_tokens": agreeing},
        "batch_drift": {"max_logit_difference": drift, "invariant": drift == 0.0},
    }


def runs(bench: Any, **changes: dict[str, Any]) -> dict[str, Any]:
    fused = bench.FLASH
    table = {
        bench.PACKAGED: run(160, 100, drift=0.52),
        "F32": run(290, 48, drift=0.003),  # faithful, stable and fast, but generates at half speed
        "F16": run(257, 68, drift=0.014),
        "Q8_0": run(
            246, 96, drift=0.65, perplexity=43.8, agreeing=10.5
        ),  # moves logits more than the packaged file
        "Q4_0": run(322, 148, drift=0.0, perplexity=45.4, agreeing=1.5),  # fastest, and not faithful
        "F16" + fused: run(319, 84, drift=0.054),
        "Q8_0" + fused: run(313, 118, drift=0.53, agreeing=8.3),
    }
    return table | {name.replace("_fused", fused): values for name, values in changes.items()}


def test_the_fastest_faithful_stable_run_that_generates_fast_enough_is_chosen() -> None:
    bench = bench_script("bench_model_form")
    table = runs(bench)
    assert bench.choose(table) == "F16" + bench.FLASH
    assert not table["Q4_0"]["faithful"] and table["F32"]["faithful"]
    assert not table["Q8_0"]["stable"] and not table["Q8_0" + bench.FLASH]["stable"]


def test_a_run_below_the_generation_floor_is_passed_over() -> None:
    bench = bench_script("bench_model_form")
    slow = runs(bench, F16_fused=run(319, 60, drift=0.054), F16=run(257, 75, drift=0.014))
    assert bench.choose(slow) == "F16"  # fused: 0.6x the packaged file's generation; plain: 0.75x


def test_with_no_eligible_run_the_packaged_file_runs_as_it_is() -> None:
    bench = bench_script("bench_model_form")
    unfaithful = run(400, 150, perplexity=47.0)
    table = runs(bench, F16=unfaithful, F16_fused=unfaithful, Q8_0_fused=unfaithful)
    assert bench.choose(table) == bench.PACKAGED
