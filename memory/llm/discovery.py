"""Chat models already on this computer: Ollama, LM Studio, GPT4All, Jan, the Hugging Face cache,
and folders the user adds — each described from its GGUF header, never loaded.

Ollama keeps weights as content-addressed blobs: its manifests map a name such as ``llama3.2:3b``
to the blob file. Embedding-only models and vision projectors are recognised and not offered as
chat models; unreadable files are listed with the reason. The scan walks folders with ``os.scandir``
(no symlinked folder is followed, depth is bounded) and reads headers only, so a home folder of
thousands of files takes well under a second; it still runs off the GUI thread.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from memory.llm.gguf_header import (
    EMBEDDING_ARCHITECTURES,
    FILE_TYPES,
    PROJECTOR_ARCHITECTURES,
    HeaderError,
    read_header,
)

MAX_DEPTH = 8
MODEL_LAYER = "application/vnd.ollama.image.model"
DEFAULT_CONTEXT = 4096  # the app's default context, for the RAM estimate


@dataclass
class FoundModel:
    name: str
    path: Path
    source: str  # "Ollama", "LM Studio", … or "Your folder"
    size: int
    kind: str = "chat"  # "chat", "embedding", "projector", or "unusable"
    architecture: str = ""
    parameters: int = 0
    quantization: str = ""
    context_length: int = 0
    chat_template: bool = False
    ram_estimate: int = 0  # bytes: the weights plus the KV cache at DEFAULT_CONTEXT
    problem: str = ""

    @property
    def usable(self) -> bool:
        return self.kind == "chat"


def _home() -> Path:
    return Path.home()


def locations() -> list[tuple[str, Path]]:
    """Where each app keeps its models on this OS (those that exist are scanned)."""
    home = _home()
    found = [
        ("Ollama", Path(os.environ.get("OLLAMA_MODELS", home / ".ollama" / "models"))),
        ("LM Studio", home / ".lmstudio" / "models"),
        ("LM Studio", home / ".cache" / "lm-studio" / "models"),
        ("Hugging Face", Path(os.environ.get("HF_HUB_CACHE", home / ".cache" / "huggingface" / "hub"))),
        ("Jan", home / "jan" / "models"),
    ]
    if sys.platform == "darwin":
        support = home / "Library" / "Application Support"
        found += [("GPT4All", support / "nomic.ai" / "GPT4All"), ("Jan", support / "Jan" / "data" / "models")]
    elif sys.platform == "win32":
        local = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
        roaming = Path(os.environ.get("APPDATA", home / "AppData" / "Roaming"))
        found += [("GPT4All", local / "nomic.ai" / "GPT4All"), ("Jan", roaming / "Jan" / "data" / "models")]
    else:
        data = Path(os.environ.get("XDG_DATA_HOME", home / ".local" / "share"))
        found += [("GPT4All", data / "nomic.ai" / "GPT4All"), ("Jan", data / "Jan" / "data" / "models")]
    return found


def ollama_models(root: Path) -> Iterator[tuple[str, Path]]:
    """(name:tag, blob path) for each model manifest under an Ollama models folder."""
    manifests = root / "manifests"
    for manifest in _files(manifests, lambda _p: True):
        try:
            layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
        except (OSError, ValueError, AttributeError):
            continue
        for layer in layers:
            if isinstance(layer, dict) and layer.get("mediaType") == MODEL_LAYER:
                digest = str(layer.get("digest", "")).replace(":", "-")
                parts = manifest.relative_to(manifests).parts  # registry/namespace/model/tag
                model, tag = (parts[-2], parts[-1]) if len(parts) >= 2 else (manifest.name, "latest")
                namespace = parts[-3] if len(parts) >= 3 else "library"
                name = f"{model}:{tag}" if namespace == "library" else f"{namespace}/{model}:{tag}"
                yield name, root / "blobs" / digest


def display_name(path: Path) -> str:
    """What to call a model file: its Ollama name for an Ollama blob, else the file's stem."""
    if path.parent.name == "blobs" and path.name.startswith("sha256-"):
        for name, blob in ollama_models(path.parent.parent):
            if blob.name == path.name:
                return name
    return path.stem


def _files(root: Path, wanted: object, depth: int = 0) -> Iterator[Path]:
    if depth > MAX_DEPTH:
        return
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _files(Path(entry.path), wanted, depth + 1)
            elif entry.is_file() and wanted(Path(entry.path)):  # type: ignore[operator]
                yield Path(entry.path)
        except OSError:
            continue


def _is_gguf(path: Path) -> bool:
    return path.suffix.lower() == ".gguf"


def describe(path: Path, name: str, source: str) -> FoundModel:
    """A model file as the picker lists it, from its header."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return FoundModel(name, path, source, 0, kind="unusable", problem=f"cannot be read ({exc.strerror})")
    found = FoundModel(name, path, source, size)
    try:
        header = read_header(path)
    except HeaderError as exc:
        found.kind, found.problem = "unusable", str(exc)
        return found
    meta = header.metadata
    arch = str(meta.get("general.architecture", ""))
    found.architecture = arch
    found.parameters = header.parameters
    found.quantization = FILE_TYPES.get(int(meta.get("general.file_type", -1)), "")
    found.context_length = int(meta.get(f"{arch}.context_length", 0))
    found.chat_template = "tokenizer.chat_template" in meta
    if arch in PROJECTOR_ARCHITECTURES or meta.get("general.type") in ("mmproj", "clip"):
        found.kind = "projector"
    elif arch in EMBEDDING_ARCHITECTURES or f"{arch}.pooling_type" in meta:
        found.kind = "embedding"
    found.ram_estimate = size + _kv_bytes(meta, arch)
    return found


def _kv_bytes(meta: dict[str, object], arch: str) -> int:
    """The KV cache at DEFAULT_CONTEXT in f16: layers × 2 × context × kv width × 2 bytes."""
    try:
        layers = int(meta[f"{arch}.block_count"])  # type: ignore[call-overload]
        width = int(meta[f"{arch}.embedding_length"])  # type: ignore[call-overload]
        heads = int(meta[f"{arch}.attention.head_count"])  # type: ignore[call-overload]
        kv_heads = int(meta.get(f"{arch}.attention.head_count_kv", heads))  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        return 0
    return layers * 2 * DEFAULT_CONTEXT * (width * kv_heads // max(1, heads)) * 2


def scan(folders: list[Path] | None = None) -> list[FoundModel]:
    """Every GGUF model in the usual places and in ``folders``, chat models first, by name."""
    seen: set[Path] = set()
    found: list[FoundModel] = []

    def add(path: Path, name: str, source: str) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(describe(path, name, source))

    places = locations() + [("Your folder", f) for f in folders or []]
    for source, root in places:
        if not root.is_dir():
            continue
        if source == "Ollama":
            for name, blob in ollama_models(root):
                add(blob, name, source)
            continue
        for path in _files(root, _is_gguf):
            add(path, path.stem, source)
    found.sort(key=lambda m: (not m.usable, m.kind, m.name.lower()))
    return found
