"""Switches every library Memoir might load into offline, no-telemetry mode."""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",  # ChromaDB
    "DO_NOT_TRACK": "1",
}


def enforce_offline() -> None:
    """Set the offline switches before any of those libraries is imported."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
