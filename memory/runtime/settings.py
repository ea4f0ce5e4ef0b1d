"""A typed settings schema whose titles and descriptions drive the settings dialog."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory.runtime.paths import atomic_write_text

log = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = (
    "You are Memoir, a helpful, honest assistant running privately on the user's computer. "
    "Answer clearly and concisely. Use Markdown when it helps."
)


def _meta(title: str, description: str, **limits: Any) -> dict[str, Any]:
    return {"title": title, "description": description, **limits}


@dataclass
class Settings:
    """Everything the user can set; stored as JSON in the data directory."""

    model_path: str = field(
        default="",
        metadata=_meta("Model file", "A GGUF chat model. Empty: the bundled SmolLM2-135M-Instruct."),
    )
    model_folders: str = field(
        default="",
        metadata=_meta(
            "Model folders",
            "Folders of your own to look in for GGUF models (Model file → Find…), separated by "
            f"'{os.pathsep}'.",
        ),
    )
    model_server: str = field(
        default="",
        metadata=_meta(
            "Model server",
            "Use a model on a server you run instead of a file here: the address of an "
            "OpenAI-compatible endpoint (llama.cpp's llama-server, python -m llama_cpp.server, "
            "Ollama), e.g. http://192.168.1.20:8080. Memoir connects to this host and no other. "
            "Empty: the model file above runs on this computer.",
        ),
    )
    server_model: str = field(
        default="",
        metadata=_meta(
            "Server model name",
            "Which of the server's models to use (Ollama: e.g. llama3.2:3b). Empty: the first it offers.",
        ),
    )
    server_api_key: str = field(
        default="",
        metadata=_meta(
            "Server API key",
            "Only if the server asks for one (llama-server --api-key): sent to that server alone, "
            "kept in settings.json in your data folder and never exported.",
            secret=True,
        ),
    )
    n_ctx: int = field(
        default=4096,
        metadata=_meta("Context size", "Tokens the model sees at once.", minimum=512, maximum=131072),
    )
    n_threads: int = field(
        default=0, metadata=_meta("Threads", "CPU threads; 0 picks automatically.", minimum=0, maximum=256)
    )
    n_gpu_layers: int = field(
        default=0,
        metadata=_meta(
            "GPU layers",
            "Layers offloaded to a GPU, if llama.cpp was built with one.",
            minimum=-1,
            maximum=1000,
        ),
    )
    temperature: float = field(
        default=0.7, metadata=_meta("Temperature", "Higher is more varied.", minimum=0.0, maximum=2.0)
    )
    repeat_penalty: float = field(
        default=0.0,
        metadata=_meta(
            "Repeat penalty",
            "Discourages a reply from repeating itself. 0: automatic (1.1 for the bundled model, "
            "measured to stop its loops; off for other models). 1.0 is off.",
            minimum=0.0,
            maximum=2.0,
        ),
    )
    max_tokens: int = field(
        default=512,
        metadata=_meta("Max reply tokens", "The longest reply, in tokens.", minimum=16, maximum=32768),
    )
    embedding_model_path: str = field(
        default="",
        metadata=_meta(
            "Embedding model",
            "A GGUF embedding model for memory search. Empty: the bundled all-MiniLM-L6-v2. "
            "Changing it re-indexes your memory in the background.",
        ),
    )
    reflect_after_minutes: int = field(
        default=10,
        metadata=_meta(
            "Remember after (minutes)",
            "Idle time after which a conversation is reflected on and turned into memories.",
            minimum=1,
            maximum=1440,
        ),
    )
    memories_per_answer: int = field(
        default=5,
        metadata=_meta(
            "Memories per answer",
            "How many memories from earlier conversations the model is shown with each message "
            "(0: none). Each reply lists them under it.",
            minimum=0,
            maximum=10,
        ),
    )
    learn_from_citations: bool = field(
        default=True,
        metadata=_meta(
            "Learn which memories help",
            "Rerank memories by which ones answers use (their citations, or else their words) and "
            "which you mark helpful. While learning, "
            "the memories shown vary a little so that others get a chance.",
        ),
    )
    read_ahead: bool = field(
        default=True,
        metadata=_meta(
            "Read ahead while I type",
            "When you pause while typing, the memories for your message are chosen and read to the "
            "model, and after each reply the conversation is read again for your next message, so "
            "that the reply starts sooner. It uses the processor while you write, and reflection "
            "waits meanwhile.",
        ),
    )
    auto_accept_preferences: bool = field(
        default=False,
        metadata=_meta(
            "Accept learned preferences",
            "Preferences learned from chats and edits become active at once instead of waiting in "
            "the Preferences inbox for your approval.",
        ),
    )
    appearance: str = field(
        default="system",
        metadata=_meta(
            "Appearance",
            "Light or dark: as the system is (and following it), or always one.",
            choices=("system", "light", "dark"),
        ),
    )
    system_prompt: str = field(
        default=DEFAULT_SYSTEM_PROMPT,
        metadata=_meta("System prompt", "Standing instructions given to the model in every chat."),
    )

    @classmethod
    def fields(cls) -> tuple[dataclasses.Field[Any], ...]:
        return dataclasses.fields(cls)

    def exportable(self) -> dict[str, Any]:
        """The settings as an export carries them: secrets (an API key) left out."""
        values = dataclasses.asdict(self)
        for f in self.fields():
            if f.metadata.get("secret"):
                values.pop(f.name)
        return values

    def validated(self) -> Settings:
        """A copy with every number clamped into its allowed range."""
        values = dataclasses.asdict(self)
        for f in self.fields():
            lo, hi = f.metadata.get("minimum"), f.metadata.get("maximum")
            if lo is not None:
                values[f.name] = max(lo, values[f.name])
            if hi is not None:
                values[f.name] = min(hi, values[f.name])
            choices = f.metadata.get("choices")
            if choices and values[f.name] not in choices:
                values[f.name] = f.default  # a value from a newer version, or a typo in the file
        return Settings(**values)


class SettingsStore:
    """Loads and saves :class:`Settings`; a broken file is set aside, never silently lost."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: str | None = None

    def load(self) -> Settings:
        if not self.path.exists():
            return Settings()
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("top level is not an object")
            return _from_dict(raw).validated()
        except (OSError, ValueError, TypeError) as exc:
            backup = self.path.with_name(self.path.name + ".broken")
            self.path.replace(backup)
            self.problem = f"Settings file was unreadable ({exc}); kept as {backup.name}, using defaults."
            log.warning(self.problem)
            return Settings()

    def save(self, settings: Settings) -> None:
        text = json.dumps(dataclasses.asdict(settings.validated()), indent=2)
        atomic_write_text(self.path, text + "\n")


def _from_dict(raw: dict[str, Any]) -> Settings:
    known = {f.name: f for f in Settings.fields()}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        f = known.get(name)
        if f is None:
            continue  # a setting from a newer or older version: ignore, don't fail
        expected = type(getattr(Settings(), name))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise ValueError(f"{name} should be {expected.__name__}, got {value!r}")
        values[name] = value
    return Settings(**values)
