"""Request and response models of the API (``*In`` / ``*Out``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    computed_field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ledger.parsing import check_moment, deadline_day

__all__ = [
    "HASH_PATTERN",
    "AmendIn",
    "AnchoredOut",
    "BatchErrorOut",
    "BatchItemOut",
    "BatchJobOut",
    "BundleIn",
    "BundleOut",
    "BundlePartIn",
    "BundlePartOut",
    "CatalogueOut",
    "CertificateOut",
    "CertificatePageOut",
    "CertificateTypeOut",
    "CheckOut",
    "CreditCategoryOut",
    "CreditEventIn",
    "CreditEventOut",
    "DepartmentCreatedOut",
    "DepartmentId",
    "DepartmentIn",
    "DepartmentListOut",
    "DepartmentOut",
    "DevTokenIn",
    "DevTokenOut",
    "DisclosurePeriodIn",
    "DisclosurePeriodListOut",
    "DisclosurePeriodOut",
    "DisputeIn",
    "FilePartIn",
    "HealthOut",
    "HeldCertificateOut",
    "HistoryOut",
    "KeyRotationOut",
    "Moment",
    "MyCertificatesOut",
    "NoBodyIn",
    "OperationErrorOut",
    "OperationOut",
    "ReadyOut",
    "ReasonIn",
    "ReasonText",
    "RecordOut",
    "RecordedOut",
    "RegionCode",
    "ResolveIn",
    "RevokeIn",
    "ScopeName",
    "ScoreOut",
    "ServiceListOut",
    "ServiceOut",
    "ServiceTypeOut",
    "SubjectIn",
    "TokenOut",
    "VerificationOut",
    "VerificationPartOut",
    "VerifyHashIn",
    "WhoAmIOut",
    "WindowCertificateOut",
    "WindowCheckIn",
    "WindowCheckOut",
    "WindowRequirementOut",
]

#: A 32-byte document hash: ``0x`` and 64 hex digits.
HASH_PATTERN: Final = r"^0x[0-9a-fA-F]{64}$"


def _in_range(moment: datetime, info: ValidationInfo) -> datetime:
    return check_moment(moment, to_camel(info.field_name or "the time"))


#: A time with an offset that the chain can hold (ledger.parsing.check_moment, ADR 0023): a
#: year 9999 or 0001 is a 422 naming the field, never a 500 from the arithmetic behind it. The
#: date-or-time text fields (``expiresAt``, ``deadline``, ``occurredAt``) are checked by the
#: same function when the route parses them.
Moment = Annotated[datetime, AfterValidator(_in_range)]


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class VerifyHashIn(_Camel):
    """Verify a bare document hash (the document itself is not presented)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    document_hash: Annotated[str, Field(pattern=HASH_PATTERN, examples=["0x" + "ab" * 32])]
    #: The batch proof of a certificate anchored in a Merkle batch (a ``.proof.json``).
    proof: dict[str, Any] | None = None

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


class VerificationPartOut(_Camel):
    """One part of a verified bundle and its certificate's own checks (none: not filed)."""

    index: int
    department: int
    cert_type: int
    document_hash: str | None
    verdict: Literal["VALID", "INVALID"] | None
    checks: list[CheckOut]


class VerificationOut(_Camel):
    """The verification report (``VerificationReport.to_json()``); ``parts`` for a bundle."""

    verdict: Literal["VALID", "INVALID"]
    document_hash: str | None
    document_kind: str | None
    checked_at: str
    checks: list[CheckOut]
    record: RecordOut | None
    parts: list[VerificationPartOut] | None = None


class WindowVerificationOut(VerificationOut):
    """A document verified at a window under a consent (ADR 0029): the report, and whether the
    officer may suspect forgery (INVALID, the document parses, and a check about the document
    failed, not the chain); the officer decides."""

    forgery_suspected: bool


class HealthOut(BaseModel):
    """Liveness."""

    status: Literal["ok"] = "ok"


class ReadyOut(_Camel):
    """Readiness: the chain and the document store answer."""

    status: Literal["ready"] = "ready"
    chain_id: int
    block_number: int
    storage: Literal["embedded", "ipfs"]


# -- catalogue and callers ---------------------------------------------------------------------


class CertificateTypeOut(_Camel):
    name: str
    code: int
    title_zh: str
    title_en: str
    personal: bool


class CreditCategoryOut(_Camel):
    name: str
    code: int
    title_zh: str
    title_en: str
    disclosure_days: int


class CatalogueOut(_Camel):
    """Certificate types, credit categories and reasons, by name (what the API takes)."""

    certificate_types: list[CertificateTypeOut]
    credit_categories: list[CreditCategoryOut]
    reasons: list[str]


class ServiceTypeOut(_Camel):
    """A certificate type a service names, with its titles so a page needs no second request."""

    type: str
    title_zh: str
    title_en: str


