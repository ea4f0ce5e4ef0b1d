"""What a GGUF file is, read from its header alone (no weights loaded): enough to list a model.

The format (llama.cpp's gguf.h): magic "GGUF", version, tensor and key-value counts, the key-values
(typed, strings and arrays length-prefixed), then each tensor's name, shape and type. Arrays such as
the tokenizer's 50,000 tokens are skipped, not kept. A file that ends early or holds nonsense gives
a :class:`HeaderError` with a reason written for the user.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

# gguf_type: (struct format, size) for the fixed-size ones
_SCALARS = {
    0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4),
    6: ("<f", 4), 7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8),
}  # fmt: skip
_STRING, _ARRAY = 8, 9
_MAX_STRING = 1 << 24  # a key or value longer than 16 MB is not a real header
# llama_ftype values (llama.h) as users see them in file names
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M",
    30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
}  # fmt: skip
EMBEDDING_ARCHITECTURES = frozenset({"bert", "nomic-bert", "jina-bert-v2", "t5encoder", "modern-bert"})
PROJECTOR_ARCHITECTURES = frozenset({"clip", "mllama_vision"})


class HeaderError(Exception):
    """Not a readable GGUF header; the message says why, for the user."""


@dataclass
class Header:
    version: int
    metadata: dict[str, Any] = field(default_factory=dict)  # arrays kept only as their length
    parameters: int = 0  # sum of the tensors' element counts


def _read(handle: BinaryIO, size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise HeaderError("the file ends inside its header: it looks truncated")
    return data


def _string(handle: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", _read(handle, 8))
    if length > _MAX_STRING:
        raise HeaderError("the header holds an impossible string length: the file is damaged")
    return _read(handle, length).decode("utf-8", errors="replace")


def _value(handle: BinaryIO, kind: int) -> Any:
    if kind in _SCALARS:
        fmt, size = _SCALARS[kind]
        return struct.unpack(fmt, _read(handle, size))[0]
    if kind == _STRING:
        return _string(handle)
    if kind == _ARRAY:
        (item_kind,) = struct.unpack("<I", _read(handle, 4))
        (count,) = struct.unpack("<Q", _read(handle, 8))
        if item_kind in _SCALARS:  # skipped in one seek
            handle.seek(_SCALARS[item_kind][1] * count, 1)
        elif item_kind == _STRING:
            for _ in range(count):
                (length,) = struct.unpack("<Q", _read(handle, 8))
                handle.seek(length, 1)
        else:
            raise HeaderError(f"the header holds an array of unknown type {item_kind}")
        return count
    raise HeaderError(f"the header holds a value of unknown type {kind}")


def read_header(path: Path) -> Header:
    try:
        with path.open("rb") as handle:
            if _read(handle, 4) != b"GGUF":
                raise HeaderError("it does not start with 'GGUF': not a GGUF model file")
            version, tensors, count = struct.unpack("<IQQ", _read(handle, 20))
            if version not in (2, 3):
                raise HeaderError(f"GGUF version {version} is not one this build reads")
            header = Header(version)
            for _ in range(count):
                key = _string(handle)
                (kind,) = struct.unpack("<I", _read(handle, 4))
                header.metadata[key] = _value(handle, kind)
            for _ in range(tensors):
                _string(handle)
                (dims,) = struct.unpack("<I", _read(handle, 4))
                shape = struct.unpack(f"<{dims}Q", _read(handle, 8 * dims)) if dims <= 8 else ()
                _read(handle, 12)  # type and offset
                elements = 1
                for d in shape:
                    elements *= d
                header.parameters += elements
    except OSError as exc:
        raise HeaderError(f"it cannot be read: {exc.strerror or exc}") from exc
    return header
