"""What a citizen or enterprise sees of itself: its certificates."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import CitizenDep, ServiceDep, audited
from api.problems import problem_responses
from api.schemas import CertificateOut, MyCertificatesOut
from api.views import public_certificate
from ledger.storage.cid import cid_to_str

router = APIRouter(prefix="/me", tags=["me"])


@router.get(
    "/certificates",
    response_model=MyCertificatesOut,
    responses=problem_responses(401, 403, 429, 500, 503),
    dependencies=[Depends(audited("certificate.holdings.read"))],
)
async def my_certificates(caller: CitizenDep, service: ServiceDep) -> MyCertificatesOut:
    """Every certificate anchored for the caller, with its current status."""
    certificates = service.session.certificates()

    def read() -> MyCertificatesOut:
        items: list[CertificateOut] = []
        for doc_hash, cid, _block in certificates.held_by(caller.subject_ref):
            record = certificates.certificate(doc_hash)
            if record is None:
                continue
            items.append(
                public_certificate(certificates, record, cid=cid_to_str(cid) if cid else None)
            )
        return MyCertificatesOut(items=items)

    return await service.read(read)
