"""Governance's writes on departments: registering one, accrediting its first key, rotating its
key, suspending and reinstating it. Every one is signed by the governance key
(:data:`~ledger.writes.prepared.GOVERNANCE`).

Registering a department is two transactions: the registration (:func:`register`), then the
accreditation of its first signing key, created in this data directory (:func:`accredit_key`).
A registration that stopped between the two (the process died, the service's second journaled
step failed) is finished by asking again: :func:`half_registered` is that rule, and both the CLI
(``ledger department add``) and the service (``POST /v1/departments``) skip the registration
when it holds, so only the key is left to accredit. What follows a confirmed accreditation
(funding the new key, :meth:`~ledger.session.LedgerSession.ensure_funded`; keeping the name off
chain, :mod:`ledger.names`) is the caller's, after the transaction.

Not here: scope grants and revocations and supervisors, which neither the CLI nor the service
offers (their calls are :class:`~ledger.contracts.DepartmentRegistryClient`'s); a department's
API tokens (the service's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eth_typing import ChecksumAddress

from ledger.contracts import Department
from ledger.errors import (
    DepartmentRegistryDuplicateDepartment,
    DepartmentRegistryUnknownDepartment,
    ValidationError,
)
from ledger.names import name_hash
from ledger.writes.prepared import GOVERNANCE, PreparedWrite

if TYPE_CHECKING:
    from ledger.session import LedgerSession

__all__ = [
    "Accredited",
    "Registered",
    "Rotated",
    "SuspensionChanged",
    "accredit_key",
    "half_registered",
    "register",
    "reinstate",
    "rotate_key",
    "suspend",
    "unaccredited_key",
]


@dataclass(frozen=True)
class Registered:
    """What registering a department reports."""

    department_id: int


@dataclass(frozen=True)
class Accredited:
    """What accrediting a department's first key reports."""

    department_id: int
    #: The key accredited (created in this data directory).
    signer: ChecksumAddress


@dataclass(frozen=True)
class Rotated:
    """What a key rotation reports."""

    department_id: int
    #: The key retired by the rotation.
    retired: ChecksumAddress
    #: The new key (created in this data directory).
    signer: ChecksumAddress


@dataclass(frozen=True)
class SuspensionChanged:
    """What suspending or reinstating a department reports."""

    department_id: int
    suspended: bool


def _half_done(department: Department | None, region: int) -> bool:
    """The resume rule: registered in ``region`` and without a key yet."""
    return department is not None and department.signer_count == 0 and department.region == region


def half_registered(session: LedgerSession, department_id: int, region: int) -> bool:
    """Whether an earlier registration of ``department_id`` in ``region`` stopped before its key
    was accredited: the registration is then not sent again, only :func:`accredit_key` is left.
    A department registered otherwise (with a key, or in another region) is a duplicate."""
    return _half_done(session.registry().department(department_id), region)


def _check_key_window(valid_until: datetime | None) -> None:
    """The first key's end of validity, refused before the registration is sent: a window the
    registry refuses after the department was registered would leave it without a key."""
    if valid_until is None:
        return
    if valid_until.tzinfo is None:
        raise ValidationError("validUntil needs a time zone offset (e.g. +08:00 or Z)")
    if valid_until <= datetime.now(UTC):
        raise ValidationError("validUntil must be in the future")


def register(
    session: LedgerSession,
    department_id: int,
    region: int,
    name: str,
    scopes: Sequence[int],
    *,
    valid_until: datetime | None = None,
) -> PreparedWrite[Registered]:
    """Prepare the registration of a department for ``scopes`` in ``region``; only the hash of
    its ``name`` goes on chain (:mod:`ledger.names`).

    Refused before anything is sent: a blank name, a first key's ``valid_until`` (given here
    so that it is checked before the registration) without a time zone or not in the future,
    and a department already registered (even half-way: see :func:`half_registered`).
    """
    digest = name_hash(name)
    _check_key_window(valid_until)
    registry = session.registry()
    if registry.department(department_id) is not None:
        raise DepartmentRegistryDuplicateDepartment({"departmentId": department_id})
    function = registry.register(department_id, region, digest, scopes)
    return PreparedWrite(function, GOVERNANCE, Registered(department_id))


def accredit_key(
    session: LedgerSession,
    department_id: int,
    region: int,
    *,
    valid_until: datetime | None = None,
) -> PreparedWrite[Accredited]:
    """Prepare the accreditation of the first signing key of a department registered in
    ``region`` without one (:func:`half_registered`), valid until ``valid_until`` (None: until
    retired): the key is :func:`unaccredited_key`, created here when there is none.

    Refused: an unknown department, and one that has a key already or is registered in another
    region (a duplicate registration). A key created here whose accreditation fails is left
    unaccredited in the keystore, and the next attempt accredits that one.
    """
    _check_key_window(valid_until)
    existing = session.registry().department(department_id)
    if existing is None:
        raise DepartmentRegistryUnknownDepartment({"departmentId": department_id})
    if not _half_done(existing, region):
        raise DepartmentRegistryDuplicateDepartment({"departmentId": department_id})
    address = unaccredited_key(session, department_id)
    function = session.registry().add_signer(department_id, address, None, valid_until)
    return PreparedWrite(function, GOVERNANCE, Accredited(department_id, address))


def unaccredited_key(session: LedgerSession, department_id: int) -> ChecksumAddress:
    """A key of the department created here and never accredited (left by a registration that
    stopped before its key was added), or a new one: the key to accredit next. A key found is
    unlocked first, so that one this ledger cannot sign with is never accredited."""
    registry = session.registry()
    for record in session.keystore.department_keys(department_id):
        if registry.signer_key(record.address) is None:
            return session.keystore.unlock(record.address).address
    return session.keystore.create_department_key(department_id).address


def rotate_key(session: LedgerSession, department_id: int) -> PreparedWrite[Rotated]:
    """Prepare replacing the department's current key (the newest one here that the registry
    lists) by a new one created here; records signed with the old key stay valid.

    Refused: an unknown department, and one with no active key in this data directory. The new
    key is created before the call is sent: a rotation that fails leaves it unused in the
    keystore.
    """
    registry = session.registry()
    if registry.department(department_id) is None:
        raise DepartmentRegistryUnknownDepartment({"departmentId": department_id})
    old = session.department_sender(department_id).address
    new = session.keystore.create_department_key(department_id).address
    function = registry.rotate_signer(old, new)
    return PreparedWrite(function, GOVERNANCE, Rotated(department_id, old, new))


def suspend(session: LedgerSession, department_id: int) -> PreparedWrite[SuspensionChanged]:
    """Prepare suspending a department: its keys can no longer anchor, change or record
    anything until it is reinstated; its records stand. Refused: an unknown department."""
    return _suspension(session, department_id, suspended=True)


def reinstate(session: LedgerSession, department_id: int) -> PreparedWrite[SuspensionChanged]:
    """Prepare lifting a department's suspension. Refused: an unknown department."""
    return _suspension(session, department_id, suspended=False)


def _suspension(
    session: LedgerSession, department_id: int, *, suspended: bool
) -> PreparedWrite[SuspensionChanged]:
    registry = session.registry()
    if registry.department(department_id) is None:
        raise DepartmentRegistryUnknownDepartment({"departmentId": department_id})
    function = registry.suspend(department_id) if suspended else registry.reinstate(department_id)
    return PreparedWrite(function, GOVERNANCE, SuspensionChanged(department_id, suspended))
