"""Request and response models of the API (``*In`` / ``*Out``)."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "HASH_PATTERN",
    "CheckOut",
    "HealthOut",
    "ReadyOut",
    "RecordOut",
    "VerificationOut",
    "VerifyHashIn",
]

#: A 32-byte document hash: ``0x`` and 64 hex digits.
HASH_PATTERN: Final = r"^0x[0-9a-fA-F]{64}$"


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class VerifyHashIn(_Camel):
    """Verify a bare document hash (the document itself is not presented)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    document_hash: Annotated[str, Field(pattern=HASH_PATTERN, examples=["0x" + "ab" * 32])]

    def hash_bytes(self) -> bytes:
        return bytes.fromhex(self.document_hash[2:])


class CheckOut(_Camel):
    """One line of the verification report."""

    name: str
    outcome: Literal["passed", "failed", "not_applicable"]
    detail: str


class RecordOut(_Camel):
    """The anchored record the checks were made against."""

    issuer: int
    cert_type: int
    region: int
    anchored_at: str
    expires_at: str | None
    anchored_block: int
    status: str
    reason_code: int


class VerificationOut(_Camel):
    """The verification report (``VerificationReport.to_json()``)."""

    verdict: Literal["VALID", "INVALID"]
    document_hash: str | None
    document_kind: str | None
    checked_at: str
    checks: list[CheckOut]
    record: RecordOut | None


class HealthOut(BaseModel):
    """Liveness."""

    status: Literal["ok"] = "ok"


class ReadyOut(_Camel):
    """Readiness: the chain answers."""

    status: Literal["ready"] = "ready"
    chain_id: int
    block_number: int
