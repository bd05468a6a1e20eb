"""The question gate: never more holders than slots, and waiters served in arrival order."""

from __future__ import annotations

import threading

import pytest

from app.admission import FifoGate


def _wait_until(condition, what: str) -> None:
    """Wait on another thread's progress (bounded), not on a guess at how long it takes."""
    done = threading.Event()
    for _ in range(6000):
        if condition():
            return
        done.wait(0.01)
    pytest.fail(f"never: {what}")


@pytest.mark.parametrize("slots", [1, 2])
def test_waiters_get_in_in_arrival_order_and_never_more_than_the_slots(slots: int) -> None:
    gate = FifoGate(slots)
    order: list[int] = []
    inside, most = [0], [0]
    count = threading.Lock()
    release = threading.Event()

    def hold(n: int) -> None:
        with gate.slot():
            with count:
                order.append(n)
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            release.wait(60)
            with count:
                inside[0] -= 1

    threads = [threading.Thread(target=hold, args=(n,)) for n in range(8)]
    for n, thread in enumerate(threads):
        thread.start()
        # Each one is inside or queued before the next comes: arrival order is 0, 1, 2 ...
        _wait_until(lambda n=n: len(order) + gate.waiting == n + 1, f"thread {n} inside or queued")
    assert order == list(range(slots)) and gate.waiting == 8 - slots
    release.set()
    for thread in threads:
        thread.join(60)
    assert most[0] == slots
    assert gate.waiting == 0
    if slots == 1:  # one at a time, so the order they entered in is the order they were let in
        assert order == list(range(8))
    else:  # threads let in together may note themselves in either order
        assert sorted(order) == list(range(8)) and order[:slots] == list(range(slots))


def test_a_holder_that_raises_frees_its_slot() -> None:
    gate = FifoGate(1)
    with pytest.raises(RuntimeError):
        with gate.slot():
            raise RuntimeError("the question failed")
    got = threading.Event()

    def take() -> None:
        with gate.slot():
            got.set()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    thread.join(60)
    assert got.is_set()
