"""The audit log: every write, and every read of personal data, appended with who, what, when.

A row names the actor (``admin``, ``department:<id>``, ``citizen:<ref>``, ``enterprise:<ref>``,
``unauthenticated``), the action (``certificate.anchor``, ``credit.history.read``, ...), its
target (a document hash, an event id, a department id) and, when a person is concerned, the first
16 hex digits of the subject reference — never an identity number or credit code (ADR
0006). The reference prefix lets an auditor with the pepper match rows to a person on
request, while the log itself reveals nothing to a reader without it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ledger.service.database import ServiceDatabase

__all__ = ["AuditEntry", "AuditLog", "subject_tag"]

#: Hex digits of the subject reference kept in audit rows (64 bits: unique in practice).
_TAG_DIGITS = 16


def subject_tag(subject_ref: bytes) -> str:
    """The audit form of a subject reference."""
    return subject_ref.hex()[:_TAG_DIGITS]


@dataclass(frozen=True)
class AuditEntry:
    """One audit row."""

    seq: int
    at: int
    request_id: str
    actor: str
    action: str
    target: str
    subject: str
    outcome: int


class AuditLog:
    """Append and read audit rows."""

    def __init__(self, database: ServiceDatabase) -> None:
        self._database = database

    def append(
        self,
        *,
        request_id: str,
        actor: str,
        action: str,
        outcome: int,
        target: str = "",
        subject_ref: bytes | None = None,
    ) -> None:
        """Append a row; ``outcome`` is the HTTP status answered (or a CLI exit status)."""
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT INTO audit (at, request_id, actor, action, target, subject, outcome) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    int(time.time()),
                    request_id,
                    actor,
                    action,
                    target,
                    subject_tag(subject_ref) if subject_ref else "",
                    outcome,
                ),
            )

    def entries(self, *, after: int = 0, limit: int = 1000) -> list[AuditEntry]:
        """Rows after sequence number ``after``, oldest first."""
        rows = self._database.query(
            "SELECT seq, at, request_id, actor, action, target, subject, outcome FROM audit "
            "WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        )
        return [AuditEntry(*row) for row in rows]
