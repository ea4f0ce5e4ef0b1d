import json
from pathlib import Path

from memory.runtime.settings import Settings, SettingsStore


def test_defaults_when_no_file(tmp_path: Path) -> None:
    assert SettingsStore(tmp_path / "s.json").load() == Settings()


def test_round_trip_and_clamping(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "s.json")
    store.save(Settings(n_ctx=10, temperature=9.0, system_prompt="Be brief."))
    loaded = store.load()
    assert (loaded.n_ctx, loaded.temperature, loaded.system_prompt) == (512, 2.0, "Be brief.")


def test_unknown_keys_ignored_and_ints_accepted_as_floats(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"temperature": 1, "from_the_future": True}))
    assert SettingsStore(path).load().temperature == 1.0


def test_broken_file_is_kept_aside_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json")
    store = SettingsStore(path)
    assert store.load() == Settings()
    assert store.problem and "unreadable" in store.problem
    assert (tmp_path / "s.json.broken").read_text() == "{not json"


def test_wrong_type_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"n_ctx": "big"}))
    store = SettingsStore(path)
    assert store.load() == Settings()
    assert store.problem is not None


def test_every_field_has_a_title_and_description() -> None:
    for f in Settings.fields():
        assert f.metadata["title"] and f.metadata["description"]
