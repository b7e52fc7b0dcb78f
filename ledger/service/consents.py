"""Consents: a subject's short-lived permission for one department to act for one service.

A logged-in citizen or enterprise grants a consent; the receiving window redeems its code. The
code is 10 characters of Crockford base32 drawn from :mod:`secrets` (50 bits), shown
``XXXXX-XXXXX`` and read forgivingly (any case, hyphens and spaces ignored, ``I``/``L`` as ``1``,
``O`` as ``0``; ``U`` is not in the alphabet and refused). It is stored only as an HMAC-SHA256
under a key derived from the deployment's pepper, so the service database alone yields no code,
and the subject only as its chain subject reference, never its identifier (ADR 0025).

Guessing is bounded by a per-department limit kept in the same database (a restart does not
reset it): after :data:`MAX_FAILED_ATTEMPTS` failed redemptions within
:data:`ATTEMPT_WINDOW_SECONDS`, every redemption of that department is refused until the oldest
of them ages out. With N live codes a department guesses one in about ``2^50 / (10·N)``
ten-minute windows: some 2 million years for N = 1,000.

Not here: the window's check of certificates, the citizen-visible access log and the pages
(later increments of the same workflow); HTTP (``api/routes/consents.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.errors import (
    ConsentCodeUnknownError,
    ConsentExpiredError,
    ConsentNotActiveError,
    ConsentNotFoundError,
    ConsentNotRedeemedError,
    ConsentOtherDepartmentError,
    ConsentRefusedError,
    ConsentRevokedError,
    ConsentUsedError,
    ServiceNotForSubjectError,
    TooManyAttemptsError,
    ValidationError,
)
from ledger.identity import SubjectKind
from ledger.service.database import ServiceDatabase
from ledger.services import service as catalogue_service

__all__ = [
    "ALPHABET",
    "ATTEMPT_WINDOW_SECONDS",
    "CODE_BITS",
    "CODE_LENGTH",
    "MAX_FAILED_ATTEMPTS",
    "ConsentRecord",
    "ConsentState",
    "ConsentStore",
    "Mode",
    "consent_key",
    "format_code",
    "new_code",
    "normalize_code",
]

#: Crockford's base32: digits and letters without I, L, O and U.
ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH: Final = 10
CODE_BITS: Final = CODE_LENGTH * 5
#: Failed redemptions a department may make within :data:`ATTEMPT_WINDOW_SECONDS`.
MAX_FAILED_ATTEMPTS: Final = 10
ATTEMPT_WINDOW_SECONDS: Final = 600
#: Letters read as the digits they are mistaken for (Crockford's decoding).
_READ_AS: Final = str.maketrans({"I": "1", "L": "1", "O": "0"})
_IGNORED: Final = str.maketrans("", "", "- \t")
_KEY_INFO: Final = b"gov-ledger consent code v1"

Mode = Literal["single", "visit"]
ConsentState = Literal["active", "used", "expired", "revoked"]


def new_code() -> str:
    """A fresh code: :data:`CODE_LENGTH` characters of :data:`ALPHABET` from :mod:`secrets`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """A normalized code as shown to people: ``XXXXX-XXXXX``."""
    return f"{code[:5]}-{code[5:]}"


def normalize_code(text: str) -> str | None:
    """The code ``text`` spells (case, hyphens and spaces ignored; I/L read as 1, O as 0), or
    None when it is not a code (a ``U``, another character, the wrong length)."""
    code = text.translate(_IGNORED).upper().translate(_READ_AS)
    if len(code) != CODE_LENGTH or any(character not in ALPHABET for character in code):
        return None
    return code


