"""Cleaning of text that came from a user, so that storing and tokenizing it can't fail."""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Replace lone surrogates (unencodable in UTF-8) and drop NUL; keep everything else as typed."""
    return _LONE_SURROGATE.sub("\ufffd", text).replace("\x00", "")


def title_from(text: str, limit: int = 48) -> str:
    """A short one-line conversation title from a first message."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut.rstrip(" ,.;:") + "…"


def fence_safe(text: str) -> str:
    """Content that cannot close a ``<<<NAME … NAME>>>`` fence around it, however it is written."""
    return text.replace("<<<", "< < <").replace(">>>", "> > >")
