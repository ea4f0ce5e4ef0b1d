"""The ``resources`` package: every data file the app reads is found through it and ships in the wheel."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from memory.reflection.disclosure import examples
from memory.runtime.resources import prompt, resource

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "resources"


@pytest.mark.parametrize("name", ["cipher", "extract", "preferences", "update"])
def test_each_prompt_is_read_from_the_package(name: str) -> None:
    assert prompt(name) == (PACKAGE / "prompts" / f"{name}.md").read_text(encoding="utf-8")


def test_the_reflection_examples_icon_and_stylesheet_are_found() -> None:
    assert examples("self_disclosure.txt") and examples("small_talk.txt")
    assert resource("icons", "memoir.png").read_bytes().startswith(b"\x89PNG")
    assert "QListView#transcript" in resource("style.qss").read_text(encoding="utf-8")


def test_the_lookup_is_the_package_not_a_path_beside_the_code() -> None:
    import resources

    assert Path(str(resource())) == Path(resources.__file__).parent == PACKAGE


def test_every_data_file_is_named_by_the_wheels_package_data() -> None:
    """A file type the globs miss would be in a checkout and missing from an installed Memoir."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["resources"]
    data = {p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    shipped = {p for pattern in globs for p in PACKAGE.glob(pattern)}  # setuptools globs the same way
    assert data and shipped
    missed = sorted(str(p.relative_to(PACKAGE)) for p in data - shipped)
    assert not missed, f"add these to [tool.setuptools.package-data] resources: {missed}"
