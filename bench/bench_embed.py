"""Embedding throughput: Memoir's numpy MiniLM vs sentence-transformers on the same CPU and texts.

sentence-transformers (and torch) are not Memoir dependencies: pass --st-python, the interpreter of
a separate venv that has them, and the same model is loaded there from the packaged zip.
Prints texts/s for both and the ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dev_texts import turns_and_questions  # noqa: E402

from memory.embed.embedders import default_embedder  # noqa: E402
from memory.embed.minilm import MiniLMEmbedder, minilm_zip  # noqa: E402

ST_SCRIPT = """
import json, sys, time, torch
from sentence_transformers import SentenceTransformer
torch.set_num_threads({threads})
model = SentenceTransformer({model_dir!r}, device="cpu")
texts = json.load(open({texts!r}))
model.encode(texts[:64], batch_size=32, normalize_embeddings=True)
runs = []
for _ in range({runs}):
    start = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True)
    runs.append(time.perf_counter() - start)
print(json.dumps(runs))
"""


def corpus(n: int) -> list[str]:
    return turns_and_questions()[0][:n]


def ours(texts: list[str], runs: int, model: MiniLMEmbedder) -> list[float]:
    model.embed(texts[:64])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        model.embed(texts)
        times.append(time.perf_counter() - start)
    return times


def single_query_ms(texts: list[str], model: MiniLMEmbedder) -> tuple[float, float]:
    model.embed(texts[:1])
    times = []
    for text in texts[:200]:
        start = time.perf_counter()
        model.embed([text])
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def theirs(python: str, texts: list[str], runs: int, threads: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "minilm"
        with zipfile.ZipFile(minilm_zip()) as archive:
            archive.extractall(model_dir)
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts))
        script = ST_SCRIPT.format(threads=threads, model_dir=str(model_dir), texts=str(texts_file), runs=runs)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        out = subprocess.run([python, "-c", script], capture_output=True, text=True, env=env, check=True)
        return list(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--st-python", help="a python with sentence-transformers and torch installed")
    args = parser.parse_args()
    texts = corpus(args.texts)
    print(f"texts: {len(texts)} LoCoMo turns (speaker: text), {os.cpu_count()} CPUs")
    mine = 0.0
    for label, model in (("memoir onnxruntime", default_embedder()), ("memoir numpy", MiniLMEmbedder())):
        rate = len(texts) / statistics.median(ours(texts, args.runs, model))
        mine = mine or rate  # the default engine is the one compared
        p50, p95 = single_query_ms(texts, model)
        print(f"{label:25} {rate:8.1f} texts/s   single query p50 {p50:.1f} ms  p95 {p95:.1f} ms")
    if args.st_python:
        threads = os.cpu_count() or 1
        st = len(texts) / statistics.median(theirs(args.st_python, texts, args.runs, threads))
        print(f"sentence-transformers     {st:8.1f} texts/s   (torch, {threads} threads)")
        print(f"ratio memoir / sentence-transformers: {mine / st:.2f}")


if __name__ == "__main__":
    main()
