import json

import numpy as np
import pytest

from memory.embed import MiniLMEmbedder
from memory.embed_onnx import OnnxMiniLMEmbedder
from tests.conftest import shared_file


@pytest.fixture(scope="module", params=["numpy", "onnxruntime"])
def embedder(request: pytest.FixtureRequest) -> MiniLMEmbedder:
    return MiniLMEmbedder() if request.param == "numpy" else OnnxMiniLMEmbedder()


def test_reproduces_sentence_transformers_reference_vectors(embedder: MiniLMEmbedder) -> None:
    reference = json.loads(shared_file("fixtures/minilm_reference.json").read_text())
    expected = np.asarray(reference["embeddings"], dtype=np.float32)
    got = embedder.embed(reference["texts"])
    cosines = (got * expected).sum(1) / np.linalg.norm(expected, axis=1) / np.linalg.norm(got, axis=1)
    lengths = [len(t) for t in reference["texts"]]
    assert 0 in lengths and max(lengths) > 1000, "the fixture should include empty and long texts"
    assert cosines.min() >= 0.999, dict(zip(lengths, cosines.round(5), strict=True))


def test_batching_and_order_do_not_change_vectors(embedder: MiniLMEmbedder) -> None:
    texts = ["short", "a somewhat longer sentence about dogs and hiking", "", "x " * 400]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_similar_texts_are_near(embedder: MiniLMEmbedder) -> None:
    a, b, c = embedder.embed(["I adopted a puppy", "I got a new dog", "The stock market fell"])
    assert float(a @ b) > float(a @ c) + 0.2