def consent_key(pepper: bytes) -> bytes:
    """The key of the codes' digests, derived from the pepper (HKDF-SHA256) so that it is
    independent of the subject references made with the pepper itself."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(pepper)


@dataclass(frozen=True)
class ConsentRecord:
    """One consent as stored (never its code)."""

    consent_id: str
    subject_ref: bytes
    subject_kind: SubjectKind
    service: str
    department_id: int
    mode: Mode
    created_at: int
    expires_at: int
    revoked_at: int | None
    uses: int
    last_used_at: int | None

    def state(self, now: float) -> ConsentState:
        """Revoked before used before expired: the subject's act, then the window's, then time."""
        if self.revoked_at is not None:
            return "revoked"
        if self.mode == "single" and self.uses > 0:
            return "used"
        if now >= self.expires_at:
            return "expired"
        return "active"


def _record(row: tuple[Any, ...]) -> ConsentRecord:
    (consent_id, subject_ref, kind, service, department_id, mode, created, expires) = row[:8]
    revoked_at, uses, last_used_at = row[8:]
    assert mode in ("single", "visit")
    return ConsentRecord(
        str(consent_id),
        bytes(subject_ref),
        SubjectKind(str(kind)),
        str(service),
        int(department_id),
        mode,
        int(created),
        int(expires),
        None if revoked_at is None else int(revoked_at),
        int(uses),
        None if last_used_at is None else int(last_used_at),
    )


class ConsentStore:
    """Grant, list, revoke and redeem consents in the service database.

    ``clock`` (UTC seconds) is a parameter so tests can move time; the service passes none.
    """

    def __init__(
        self,
        database: ServiceDatabase,
        key: bytes,
        *,
        max_minutes: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._database = database
        self._key = key
        self.max_minutes = max_minutes
        self.clock = clock

    def _digest(self, code: str) -> bytes:
        return hmac.new(self._key, code.encode("ascii"), hashlib.sha256).digest()

    def grant(
        self,
        subject_ref: bytes,
        subject_kind: SubjectKind,
        service: str,
        department_id: int,
        *,
        mode: Mode = "single",
        minutes: int | None = None,
    ) -> tuple[ConsentRecord, str]:
        """A new consent and its code (normalized; returned here only, never stored).

        The service must exist and serve ``subject_kind``; whether the department exists and
        is not suspended is the caller's to check, on the chain.
        """
        entry = catalogue_service(service)
        if subject_kind.value not in {kind.value for kind in entry.subject_kinds}:
            raise ServiceNotForSubjectError(
                f"service {service} does not serve a subject of kind {subject_kind.value}"
            )
        if minutes is None:
            minutes = self.max_minutes
        if not 1 <= minutes <= self.max_minutes:
            raise ValidationError(f"minutes must lie between 1 and {self.max_minutes}")
        if mode not in ("single", "visit"):
            raise ValidationError("mode must be single or visit")
        now = int(self.clock())
        consent_id = secrets.token_hex(16)
        with self._database.transaction() as connection:
            while True:  # a repeated code is as likely as guessing one; draw again all the same
                code = new_code()
                digest = self._digest(code)
                taken = connection.execute(
                    "SELECT 1 FROM consents WHERE code_digest = ?", (digest,)
                ).fetchone()
                if taken is None:
                    break
            connection.execute(
                "INSERT INTO consents (consent_id, subject_ref, subject_kind, service, "
                "department_id, "
                "mode, created_at, expires_at, revoked_at, uses, last_used_at, code_digest) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, NULL, ?)",
                (
                    consent_id,
                    subject_ref,
                    subject_kind.value,
                    service,
                    department_id,
                    mode,
                    now,
                    now + minutes * 60,
                    digest,
                ),
            )
        record = ConsentRecord(
            consent_id, subject_ref, subject_kind, service, department_id, mode,
            now, now + minutes * 60, None, 0, None,
        )  # fmt: skip
        return record, code

    def of_subject(self, subject_ref: bytes) -> list[ConsentRecord]:
        """The subject's consents, newest first."""
        rows = self._database.query(
            "SELECT consent_id, subject_ref, subject_kind, service, department_id, mode, "
            "created_at, "
            "expires_at, revoked_at, uses, last_used_at FROM consents WHERE subject_ref = ? "
            "ORDER BY created_at DESC, rowid DESC",
            (subject_ref,),
        )
        return [_record(row) for row in rows]

    def revoke(self, subject_ref: bytes, consent_id: str) -> ConsentRecord:
        """Revoke one of the subject's active consents; ConsentNotFoundError when the subject
        has no such consent, ConsentNotActiveError when it is revoked, used or expired."""
        now = int(self.clock())
        with self._database.transaction() as connection:
            row = connection.execute(
                "SELECT consent_id, subject_ref, subject_kind, service, department_id, mode, "
                "created_at, "
                "expires_at, revoked_at, uses, last_used_at FROM consents "
                "WHERE consent_id = ? AND subject_ref = ?",
                (consent_id, subject_ref),
            ).fetchone()
            if row is None:
                raise ConsentNotFoundError("you have no consent with this id")
            record = _record(tuple(row))
            state = record.state(now)
            if state != "active":
                raise ConsentNotActiveError(f"the consent is {state} already")
            connection.execute(
                "UPDATE consents SET revoked_at = ? WHERE consent_id = ?", (now, consent_id)
            )
        return replace(record, revoked_at=now)

    def redeem(self, department_id: int, text: str) -> ConsentRecord:
        """Count one use of the consent coded ``text`` by ``department_id``'s window.

        Every refusal counts as a failed attempt of the department; past
        :data:`MAX_FAILED_ATTEMPTS` within :data:`ATTEMPT_WINDOW_SECONDS`, TooManyAttemptsError
        before the code is even looked at, so a guesser learns nothing more until then.
        """
        now = self.clock()
        refusal: ConsentRefusedError | None = None
        with self._database.transaction() as connection:
            since = now - ATTEMPT_WINDOW_SECONDS
            connection.execute("DELETE FROM consent_attempts WHERE at <= ?", (since,))
            failed = connection.execute(
                "SELECT count(*), min(at) FROM consent_attempts WHERE department_id = ? AND at > ?",
                (department_id, since),
            ).fetchone()
            if int(failed[0]) >= MAX_FAILED_ATTEMPTS:
                wait = float(failed[1]) + ATTEMPT_WINDOW_SECONDS - now
                raise TooManyAttemptsError(
                    MAX_FAILED_ATTEMPTS, ATTEMPT_WINDOW_SECONDS, max(1, math.ceil(wait))
                )
            record, refusal = self._look_up(connection, department_id, text, now)
            if refusal is not None:
                connection.execute(
                    "INSERT INTO consent_attempts (department_id, at) VALUES (?, ?)",
                    (department_id, now),
                )
            else:
                assert record is not None
                connection.execute(
                    "UPDATE consents SET uses = uses + 1, last_used_at = ? WHERE consent_id = ?",
                    (int(now), record.consent_id),
                )
        if refusal is not None:
            raise refusal  # after the commit: the failed attempt must be kept
        assert record is not None
        return replace(record, uses=record.uses + 1, last_used_at=int(now))

    def live(self, department_id: int, consent_id: str) -> ConsentRecord:
        """The consent ``consent_id`` if ``department_id``'s window may still act under it.

        A consent is live for its department from its first redemption until it expires or
        its subject revokes it; a single-use consent stays live after that one use, for the
        rest of the visit it was taken for (reading a stored copy, verifying a document handed
        over, recording a forgery). Refusals are the redemption's codes, plus
        ``consent_not_redeemed`` for a consent whose code the window has not taken. Not counted
        as failed attempts: the id is not a secret to guess but the window's own handle.
        """
        now = self.clock()
        rows = self._database.query(
            "SELECT consent_id, subject_ref, subject_kind, service, department_id, mode, "
            "created_at, expires_at, revoked_at, uses, last_used_at FROM consents "
            "WHERE consent_id = ?",
            (consent_id,),
        )
        if not rows:
            raise ConsentCodeUnknownError("no consent has this id")
        record = _record(tuple(rows[0]))
        if record.department_id != department_id:
            raise ConsentOtherDepartmentError("this consent names another department")
        if record.revoked_at is not None:
            raise ConsentRevokedError("the subject revoked this consent")
        if now >= record.expires_at:
            raise ConsentExpiredError("this consent has expired")
        if record.uses == 0:
            raise ConsentNotRedeemedError("the window has not taken this consent's code")
        return record

    def _look_up(
        self, connection: sqlite3.Connection, department_id: int, text: str, now: float
    ) -> tuple[ConsentRecord | None, ConsentRefusedError | None]:
        """The consent ``text`` names if ``department_id`` may use it now, else the refusal.
        Another department's consent is refused as such before its state is told."""
        code = normalize_code(text)
        if code is None:
            return None, ConsentCodeUnknownError("this is not a valid consent code")
        row = connection.execute(
            "SELECT consent_id, subject_ref, subject_kind, service, department_id, mode, "
            "created_at, "
            "expires_at, revoked_at, uses, last_used_at FROM consents "
            "WHERE code_digest = ?",
            (self._digest(code),),
        ).fetchone()
        if row is None:
            return None, ConsentCodeUnknownError("no consent has this code")
        record = _record(tuple(row))
        if record.department_id != department_id:
            return None, ConsentOtherDepartmentError("this consent names another department")
        state = record.state(now)
        if state == "revoked":
            return None, ConsentRevokedError("the subject revoked this consent")
        if state == "used":
            return None, ConsentUsedError("this single-use consent was used already")
        if state == "expired":
            return None, ConsentExpiredError("this consent has expired")
        return record, None
