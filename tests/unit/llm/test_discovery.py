"""Finding the models already on this computer, from fake app folders holding the real small GGUF."""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import pytest

from memory.llm import discovery
from memory.llm.default_model import default_model_path
from memory.llm.gguf_header import HeaderError, read_header


def tiny_gguf(path: Path, architecture: str, extra: dict[str, str] | None = None) -> Path:
    """A header-only GGUF with string metadata (what an embedding model or projector declares)."""
    meta = {"general.architecture": architecture, **(extra or {})}
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(meta))
    for key, value in meta.items():
        for text in (key,):
            out += struct.pack("<Q", len(text)) + text.encode()
        out += struct.pack("<I", 8) + struct.pack("<Q", len(value)) + value.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out)
    return path


@pytest.fixture
def packaged() -> Path:
    path = default_model_path()
    assert path is not None
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(discovery, "_home", lambda: tmp_path)
    for var in ("OLLAMA_MODELS", "HF_HUB_CACHE", "XDG_DATA_HOME", "LOCALAPPDATA", "APPDATA"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def link(target: Path, at: Path) -> Path:
    at.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, at)
    return at


def test_the_header_of_the_packaged_model(packaged: Path) -> None:
    header = read_header(packaged)
    assert header.metadata["general.architecture"] == "llama"
    assert header.metadata["llama.context_length"] == 8192
    assert 130e6 < header.parameters < 140e6
    assert header.metadata["tokenizer.ggml.tokens"] == 49152  # arrays kept as their length only


def test_ollama_names_and_one_listing_per_file(home: Path, packaged: Path) -> None:
    link(packaged, home / ".lmstudio/models/team/smol/smol-q4.gguf")
    link(packaged, home / ".cache/huggingface/hub/models--team--smol/snapshots/abc/smol.Q4_1.gguf")
    link(packaged, home / ".local/share/nomic.ai/GPT4All/gpt4all-smol.gguf")
    link(packaged, home / "jan/models/smol-jan/model.gguf")
    ollama = home / ".ollama/models"
    blob = link(packaged, ollama / "blobs/sha256-1234")
    manifest = ollama / "manifests/registry.ollama.ai/library/smol/135m"
    manifest.parent.mkdir(parents=True)
    layers = [{"mediaType": "application/vnd.ollama.image.license", "digest": "sha256-9"},
              {"mediaType": discovery.MODEL_LAYER, "digest": "sha256:1234"}]  # fmt: skip
    manifest.write_text(json.dumps({"layers": layers}))
    found = discovery.scan()
    # the same file behind five names is listed once, under the first place that has it (Ollama)
    assert len(found) == 1
    (model,) = found
    assert model.source == "Ollama" and model.name == "smol:135m" and model.path == blob
    assert discovery.display_name(blob) == "smol:135m"  # what the status bar calls it once chosen
    assert model.usable and model.architecture == "llama" and model.quantization == "Q4_1"
    assert model.context_length == 8192 and model.chat_template
    assert model.ram_estimate > model.size > 90e6


def test_distinct_files_in_each_place_are_all_listed(home: Path, packaged: Path) -> None:
    data = packaged.read_bytes()
    gpt4all = dict(discovery.locations())["GPT4All"]  # under XDG_DATA_HOME, wherever the run puts it
    places = (
        home / ".lmstudio/models/a/one.gguf",
        home / ".cache/huggingface/hub/m/two.gguf",
        home / "jan/models/x/three.gguf",
        gpt4all / "four.gguf",
    )
    for target in places:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data + target.name.encode())  # other bytes: other files
    names = {(m.source, m.name) for m in discovery.scan()}
    assert names == {("LM Studio", "one"), ("Hugging Face", "two"), ("Jan", "three"), ("GPT4All", "four")}


def test_embedding_projector_and_broken_files_are_not_offered(
    home: Path, packaged: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mine"
    tiny_gguf(folder / "minilm.gguf", "bert")
    tiny_gguf(folder / "mmproj.gguf", "clip")
    (folder / "cut.gguf").write_bytes(packaged.read_bytes()[:3000])
    (folder / "notes.gguf").write_text("not a model")
    link(packaged, folder / "chat.gguf")
    found = {m.name: m for m in discovery.scan([folder])}
    assert found["chat"].usable and found["chat"].source == "Your folder"
    assert found["minilm"].kind == "embedding" and not found["minilm"].usable
    assert found["mmproj"].kind == "projector"
    assert found["cut"].kind == "unusable" and "truncated" in found["cut"].problem
    assert found["notes"].kind == "unusable" and "GGUF" in found["notes"].problem
    assert next(m.name for m in discovery.scan([folder])) == "chat"  # chat models first


def test_an_ollama_manifest_pointing_at_a_missing_blob(home: Path) -> None:
    manifest = home / ".ollama/models/manifests/registry.ollama.ai/library/gone/latest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [{"mediaType": discovery.MODEL_LAYER, "digest": "sha256:ff"}]}))
    (found,) = discovery.scan()
    assert found.name == "gone:latest" and not found.usable and "cannot be read" in found.problem


def test_bad_headers_say_why(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 40))
    with pytest.raises(HeaderError, match="damaged"):
        read_header(bad)
    bad.write_bytes(b"GGUF" + struct.pack("<IQQ", 99, 0, 0))
    with pytest.raises(HeaderError, match="version 99"):
        read_header(bad)


def test_a_home_folder_of_thousands_of_files_is_quick(home: Path) -> None:
    for i in range(3000):
        (home / f"jan/models/m{i % 30}").mkdir(parents=True, exist_ok=True)
        (home / f"jan/models/m{i % 30}/file{i}.txt").write_text("x")
    start = time.perf_counter()
    assert discovery.scan() == []
    print(f"scan of 3,000 files: {time.perf_counter() - start:.3f} s")  # a number, not a timed assert