class ServiceOut(_Camel):
    """One service of the service catalogue (ledger/data/services.toml)."""

    code: str
    title_zh: str
    title_en: str
    summary_zh: str
    summary_en: str
    subject_kinds: list[Literal["citizen", "enterprise"]]
    requires: list[ServiceTypeOut]
    accepts: list[ServiceTypeOut]
    #: Of those, the types whose stored copy the window may read under a consent (ADR 0027).
    content: list[ServiceTypeOut]
    #: Joint licensing (多证联办) only: the types filed together as one bundle.
    bundle_parts: list[ServiceTypeOut] | None


class ServiceListOut(_Camel):
    """The service catalogue: its version (a date) and every service, in its order."""

    version: str
    services: list[ServiceOut]


class WhoAmIOut(_Camel):
    """The caller, as the service sees it (never the identity number)."""

    role: Literal["admin", "department", "citizen", "enterprise"]
    department_id: int | None = None
    region: int | None = None
    scopes: list[str] | None = None
    suspended: bool | None = None


# -- departments -------------------------------------------------------------------------------

#: A department id: a positive 32-bit number.
DepartmentId = Annotated[int, Field(gt=0, lt=1 << 32)]
#: A region code of GB/T 2260: six digits.
RegionCode = Annotated[int, Field(ge=100_000, le=999_999)]


#: Free text explaining an amendment or a dispute: hashed on chain, never stored; not blank.
ReasonText = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")]
#: A certificate type or credit category name (GET /v1/catalogue).
ScopeName = Annotated[str, Field(min_length=1, max_length=64)]


