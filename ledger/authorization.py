"""Authorization before existence: may this department write this, asked before anything else.

The contracts check the signing key's accreditation first and the record's state after it, but
the library looks at records before it sends anything (an already anchored hash is refused
before its copy is stored, say), and a contract that refuses a department which is neither
accredited nor the record's issuer names only the first of the two reasons. Both made the
answers depend on the order of lookups rather than on the caller's rights: a department not
accredited for a type heard "duplicate" about a hash it could never anchor, and one revoking
another department's certificate heard "not accredited for this certificate type".

Every department write (anchor, supersede, suspend, reinstate, revoke, credit record and amend,
bundle filing) asks :func:`require_accreditation` first, with the record's issuer when it acts
on an existing record, so the answer about the caller's rights comes before any answer about
the record. The contracts still decide; this only puts the library's own refusals in the same
order and words them for people (no contract error names).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from ledger.catalogue import scope_name
from ledger.chain.transactions import rpc_guard
from ledger.contracts import (
    CertificateRecord,
    CertificateRegistryClient,
    CreditEvent,
    CreditLedgerClient,
    DepartmentRegistryClient,
    LicenceBundlesClient,
)
from ledger.errors import (
    CertificateRegistryUnknownCertificate,
    CreditLedgerUnknownEvent,
    DepartmentRegistryUnknownDepartment,
    LicenceBundlesUnknownBundle,
    LicenceBundlesUnknownPart,
    NotAuthorizedError,
)

__all__ = [
    "authorize_bundle_filing",
    "authorize_certificate_change",
    "authorize_event_change",
    "require_accreditation",
    "scope_label",
]

#: Supervisor links the contracts follow from a record's issuer (AccreditationCache.sol).
MAX_SUPERVISOR_DEPTH: Final = 4


def scope_label(scope: int) -> str:
    """A certificate type or credit category by name (its hex code when not in the catalogue)."""
    return scope_name(scope) or f"{scope:#x}"


def require_accreditation(
    registry: DepartmentRegistryClient,
    department_id: int,
    scope: int,
    region: int,
    *,
    owner: int | None = None,
    record: str = "certificate",
) -> None:
    """Refuse (NotAuthorizedError, 403 / exit 4) unless ``department_id`` may write ``scope`` in
    ``region`` now, and, with ``owner`` (the issuer or recorder of an existing ``record``), is
    that department or one of its supervisors.

    The owner is asked first: a department acting on another's record is told so, whatever its
    own accreditation. ``region`` 0 means "no region" (credit events), covered everywhere.
    """
    department = registry.department(department_id)
    if department is None:
        raise DepartmentRegistryUnknownDepartment({"departmentId": department_id})
    if owner is not None and not _answers_for(registry, department_id, owner):
        verb = "recorded" if record == "credit event" else "issued"
        raise NotAuthorizedError(
            f"department {department_id} may not change this {record}: department {owner} "
            f"{verb} it, and department {department_id} is neither that department nor one of "
            "its supervisors"
        )
    if department.suspended:
        raise NotAuthorizedError(f"department {department_id} is suspended by governance")
    if registry.is_department_authorized(department_id, scope, region, _chain_now(registry)):
        return
    if scope not in registry.scopes(department_id):
        raise NotAuthorizedError(
            f"department {department_id} is not accredited for {scope_label(scope)}"
        )
    raise NotAuthorizedError(
        f"department {department_id} (region {department.region}) does not serve region {region}"
    )


def authorize_certificate_change(
    registry: DepartmentRegistryClient,
    certificates: CertificateRegistryClient,
    department_id: int,
    doc_hash: bytes,
) -> CertificateRecord:
    """The record a department suspends, reinstates, revokes or supersedes (for a batch
    certificate: its root), once the department may: its issuer or a supervisor, accredited for
    its type in its region. An unknown hash is 404 (there is no issuer to ask about)."""
    record = certificates.certificate(doc_hash)
    if record is None:
        raise CertificateRegistryUnknownCertificate({"docHash": doc_hash})
    require_accreditation(
        registry, department_id, record.cert_type, record.region, owner=record.issuer
    )
    return record


def authorize_event_change(
    registry: DepartmentRegistryClient,
    credit: CreditLedgerClient,
    department_id: int,
    event_id: bytes,
) -> CreditEvent:
    """The credit event a department amends or resolves, once the department may: its recorder
    or a supervisor, accredited for its category. An unknown id is 404."""
    event = credit.event(event_id)
    if event is None:
        raise CreditLedgerUnknownEvent({"eventId": event_id})
    require_accreditation(
        registry, department_id, event.category, 0, owner=event.recorder, record="credit event"
    )
    return event


def authorize_bundle_filing(
    registry: DepartmentRegistryClient,
    bundles: LicenceBundlesClient,
    department_id: int,
    bundle_id: bytes,
    index: int,
) -> None:
    """Refuse a department filing a part that is another department's to file, before anything
    about the part (already filed, the certificate offered) is looked at. An unknown bundle or
    part is 404."""
    bundle = bundles.bundle(bundle_id)
    if bundle is None:
        raise LicenceBundlesUnknownBundle({"bundleId": bundle_id})
    if not 0 <= index < len(bundle.parts):
        raise LicenceBundlesUnknownPart({"bundleId": bundle_id, "index": index})
    part = bundle.parts[index]
    if part.department_id != department_id:
        raise NotAuthorizedError(
            f"{part.label(index)} is department {part.department_id}'s to file, "
            f"not department {department_id}'s"
        )
    department = registry.department(department_id)
    if department is None:
        raise DepartmentRegistryUnknownDepartment({"departmentId": department_id})
    if department.suspended:
        raise NotAuthorizedError(f"department {department_id} is suspended by governance")


def _chain_now(registry: DepartmentRegistryClient) -> datetime:
    """The latest block's time: what the contract will compare with (a chain's clock may run
    ahead of this machine's, the embedded chain's after many blocks in one second)."""
    block = rpc_guard(lambda: registry.context.web3.eth.get_block("latest"))
    return datetime.fromtimestamp(int(block["timestamp"]), UTC)


def _answers_for(registry: DepartmentRegistryClient, department_id: int, owner: int) -> bool:
    """Whether ``department_id`` is ``owner`` or one of its supervisors, as the contracts walk
    them (at most :data:`MAX_SUPERVISOR_DEPTH` links up)."""
    current = owner
    for _ in range(MAX_SUPERVISOR_DEPTH + 1):
        if current == department_id:
            return True
        found = registry.department(current)
        if found is None or not found.supervisor:
            return False
        current = found.supervisor
    return False
