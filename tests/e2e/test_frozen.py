"""The PyInstaller bundle: built from build.spec and proven by its frozen --self-test."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from memory.runtime.paths import data_dir

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

import dist  # noqa: E402

pytestmark = pytest.mark.real_model


def test_the_frozen_bundle_passes_its_self_test(tmp_path: Path) -> None:
    """The whole path in the frozen app: model, recalled memory with a receipt, preferences, rebuild."""
    bundle = dist.build(tmp_path / "dist", tmp_path / "work")
    code, summary = dist.self_test(bundle)
    assert code == 0, summary
    assert summary["model"].startswith(str(bundle)), "the model must come from inside the bundle"
    assert "OnnxMiniLMEmbedder" in summary["embedder"], "the faster embedder is bundled"
    assert any(r["text"].startswith("My dog is called Biscuit") for r in summary["receipts"])
    assert set(summary["resources"]["prompts"]) == {"cipher", "extract", "preferences", "update"}
    sizes = dist.size_report(bundle)
    assert sizes["total_mb"] <= dist.SIZE_BUDGET_MB, sizes
    # the frozen app keeps the user's data where the unfrozen one does, private to the user
    home = tmp_path / "user"
    env = {k: v for k, v in os.environ.items() if k not in ("MEMOIR_HOME", "XDG_DATA_HOME")}
    subprocess.run(
        [str(bundle / dist.EXECUTABLE), "index", "check"], env={**env, "HOME": str(home)}, check=True
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.delenv("MEMOIR_HOME", raising=False)
        patch.delenv("XDG_DATA_HOME", raising=False)
        unfrozen_home = data_dir()
    assert (unfrozen_home / "memoir.db").is_file()
    assert stat.S_IMODE(unfrozen_home.stat().st_mode) == 0o700
    assert stat.S_IMODE((unfrozen_home / "memoir.db").stat().st_mode) == 0o600
