"""Icons and the stylesheet, from the core's resource lookup (one code path, frozen or not)."""

from __future__ import annotations

from pathlib import Path

from memory.resources import resources_dir


def icon_path() -> Path:
    return resources_dir() / "icons" / "memoir.svg"


def stylesheet() -> str:
    path = resources_dir() / "style.qss"
    return path.read_text(encoding="utf-8") if path.exists() else ""
