"""The access log a citizen or enterprise reads (查询记录): who used or read their records.

Every consent granted, used or revoked, every window check, every stored copy read and every
credit lookup by a department appends one entry: when, which action, the department and the
window (its token's label), the service, and what was read (document hashes, event ids). The
subject is kept by its chain subject reference, never by its identifier.

Not here: the periodic anchoring of the entries' Merkle roots and the inclusion proofs (the
tamper evidence), HTTP (``api/routes/access_log.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from ledger.service.database import ServiceDatabase

__all__ = ["ACTIONS", "AccessAction", "AccessEntry", "AccessLog"]

AccessAction = Literal[
    "consent.granted",
    "consent.used",
    "consent.revoked",
    "window.check",
    "document.read",
    "document.verified",
    "credit.lookup",
    "credit.false-information",
]
ACTIONS: Final[tuple[str, ...]] = get_args(AccessAction)


@dataclass(frozen=True)
class AccessEntry:
    """One entry as stored."""

    seq: int
    at: int
    subject_ref: bytes
    action: AccessAction
    #: The department that acted; None when the subject acted (granting, revoking a consent).
    department_id: int | None
    #: The label of the department's token: the window (office, counter).
    window: str
    service: str | None
    records: tuple[str, ...]


def _entry(row: tuple[Any, ...]) -> AccessEntry:
    seq, at, subject_ref, action, department_id, window, service, records = row
    assert action in ACTIONS
    return AccessEntry(
        int(seq),
        int(at),
        bytes(subject_ref),
        action,
        None if department_id is None else int(department_id),
        str(window),
        None if service is None else str(service),
        tuple(str(item) for item in json.loads(records)),
    )


class AccessLog:
    """Append entries and read a subject's. ``clock`` (UTC seconds) is a parameter for tests."""

    def __init__(self, database: ServiceDatabase, *, clock: Callable[[], float] = time.time):
        self._database = database
        self.clock = clock

    def record(
        self,
        subject_ref: bytes,
        action: AccessAction,
        *,
        department_id: int | None = None,
        window: str = "",
        service: str | None = None,
        records: Sequence[str] = (),
    ) -> AccessEntry:
        """Append one entry and return it."""
        if action not in ACTIONS:
            raise ValueError(f"unknown access-log action {action!r}")
        at = int(self.clock())
        stored = json.dumps(list(records), separators=(",", ":"))
        with self._database.transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO access_log (at, subject_ref, action, department_id, window, "
                "service, records) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (at, subject_ref, action, department_id, window, service, stored),
            )
            seq = cursor.lastrowid
        assert seq is not None
        return AccessEntry(
            seq, at, subject_ref, action, department_id, window, service, tuple(records)
        )

    def of_subject(
        self, subject_ref: bytes, *, limit: int = 200, before: int | None = None
    ) -> list[AccessEntry]:
        """The subject's entries, newest first, strictly before sequence number ``before``."""
        rows = self._database.query(
            "SELECT seq, at, subject_ref, action, department_id, window, service, records "
            "FROM access_log WHERE subject_ref = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            (subject_ref, (1 << 63) - 1 if before is None else before, limit),
        )
        return [_entry(row) for row in rows]
