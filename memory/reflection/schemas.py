"""The JSON schemas reflection's answers are generated under (llama.cpp grammars): the model's output
always parses, and memory/reflection/prospective.py then checks whether it is right."""

from __future__ import annotations

from typing import Any

MAX_MEMORIES = 5  # memories one window may yield

EXTRACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "memories": {
            "type": "array",
            "maxItems": MAX_MEMORIES,
            "items": {
                "type": "object",
                "properties": {
                    "summary": {"type": "string", "maxLength": 160},
                    "references": {"type": "array", "items": {"type": "integer"}, "maxItems": 8},
                },
                "required": ["summary", "references"],
            },
        }
    },
    "required": ["memories"],
}
PREFERENCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "preferences": {
            "type": "array",
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "maxLength": 120},
                    "category": {"enum": ["style", "format", "topics", "facts about me", "people", "other"]},
                    "references": {"type": "array", "items": {"type": "integer"}, "maxItems": 6},
                },
                "required": ["text", "category", "references"],
            },
        }
    },
    "required": ["preferences"],
}
UPDATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action": {"enum": ["Add", "Merge"]},
        "index": {"type": "integer"},
        "merged_summary": {"type": "string", "maxLength": 240},
    },
    "required": ["action", "index", "merged_summary"],
}
