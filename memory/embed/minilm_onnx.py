"""all-MiniLM-L6-v2 through onnxruntime: the graph is built here from the packaged weights (no torch).

Same tokenizer, pooling and weights as :class:`memory.embed.minilm.MiniLMEmbedder`; only the transformer runs
in onnxruntime, whose fused attention, GELU and LayerNorm kernels are faster than numpy's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from memory.embed.minilm import HEADS, LAYER_NORM_EPS, MiniLMEmbedder, Vectors

EXTERNAL_BYTES = 1024  # smaller constants (shapes, scalars) stay inline for shape inference


class _Graph:
    """Accumulates ONNX nodes and initializers with unique names."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.external: dict[str, npt.NDArray[Any]] = {}
        self._count = 0

    def const(self, name: str, value: npt.NDArray[Any]) -> str:
        value = np.ascontiguousarray(value)
        if value.nbytes < EXTERNAL_BYTES:
            self.initializers.append(self.numpy_helper.from_array(value, name))
            return name
        # Weights stay out of the protobuf: serializing 90 MB is one call that holds the GIL for
        # ~230 ms (a GUI stall); onnxruntime takes them as arrays instead.
        from onnx import TensorProto, helper

        tensor = TensorProto(name=name, dims=value.shape, data_location=TensorProto.EXTERNAL)
        tensor.data_type = helper.np_dtype_to_tensor_dtype(value.dtype)
        for key, text in (("location", "memory"), ("offset", "0"), ("length", str(value.nbytes))):
            tensor.external_data.add(key=key, value=text)
        self.initializers.append(tensor)
        self.external[name] = value
        return name

    def op(self, kind: str, inputs: list[str], **attrs: Any) -> str:
        self._count += 1
        out = f"{kind.lower()}_{self._count}"
        self.nodes.append(self.helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(self, x: str, weight: str, bias: str) -> str:
        return self.op("Add", [self.op("MatMul", [x, weight]), bias])

    def layer_norm(self, x: str, weight: str, bias: str) -> str:
        return self.op("LayerNormalization", [x, weight, bias], axis=-1, epsilon=LAYER_NORM_EPS)


def build_model(
    w: dict[str, npt.NDArray[Any]], layers: list[int]
) -> tuple[bytes, dict[str, npt.NDArray[Any]]]:
    """The encoder as an ONNX graph, and the weights it names as external initializers."""
    from onnx import TensorProto

    g = _Graph()
    width = w["embeddings.word_embeddings.weight"].shape[1]
    head = width // HEADS
    words = g.op("Gather", [g.const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids"])
    positions = g.op(
        "Gather", [g.const("pos_emb", w["embeddings.position_embeddings.weight"]), "position_ids"]
    )
    summed = g.op(
        "Add",
        [
            g.op("Add", [words, positions]),
            g.const("type_emb", w["embeddings.token_type_embeddings.weight"][0]),
        ],
    )
    x = g.layer_norm(
        summed,
        g.const("emb_ln_w", w["embeddings.LayerNorm.weight"]),
        g.const("emb_ln_b", w["embeddings.LayerNorm.bias"]),
    )
    scale = g.const("scale", np.array(1.0 / np.sqrt(head), dtype=np.float32))
    qkv_shape = g.const("qkv_shape", np.array([0, 0, 3, HEADS, head], dtype=np.int64))
    out_shape = g.const("out_shape", np.array([0, 0, width], dtype=np.int64))
    half, one = g.const("half", np.array(0.5, np.float32)), g.const("one", np.array(1.0, np.float32))
    root2 = g.const("root2", np.array(np.sqrt(2.0), np.float32))
    zero_axis = g.const("zero_axis", np.array([0], dtype=np.int64))
    for layer in layers:
        p = f"encoder.layer.{layer}."
        t = lambda name, p=p: g.const(p + name, w[p + name].T)  # noqa: E731  [out, in] -> [in, out]
        b = lambda name, p=p: g.const(p + name, w[p + name])  # noqa: E731
        qkv_w = g.const(
            p + "qkv.w",
            np.concatenate(
                [w[p + f"attention.self.{n}.weight"].T for n in ("query", "key", "value")], axis=1
            ),
        )
        qkv_b = g.const(
            p + "qkv.b",
            np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]),
        )
        qkv = g.op(
            "Transpose", [g.op("Reshape", [g.linear(x, qkv_w, qkv_b), qkv_shape])], perm=[2, 0, 3, 1, 4]
        )
        q, k, v = (
            g.op("Squeeze", [g.op("Gather", [qkv, g.const(f"{p}i{i}", np.array([i]))], axis=0), zero_axis])
            for i in range(3)
        )
        scores = g.op(
            "Add",
            [
                g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])]), scale]),
                "mask_bias",
            ],
        )
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), out_shape])
        attended = g.op(
            "Add",
            [g.linear(context, t("attention.output.dense.weight"), b("attention.output.dense.bias")), x],
        )
        x = g.layer_norm(
            attended, b("attention.output.LayerNorm.weight"), b("attention.output.LayerNorm.bias")
        )
        inner = g.linear(x, t("intermediate.dense.weight"), b("intermediate.dense.bias"))
        gelu = g.op(
            "Mul",
            [g.op("Mul", [inner, half]), g.op("Add", [g.op("Erf", [g.op("Div", [inner, root2])]), one])],
        )
        out = g.op("Add", [g.linear(gelu, t("output.dense.weight"), b("output.dense.bias")), x])
        x = g.layer_norm(out, b("output.LayerNorm.weight"), b("output.LayerNorm.bias"))
    h = g.helper
    graph = h.make_graph(
        [*g.nodes, h.make_node("Identity", [x], ["hidden"])],
        "minilm",
        [
            h.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            h.make_tensor_value_info("position_ids", TensorProto.INT64, ["length"]),
            h.make_tensor_value_info("mask_bias", TensorProto.FLOAT, ["batch", 1, 1, "length"]),
        ],
        [h.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", width])],
        g.initializers,
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    return bytes(model.SerializeToString()), g.external


class OnnxMiniLMEmbedder(MiniLMEmbedder):
    """The numpy embedder with its transformer swapped for an onnxruntime session."""

    def __init__(self, zip_path: Path | None = None, batch_size: int = 16, threads: int = 0) -> None:
        self._threads = threads
        super().__init__(zip_path, batch_size)

    def _prepare(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self._threads or (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle ORT threads busy-wait by default; on 2 cores that steals CPU from the model lane.
        # Measured: no loss of embedding throughput without it.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model, weights = build_model(self._w, self._layers)
        options.add_external_initializers(
            list(weights), [ort.OrtValue.ortvalue_from_numpy(v) for v in weights.values()]
        )
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self._w = {}  # the session copied the weights; keeping ours would hold 90 MB twice

    def _encode(self, ids: npt.NDArray[np.int64], mask: Vectors) -> Vectors:
        feeds = {
            "input_ids": ids,
            "position_ids": np.arange(ids.shape[1], dtype=np.int64),
            "mask_bias": ((1.0 - mask) * np.float32(-1e9))[:, None, None, :].astype(np.float32),
        }
        return np.asarray(self._session.run(["hidden"], feeds)[0], dtype=np.float32)
