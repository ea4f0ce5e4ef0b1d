"""How ``bench/bench_model_form.py`` chooses the form the app runs: the fastest faithful form at
prompts, among those that still generate at GENERATION_FLOOR of the packaged file's speed."""

from __future__ import annotations

from typing import Any

from tests.bench_scripts import bench_script


def form(
    prompt: float, generation: float, perplexity: float = 43.0, agreeing: float = 15.0
) -> dict[str, Any]:
    return {
        "prompt_tokens_per_s": prompt,
        "deep_prompt_tokens_per_s": prompt * 0.75,
        "generation_tokens_per_s": generation,
        "perplexity": perplexity,
        "greedy": {"mean_agreeing_first_tokens": agreeing},
    }


def forms(bench: Any, **changes: dict[str, Any]) -> dict[str, Any]:
    table = {
        bench.PACKAGED: form(200, 100),
        "F32": form(440, 48),  # faithful and fast at prompts, but generates at half speed
        "F16": form(450, 80),
        "Q8_0": form(380, 104, perplexity=43.8, agreeing=10.5),
        "Q4_0": form(460, 160, perplexity=45.4, agreeing=1.5),  # fastest, and not faithful
    }
    return table | changes


def test_the_fastest_faithful_form_that_generates_fast_enough_is_chosen() -> None:
    bench = bench_script("bench_model_form")
    table = forms(bench)
    assert bench.choose(table) == "F16"
    assert not table["Q4_0"]["faithful"] and table["F32"]["faithful"]


def test_a_form_below_the_generation_floor_is_passed_over() -> None:
    bench = bench_script("bench_model_form")
    assert bench.choose(forms(bench, F16=form(450, 60))) == "Q8_0"  # 0.6x the packaged file's


def test_with_no_faithful_form_the_packaged_file_runs_as_it_is() -> None:
    bench = bench_script("bench_model_form")
    unfaithful = form(450, 150, perplexity=47.0)
    table = forms(bench, F16=unfaithful, Q8_0=unfaithful)
    assert bench.choose(table) == bench.PACKAGED


def drifting(values: dict[str, Any], drift: float) -> dict[str, Any]:
    return values | {"faithful": True, "batch_drift": {"max_logit_difference": drift, "invariant": False}}


def test_fused_attention_is_used_when_faithful_faster_deep_and_no_less_stable_than_the_packaged_file() -> (
    None
):
    bench = bench_script("bench_model_form")
    table = {
        bench.PACKAGED: drifting(form(200, 100), 0.52),
        "F16": drifting(form(360, 70), 0.014),
        "F16" + bench.FLASH: drifting(form(500, 80), 0.054),  # more than F16's, far below the packaged file's
    }
    assert bench.flash_verdict(table, "F16")
    table["F16" + bench.FLASH] = drifting(form(500, 80), 0.6)  # moves them more than the packaged file
    assert not bench.flash_verdict(table, "F16")
    table["F16" + bench.FLASH] = drifting(form(300, 80), 0.054)  # not faster 800 tokens deep
    assert not bench.flash_verdict(table, "F16")
