"""What a citizen or enterprise sees of itself: its certificates, single and batched."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import CitizenDep, ServiceDep, audited
from api.problems import problem_responses
from api.schemas import HeldCertificateOut, MyCertificatesOut
from api.views import public_certificate, reason_name
from ledger.contracts import CertificateRegistryClient, CertificateStatus
from ledger.service.holdings import Holding, holdings_of

router = APIRouter(prefix="/me", tags=["me"])


@router.get(
    "/certificates",
    response_model=MyCertificatesOut,
    responses=problem_responses(401, 403, 429, 500, 503),
    dependencies=[Depends(audited("certificate.holdings.read"))],
)
async def my_certificates(caller: CitizenDep, service: ServiceDep) -> MyCertificatesOut:
    """Every certificate anchored for the caller, with its current status: those anchored for
    it alone, and those of batches that named it as a holder (ADR 0026), with their proofs."""
    certificates = service.session.certificates()

    def read() -> MyCertificatesOut:
        held = holdings_of(certificates, service.database, caller.subject_ref)
        items = [item for h in held if (item := _held(certificates, h)) is not None]
        return MyCertificatesOut(items=items)

    return await service.read(read)


def _held(certificates: CertificateRegistryClient, holding: Holding) -> HeldCertificateOut | None:
    """The public view of one holding; None when the chain does not (or no longer) confirm it.

    A batched certificate shows its batch's record under its own hash, with the status the
    verification reads for a leaf (``leafStatusOf``): revoked when it was revoked alone, else
    its batch's status."""
    proof = holding.proof
    record = certificates.certificate(holding.doc_hash if proof is None else proof.root)
    if record is None:
        return None
    out = public_certificate(certificates, record, cid=holding.cid)
    if proof is None:
        return HeldCertificateOut(**out.model_dump())
    leaf = certificates.leaf_status(proof.root, holding.doc_hash, proof.path)
    if leaf.status is CertificateStatus.NONE:
        return None
    status = CertificateStatus.REVOKED if leaf.revoked_by is not None else leaf.status
    return HeldCertificateOut(
        **out.model_dump(exclude={"document_hash", "status", "reason", "successor"}),
        document_hash="0x" + holding.doc_hash.hex(),
        status="revoked" if status is CertificateStatus.REVOKED else out.status,
        reason=reason_name(leaf.reason_code),
        proof=proof.to_json(),
    )