class DepartmentIn(_Camel):
    """Register a department with its first signing key."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    id: DepartmentId
    region: RegionCode
    name: Annotated[str, Field(min_length=1, max_length=200)]
    scopes: Annotated[
        list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=64)
    ]
    valid_until: Moment | None = None


class DepartmentOut(_Camel):
    id: int
    #: The official name, when this service knows it and it matches the hash on chain.
    name: str | None
    region: int
    #: The region's official Chinese name (GB/T 2260, ``ledger.regions``); null for a code the
    #: official list lacks.
    region_name: str | None
    supervisor: int | None
    suspended: bool
    scopes: list[str]
    signers: list[str]
    registered_at: datetime | None


class DepartmentListOut(_Camel):
    items: list[DepartmentOut]


class TokenOut(_Camel):
    """A new API token: shown this once, stored only as a hash."""

    token: str
    token_id: str
    department_id: int | None


class DepartmentCreatedOut(_Camel):
    department: DepartmentOut
    signer: str
    token: TokenOut


class KeyRotationOut(_Camel):
    retired: str
    signer: str


# -- certificates ------------------------------------------------------------------------------


class CertificateOut(_Camel):
    """The public record of an anchored certificate (no holder, no content)."""

    document_hash: str
    department_id: int
    type: str
    region: int
    anchored_at: datetime
    anchored_block: int
    expires_at: datetime | None
    status: Literal["active", "suspended", "revoked", "superseded"]
    reason: str | None
    successor: str | None = None
    cid: str | None = None


class CertificatePageOut(_Camel):
    items: list[CertificateOut]
    next_cursor: str | None


class AnchoredOut(_Camel):
    """What anchoring did."""

    document_hash: str
    type: str
    region: int
    department_id: int
    cid: str | None
    encrypted: bool
    block_number: int
    transaction_hash: str
    supersedes: str | None = None


class ReasonIn(_Camel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=64, pattern=r"\S")]


class RevokeIn(_Camel):
    """Revoke a certificate; with ``proof``, the one certificate of a Merkle batch that the
    proof leads from (the path's hash is the batch root)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=64, pattern=r"\S")]
    proof: dict[str, Any] | None = None


class NoBodyIn(_Camel):
    model_config = ConfigDict(extra="forbid")


# -- credit ------------------------------------------------------------------------------------


class CreditEventIn(_Camel):
    """Record a credit event about a subject."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    subject: Annotated[str, Field(min_length=1, max_length=64)]
    subject_kind: Literal["citizen", "enterprise"] | None = None
    category: Annotated[str, Field(min_length=1, max_length=64)]
    polarity: Literal["negative", "positive"]
    severity: Annotated[int, Field(ge=1, le=5)]
    occurred_at: Annotated[
        str,
        Field(min_length=10, max_length=40, description="YYYY-MM-DD or an ISO time with offset"),
    ]
    evidence_hash: Annotated[str, Field(pattern=HASH_PATTERN)]


class RecordedOut(_Camel):
    event_id: str
    block_number: int
    transaction_hash: str


class FalseInformationOut(RecordedOut):
    """A window's false-information event (ADR 0029): its id, and its evidence as the chain
    names it (the hash of the uploaded bytes, the CID of their encrypted copy)."""

    evidence_hash: str
    evidence_cid: str


class CreditEventOut(_Camel):
    event_id: str
    department_id: int
    category: str
    polarity: Literal["negative", "positive"]
    severity: int
    occurred_at: datetime
    recorded_at: datetime
    amendment: Literal["none", "corrected", "withdrawn", "repaired", "disputed", "upheld"]
    amended_by: int | None
    amended_at: datetime | None
    evidence_hash: str | None = None
    #: CID of the stored evidence (encrypted), when the event was recorded with one (a
    #: window's false-information report, ADR 0029).
    evidence_cid: str | None = None
    #: Whether third parties may see it now (ADR 0020); a subject's own history lists the
    #: events that are not, marked false.
    disclosed: bool
    #: When disclosure ends (future) or ended (past); null: no end.
    disclosed_until: datetime | None
    #: A disputed event: when the recording department is due to have resolved the dispute
    #: (ADR 0029); null otherwise.
    resolve_by: datetime | None = None


class AmendIn(_Camel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    status: Literal["corrected", "withdrawn", "repaired"]
    reason: ReasonText


class ResolveIn(_Camel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    outcome: Literal["upheld", "corrected", "withdrawn"]
    reason: ReasonText


class DisputeIn(_Camel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    reason: ReasonText


class SubjectIn(_Camel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    subject: Annotated[str, Field(min_length=1, max_length=64)]
    subject_kind: Literal["citizen", "enterprise"] | None = None


class ScoreOut(_Camel):
    policy: str
    value: int
    events: list[str]


class HistoryOut(_Camel):
    """A subject's credit events with the score computed from them."""

    subject_kind: Literal["citizen", "enterprise"]
    #: The moment disclosure was judged at (the service's clock, UTC).
    as_of: datetime
    events: list[CreditEventOut]
    score: ScoreOut


class DisclosurePeriodIn(_Camel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    #: Whole days; 0 means no limit. At most 100 years.
    days: Annotated[int, Field(ge=0, le=36_500, strict=True)]


class DisclosurePeriodOut(_Camel):
    category: str
    code: int
    #: The period on chain, in whole days (0: no limit), and exactly, in seconds.
    days: int
    seconds: int
    #: The catalogue's default, set at deployment.
    default_days: int


class DisclosurePeriodListOut(_Camel):
    items: list[DisclosurePeriodOut]


class HeldCertificateOut(CertificateOut):
    """A certificate of the caller: the public record, and for one of a batch (ADR 0026) its
    proof, which is what the holder presents with the document (``POST /v1/verify`` ``proof``).
    A batched certificate's status is its own within the batch (revoked alone, or with it)."""

    #: ``ledger.documents.batches.BatchProof`` JSON; None for a certificate anchored alone.
    proof: dict[str, Any] | None = None


class MyCertificatesOut(_Camel):
    items: list[HeldCertificateOut]


#: The development issuer takes a subject as a credit lookup does (its own name in the schema).
class DevTokenIn(SubjectIn):
    pass


class DevTokenOut(_Camel):
    token: str
    expires_at: datetime


# -- batches -----------------------------------------------------------------------------------


class BatchItemOut(_Camel):
    """One certificate of a finished batch: its position in the upload, its hash and its proof.

    No file name: whatever a client called its files may carry personal data, and the service
    keeps none of it (ADR 0016). The index (from 0, in the order the ``files`` parts were sent)
    and the hash match each proof to its file."""

    index: int
    document_hash: str
    kind: Literal["file", "certificate"]
    #: ``ledger.documents.batches.BatchProof`` JSON: a file's ``.proof.json``, or what goes into a
    #: structured certificate's ``"proof"`` member.
    proof: dict[str, Any]


class BatchErrorOut(_Camel):
    code: str
    detail: str


class BatchJobOut(_Camel):
    """A batch anchoring job: accepted, then done (with proofs) or failed (with the reason)."""

    job_id: str
    status: Literal["accepted", "done", "failed"]
    department_id: int
    type: str
    count: int
    created_at: datetime
    updated_at: datetime
    root: str | None = None
    manifest: str | None = None
    block_number: int | None = None
    transaction_hash: str | None = None
    error: BatchErrorOut | None = None
    items: list[BatchItemOut] | None = None


class BundlePartIn(_Camel):
    """A licence a bundle needs: which department issues it, of which type."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    department: DepartmentId
    certificate_type: Annotated[str, Field(min_length=1, max_length=64)]


class BundleIn(_Camel):
    """Open a joint licensing bundle (多证联办) for an enterprise."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    enterprise: Annotated[
        str, Field(min_length=1, max_length=64, description="unified social credit code")
    ]
    deadline: Annotated[
        str,
        Field(
            min_length=10,
            max_length=40,
            description="last day to file parts (YYYY-MM-DD, China time) or an ISO time",
        ),
    ]
    parts: Annotated[list[BundlePartIn], Field(min_length=1, max_length=16)]


class FilePartIn(_Camel):
    """File the calling department's anchored certificate as a part of a bundle."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    document_hash: Annotated[str, Field(pattern=HASH_PATTERN)]


class BundlePartOut(_Camel):
    """A part of a bundle and the certificate filed for it (null: not yet)."""

    index: int
    department: int
    certificate_type: str
    document_hash: str | None


class BundleOut(_Camel):
    """A joint licensing bundle (public view: no enterprise identifier or reference)."""

    bundle_id: str
    lead: int
    opened_at: datetime
    #: The last moment a part may be filed (a date was given: 23:59:59 that day, China time).
    deadline: datetime
    completed_at: datetime | None
    #: Every part filed and every filed certificate active and unexpired, now.
    complete: bool
    parts: list[BundlePartOut]

    @computed_field(alias="lastDay")  # type: ignore[prop-decorator]
    @property
    def last_day(self) -> date:
        """The last day to file, China time: the date the lead department gave. Derived from
        ``deadline`` (never stored), so journaled answers get it too."""
        return deadline_day(self.deadline)


class OperationErrorOut(_Camel):
    """Why a journaled write failed: the problem code and the decoded reason."""

    code: str
    detail: str


class OperationOut(_Camel):
    """A journaled write (ADR 0012): ``accepted`` (in the journal), ``sent`` (signed and
    broadcast; ``blockNumber`` once mined), ``confirmed`` (``result`` is the write's answer) or
    ``failed`` (``error``)."""

    operation_id: str
    kind: str
    state: Literal["accepted", "sent", "confirmed", "failed"]
    department_id: int | None
    created_at: datetime
    updated_at: datetime
    transaction_hash: str | None
    nonce: int | None
    block_number: int | None
    error: OperationErrorOut | None
    result: dict[str, Any] | None


# -- consents (ADR 0025) ------------------------------------------------------------------------


class ConsentIn(_Camel):
    """A subject's consent to one department's window, for one service."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    service: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
    department_id: DepartmentId
    mode: Literal["single", "visit"] = "single"
    #: At most ``LEDGER_CONSENT_MINUTES`` (checked by the store; the default is that setting).
    #: Strict, as the disclosure period's days: ``true`` or ``"30"`` is not a number of minutes.
    minutes: Annotated[int, Field(ge=1, le=1440, strict=True)] | None = None


class ConsentGrantedOut(_Camel):
    """A new consent with its code: the only answer that ever carries the code."""

    consent_id: str
    code: str
    qr_text: str
    service: str
    department_id: int
    mode: str
    expires_at: datetime


class ConsentOut(_Camel):
    consent_id: str
    service: str
    department_id: int
    mode: str
    state: Literal["active", "used", "expired", "revoked"]
    uses: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ConsentsOut(_Camel):
    items: list[ConsentOut]


class ConsentCodeIn(_Camel):
    """A consent code as the applicant shows it (``XXXXX-XXXXX``, any case)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=32)]


class ConsentRedeemedOut(_Camel):
    """What a window learns of a redeemed consent: never who the subject is."""

    consent_id: str
    service: str
    subject_kind: str
    mode: str
    expires_at: datetime
    uses: int


#: A consent's id: 32 lower-case hex digits.
CONSENT_ID_PATTERN: Final = r"^[0-9a-f]{32}$"


class WindowCheckIn(_Camel):
    """The window's check: a code the applicant shows (redeemed now, one use counted), or the id
    of a consent this department redeemed and may still act under. Exactly one of the two."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    consent_id: Annotated[str, Field(pattern=CONSENT_ID_PATTERN)] | None = None

    @model_validator(mode="after")
    def _one_of_them(self) -> WindowCheckIn:
        if (self.code is None) == (self.consent_id is None):
            raise ValueError("give either code or consentId")
        return self


class WindowCertificateOut(_Camel):
    """One certificate of the applicant, verified as ``POST /v1/verify`` verifies its hash."""

    document_hash: str
    report: VerificationOut
    #: Whether the window may read its stored copy (the service needs this type's content).
    stored_copy: bool


class WindowRequirementOut(_Camel):
    """One type the service requires or accepts, and the applicant's certificates of it."""

    type: str
    required: bool
    certificates: list[WindowCertificateOut]
    #: One of the certificates is VALID.
    satisfied: bool


class WindowCheckOut(_Camel):
    """The window's check under a consent: never who the applicant is, only what they hold of
    the service's types."""

    consent_id: str
    service: str
    subject_kind: str
    mode: str
    expires_at: datetime
    requirements: list[WindowRequirementOut]
    #: Required types with no VALID certificate.
    missing: list[str]
