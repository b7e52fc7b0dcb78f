"""The chain's head for the event loop, read from a JSON-RPC node once for many callers.

Verification from the index must not be staler than the confirmation depth, so each answer
needs a head read *after* its request arrived: a head kept for some time would not do. But each
read is a round trip to the node, and a blocking one on the event loop would stall every other
request behind it (the health probes included). :class:`SharedHead` gives each caller the
result of a read that started after the caller asked, run in the thread pool, and lets every
caller waiting at the same time share that one read: at most one read is in flight, and at
most one more is waited for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

__all__ = ["SharedHead"]


class SharedHead:
    """``await read()``: the head from a read begun after the call, shared with the callers
    waiting at the same time. ``read_head`` blocks (it is run in the thread pool). Used on one
    event loop."""

    def __init__(self, read_head: Callable[[], int]) -> None:
        self._read_head = read_head
        #: The read the callers arriving now will get: it has not started yet.
        self._next: asyncio.Future[int] | None = None
        self._task: asyncio.Task[None] | None = None  # kept referenced while it runs
        self.reads = 0

    async def read(self) -> int:
        """The head, as read after this call began; raises what the read raised."""
        future = self._next
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._next = loop.create_future()
            # A failure nobody waits for any more (every caller gone) is not reported as lost.
            future.add_done_callback(lambda done: done.exception())
            if self._task is None:
                self._task = loop.create_task(self._run())
        # Shielded: one caller's cancellation (a client gone) does not cancel the others'.
        return await asyncio.shield(future)

    async def _run(self) -> None:
        try:
            while (future := self._next) is not None:
                self._next = None  # callers from now on wait for the read after this one
                try:
                    head = await run_in_threadpool(self._read_head)
                except Exception as error:  # every waiter sees the node's failure
                    future.set_exception(error)
                else:
                    future.set_result(head)
                self.reads += 1
        finally:
            self._task = None
