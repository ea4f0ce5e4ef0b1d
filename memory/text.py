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


_FENCE_RUN = re.compile(r"<{3,}|>{3,}")
_SLOT = re.compile(r"\{(\w+)\}")


def fence_safe(text: str) -> str:
    """Content that cannot open or close a ``<<<NAME … NAME>>>`` fence, however it is written.

    Every run of three or more angle brackets is spaced out, so no "<<<" or ">>>" is left (a plain
    replace would turn "<<<<<" into "< < <<<").
    """
    return _FENCE_RUN.sub(lambda run: " ".join(run.group()), text)


def fill(template: str, **values: str) -> str:
    """Put ``values`` into the ``{name}`` slots of ``template`` in one pass.

    Chained ``str.replace`` calls would also fill a slot name that appears *inside* an earlier value
    (a user who writes "{edited}" in a message); here inserted text is never looked at again.
    """
    missing = set(_SLOT.findall(template)) - set(values)
    if missing:
        raise KeyError(f"template slots without a value: {sorted(missing)}")
    return _SLOT.sub(lambda slot: values[slot.group(1)], template)
