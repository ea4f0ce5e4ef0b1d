"""Which MiniLM runs: on onnxruntime when it is installed (faster), else in plain numpy (the same
vectors). Apart from both implementations, so neither imports the other back."""

from __future__ import annotations

from memory.embed.minilm import MiniLMEmbedder


def default_embedder() -> MiniLMEmbedder:
    try:
        from memory.embed.minilm_onnx import OnnxMiniLMEmbedder

        return OnnxMiniLMEmbedder()
    except ImportError:
        return MiniLMEmbedder()
