"""The catalogue: certificate types, credit categories and reason codes, by name and by code.

On chain a scope is a ``uint32`` whose high byte is its kind (1: certificate type, 2: credit
category) and whose low 24 bits number it within the kind. People and scripts use the names below;
codes are what the contracts see. Adding an entry is a governance decision (docs/adr/0004), never
a renumbering: codes are permanent once records carry them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Literal, TypeVar

from ledger.errors import ValidationError

__all__ = [
    "CERTIFICATE_TYPES",
    "CREDIT_CATEGORIES",
    "SECONDS_PER_DAY",
    "CertificateType",
    "CreditCategory",
    "ReasonCode",
    "ScopeKind",
    "certificate_type",
    "certificate_type_label",
    "credit_category",
    "reason_code",
    "scope_code",
    "scope_codes",
    "scope_name",
]


#: Disclosure periods are set and shown in whole days; the contract holds seconds.
SECONDS_PER_DAY: Final = 86_400


class ScopeKind(IntEnum):
    """High byte of a scope code; selects the contract that enforces it."""

    CERTIFICATE = 1
    CREDIT = 2


#: Offset of the kind in a scope code, as ``SCOPE_KIND_SHIFT`` in contracts/utils/RecordLayout.sol
#: (here rather than in ledger/contracts/layout.py, which imports this module's package).
SCOPE_KIND_SHIFT: Final = 24


def scope_code(kind: ScopeKind, number: int) -> int:
    """The on-chain ``uint32`` for scope ``number`` of ``kind``."""
    if not 0 < number < 1 << SCOPE_KIND_SHIFT:
        raise ValidationError("scope number out of range")
    return (int(kind) << SCOPE_KIND_SHIFT) | number


@dataclass(frozen=True)
class CertificateType:
    """A kind of certificate or licence a department may be accredited to issue."""

    name: str
    code: int
    title_zh: str
    title_en: str
    #: Whether holders are natural persons (documents are then encrypted before storage).
    personal: bool


@dataclass(frozen=True)
class CreditCategory:
    """A kind of credit event a department may be accredited to record."""

    name: str
    code: int
    title_zh: str
    title_en: str
    #: Default public disclosure period of negative events, in days (0: no limit); set on chain
    #: when the contracts are deployed (``ledger init``), changed later by governance (ADR 0020).
    disclosure_days: int
    #: What an event of the category is when a use case records one on its own terms (a
    #: window's false-information report, ADR 0029) rather than with terms a department chose:
    #: its polarity and its severity (1 to 5).
    default_polarity: Literal["negative", "positive"] = "negative"
    default_severity: int = 3

    @property
    def disclosure_seconds(self) -> int:
        """The default period as the contract holds it (``setDisclosurePeriod``)."""
        return self.disclosure_days * SECONDS_PER_DAY


def _cert(number: int, name: str, zh: str, en: str, *, personal: bool) -> CertificateType:
    return CertificateType(name, scope_code(ScopeKind.CERTIFICATE, number), zh, en, personal)


def _credit(
    number: int,
    name: str,
    zh: str,
    en: str,
    days: int,
    polarity: Literal["negative", "positive"] = "negative",
) -> CreditCategory:
    return CreditCategory(name, scope_code(ScopeKind.CREDIT, number), zh, en, days, polarity)


CERTIFICATE_TYPES: Final[tuple[CertificateType, ...]] = (
    _cert(1, "business-licence", "营业执照", "Business licence", personal=False),
    _cert(2, "tax-registration", "税务登记证明", "Tax registration", personal=False),
    _cert(
        3,
        "social-security-registration",
        "社会保险登记证",
        "Social security registration",
        personal=False,
    ),
    _cert(
        4,
        "customs-registration",
        "海关报关单位备案",
        "Customs declarant registration",
        personal=False,
    ),
    _cert(5, "food-business-licence", "食品经营许可证", "Food business licence", personal=False),
    _cert(6, "marriage-certificate", "结婚证", "Marriage certificate", personal=True),
    _cert(7, "residence-certificate", "居住证", "Residence certificate", personal=True),
    _cert(
        8,
        "no-criminal-record",
        "无犯罪记录证明",
        "Certificate of no criminal record",
        personal=True,
    ),
    _cert(
        9, "professional-qualification", "职业资格证书", "Professional qualification", personal=True
    ),
    _cert(
        10,
        "social-insurance-record",
        "社保缴费证明",
        "Social insurance payment record",
        personal=True,
    ),
    # 11-13: what the service catalogue's (ledger/data/services.toml) windows ask for that the
    # first ten did not name.
    _cert(11, "identity-card", "居民身份证", "Resident identity card", personal=True),
    _cert(12, "household-register", "居民户口簿", "Household register", personal=True),
    _cert(
        13,
        "real-estate-certificate",
        "不动产权证书",
        "Real estate title certificate",
        personal=True,
    ),
)

CREDIT_CATEGORIES: Final[tuple[CreditCategory, ...]] = (
    _credit(1, "false-information", "提供虚假材料", "False information submitted", 3 * 365),
    _credit(2, "tax-violation", "税收违法", "Tax violation", 3 * 365),
    _credit(3, "customs-violation", "海关违规", "Customs violation", 3 * 365),
    _credit(4, "contract-default", "合同违约", "Contract default", 3 * 365),
    _credit(5, "court-judgment-default", "失信被执行人", "Default on a court judgment", 5 * 365),
    _credit(6, "social-security-arrears", "社保欠缴", "Social security arrears", 3 * 365),
    _credit(7, "commendation", "表彰奖励", "Honour or commendation", 0, "positive"),
)


class ReasonCode(IntEnum):
    """Why a certificate was suspended, revoked or superseded (``uint16`` on chain)."""

    ISSUED_IN_ERROR = 1
    FRAUD = 2
    HOLDER_REQUEST = 3
    RENEWAL = 4
    CORRECTION = 5
    COURT_ORDER = 6
    INVESTIGATION = 7
    LICENCE_WITHDRAWN = 8
    OTHER = 99

    @property
    def label(self) -> str:
        """The reason as the CLI, the API and messages write it: ``issued-in-error``."""
        return self.name.lower().replace("_", "-")


_Entry = TypeVar("_Entry", CertificateType, CreditCategory)


def _by_name_or_code(entries: tuple[_Entry, ...], value: str | int, what: str) -> _Entry:
    """The entry named ``value``, or whose code it is (a number, or its decimal text)."""
    for entry in entries:
        if value in (entry.name, entry.code) or (
            isinstance(value, str) and value == str(entry.code)
        ):
            return entry
    raise ValidationError(f"unknown {what}; known: " + ", ".join(entry.name for entry in entries))


def certificate_type(value: str | int) -> CertificateType:
    """Look a certificate type up by name (``business-licence``) or code."""
    return _by_name_or_code(CERTIFICATE_TYPES, value, "certificate type")


def scope_name(code: int, kind: ScopeKind | None = None) -> str | None:
    """The catalogue's name of an on-chain scope code: a certificate type or a credit category,
    told apart by the kind in the code's high byte (only ``kind``, when given); None when the
    catalogue has no such entry (retired, or written on chain by other software).

    The one look-up behind every label of a code the chain holds: what the chain holds is
    shown, never an error about it, and each caller spells a nameless code as its output
    always has (``type 0x1000001`` in messages, hex or decimal in the API).
    """
    entries: dict[int, tuple[CertificateType | CreditCategory, ...]] = {
        ScopeKind.CERTIFICATE: CERTIFICATE_TYPES,
        ScopeKind.CREDIT: CREDIT_CATEGORIES,
    }
    if kind is not None and code >> SCOPE_KIND_SHIFT != kind:
        return None
    return next(
        (entry.name for entry in entries.get(code >> SCOPE_KIND_SHIFT, ()) if entry.code == code),
        None,
    )


def certificate_type_label(code: int) -> str:
    """A certificate type's name for messages, or ``type 0x…`` for a code not (or no longer)
    catalogued."""
    return scope_name(code, ScopeKind.CERTIFICATE) or f"type {code:#x}"


def credit_category(value: str | int) -> CreditCategory:
    """Look a credit category up by name or code; ValidationError if none."""
    return _by_name_or_code(CREDIT_CATEGORIES, value, "credit category")


def reason_code(value: str | int) -> ReasonCode:
    """Parse a reason by name (``fraud``, ``issued-in-error``) or number."""
    if isinstance(value, int) or value.isdigit():
        try:
            return ReasonCode(int(value))
        except ValueError:
            pass
    else:
        key = value.strip().upper().replace("-", "_")
        if key in ReasonCode.__members__:
            return ReasonCode[key]
    raise ValidationError(
        "unknown reason; known: " + ", ".join(reason.label for reason in ReasonCode)
    )


def scope_codes(names: Iterable[str]) -> list[int]:
    """Scope codes of certificate type and credit category names (or codes), each once."""
    codes: list[int] = []
    for name in names:
        try:
            codes.append(certificate_type(name).code)
        except ValidationError:
            try:
                codes.append(credit_category(name).code)
            except ValidationError:
                raise ValidationError(
                    "unknown scope: not a certificate type or credit category (see `ledger types`)"
                ) from None
    if len(set(codes)) != len(codes):
        raise ValidationError("a scope is listed twice")
    return codes
