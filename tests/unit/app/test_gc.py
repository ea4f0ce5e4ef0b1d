import gc
import threading

from pytestqt.qtbot import QtBot

from app.gc import GarbageCollector


def test_collection_happens_on_the_gui_thread(qtbot: QtBot) -> None:
    collector = GarbageCollector(interval_ms=10)
    assert not gc.isenabled()
    threads: list[threading.Thread] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            threads.append(threading.current_thread())

    gc.collect()  # start from nothing pending
    gc.callbacks.append(record)
    try:

        def make_cycles() -> None:  # garbage only the cyclic collector can free
            for _ in range(5 * gc.get_threshold()[0]):
                cycle: list[object] = []
                cycle.append(cycle)

        worker = threading.Thread(target=make_cycles)
        worker.start()
        worker.join()
        assert threads == []  # allocating on a worker never triggers a collection there
        qtbot.waitUntil(lambda: bool(threads), timeout=2000)
        assert all(t is threading.main_thread() for t in threads)
    finally:
        gc.callbacks.remove(record)
        collector.deleteLater()
