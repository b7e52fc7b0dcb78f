"""Ledger records as API responses (the public views: no holder, no content)."""

from __future__ import annotations

from typing import Any, Final, Literal, cast

import orjson
from starlette.responses import Response

from api.schemas import CertificateOut, CreditEventOut, DepartmentOut
from ledger.catalogue import ReasonCode
from ledger.catalogue import scope_name as catalogue_scope_name
from ledger.contracts import (
    Amendment,
    CertificateRecord,
    CertificateRegistryClient,
    CertificateStatus,
    CreditEvent,
    Department,
    DepartmentRegistryClient,
    Polarity,
)
from ledger.names import DepartmentNames
from ledger.regions import region_name
from ledger.score import Disclosure, resolve_by
from ledger.storage.cid import cid_to_str

__all__ = [
    "JSON_MEDIA_TYPE",
    "certificate_out",
    "credit_event_out",
    "department_out",
    "public_certificate",
    "reason_name",
    "report_response",
    "scope_name",
]


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def reason_name(code: int) -> str | None:
    """``fraud`` for 2; None for 0 (no reason) and the number for an unknown code."""
    if code == 0:
        return None
    try:
        return ReasonCode(code).label
    except ValueError:
        return str(code)


def scope_name(code: int) -> str:
    """The catalogue name of an on-chain scope (its number when the catalogue lacks it)."""
    return catalogue_scope_name(code) or str(code)


_STATUS: dict[CertificateStatus, Literal["active", "suspended", "revoked", "superseded"]] = {
    CertificateStatus.ACTIVE: "active",
    CertificateStatus.SUSPENDED: "suspended",
    CertificateStatus.REVOKED: "revoked",
    CertificateStatus.SUPERSEDED: "superseded",
}


def certificate_out(
    record: CertificateRecord, *, successor: bytes | None = None, cid: str | None = None
) -> CertificateOut:
    return CertificateOut(
        document_hash=hex32(record.doc_hash),
        department_id=record.issuer,
        type=scope_name(record.cert_type),
        region=record.region,
        anchored_at=record.anchored_at,
        anchored_block=record.anchored_block,
        expires_at=record.expires_at,
        status=_STATUS[record.status],
        reason=reason_name(record.reason_code),
        successor=hex32(successor) if successor else None,
        cid=cid,
    )


def public_certificate(
    certificates: CertificateRegistryClient, record: CertificateRecord, *, cid: str | None = None
) -> CertificateOut:
    """The public view of ``record``, naming its successor when it was superseded."""
    successor = (
        certificates.successor(record.doc_hash)
        if record.status is CertificateStatus.SUPERSEDED
        else None
    )
    return certificate_out(record, successor=successor, cid=cid)


def credit_event_out(event: CreditEvent, disclosure: Disclosure) -> CreditEventOut:
    amendment = cast(
        Literal["none", "corrected", "withdrawn", "repaired", "disputed", "upheld"],
        Amendment(event.amendment).name.lower(),
    )
    return CreditEventOut(
        event_id=hex32(event.event_id),
        department_id=event.recorder,
        category=scope_name(event.category),
        polarity="negative" if event.polarity is Polarity.NEGATIVE else "positive",
        severity=event.severity,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        amendment=amendment,
        amended_by=event.amended_by or None,
        amended_at=event.amended_at,
        evidence_hash=hex32(event.evidence_hash) if event.evidence_hash else None,
        evidence_cid=cid_to_str(event.evidence_cid) if event.evidence_cid else None,
        disclosed=disclosure.disclosed,
        disclosed_until=disclosure.until,
        resolve_by=resolve_by(event),
    )


def _region_name_zh(code: int) -> str | None:
    known = region_name(code)
    return None if known is None else known.name_zh


def department_out(
    registry: DepartmentRegistryClient, department: Department, names: DepartmentNames
) -> DepartmentOut:
    """The department with its name, scopes and signing keys (reads the registry)."""
    identifier = department.department_id
    return DepartmentOut(
        id=identifier,
        name=names.name_of(identifier, department.name_hash),
        region=department.region,
        region_name=_region_name_zh(department.region),
        supervisor=department.supervisor or None,
        suspended=department.suspended,
        scopes=[scope_name(code) for code in registry.scopes(identifier)],
        signers=[str(address) for address in registry.signers(identifier)],
        registered_at=department.registered_at,
    )


#: The media type of a JSON body (a verification request or report).
JSON_MEDIA_TYPE: Final = "application/json"


def report_response(report: dict[str, Any]) -> Response:
    """The report as the response body: it is ``VerificationOut`` by construction (the schema
    test checks it), so it is not validated again on every answer."""
    return Response(orjson.dumps(report), media_type=JSON_MEDIA_TYPE)
