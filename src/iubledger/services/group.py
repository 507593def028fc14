"""Group commit: concurrent single appends written together in one transaction (G6).

Callers hand in their item and wait. One of them, the leader, takes what has gathered
(waiting at most `wait` seconds for as many as the last group held, when that was more
than one: a lone caller never waits), writes it with one call and hands every caller its
own outcome; the next group gathers meanwhile. When the group's write fails as a whole,
each of its items is written again on its own, so a caller only ever gets the error of
its own item.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Waiting(Generic[T, R]):
    item: T
    outcome: R | None = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit(Generic[T, R]):
    """`submit(item)` returns `write([item, ...])[i]` for the caller's own item."""

    def __init__(
        self, write: Callable[[Sequence[T]], Sequence[R]], *, max_items: int, wait: float
    ) -> None:
        self._write = write
        self.max_items = max_items
        self.wait = wait
        self._cv = threading.Condition()
        self._queue: list[_Waiting[T, R]] = []
        self._leading = False
        self._last = 1
        #: Sizes of the last groups written, most recent last.
        self.sizes: deque[int] = deque(maxlen=1000)

    def submit(self, item: T) -> R:
        me: _Waiting[T, R] = _Waiting(item)
        with self._cv:
            self._queue.append(me)
            self._cv.notify_all()
            while not me.done:
                if self._leading:
                    self._cv.wait()
                    continue
                self._leading = True
                group = self._gather()
                self._cv.release()
                try:
                    self._run(group)
                finally:
                    self._cv.acquire()
                    self._leading = False
                    self._cv.notify_all()
        if me.error is not None:
            raise me.error
        return me.outcome  # type: ignore[return-value]

    def _gather(self) -> list[_Waiting[T, R]]:
        """Under the condition's lock: the next group, after waiting a bounded time for as
        many callers as the last group had."""
        want = min(self._last, self.max_items)
        deadline = time.monotonic() + self.wait
        while len(self._queue) < want and (left := deadline - time.monotonic()) > 0:
            self._cv.wait(left)
        group, self._queue = self._queue[: self.max_items], self._queue[self.max_items :]
        self._last = len(group)
        self.sizes.append(len(group))
        return group

    def _run(self, group: list[_Waiting[T, R]]) -> None:
        try:
            outcomes = self._write([w.item for w in group])
        except BaseException as e:
            if len(group) == 1:
                group[0].error = e
            else:
                for w in group:
                    self._run([w])
        else:
            for w, outcome in zip(group, outcomes, strict=True):
                w.outcome = outcome
        for w in group:
            w.done = True
