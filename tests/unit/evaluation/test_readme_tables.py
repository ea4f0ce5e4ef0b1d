"""Every benchmark table in the README is the one its committed results file makes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def readme_tables() -> Any:
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "bench" / "readme_tables.py")
    assert spec is not None and spec.loader is not None
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    return tables


def test_readme_tables_match_their_results_files() -> None:
    tables = readme_tables()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count("<!-- table:") == len(tables.TABLES)  # every renderer has its place
    assert tables.render(readme) == readme, "run: .venv/bin/python bench/readme_tables.py"


def test_a_changed_number_is_caught() -> None:
    tables = readme_tables()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- table:rerank_online -->")
    tampered = readme[:start] + readme[start:].replace("0.6", "0.9", 1)
    assert tables.render(tampered) != tampered
