"""Cleaning of text that came from a user, so that storing and tokenizing it can't fail."""

from __future__ import annotations

import json
import re
from typing import Any

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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def json_from_model(text: str) -> Any:
    """Parse a model's JSON answer. A raw control character inside a string (a tab or newline the
    model typed instead of escaping) is accepted — strict parsing failed whole reflection jobs on it
    ("Invalid control character at: line 1 column 178") — and then dropped, whitespace kept as such."""
    return _clean(json.loads(text, strict=False))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value
