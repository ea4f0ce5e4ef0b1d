"""Conversations keep their llama.cpp cache: switching back restores it instead of re-evaluating.

llama.cpp keeps one conversation's evaluated tokens (its KV cache). When the next prompt shares
little with them — the user switched to another conversation — the engine first saves the state it
is leaving, then restores the saved state that covers the longest part of the new prompt, so only
the rest is evaluated. States are files in the data folder's ``states/<key>/``: the key names the
model file and the context settings, so any change of either starts afresh (older keys' folders are
removed). Each file carries a checksum; a damaged one is deleted and ignored, never given to
llama.cpp. Past ``cap_bytes`` the least recently used states are dropped.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CAP_BYTES = 1 << 30  # about twenty 2,000-token conversations of the packaged model
MIN_GAIN = 64  # restoring is worth a file read only when it saves more tokens than this
_HEADER = b"MEMOIR-STATE-1\n"


@dataclass
class Saved:
    path: Path
    tokens: np.ndarray  # int32, the evaluated tokens the state holds


def settings_key(model_file: Path, n_ctx: int, flash_attention: bool = False) -> str:
    """Saved states are only worth restoring into the same model, context and KV layout (fused
    attention keeps V untransposed)."""
    stat = model_file.stat()
    import llama_cpp

    raw = f"{model_file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{n_ctx}|{llama_cpp.__version__}"
    if flash_attention:
        raw += "|flash"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class StateCache:
    def __init__(self, root: Path, key: str, cap_bytes: int = CAP_BYTES) -> None:
        self.folder = root / key
        self.cap_bytes = cap_bytes
        for stale in root.glob("*") if root.exists() else []:
            if stale.is_dir() and stale.name != key:  # another model or context: worthless now
                shutil.rmtree(stale, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._saved = [s for s in (self._read_tokens(p) for p in self.folder.glob("*.state")) if s]

    # Reading and writing files --------------------------------------------------------------

    @staticmethod
    def _read_tokens(path: Path) -> Saved | None:
        """The tokens of a state file, from its header only (the state stays on disk)."""
        try:
            with path.open("rb") as handle:
                if handle.read(len(_HEADER)) != _HEADER:
                    raise ValueError("not a state file")
                count = int.from_bytes(handle.read(8), "little")
                tokens = np.frombuffer(handle.read(4 * count), dtype=np.int32)
                if len(tokens) != count:
                    raise ValueError("truncated")
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        return Saved(path, tokens)

    def save(self, llama: Any) -> None:
        """Keep the state llama.cpp holds now (its tokens and KV cache)."""
        import llama_cpp

        count = int(llama.n_tokens)
        if count <= MIN_GAIN:
            return
        tokens = np.array(llama.input_ids[:count], dtype=np.int32)  # a copy: input_ids is reused
        size = int(llama_cpp.llama_state_get_size(llama._ctx.ctx))
        # A state is tens of megabytes. Copied into a ctypes array and then into bytes, it was copied
        # three times with the GIL held, and the GUI thread waited up to 335 ms for it when reflection
        # took the model from a conversation (bench/bench_gui_stall.py, reflecting). Here llama.cpp
        # writes straight into numpy's memory, and hashing and writing it let other threads run.
        buffer = np.empty(size, dtype=np.uint8)
        written = int(llama_cpp.llama_state_get_data(llama._ctx.ctx, _pointer(buffer), size))
        data = buffer.data[:written]
        name = hashlib.sha256(tokens.tobytes()).hexdigest()[:24]
        self.folder.mkdir(parents=True, exist_ok=True)  # deleted with everything else, maybe
        path = self.folder / f"{name}.state"
        partial = path.with_suffix(".part")
        with partial.open("wb") as handle:
            handle.write(_HEADER + count.to_bytes(8, "little") + tokens.tobytes())
            handle.write(hashlib.sha256(data).digest())
            handle.write(data)
        os.replace(partial, path)
        self._saved = [s for s in self._saved if s.path != path] + [Saved(path, tokens)]
        self._prune()

    def _prune(self) -> None:
        """Least recently used states out until the folder fits under the cap."""
        files = sorted(self.folder.glob("*.state"), key=lambda p: p.stat().st_mtime_ns)
        total = sum(p.stat().st_size for p in files)
        while files and total > self.cap_bytes:
            oldest = files.pop(0)
            total -= oldest.stat().st_size
            oldest.unlink()
            self._saved = [s for s in self._saved if s.path != oldest]

    # Restoring --------------------------------------------------------------------------------

    def best(self, prompt: list[int], cached: int) -> Saved | None:
        """The saved state sharing the longest start with ``prompt``, if it beats the ``cached``
        prefix by enough. It need not be a whole prefix: a reply's tokens as sampled can differ
        from the same text tokenized again, and llama.cpp drops what follows the shared start."""
        wanted = np.asarray(prompt, dtype=np.int32)
        best, best_len = None, cached + MIN_GAIN
        for saved in self._saved:
            n = min(len(saved.tokens), len(wanted) - 1)  # at least one prompt token to evaluate
            if n <= best_len:
                continue
            same = saved.tokens[:n] == wanted[:n]
            shared = n if same.all() else int(np.argmin(same))
            if shared > best_len:
                best, best_len = saved, shared
        return best

    def restore(self, llama: Any, saved: Saved) -> bool:
        """Load ``saved`` into llama.cpp; False (and the file deleted) if it is damaged."""
        import llama_cpp

        try:
            data = self._read_state(saved)
        except (OSError, ValueError) as exc:
            log.warning("ignoring a damaged conversation cache %s: %s", saved.path.name, exc)
            self._drop(saved)
            return False
        if int(llama_cpp.llama_state_set_data(llama._ctx.ctx, _pointer(data), len(data))) != len(data):
            self._drop(saved)
            return False
        count = len(saved.tokens)
        llama.input_ids[:count] = saved.tokens
        llama.n_tokens = count
        os.utime(saved.path)  # recently used
        return True

    @staticmethod
    def _read_state(saved: Saved) -> np.ndarray:
        """The state's bytes, checked against their checksum; read into numpy's memory without a
        copy held under the GIL (see ``save``)."""
        start = len(_HEADER) + 8 + 4 * len(saved.tokens)
        with saved.path.open("rb", buffering=0) as handle:
            handle.seek(start)
            digest = handle.read(32)
            data = np.empty(max(0, os.fstat(handle.fileno()).st_size - start - 32), dtype=np.uint8)
            view, done = data.data, 0
            while done < len(data):
                read = handle.readinto(view[done:])
                if not read:
                    raise ValueError("truncated")
                done += read
        if len(digest) != 32 or not len(data) or hashlib.sha256(view).digest() != digest:
            raise ValueError("checksum mismatch")
        return data

    def _drop(self, saved: Saved) -> None:
        with contextlib.suppress(OSError):
            saved.path.unlink()
        self._saved = [s for s in self._saved if s is not saved]

    def clear(self) -> None:
        """Every saved state gone (the user deleted or forgot something they may hold)."""
        for saved in list(self._saved):
            self._drop(saved)
        for leftover in self.folder.glob("*"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _pointer(buffer: np.ndarray) -> Any:
    """``buffer``'s memory as the ``uint8_t *`` llama.cpp's state functions take."""
    return buffer.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))
