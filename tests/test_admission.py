"""The coalescer: concurrent calls joined into batches, in arrival order, each caller given its own results."""

from __future__ import annotations

import threading
from collections.abc import Hashable

import pytest

from app.admission import Coalescer


def _wait_until(condition, what: str) -> None:
    """Wait on another thread's progress (bounded), not on a guess at how long it takes."""
    done = threading.Event()
    for _ in range(6000):
        if condition():
            return
        done.wait(0.01)
    pytest.fail(f"never: {what}")


class Work:
    """Records each batch; the first one waits for `release`, so that others queue behind it."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[tuple[Hashable, list[str]]] = []
        self.release = threading.Event()
        self.fail_on = fail_on

    def __call__(self, key: Hashable, items: list[str]) -> list[str]:
        self.batches.append((key, list(items)))
        if len(self.batches) == 1:
            assert self.release.wait(60)
        if self.fail_on in items:
            raise RuntimeError(f"cannot do {self.fail_on}")
        return [f"{key}:{item}" for item in items]


def _queue_behind_a_running_batch(coalescer: Coalescer, work: Work, calls: list[tuple[list[str], Hashable]]):
    """Start a first call (its batch held running), then `calls` one by one, each queued before the next."""
    results: dict[int, object] = {}

    def call(n: int, items: list[str], key: Hashable) -> None:
        try:
            results[n] = coalescer(items, key)
        except RuntimeError as exc:
            results[n] = exc

    threads = [threading.Thread(target=call, args=(0, ["first"], "k"))]
    threads[0].start()
    _wait_until(lambda: work.batches, "the first batch running")
    for n, (items, key) in enumerate(calls, start=1):
        threads.append(threading.Thread(target=call, args=(n, items, key)))
        threads[-1].start()
        _wait_until(lambda n=n: coalescer.waiting == n, f"call {n} queued")
    work.release.set()
    for thread in threads:
        thread.join(60)
    return results


def test_a_lone_call_runs_alone_and_gets_its_results() -> None:
    work = Work()
    work.release.set()
    coalescer = Coalescer(work, max_items=16)
    assert coalescer(["a", "b"], "k") == ["k:a", "k:b"]
    assert work.batches == [("k", ["a", "b"])]


def test_calls_queued_behind_a_batch_are_joined_in_arrival_order_and_each_gets_its_own() -> None:
    work = Work()
    coalescer = Coalescer(work, max_items=4)
    results = _queue_behind_a_running_batch(coalescer, work, [
        (["b1", "b2"], "k"), (["c"], "k"), (["d"], "k"), (["e"], "k"),  # e would make 5: the next batch
    ])
    assert work.batches == [("k", ["first"]), ("k", ["b1", "b2", "c", "d"]), ("k", ["e"])]
    assert results == {0: ["k:first"], 1: ["k:b1", "k:b2"], 2: ["k:c"], 3: ["k:d"], 4: ["k:e"]}
    assert coalescer.waiting == 0


def test_calls_of_another_key_are_never_joined() -> None:
    work = Work()
    coalescer = Coalescer(work, max_items=16)
    results = _queue_behind_a_running_batch(coalescer, work, [
        (["q1"], "query"), (["p1"], "passage"), (["q2"], "query"),
    ])
    assert work.batches == [("k", ["first"]), ("query", ["q1"]), ("passage", ["p1"]), ("query", ["q2"])]
    assert results[3] == ["query:q2"]


def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_still_runs() -> None:
    work = Work(fail_on="bad")
    coalescer = Coalescer(work, max_items=2)
    results = _queue_behind_a_running_batch(coalescer, work, [
        (["ok"], "k"), (["bad"], "k"), (["after"], "k"),
    ])
    assert work.batches == [("k", ["first"]), ("k", ["ok", "bad"]), ("k", ["after"])]
    assert isinstance(results[1], RuntimeError) and isinstance(results[2], RuntimeError)
    assert results[3] == ["k:after"] and results[0] == ["k:first"]
    work.release.set()
    assert coalescer(["later"], "k") == ["k:later"]  # nothing left stuck


def test_a_batch_needs_room() -> None:
    with pytest.raises(ValueError):
        Coalescer(Work(), max_items=0)


def test_a_caller_interrupted_while_queued_leaves_the_queue_and_nobody_waits_for_it() -> None:
    """Ctrl-C reaches the main thread while it waits behind a running batch: its items are
    never worked on, and the calls after it are still served."""
    import os
    import signal

    work = Work()
    coalescer = Coalescer(work, max_items=1)
    results: dict[str, list[str]] = {}
    first = threading.Thread(target=lambda: results.update(first=coalescer(["first"], "k")))
    first.start()
    _wait_until(lambda: work.batches, "the first batch running")
    later = threading.Thread(target=lambda: results.update(later=coalescer(["later"], "k")))

    def interrupt_once_queued() -> None:
        _wait_until(lambda: coalescer.waiting == 1, "the main thread queued")
        later.start()
        _wait_until(lambda: coalescer.waiting == 2, "a later call queued behind it")
        os.kill(os.getpid(), signal.SIGINT)  # Python raises KeyboardInterrupt in the main thread

    threading.Thread(target=interrupt_once_queued).start()
    with pytest.raises(KeyboardInterrupt):
        coalescer(["interrupted"], "k")
    work.release.set()
    first.join(60)
    later.join(60)
    assert results == {"first": ["k:first"], "later": ["k:later"]}
    assert ["interrupted"] not in [items for _, items in work.batches]
    assert coalescer(["again"], "k") == ["k:again"]
