"""Every signal of the app carries only types the Qt binding converts without loss.

A ``dict`` with int keys (or a list, a tuple) declared as a signal type is converted to a QVariant
container; PySide6 printed "Cannot copy-convert … (dict) to C++" for ``receipts_loaded`` and the slot
never ran. Anything but plain scalars travels as ``object``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from PySide6.QtCore import QMetaMethod, QObject

import app

ALLOWED = {"int", "bool", "double", "QString", "PyObject"}


def app_qobject_classes() -> list[type[QObject]]:
    found = []
    for info in pkgutil.iter_modules(app.__path__):
        module = importlib.import_module(f"app.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, QObject) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_signals_declare_only_types_the_binding_converts() -> None:
    classes = app_qobject_classes()
    assert len(classes) > 10  # the walk found the app's objects
    bad = []
    for cls in classes:
        meta = cls.staticMetaObject
        for n in range(meta.methodOffset(), meta.methodCount()):
            method = meta.method(n)
            if method.methodType() != QMetaMethod.MethodType.Signal:
                continue
            types = [bytes(t.data()).decode() for t in method.parameterTypes()]
            if any(t not in ALLOWED for t in types):
                bad.append(f"{cls.__name__}.{bytes(method.name().data()).decode()}{types}")
    assert bad == []


BAD_SIGNAL = """
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Holder(QObject):
    loaded = Signal(int, dict)
got = []
holder = Holder()
holder.loaded.connect(lambda _n, found: got.append(found))
holder.loaded.emit(1, {7: ["a receipt"]})
print("received", got)
"""


def test_the_suite_recognises_what_the_binding_prints_for_a_bad_signal() -> None:
    """The conftest hook fails any test during which the binding printed one of BINDING_ERRORS:
    this shows the hook looks for what the binding really prints (and that the data is lost)."""
    import subprocess
    import sys

    from tests.conftest import BINDING_ERRORS

    done = subprocess.run([sys.executable, "-c", BAD_SIGNAL], capture_output=True, text=True, timeout=60)
    assert "received [{}]" in done.stdout  # the slot ran with an empty dict: the receipts were lost
    assert any(error in done.stderr for error in BINDING_ERRORS)
