"""Joint licensing writes (ADR 0011): opening a bundle, filing one of its parts.

Each use case checks what the library can refuse before the contract does, and returns the call
signed by the department's current key; the contract then checks the rest (accreditation, the
part's department and certificate). The CLI (``ledger bundle``) and the service
(``api/routes/bundles.py``) share them.

Not here: reading and verifying a bundle (:class:`~ledger.contracts.LicenceBundlesClient`,
:func:`ledger.verification.verify_bundle`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ledger.authorization import authorize_bundle_filing
from ledger.contracts import CertificateStatus, RecordKind
from ledger.errors import BundleHolderMismatchError, ValidationError
from ledger.identity import SubjectKind, parse_subject
from ledger.writes.prepared import PreparedWrite, Signer

if TYPE_CHECKING:
    from ledger.session import LedgerSession

__all__ = ["Filed", "Opened", "file_part", "open_bundle"]


@dataclass(frozen=True)
class Opened:
    """What opening a bundle reports."""

    #: The new bundle's id: random, so it says nothing of the enterprise.
    bundle_id: bytes


@dataclass(frozen=True)
class Filed:
    """What filing a part reports."""

    bundle_id: bytes
    index: int
    #: The certificate filed as the part.
    doc_hash: bytes


def open_bundle(
    session: LedgerSession,
    department_id: int,
    enterprise: str,
    deadline: datetime,
    parts: Sequence[tuple[int, int]],
) -> PreparedWrite[Opened]:
    """Prepare opening a joint licensing bundle led by ``department_id`` for the enterprise with
    credit code ``enterprise``, naming the (department, certificate type) ``parts`` it needs by
    ``deadline``, under a new random id.

    Refused before any call: a citizen identity number (bundles are for enterprises), no parts
    or the same part twice, a deadline already past.
    """
    subject = parse_subject(enterprise, SubjectKind.ENTERPRISE)
    if not parts:
        raise ValidationError("a bundle needs at least one part")
    if len(set(parts)) != len(parts):
        raise ValidationError("a bundle names each (department, certificate type) once")
    if deadline <= datetime.now(UTC):
        raise ValidationError("the bundle's deadline has already passed")
    reference = session.reference(subject)
    bundle_id = secrets.token_bytes(32)
    function = session.bundles().open(bundle_id, reference, deadline, parts)
    return PreparedWrite(function, Signer.department(department_id), Opened(bundle_id))


def file_part(
    session: LedgerSession,
    department_id: int,
    bundle_id: bytes,
    index: int,
    doc_hash: bytes,
) -> PreparedWrite[Filed]:
    """Prepare filing ``department_id``'s certificate ``doc_hash`` as part ``index`` of a
    bundle: the one filing path of the CLI and the API.

    Refused before any call with :class:`~ledger.errors.BundleHolderMismatchError` when the
    certificate is not held by the bundle's enterprise (ADR 0019): the holder is the subject
    reference of the certificate's ``CertificateAnchoredFor`` event, which the bundle contract
    cannot read, so this is where it is compared (and verification compares it again from the
    chain, for a part filed some other way). The contract's own refusals come first (unknown
    bundle or part, another department's part, a part already filed, a certificate unknown,
    inactive, of another issuer or type, or a batch root: batched certificates have no record
    of their own to file): the holder is compared only for a certificate the contract would
    take. Before all of them, a department filing another department's part is refused
    (NotAuthorizedError: authorization before existence, ADR 0023).
    """
    bundles = session.bundles()
    # The caller's right to this part first (ledger/authorization.py), then the rest.
    authorize_bundle_filing(session.registry(), bundles, department_id, bundle_id, index)
    certificates = session.certificates()
    bundle = bundles.bundle(bundle_id)
    record = certificates.certificate(doc_hash)
    if (
        bundle is not None
        and index < len(bundle.parts)
        and bundle.parts[index].department_id == department_id
        and bundle.parts[index].doc_hash is None
        and record is not None
        and record.kind is RecordKind.DOCUMENT
        and record.status is CertificateStatus.ACTIVE
        and record.issuer == department_id
        and record.cert_type == bundle.parts[index].cert_type
    ):
        anchored = certificates.anchored_for(record)
        problem = bundle.holder_problem(None if anchored is None else anchored[0])
        if problem is not None:
            raise BundleHolderMismatchError(f"{bundle.parts[index].label(index)}: {problem}")
    function = bundles.file_part(bundle_id, index, doc_hash)
    return PreparedWrite(
        function, Signer.department(department_id), Filed(bundle_id, index, doc_hash)
    )
