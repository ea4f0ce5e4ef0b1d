"""Icons and the stylesheet, from the core's resource lookup (one code path, frozen or not)."""

from __future__ import annotations

from pathlib import Path

from memory.runtime.resources import resources_dir


def icon_path() -> Path:
    # PNG, not the SVG source: it needs no image plugin, so it shows the same frozen or not
    return resources_dir() / "icons" / "memoir.png"


def stylesheet() -> str:
    path = resources_dir() / "style.qss"
    return path.read_text(encoding="utf-8") if path.exists() else ""
