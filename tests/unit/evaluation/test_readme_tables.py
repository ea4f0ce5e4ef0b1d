"""Every benchmark table in the README is the one its committed results file makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.bench_scripts import bench_script

ROOT = Path(__file__).resolve().parents[3]


def readme_tables() -> Any:
    return bench_script("readme_tables")


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
