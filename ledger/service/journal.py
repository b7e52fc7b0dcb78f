"""The write journal (ADR 0012): every chain write is on disk before it is sent.

An operation is one write a caller asked for (anchor a certificate, revoke one, record a credit
event, ...), journaled as the contract call that carries it out: contract, function, arguments
and the signing key, plus the fields its answer needs. Its states:

``accepted``
    In the journal, nothing sent yet. The service answers ``202 Accepted`` from here on.
``sent``
    Signed with a nonce of its own and recorded (the raw transaction, its hash and nonce) before
    it was broadcast, so after a crash the very same transaction is re-sent: it can land once
    at most, whatever the crash interrupted. ``block`` is set once it is mined.
``confirmed``
    Mined, with at least the configured number of confirmations.
``failed``
    Refused by the contract (the decoded reason is kept), or mined and reverted.

An ``Idempotency-Key`` is stored with the operation it created, with a digest of the request:
the same key with the same request finds the same operation; with another request it is refused.

A department's backlog is capped (ADR 0018): past ``max_unfinished`` unfinished operations of its
own, a new one is refused with :class:`BacklogFullError` (the API's 429) until some finish, so
one department cannot fill the write queue. A batch job counts as one operation from the moment
it is accepted (its anchoring, journaled later, is not counted again). The count and the insert
are one step for every writer of this process, so concurrent requests cannot pass the cap
together.

The journal lives in the service database (WAL, ``synchronous=FULL``): each state change is one
committed SQLite transaction before the caller hears of it.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final, Literal

from ledger.errors import BacklogFullError, IdempotencyConflictError, ValidationError
from ledger.service.database import ServiceDatabase

__all__ = [
    "BATCH_ANCHOR",
    "BacklogFullError",
    "IdempotencyConflictError",
    "Journal",
    "Operation",
    "OperationState",
]

OperationState = Literal["accepted", "sent", "confirmed", "failed"]
#: States an operation can still leave.
UNFINISHED: Final = ("accepted", "sent")
#: Kind of a batch job's anchoring: the job was counted in its department's backlog when it was
#: accepted (``batch_jobs``), so its operation is neither counted again nor refused by the cap.
BATCH_ANCHOR: Final = "batch.anchor"
#: Seconds a department refused for its backlog is asked to wait (``Retry-After``): operations
#: finish in about a block, and the client learns again at once if the queue is still full.
BACKLOG_RETRY_SECONDS: Final = 1
_BACKLOG: Final = (
    "SELECT (SELECT COUNT(*) FROM operations WHERE state IN ('accepted', 'sent') "
    "AND department_id = ? AND kind != ?) "
    "+ (SELECT COUNT(*) FROM batch_jobs WHERE status = 'accepted' AND department_id = ?)"
)

_SELECT: Final = (
    "SELECT op_id, kind, department_id, request, state, signer, nonce, tx_hash, raw_tx, "
    "replaced, block, error_code, error, idem_scope, idem_key, request_digest, created_at, "
    "updated_at, sent_at, result FROM operations"
)

_INSERT_ACCEPTED: Final = (
    "INSERT INTO operations (op_id, kind, department_id, request, state, "
    "idem_scope, idem_key, request_digest, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, 'accepted', ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Operation:
    """One journaled write."""

    op_id: str
    kind: str
    department_id: int | None
    #: The call (``contract``, ``function``, ``args``, ``signer``) and the answer's own fields.
    request: dict[str, Any]
    state: OperationState
    signer: str | None
    nonce: int | None
    tx_hash: bytes | None
    raw_tx: bytes | None
    #: Hashes of earlier signed versions replaced by ``tx_hash`` (same nonce, higher fee).
    replaced: tuple[bytes, ...]
    block: int | None
    error_code: str | None
    error: str | None
    idempotency_scope: str | None
    idempotency_key: str | None
    request_digest: bytes | None
    created_at: datetime
    updated_at: datetime
    #: When the current signed version was broadcast (monotonic seconds are not durable).
    sent_at: datetime | None
    #: The answer given once it was confirmed (an idempotent retry gets the same).
    result: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED


def _operation(row: tuple[Any, ...]) -> Operation:
    (
        op_id, kind, department_id, request, state, signer, nonce, tx_hash, raw_tx, replaced,
        block, error_code, error, scope, key, digest, created_at, updated_at, sent_at, result,
    ) = row  # fmt: skip
    return Operation(
        op_id=str(op_id),
        kind=str(kind),
        department_id=None if department_id is None else int(department_id),
        request=json.loads(request),
        state=state,
        signer=signer,
        nonce=None if nonce is None else int(nonce),
        tx_hash=None if tx_hash is None else bytes(tx_hash),
        raw_tx=None if raw_tx is None else bytes(raw_tx),
        replaced=tuple(bytes.fromhex(value) for value in json.loads(replaced or "[]")),
        block=None if block is None else int(block),
        error_code=error_code,
        error=error,
        idempotency_scope=scope,
        idempotency_key=key,
        request_digest=None if digest is None else bytes(digest),
        created_at=_moment(created_at),
        updated_at=_moment(updated_at),
        sent_at=None if sent_at is None else _moment(sent_at),
        result=None if result is None else json.loads(result),
    )


def _accepted(
    op_id: str,
    kind: str,
    department_id: int | None,
    request: dict[str, Any],
    idempotency: tuple[str | None, str | None, bytes | None],
    now: int,
) -> Operation:
    """The operation :meth:`Journal.accept` has just inserted, built without reading it back
    (its ``request`` a copy through JSON, so the caller's dict is not shared)."""
    scope, key, digest = idempotency
    moment = _moment(now)
    return Operation(
        op_id=op_id,
        kind=kind,
        department_id=department_id,
        request=json.loads(json.dumps(request)),
        state="accepted",
        signer=None,
        nonce=None,
        tx_hash=None,
        raw_tx=None,
        replaced=(),
        block=None,
        error_code=None,
        error=None,
        idempotency_scope=scope,
        idempotency_key=key,
        request_digest=digest,
        created_at=moment,
        updated_at=moment,
        sent_at=None,
    )


def _moment(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(int(milliseconds) / 1000, UTC)


def _now() -> int:
    return time.time_ns() // 1_000_000


class Journal:
    """The operations table of the service database; ``max_unfinished`` caps each department's
    backlog (0: no cap)."""

    def __init__(self, database: ServiceDatabase, *, max_unfinished: int = 0) -> None:
        self.database = database
        self.max_unfinished = max_unfinished
        # Held from a department's count to its insert (an operation, a batch job).
        self._admission = threading.RLock()

    def backlog(self, department_id: int) -> int:
        """The department's unfinished work: its unfinished operations and accepted batch jobs
        (a job counts once, whether or not its anchoring is journaled yet)."""
        rows = self.database.query(_BACKLOG, (department_id, BATCH_ANCHOR, department_id))
        return int(rows[0][0])

    def _backlog_in(self, connection: sqlite3.Connection, department_id: int) -> int:
        row = connection.execute(_BACKLOG, (department_id, BATCH_ANCHOR, department_id)).fetchone()
        return int(row[0])

    def check_room(self, department_id: int | None) -> None:
        """Refuse early (:class:`BacklogFullError`) a department whose backlog is full, before
        its request does any work; :meth:`accept` and :meth:`admission` check again as they
        write."""
        if (
            self.max_unfinished
            and department_id is not None
            and self.backlog(department_id) >= self.max_unfinished
        ):
            raise BacklogFullError(self.max_unfinished, BACKLOG_RETRY_SECONDS)

    @contextlib.contextmanager
    def admission(self, department_id: int) -> Iterator[None]:
        """Admit one unit of work other than an operation (a batch job) for ``department_id``:
        :class:`BacklogFullError` when its backlog is full, else the block runs (and writes the
        work) before any other admission of this process can count."""
        with self._admission:
            self.check_room(department_id)
            yield

    def accept(
        self,
        kind: str,
        request: dict[str, Any],
        *,
        department_id: int | None,
        idempotency: tuple[str, str, bytes] | None = None,
        capped: bool = True,
    ) -> tuple[Operation, bool]:
        """Journal a new operation (state ``accepted``); ``(operation, True)``.

        ``idempotency`` is (scope, key, request digest): the scope is the caller (a key is
        theirs alone). When the key was used before, nothing is written: ``(the earlier
        operation, False)`` if its digest is the same, :class:`IdempotencyConflictError` if not.
        Two concurrent requests with one key cannot both insert (a unique index): the second
        finds the first's operation.

        A department's new operation is refused with :class:`BacklogFullError` when its backlog
        is full (a retry of a journaled one is still answered). Not ``capped``: work signed by
        the department that it did not ask for (a subject's dispute of its event: a department
        must not be able to hold disputes off by keeping its queue full); and a batch job's
        anchoring (:data:`BATCH_ANCHOR`), admitted with its job.
        """
        op_id = secrets.token_hex(16)
        now = _now()
        scope, key, digest = idempotency if idempotency is not None else (None, None, None)
        capped = (
            capped
            and bool(self.max_unfinished)
            and department_id is not None
            and kind != BATCH_ANCHOR
        )
        with self._admission, self.database.transaction() as connection:
            if scope is not None:
                row = connection.execute(
                    _SELECT + " WHERE idem_scope = ? AND idem_key = ?",
                    (scope, key),
                ).fetchone()
                if row is not None:
                    assert digest is not None
                    return self.check_same(_operation(tuple(row)), kind, digest), False
            if capped:
                assert department_id is not None
                if self._backlog_in(connection, department_id) >= self.max_unfinished:
                    raise BacklogFullError(self.max_unfinished, BACKLOG_RETRY_SECONDS)
            stored = json.dumps(request, sort_keys=True, separators=(",", ":"))
            connection.execute(
                _INSERT_ACCEPTED, (op_id, kind, department_id, stored, scope, key, digest, now, now)
            )
        return _accepted(op_id, kind, department_id, request, (scope, key, digest), now), True

    def find(self, scope: str, key: str) -> Operation | None:
        """The operation created with this idempotency key by this caller, if any."""
        rows = self.database.query(_SELECT + " WHERE idem_scope = ? AND idem_key = ?", (scope, key))
        return _operation(rows[0]) if rows else None

    @staticmethod
    def check_same(earlier: Operation, kind: str, digest: bytes) -> Operation:
        """``earlier`` when it was made by the same request, else IdempotencyConflictError."""
        if earlier.request_digest != digest or earlier.kind != kind:
            raise IdempotencyConflictError("this Idempotency-Key was used for a different request")
        return earlier

    def get(self, op_id: str) -> Operation | None:
        rows = self.database.query(_SELECT + " WHERE op_id = ?", (op_id,))
        return _operation(rows[0]) if rows else None

    def unfinished(self) -> list[Operation]:
        """Operations still ``accepted`` or ``sent``, in the order they were accepted."""
        rows = self.database.query(
            _SELECT + " WHERE state IN ('accepted', 'sent') ORDER BY created_at, rowid"
        )
        return [_operation(row) for row in rows]

    def accepted_ids(self) -> list[str]:
        """Ids of the operations not sent yet, in the order they were accepted (cheap: the
        transaction manager asks between rounds what joined the queue)."""
        rows = self.database.query(
            "SELECT op_id FROM operations WHERE state = 'accepted' ORDER BY created_at, rowid"
        )
        return [str(row[0]) for row in rows]

    def highest_nonce(self, signer: str) -> int | None:
        """The highest nonce this journal ever gave ``signer``'s transactions."""
        rows = self.database.query(
            "SELECT MAX(nonce) FROM operations WHERE signer = ? AND nonce IS NOT NULL", (signer,)
        )
        value = rows[0][0] if rows else None
        return None if value is None else int(value)

    def counts(self) -> dict[str, int]:
        """How many operations are in each state."""
        rows = self.database.query("SELECT state, COUNT(*) FROM operations GROUP BY state")
        return {str(state): int(count) for state, count in rows}

    def mark_sent(
        self, operation: Operation, *, signer: str, nonce: int, tx_hash: bytes, raw_tx: bytes
    ) -> Operation:
        """Record the signed transaction, before it is broadcast. ``operation`` is the journal's
        current row (a signed version it replaces is kept among ``replaced``)."""
        now = _now()
        replaced = [value.hex() for value in operation.replaced]
        if operation.tx_hash is not None and operation.tx_hash != tx_hash:
            replaced.append(operation.tx_hash.hex())
        with self.database.transaction() as connection:
            cursor = connection.execute(
                "UPDATE operations SET state = 'sent', signer = ?, nonce = ?, tx_hash = ?, "
                "raw_tx = ?, replaced = ?, block = NULL, updated_at = ?, sent_at = ? "
                "WHERE op_id = ? AND state IN ('accepted', 'sent')",
                (signer, nonce, tx_hash, raw_tx, json.dumps(replaced), now, now, operation.op_id),
            )
            if cursor.rowcount != 1:
                raise ValidationError(f"operation {operation.op_id} is not waiting to be sent")
        moment = _moment(now)
        return replace(
            operation,
            state="sent",
            signer=signer,
            nonce=nonce,
            tx_hash=tx_hash,
            raw_tx=raw_tx,
            replaced=tuple(bytes.fromhex(value) for value in replaced),
            block=None,
            updated_at=moment,
            sent_at=moment,
        )

    def mark_mined(self, op_id: str, block: int | None, tx_hash: bytes | None = None) -> None:
        """The block the transaction is in, as last seen (None: dropped by a reorganization)."""
        with self.database.transaction() as connection:
            if tx_hash is None:
                connection.execute(
                    "UPDATE operations SET block = ?, updated_at = ? "
                    "WHERE op_id = ? AND state = 'sent'",
                    (block, _now(), op_id),
                )
            else:  # an earlier signed version was mined: it is the transaction now
                connection.execute(
                    "UPDATE operations SET block = ?, tx_hash = ?, updated_at = ? "
                    "WHERE op_id = ? AND state = 'sent'",
                    (block, tx_hash, _now(), op_id),
                )

    def mark_confirmed(self, op_id: str, block: int) -> None:
        with self.database.transaction() as connection:
            connection.execute(
                "UPDATE operations SET state = 'confirmed', block = ?, updated_at = ? "
                "WHERE op_id = ? AND state = 'sent'",
                (block, _now(), op_id),
            )

    def mark_confirmed_many(self, confirmed: Sequence[tuple[str, int, bytes]]) -> None:
        """Confirm several operations (id, block, the hash that was mined) in one transaction."""
        now = _now()
        with self.database.transaction() as connection:
            connection.executemany(
                "UPDATE operations SET state = 'confirmed', block = ?, tx_hash = ?, "
                "updated_at = ? WHERE op_id = ? AND state = 'sent'",
                [(block, mined, now, op_id) for op_id, block, mined in confirmed],
            )

    def keep_result(self, op_id: str, result: dict[str, Any]) -> dict[str, Any]:
        """Keep the answer of a confirmed operation, unless one was kept before (that one is
        returned: every caller gets the first answer)."""
        with self.database.transaction() as connection:
            connection.execute(
                "UPDATE operations SET result = ? "
                "WHERE op_id = ? AND state = 'confirmed' AND result IS NULL",
                (json.dumps(result, sort_keys=True), op_id),
            )
            row = connection.execute(
                "SELECT result FROM operations WHERE op_id = ?", (op_id,)
            ).fetchone()
        kept: dict[str, Any] = json.loads(row[0]) if row and row[0] else result
        return kept

    def mark_failed(self, op_id: str, code: str, detail: str, *, block: int | None = None) -> None:
        with self.database.transaction() as connection:
            connection.execute(
                "UPDATE operations SET state = 'failed', error_code = ?, error = ?, "
                "block = COALESCE(?, block), updated_at = ? "
                "WHERE op_id = ? AND state IN ('accepted', 'sent')",
                (code, detail[:500], block, _now(), op_id),
            )

    def reset_to_accepted(self, op_id: str) -> None:
        """Forget a signed transaction that can never land (its nonce went to another one):
        the operation is signed afresh. Its hash stays among ``replaced``."""
        with self.database.transaction() as connection:
            row = connection.execute(
                "SELECT tx_hash, replaced FROM operations WHERE op_id = ? AND state = 'sent'",
                (op_id,),
            ).fetchone()
            if row is None:
                return
            replaced = json.loads(row[1] or "[]")
            if row[0] is not None:
                replaced.append(bytes(row[0]).hex())
            connection.execute(
                "UPDATE operations SET state = 'accepted', nonce = NULL, tx_hash = NULL, "
                "raw_tx = NULL, block = NULL, replaced = ?, updated_at = ?, sent_at = NULL "
                "WHERE op_id = ?",
                (json.dumps(replaced), _now(), op_id),
            )
