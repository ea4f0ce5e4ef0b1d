"""The packaged model in its fastest faithful form: requantized once by llama.cpp's own quantizer.

The packaged SmolLM2 file is Q4_1, which misses llama.cpp's repacked AVX2 matrix path; the same
weights as ``FORM`` evaluate prompts faster (``bench/bench_model_form.py`` measures speed,
perplexity and greedy replies of each form; ``bench/results/model_form.json``). The converted file
lives in the data folder under ``models/``, named by the source file's hash, with a small record
beside it; it is made once, reused, and made again when the source changes. A converted file that
fails its check is deleted and the original is used while a new one is made in the background.

Only the packaged model is converted: a model the user chose is theirs, loaded as it is.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from memory.llm.default_model import default_model_path
from memory.llm.discovery import display_name
from memory.llm.engine import FLASH_ATTENTION, LlamaChatModel, ModelError, check_model_file
from memory.llm.state_cache import StateCache, settings_key
from memory.runtime.paths import file_sha256

log = logging.getLogger(__name__)

# Chosen by bench/bench_model_form.py (bench/results/model_form.json, with fused attention: engine.py's
# FLASH_ATTENTION): the fastest run 800 tokens deep of those whose perplexity and greedy replies stay
# within the stated tolerance of the packaged file, whose logits move no more than the packaged
# file's when a prompt is read in chunks, and that generate at 0.7x its speed or more. F16 with
# fused attention: 2.1x the packaged file 800 tokens deep, generation 0.72x, greedy replies as
# close as F32's. Q8_0 (the form before) moved logits by 0.65 when a prompt was split, Q4_0 is not
# faithful (+5.5% perplexity), F32 generates at half speed.
FORM = "F16"
# Chosen by bench/bench_degenerate.py over 50 everyday prompts with the model as Q8_0 (09580d8):
# llama.cpp's default (1.0, off) looped on 6% of replies, 1.1 on none, 1.2 left 2% degenerate. As
# F16 with fused attention (bench/results/degenerate.json): 1.1 loops on none and leaves 1 of 50 cut
# while repeating, as 1.0 and 1.2 do. The same prompts chose it and report it.
PACKAGED_REPEAT_PENALTY = 1.1
_FTYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7}  # llama_ftype values (llama.h)


@dataclass
class Record:
    """What a converted file was made from: checked on every start without reading the source."""

    source: str
    source_size: int
    source_mtime_ns: int
    source_sha256: str
    form: str
    size: int


class ModelForms:
    """Converted copies of packaged models in ``folder`` (the data folder's ``models/``)."""

    def __init__(self, folder: Path, form: str = FORM) -> None:
        if form not in _FTYPES:
            raise ValueError(f"unknown form {form!r}: choose one of {', '.join(_FTYPES)}")
        self.folder = folder
        self.form = form
        self._rebuilding: threading.Thread | None = None

    def _record_path(self, source: Path) -> Path:
        return self.folder / f"{source.stem}.{self.form}.json"

    def _read_record(self, source: Path) -> Record | None:
        try:
            return Record(**json.loads(self._record_path(source).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def _converted(self, record: Record) -> Path:
        return self.folder / f"{Path(record.source).stem}.{record.source_sha256[:16]}.{self.form}.gguf"

    def path_for(self, source: Path) -> Path:
        """The file to load for ``source``: its converted form when sound (made now if missing),
        else ``source`` itself. Never raises for a conversion problem: the original still works."""
        stat = source.stat()
        record = self._read_record(source)
        fresh = (
            record is not None
            and record.form == self.form
            and (record.source_size, record.source_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
        )
        if fresh and record is not None:
            converted = self._converted(record)
            if self._sound(converted, record):
                return converted
            log.warning("the converted model %s is damaged: using the original, rebuilding", converted)
            with contextlib.suppress(OSError):
                converted.unlink()
            self._rebuild_in_background(source)
            return source
        try:
            converted = self.convert(source)
        except (OSError, ModelError) as exc:
            log.warning("could not convert %s to %s (%s): using it as it is", source.name, self.form, exc)
            return source
        self._forget_other_forms(source)
        return converted

    @staticmethod
    def _sound(converted: Path, record: Record) -> bool:
        try:
            check_model_file(converted)
        except ModelError:
            return False
        return converted.stat().st_size == record.size

    def convert(self, source: Path) -> Path:
        """Requantize ``source`` with llama.cpp's quantizer; written beside, then renamed."""
        import llama_cpp

        self.folder.mkdir(parents=True, exist_ok=True)
        stat = source.stat()
        record = Record(str(source), stat.st_size, stat.st_mtime_ns, file_sha256(source), self.form, 0)
        converted = self._converted(record)
        partial = converted.with_name(converted.name + ".part")
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = _FTYPES[self.form]
        params.allow_requantize = True
        params.nthread = 1  # a background job: leave the other cores to the user
        from llama_cpp._utils import suppress_stdout_stderr

        with suppress_stdout_stderr(disable=False):  # the quantizer logs every tensor
            failed = llama_cpp.llama_model_quantize(
                str(source).encode(), str(partial).encode(), llama_cpp.byref(params)
            )
        if failed:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise ModelError(f"llama.cpp could not requantize {source.name} (code {failed})")
        os.replace(partial, converted)
        record.size = converted.stat().st_size
        self._forget_others(source, keep=converted)
        self._record_path(source).write_text(json.dumps(asdict(record), indent=2), encoding="utf-8")
        return converted

    def _forget_others(self, source: Path, keep: Path) -> None:
        """Older conversions of the same model (its source changed) are dead weight: removed."""
        for old in self.folder.glob(f"{source.stem}.*.{self.form}.gguf"):
            if old != keep:
                with contextlib.suppress(OSError):
                    old.unlink()

    def _forget_other_forms(self, source: Path) -> None:
        """A form the app ran before FORM changed (e.g. Q8_0) is never loaded again: removed, with
        its record. Only here, where the app converts: the bench keeps every form side by side."""
        for form in set(_FTYPES) - {self.form}:
            for old in [
                *self.folder.glob(f"{source.stem}.*.{form}.gguf"),
                self.folder / f"{source.stem}.{form}.json",
            ]:
                with contextlib.suppress(OSError):
                    old.unlink()

    def _rebuild_in_background(self, source: Path) -> None:
        if self._rebuilding is not None and self._rebuilding.is_alive():
            return

        def rebuild() -> None:
            try:
                self.convert(source)
            except (OSError, ModelError) as exc:
                log.warning("rebuilding the converted model failed: %s", exc)

        self._rebuilding = threading.Thread(target=rebuild, name="memoir-model-form", daemon=True)
        self._rebuilding.start()

    def wait(self) -> None:
        """Wait for a background rebuild (tests, and a clean quit)."""
        if self._rebuilding is not None:
            self._rebuilding.join()


def is_packaged(path: Path) -> bool:
    """Whether ``path`` is the model that ships with Memoir (the only one converted or tuned)."""
    packaged = default_model_path()
    return packaged is not None and path.resolve() == packaged.resolve()


def load_chat_model(
    path: Path,
    forms: ModelForms | None,
    *,
    n_ctx: int,
    n_threads: int = 0,
    n_gpu_layers: int = 0,
    progress: Callable[[float], None] = lambda _: None,
    states: Path | None = None,
    repeat_penalty: float = 0.0,
) -> LlamaChatModel:
    """The chat model at ``path``, run in its converted form when it is the packaged model (and
    ``forms`` is given). A converted file llama.cpp refuses is deleted and the original loaded.
    With ``states``, conversations' caches are kept there (memory/llm/state_cache.py).
    ``repeat_penalty`` 0 picks: PACKAGED_REPEAT_PENALTY for the packaged model, off for others."""
    model = _load_form(path, forms, n_ctx, n_threads, n_gpu_layers, progress)
    if model.path == path:  # an Ollama blob is called by its Ollama name, not its hash
        model.name = display_name(path)
    if repeat_penalty <= 0:
        repeat_penalty = PACKAGED_REPEAT_PENALTY if is_packaged(path) else 1.0
    model.sampling = {"repeat_penalty": repeat_penalty}
    if states is not None:
        model.states = StateCache(states, settings_key(model.path, n_ctx, model.flash_attention))
    return model


def _load_form(
    path: Path,
    forms: ModelForms | None,
    n_ctx: int,
    n_threads: int,
    n_gpu_layers: int,
    progress: Callable[[float], None],
) -> LlamaChatModel:
    runnable = path
    if forms is not None and is_packaged(path):
        runnable = forms.path_for(path)

    # fused attention was measured on the packaged model only: a model the user chose runs without it
    fused = FLASH_ATTENTION and is_packaged(path)

    def load(file: Path) -> LlamaChatModel:
        return LlamaChatModel.load(
            file,
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_gpu_layers=n_gpu_layers,
            progress=progress,
            flash_attention=fused,
        )

    if runnable == path:
        return load(path)
    try:
        model = load(runnable)
    except ModelError as exc:
        log.warning("the converted model would not load (%s): using the original", exc)
        with contextlib.suppress(OSError):
            runnable.unlink()
        return load(path)
    model.name = f"{path.stem} (run as {forms.form if forms else FORM})"
    return model
