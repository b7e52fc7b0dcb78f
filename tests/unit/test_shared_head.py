"""The shared head read of api.heads: every caller gets a head read after it asked, and callers
waiting at the same time share one read."""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest

from api.heads import SharedHead
from ledger.errors import ChainUnavailableError


class Node:
    """A head that grows by one at each read; a read waits for ``gate`` once it is cleared."""

    def __init__(self) -> None:
        self.numbers = itertools.count(100)
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.failing = False

    def read(self) -> int:
        self.started.set()
        self.gate.wait(timeout=10)
        if self.failing:
            raise ChainUnavailableError("the node did not answer")
        return next(self.numbers)


def test_callers_at_the_same_time_share_one_read() -> None:
    node = Node()
    head = SharedHead(node.read)

    async def scenario() -> list[int]:
        return list(await asyncio.gather(*(head.read() for _ in range(10))))

    assert asyncio.run(scenario()) == [100] * 10
    assert head.reads == 1


def test_a_caller_arriving_during_a_read_gets_the_next_one() -> None:
    node = Node()
    head = SharedHead(node.read)

    async def scenario() -> tuple[int, list[int]]:
        node.gate.clear()
        first = asyncio.ensure_future(head.read())
        await asyncio.to_thread(node.started.wait, 10)  # the first read is under way
        later = [asyncio.ensure_future(head.read()) for _ in range(5)]
        await asyncio.sleep(0.05)
        node.gate.set()
        return await first, list(await asyncio.gather(*later))

    first, later = asyncio.run(scenario())
    assert first == 100
    assert later == [101] * 5  # read after they asked, once for all of them
    assert head.reads == 2


def test_a_failure_reaches_every_waiter_and_the_next_call_reads_again() -> None:
    node = Node()
    head = SharedHead(node.read)

    async def scenario() -> int:
        node.failing = True
        outcomes = await asyncio.gather(*(head.read() for _ in range(3)), return_exceptions=True)
        assert all(isinstance(outcome, ChainUnavailableError) for outcome in outcomes)
        node.failing = False
        return await head.read()

    assert asyncio.run(scenario()) == 100
    assert head.reads == 2


def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    node = Node()
    head = SharedHead(node.read)

    async def scenario() -> int:
        node.gate.clear()
        gone = asyncio.ensure_future(head.read())
        staying = asyncio.ensure_future(head.read())
        await asyncio.to_thread(node.started.wait, 10)
        gone.cancel()
        node.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await staying

    assert asyncio.run(scenario()) == 100
