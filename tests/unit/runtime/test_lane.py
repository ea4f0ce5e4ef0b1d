import threading
import time

import pytest

from memory.runtime.lane import BACKGROUND, URGENT, SerialLane


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


def test_a_long_job_lets_the_users_requests_run_between_its_steps() -> None:
    lane = SerialLane("model")
    order: list[str] = []
    step_started = threading.Event()
    go_on = threading.Event()

    def long_job() -> None:
        order.append("step 1")
        step_started.set()
        go_on.wait(5)
        order.append(f"gave way to {lane.run_waiting()}")
        order.append("step 2")

    done = lane.submit(long_job, priority=BACKGROUND)
    step_started.wait(5)
    lane.submit(order.append, "later background", priority=BACKGROUND)
    lane.submit(order.append, "helpful click", priority=URGENT)
    go_on.set()
    done.result(5)
    lane.submit(lambda: None).result(5)
    assert order == ["step 1", "helpful click", "gave way to 1", "step 2", "later background"]
    with pytest.raises(RuntimeError, match="own thread"):
        lane.run_waiting()
    lane.shutdown()


def test_queued_background_jobs_can_be_cancelled_and_the_rest_still_run() -> None:
    lane = SerialLane("c")
    gate = threading.Event()
    ran: list[str] = []
    lane.submit(gate.wait)  # running: never cancelled
    background = lane.submit(lambda: ran.append("background"), priority=BACKGROUND)
    urgent = lane.submit(lambda: ran.append("urgent"), priority=URGENT)
    normal = lane.submit(lambda: ran.append("normal"))
    assert lane.cancel_queued(BACKGROUND) == 1
    last = lane.submit(lambda: ran.append("last"), priority=BACKGROUND)
    gate.set()
    last.result(timeout=5)
    assert background.cancelled() and urgent.done() and normal.done()
    assert ran == ["urgent", "normal", "last"]
    lane.shutdown()
