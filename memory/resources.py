"""Files under ``resources/`` (prompts, icons, styles), found the same way frozen and unfrozen."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data files here
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def prompt(name: str) -> str:
    """A prompt template from ``resources/prompts/<name>.md``."""
    return (resources_dir() / "prompts" / f"{name}.md").read_text(encoding="utf-8")
