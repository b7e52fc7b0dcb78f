"""The access log's anchoring (ADR 0028): the entries not in any batch yet become a batch whose
Merkle root governance anchors on chain, through the write journal like every write of the
service (:func:`api.writes.run_operation`).

Two callers: ``POST /v1/access-log/anchors`` (an operator, a test, the demo: now), and the
periodic task the service runs while it lives (:func:`start_periodic_anchoring`), due
``LEDGER_ACCESS_LOG_ANCHOR_MINUTES`` after the oldest entry not anchored yet, so that no entry
waits longer than that whatever the restarts. One batch at a time: the contract takes ranges in
order, and a pending batch is finished (or given up when its anchoring failed) before the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from typing import Final

from api.service import Service
from api.views import hex32
from api.writes import Prepared, run_operation
from ledger.errors import LedgerError
from ledger.service.access_log import AccessBatch, AccessLog
from ledger.service.journal import Operation
from ledger.writes.access_log import anchor_batch

__all__ = [
    "ANCHOR_KIND",
    "anchor_now",
    "anchor_periodically",
    "next_delay",
    "start_periodic_anchoring",
    "stop_periodic_anchoring",
]

#: Journal kind of a batch's anchoring; its idempotency key is the batch id, in this scope.
ANCHOR_KIND: Final = "access-log.anchor"
_SCOPE: Final = "access-log"
#: After a failed attempt the periodic task tries again this soon (or after its interval when
#: that is shorter).
_RETRY_SECONDS: Final = 60.0
#: The periodic task's shortest pause, so that a batch still pending never spins the loop.
_MIN_PAUSE_SECONDS: Final = 1.0

_log = logging.getLogger(__name__)


def _settle(log: AccessLog, batch: AccessBatch, operation: Operation) -> AccessBatch:
    """Record the journaled anchoring's outcome on the batch, and return the batch as it is
    now: anchored when confirmed, given up when failed (its entries go into the next batch),
    still pending otherwise."""
    if batch.op_id is None:
        log.journaled(batch.batch_id, operation.op_id)
    if operation.state == "confirmed":
        assert operation.block is not None
        log.anchored(batch.batch_id, operation.block)
        return dataclasses.replace(
            batch, state="anchored", op_id=operation.op_id, block=operation.block
        )
    if operation.state == "failed":
        log.abandon(batch.batch_id)
    return dataclasses.replace(batch, op_id=operation.op_id)


def _follow(service: Service, batch: AccessBatch, op_id: str) -> None:
    """Settle ``batch`` in the background once its operation ``op_id`` is finished (the task
    is kept with the service's other background tasks until it ends)."""

    async def follow() -> None:
        while True:
            final = await service.await_operation(op_id, 60)
            if final.finished:
                await service.offload(functools.partial(_settle, service.access_log, batch, final))
                return

    task = asyncio.get_running_loop().create_task(follow())
    service.background.add(task)
    task.add_done_callback(service.background.discard)


async def anchor_now(
    service: Service, wait: float, *, follow: bool = True
) -> tuple[AccessBatch, Operation] | None:
    """Anchor the pending batch, or a new one over the entries not in any batch, waiting up to
    ``wait`` seconds for the chain to confirm it; the batch as it then is and its operation, or
    None when there is nothing to anchor. A batch still pending after the wait is settled in
    the background when ``follow`` (the periodic task, which asks again at once, does not).
    Refusals before journaling (no anchor contract deployed, the chain down) are raised; the
    pending batch is then tried again next time."""
    log = service.access_log
    batch = await service.offload(log.next_batch)
    if batch is None:
        return None
    session = service.session
    identity = {
        "root": hex32(batch.root),
        "firstSeq": batch.first_seq,
        "lastSeq": batch.last_seq,
    }

    def prepare() -> Prepared:
        write = anchor_batch(session, batch.root, batch.first_seq, batch.last_seq)
        return Prepared(write, fields=dict(identity))

    operation = await run_operation(
        service,
        key=batch.batch_id,
        wait=wait,
        scope=_SCOPE,
        department_id=None,
        kind=ANCHOR_KIND,
        identity=identity,
        prepare=prepare,
    )
    settled = await service.offload(lambda: _settle(log, batch, operation))
    if follow and not operation.finished:
        _follow(service, settled, operation.op_id)
    if operation.state == "failed":
        _log.warning(
            "anchoring the access log's entries %d to %d failed (%s); they go into the next batch",
            batch.first_seq,
            batch.last_seq,
            operation.error_code,
        )
    return settled, operation


def next_delay(log: AccessLog, interval: float, now: float) -> float:
    """Seconds until the next anchoring is due (0 or less: due now): at once while a batch is
    pending (a restart left it), an ``interval`` after the oldest entry not in any batch, or a
    whole ``interval`` when there is none (looked at again then)."""
    if log.pending_batch() is not None:
        return 0.0
    oldest = log.oldest_unbatched()
    if oldest is None:
        return interval
    return oldest + interval - now


async def anchor_periodically(service: Service, interval: float) -> None:
    """Anchor whenever :func:`next_delay` says it is due, until cancelled. A failure (the chain
    down, a refused anchoring) is logged and tried again later: it never ends the task."""
    log = service.access_log
    while True:
        delay = await service.offload(lambda: next_delay(log, interval, log.clock()))
        if delay > 0:
            await asyncio.sleep(delay)
            continue  # looked at again: POST /v1/access-log/anchors may have anchored them
        pause = _MIN_PAUSE_SECONDS
        try:
            done = await anchor_now(service, min(interval, _RETRY_SECONDS), follow=False)
        except LedgerError as error:
            _log.warning("anchoring the access log failed: %s (%s)", error.code, error)
            done = None
            pause = min(interval, _RETRY_SECONDS)
        if done is not None and done[1].state == "failed":
            pause = min(interval, _RETRY_SECONDS)  # a refused anchoring is not retried at once
        await asyncio.sleep(pause)


def start_periodic_anchoring(service: Service) -> asyncio.Task[None]:
    """Start the periodic anchoring of ``service`` (every ``LEDGER_ACCESS_LOG_ANCHOR_MINUTES``);
    the caller keeps the task and cancels it at shutdown (:func:`stop_periodic_anchoring`)."""
    interval = service.settings.access_log_anchor_minutes * 60.0
    return asyncio.get_running_loop().create_task(anchor_periodically(service, interval))


async def stop_periodic_anchoring(task: asyncio.Task[None]) -> None:
    """Cancel the periodic anchoring: a batch it was anchoring stays pending in the service
    database, its operation in the journal, and the next start finishes it."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
