"""The packaged model's converted form: made once, reused, rebuilt when the source changes or the
converted file is damaged (the original used meanwhile); a user's own model is never converted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from memory.llm import model_form
from memory.llm.model_form import FORM, PACKAGED_REPEAT_PENALTY, ModelForms, load_chat_model


@pytest.fixture
def packaged(smollm2: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the packaged model that counts as the packaged model (its mtime can change)."""
    copy = tmp_path / "pkg" / smollm2.name
    copy.parent.mkdir()
    shutil.copyfile(smollm2, copy)
    monkeypatch.setattr(model_form, "default_model_path", lambda: copy)
    return copy


def gguf_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.gguf"))


def test_made_once_then_reused(packaged: Path, tmp_path: Path) -> None:
    forms = ModelForms(tmp_path / "models")
    first = forms.path_for(packaged)
    assert first != packaged and first.parent == tmp_path / "models" and FORM in first.name
    made = first.stat().st_mtime_ns
    assert forms.path_for(packaged) == first
    assert first.stat().st_mtime_ns == made  # reused, not made again
    assert not list((tmp_path / "models").glob("*.part"))


def test_rebuilt_when_the_source_changes(packaged: Path, tmp_path: Path) -> None:
    forms = ModelForms(tmp_path / "models")
    old = forms.path_for(packaged)
    with packaged.open("r+b") as handle:  # another version of the model: other bytes
        handle.seek(packaged.stat().st_size - 64)
        handle.write(b"\0" * 8)
    new = forms.path_for(packaged)
    assert new != old and new.exists() and not old.exists()  # the stale conversion is gone
    assert gguf_files(tmp_path / "models") == [new]


def test_a_form_the_app_no_longer_runs_is_removed_when_the_new_one_is_made(
    packaged: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "models"
    other = "Q4_0" if FORM != "Q4_0" else "Q8_0"  # the form an earlier version ran
    before = ModelForms(folder, other).path_for(packaged)
    assert before.exists() and (folder / f"{packaged.stem}.{other}.json").exists()
    now = ModelForms(folder).path_for(packaged)
    assert gguf_files(folder) == [now] and FORM in now.name
    assert sorted(p.name for p in folder.glob("*.json")) == [f"{packaged.stem}.{FORM}.json"]


def test_a_damaged_conversion_is_rebuilt_and_the_original_used_meanwhile(
    packaged: Path, tmp_path: Path
) -> None:
    forms = ModelForms(tmp_path / "models")
    converted = forms.path_for(packaged)
    converted.write_bytes(converted.read_bytes()[:4096])  # truncated by a crash or a full disk
    assert forms.path_for(packaged) == packaged
    forms.wait()
    assert forms.path_for(packaged) == converted
    assert converted.stat().st_size > 1_000_000


def test_the_app_loads_the_converted_form_and_answers(packaged: Path, tmp_path: Path) -> None:
    model = load_chat_model(packaged, ModelForms(tmp_path / "models"), n_ctx=512, n_threads=1)
    try:
        assert model.path.parent == tmp_path / "models"
        assert model.name == f"{packaged.stem} (run as {FORM})"
        assert model.sampling == {"repeat_penalty": PACKAGED_REPEAT_PENALTY}  # measured for it
        prompt = model.format_prompt([{"role": "user", "content": "Say hello."}])
        text = "".join(model.generate(prompt, max_tokens=8, temperature=0.0, should_stop=lambda: False))
        assert text.strip()
    finally:
        model.close()


def test_a_users_own_model_is_loaded_as_it_is(
    smollm2: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "mine.gguf"
    shutil.copyfile(smollm2, own)
    monkeypatch.setattr(model_form, "default_model_path", lambda: smollm2)
    model = load_chat_model(own, ModelForms(tmp_path / "models"), n_ctx=512, n_threads=1)
    try:
        assert model.path == own
        assert model.sampling == {"repeat_penalty": 1.0}  # not measured for it: off
    finally:
        model.close()
    model = load_chat_model(own, None, n_ctx=512, n_threads=1, repeat_penalty=1.3)
    try:
        assert model.sampling == {"repeat_penalty": 1.3}  # the user's setting, as set
    finally:
        model.close()
    assert not (tmp_path / "models").exists()


def test_a_conversion_that_fails_leaves_the_original_in_use(
    packaged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "llama_model_quantize", lambda *_a: 1)
    forms = ModelForms(tmp_path / "models")
    assert forms.path_for(packaged) == packaged
    assert not gguf_files(tmp_path / "models") and not list((tmp_path / "models").glob("*.part"))
    assert not (tmp_path / "models" / f"{packaged.stem}.{FORM}.json").exists()
