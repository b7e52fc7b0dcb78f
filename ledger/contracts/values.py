"""The values the ledger contracts store, as Python sees them: the enums, the record
dataclasses, and the packing of times and 32-byte words into contract arguments.

Every client of this package and the library's readers (verification, the score policy, the
service's views) share these. The underscored helpers (``_seconds``, ``_time``, ``_bytes32``,
``_OPEN_ENDED``) are this package's own, for its clients. No contract calls here: each client is
in its own module, deployment in :mod:`ledger.contracts.deployment`, and a bundle's value types
(:class:`~ledger.contracts.bundles.Bundle`, ``BundlePart``) live beside their client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Final

from eth_typing import ChecksumAddress

from ledger.errors import ValidationError

__all__ = [
    "Amendment",
    "CertificateRecord",
    "CertificateStatus",
    "CreditEvent",
    "Department",
    "LeafStatus",
    "Polarity",
    "RecordKind",
    "SignerKey",
]

_OPEN_ENDED: Final = (1 << 40) - 1


#: The last second Python's datetime holds (9999-12-31T23:59:59Z); a uint40 reaches further.
_LAST_REPRESENTABLE: Final = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


def _time(seconds: int) -> datetime | None:
    """A contract's seconds as a UTC datetime (None for 0 and open-ended). A time past the year
    9999, which this library never writes (ledger.parsing.check_moment) but another client may,
    reads as the last representable second instead of failing every read of its record."""
    if seconds in (0, _OPEN_ENDED):
        return None
    return datetime.fromtimestamp(min(seconds, _LAST_REPRESENTABLE), UTC)


def _seconds(moment: datetime | None) -> int:
    if moment is None:
        return 0
    if moment.tzinfo is None:
        raise ValidationError("timestamps must be timezone-aware")
    value = int(moment.timestamp())
    if not 0 < value < _OPEN_ENDED:
        raise ValidationError("timestamp out of range")
    return value


def _bytes32(value: bytes, what: str) -> bytes:
    if len(value) != 32:
        raise ValidationError(f"{what} must be 32 bytes")
    return bytes(value)


class CertificateStatus(IntEnum):
    """Lifecycle state as stored on chain (``ICertificateRegistry.Status``)."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3
    SUPERSEDED = 4


class RecordKind(IntEnum):
    """What an anchored hash stands for (``ICertificateRegistry.Kind``)."""

    DOCUMENT = 0
    BATCH_ROOT = 1
    BUNDLE_PART = 2


class Polarity(IntEnum):
    """Whether a credit event counts against or for its subject."""

    NEGATIVE = 0
    POSITIVE = 1


class Amendment(IntEnum):
    """Latest amendment of a credit event (``ICreditLedger.Amendment``)."""

    NONE = 0
    CORRECTED = 1
    WITHDRAWN = 2
    REPAIRED = 3
    DISPUTED = 4
    UPHELD = 5


@dataclass(frozen=True)
class Department:
    """A department as the registry stores it."""

    department_id: int
    region: int
    supervisor: int
    registered_at: datetime | None
    suspended: bool
    scope_count: int
    signer_count: int
    name_hash: bytes


@dataclass(frozen=True)
class SignerKey:
    """A signing key's department and validity window (``valid_until`` None: open-ended)."""

    address: ChecksumAddress
    department_id: int
    valid_from: datetime | None
    valid_until: datetime | None


@dataclass(frozen=True)
class CertificateRecord:
    """An anchored certificate."""

    doc_hash: bytes
    issuer: int
    cert_type: int
    region: int
    anchored_at: datetime
    expires_at: datetime | None
    anchored_block: int
    status: CertificateStatus
    kind: RecordKind
    reason_code: int


@dataclass(frozen=True)
class LeafStatus:
    """One certificate of a batch, as ``leafStatusOf`` reports it."""

    #: NONE when the proof does not lead to an anchored batch root.
    status: CertificateStatus
    reason_code: int
    #: Department that revoked this certificate alone, and when (None when it was not).
    revoked_by: int | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreditEvent:
    """A credit event with its latest amendment."""

    event_id: bytes
    recorder: int
    category: int
    polarity: Polarity
    severity: int
    occurred_at: datetime
    recorded_at: datetime
    amendment: Amendment
    amended_by: int
    amended_at: datetime | None
    amendment_count: int
    evidence_hash: bytes | None = None
    evidence_cid: bytes | None = None
    block_number: int | None = None
