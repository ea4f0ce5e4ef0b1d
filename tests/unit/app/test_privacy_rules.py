"""Code rules that keep stored data safe: nothing is unpickled or evaluated, and logs carry no messages."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.controller import ModelState
from tests.fake_model import FakeChatModel
from tests.gui import make_window, type_and_send

ROOT = Path(__file__).resolve().parents[3]
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "shelve", "marshal", "joblib"}
SECRET = "Zanzibar-7731 is my bank PIN"


def unsafe_uses(source: str) -> list[str]:
    """Imports of unpickling modules, eval/exec calls, np.load with pickles, yaml.load."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"import {n}" for n in names if n.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("eval", "exec", "compile", "__import__"):
                found.append(f"{func.id}()")
            if isinstance(func, ast.Attribute) and func.attr == "load" and isinstance(func.value, ast.Name):
                if func.value.id == "yaml":
                    found.append("yaml.load()")
                if any(k.arg == "allow_pickle" for k in node.keywords):
                    found.append("load(allow_pickle=...)")
    return found


def test_the_scanner_finds_what_it_looks_for() -> None:
    bad = "import pickle\nfrom shelve import open\neval('1')\nnp.load(f, allow_pickle=True)\nyaml.load(s)\n"
    assert unsafe_uses(bad) == [
        "import pickle",
        "import shelve",
        "eval()",
        "load(allow_pickle=...)",
        "yaml.load()",
    ]
    assert unsafe_uses("menu.exec(point)\napp.exec()\njson.loads(s)\n") == []  # Qt's exec is fine


@pytest.mark.parametrize("package", ["memory", "app"])
def test_stored_data_is_never_unpickled_or_evaluated(package: str) -> None:
    problems = {
        str(path.relative_to(ROOT)): uses
        for path in sorted((ROOT / package).rglob("*.py"))
        if (uses := unsafe_uses(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


def test_logs_hold_no_message_text(qtbot: QtBot, memoir_home: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Even at DEBUG, and through a failing reflection (whose prompt holds the message)."""
    caplog.set_level(logging.DEBUG, logger="memory")
    caplog.set_level(logging.DEBUG, logger="app")
    model = FakeChatModel([f"You said: {SECRET}"])
    model.json_replies = [ValueError("the model's JSON was cut short")] * 3
    w = make_window(qtbot, memoir_home, model)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY and w.controller.memory is not None)
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, w, SECRET)
    with qtbot.waitSignal(w.controller.memories_changed, timeout=5000, raising=False):
        w.remember_action.trigger()  # reflection fails: logged, with the job id only
    qtbot.waitUntil(lambda: not w.controller.reflection.running)
    assert any("reflection job" in r.getMessage() for r in caplog.records), "the failure must be logged"
    assert SECRET not in caplog.text
    w.controller.shutdown()
