import threading
import time

import pytest

from memory.lane import BACKGROUND, URGENT, SerialLane


def test_jobs_run_in_order_on_one_thread() -> None:
    lane = SerialLane("t")
    seen: list[tuple[int, str]] = []
    futures = [lane.submit(lambda i=i: seen.append((i, threading.current_thread().name))) for i in range(5)]
    for f in futures:
        f.result(timeout=5)
    assert [i for i, _ in seen] == list(range(5))
    assert {name for _, name in seen} == {"lane-t"}
    lane.shutdown()


def test_urgent_jobs_jump_background_ones() -> None:
    lane = SerialLane("p")
    gate = threading.Event()
    order: list[str] = []
    lane.submit(gate.wait)
    lane.submit(lambda: order.append("background"), priority=BACKGROUND)
    last = lane.submit(lambda: order.append("urgent"), priority=URGENT)
    gate.set()
    last.result(timeout=5)
    time.sleep(0.05)
    assert order == ["urgent", "background"]
    lane.shutdown()


def test_exceptions_reach_the_caller() -> None:
    lane = SerialLane("e")
    with pytest.raises(ZeroDivisionError):
        lane.submit(lambda: 1 / 0).result(timeout=5)
    assert lane.submit(lambda: 2).result(timeout=5) == 2
    lane.shutdown()
    with pytest.raises(RuntimeError):
        lane.submit(lambda: 3)
