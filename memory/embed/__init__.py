"""Sentence embeddings: MiniLM in numpy or onnxruntime, or a GGUF embedder run by llama.cpp."""
