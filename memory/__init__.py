"""Memoir's core: storage, the local model, prompts and memory — no Qt here."""

__version__ = "0.1.0"
