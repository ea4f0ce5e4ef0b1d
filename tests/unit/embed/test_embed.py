import json
import zipfile

import numpy as np
import pytest

from memory.embed.minilm import MiniLMEmbedder, load_safetensors, minilm_zip, read_member
from memory.embed.minilm_onnx import OnnxMiniLMEmbedder, build_model
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


def test_safetensors_loader_matches_the_reference_library(tmp_path) -> None:
    from safetensors.numpy import load, save

    tensors = {
        "a": np.arange(12, dtype=np.float32).reshape(3, 4),
        "b": np.array([1.5, -2.0], dtype=np.float16),
        "c": np.array([[7]], dtype=np.int64),
    }
    raw = save(tensors, metadata={"format": "np"})
    got = load_safetensors(np.frombuffer(raw, dtype=np.uint8).copy())
    expected = load(raw)
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name].dtype == expected[name].dtype and np.array_equal(got[name], expected[name])


def test_zip_member_read_in_steps_is_the_whole_member(tmp_path) -> None:
    payload = np.random.default_rng(0).integers(0, 255, 3_000_001, dtype=np.uint8).tobytes()
    path = tmp_path / "m.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("w.bin", payload)
    with zipfile.ZipFile(path) as archive:
        assert read_member(archive, "w.bin", chunk=1 << 16).tobytes() == payload


def test_onnx_weights_stay_out_of_the_serialized_graph() -> None:
    """Serializing 90 MB of weights is one GIL-holding call (a GUI stall); the graph names them."""
    with zipfile.ZipFile(minilm_zip()) as archive:
        tensors = load_safetensors(read_member(archive, "model.safetensors"))
    graph, weights = build_model(tensors, list(range(6)))
    assert len(graph) < 1_000_000
    assert sum(w.nbytes for w in weights.values()) > 80_000_000
