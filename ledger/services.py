"""The service catalogue (政务服务事项清单): which certificates a window asks for, per service.

The catalogue is data, not code: ``ledger/data/services.toml``, shipped with the package and
versioned with the repository, read once here and validated against the certificate catalogue
(:mod:`ledger.catalogue`), so a service naming a type the ledger does not know is refused when
the module is imported, never at a window. Consents and the window's check (later increments of
the same workflow) look services up by code through :func:`service`.

Not here: how the catalogue is served (``api/routes/services.py``, ``ledger/cli/services.py``)
or anything about a particular applicant.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any, Final

from ledger.catalogue import CertificateType, certificate_type
from ledger.errors import UnknownServiceError, ValidationError

__all__ = [
    "SERVICES",
    "SERVICES_VERSION",
    "SERVICE_CODE_MAX_LENGTH",
    "SERVICE_CODE_PATTERN",
    "Service",
    "ServiceCatalogue",
    "SubjectKind",
    "catalogue_document",
    "load_services",
    "parse_services",
    "service",
    "service_document",
]

#: A service code: lower-case ASCII words joined by single hyphens, of at most
#: :data:`SERVICE_CODE_MAX_LENGTH` characters (the API checks its path parameter against both;
#: no look-ahead, which the API's regular expressions lack).
SERVICE_CODE_PATTERN: Final = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SERVICE_CODE_MAX_LENGTH: Final = 64
_VERSION_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}$"
_FIELDS: Final = frozenset(
    {
        "code",
        "title_zh",
        "title_en",
        "summary_zh",
        "summary_en",
        "subject_kinds",
        "requires",
        "accepts",
        "content",
        "bundle_parts",
    }
)


class SubjectKind(StrEnum):
    """Who may apply for a service: a natural person or an enterprise."""

    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class Service:
    """One government service and the certificates its window asks for."""

    code: str
    title_zh: str
    title_en: str
    #: One sentence each: what the applicant brings (consent instead of paper).
    summary_zh: str
    summary_en: str
    subject_kinds: tuple[SubjectKind, ...]
    #: Types that must be presented.
    requires: tuple[CertificateType, ...]
    #: Types that may be presented instead or in addition.
    accepts: tuple[CertificateType, ...]
    #: Of ``requires`` and ``accepts``, the types whose stored copy the window may read under
    #: the applicant's consent, because the service needs what the document says (ADR 0027).
    content: tuple[CertificateType, ...]
    #: Joint licensing (多证联办): the types filed together as one bundle; None otherwise.
    bundle_parts: tuple[CertificateType, ...] | None


@dataclass(frozen=True)
class ServiceCatalogue:
    """A whole catalogue file: its version (a date) and its services, in file order."""

    version: str
    services: tuple[Service, ...]


def _text(entry: Mapping[str, object], field: str, where: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{where}: {field} must be a non-empty string")
    return value


def _names(entry: Mapping[str, object], field: str, where: str) -> list[str]:
    value = entry.get(field, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(f"{where}: {field} must be a list of strings")
    if len(set(value)) != len(value):
        raise ValidationError(f"{where}: {field} names an entry twice")
    return value


def _types(entry: Mapping[str, object], field: str, where: str) -> tuple[CertificateType, ...]:
    types: list[CertificateType] = []
    for name in _names(entry, field, where):
        try:
            found = certificate_type(name)
        except ValidationError:
            raise ValidationError(
                f"{where}: {field} names {name!r}, not a certificate type (see `ledger types`)"
            ) from None
        if found.name != name:  # a code where a name belongs
            raise ValidationError(f"{where}: {field} must name types, not codes")
        types.append(found)
    return tuple(types)


def _service(entry: object, where: str) -> Service:
    """One ``[[services]]`` table, checked field by field."""
    if not isinstance(entry, dict):
        raise ValidationError(f"{where}: must be a table")
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise ValidationError(f"{where}: unknown field {unknown[0]!r}")
    code = _text(entry, "code", where)
    if len(code) > SERVICE_CODE_MAX_LENGTH or not re.fullmatch(SERVICE_CODE_PATTERN, code):
        raise ValidationError(f"{where}: code {code!r} is not kebab-case ASCII of at most 64")
    where = f"{where} ({code})"
    kinds = _names(entry, "subject_kinds", where)
    if not kinds or not set(kinds) <= {kind.value for kind in SubjectKind}:
        raise ValidationError(f"{where}: subject_kinds must list citizen and/or enterprise")
    requires = _types(entry, "requires", where)
    if not requires:
        raise ValidationError(f"{where}: requires must name at least one certificate type")
    accepts = _types(entry, "accepts", where)
    if set(requires) & set(accepts):
        raise ValidationError(f"{where}: a type is both required and accepted")
    content = _types(entry, "content", where)
    if not set(content) <= set(requires) | set(accepts):
        raise ValidationError(f"{where}: content may name only types it requires or accepts")
    bundle_parts = _types(entry, "bundle_parts", where) if "bundle_parts" in entry else None
    if bundle_parts is not None and len(bundle_parts) < 2:
        raise ValidationError(f"{where}: bundle_parts must name at least two types")
    return Service(
        code=code,
        title_zh=_text(entry, "title_zh", where),
        title_en=_text(entry, "title_en", where),
        summary_zh=_text(entry, "summary_zh", where),
        summary_en=_text(entry, "summary_en", where),
        subject_kinds=tuple(SubjectKind(kind) for kind in kinds),
        requires=requires,
        accepts=accepts,
        content=content,
        bundle_parts=bundle_parts,
    )


def parse_services(text: str, source: str = "services.toml") -> ServiceCatalogue:
    """The catalogue in ``text`` (TOML); ValidationError naming ``source`` and the entry at
    fault when the file is malformed or names what the ledger does not know."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{source}: not valid TOML ({exc})") from None
    version = document.get("version")
    if not isinstance(version, str) or not re.fullmatch(_VERSION_PATTERN, version):
        raise ValidationError(f"{source}: version must be a date, YYYY-MM-DD")
    entries = document.get("services")
    if not isinstance(entries, list) or not entries:
        raise ValidationError(f"{source}: no [[services]] entries")
    if set(document) - {"version", "services"}:
        raise ValidationError(f"{source}: only version and [[services]] belong at the top level")
    services = tuple(
        _service(entry, f"{source}: service {number}")
        for number, entry in enumerate(entries, start=1)
    )
    codes = [entry.code for entry in services]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ValidationError(f"{source}: code {duplicates[0]!r} is used twice")
    return ServiceCatalogue(version=version, services=services)


def load_services() -> ServiceCatalogue:
    """The catalogue shipped with the package (``ledger/data/services.toml``)."""
    text = resources.files("ledger").joinpath("data", "services.toml").read_text("utf-8")
    return parse_services(text)


_CATALOGUE: Final = load_services()

#: The catalogue's version (the date of its last change).
SERVICES_VERSION: Final[str] = _CATALOGUE.version
#: Every service, in the catalogue's order.
SERVICES: Final[Sequence[Service]] = _CATALOGUE.services
_BY_CODE: Final[Mapping[str, Service]] = {entry.code: entry for entry in SERVICES}


def service(code: str) -> Service:
    """The service with ``code``; UnknownServiceError if the catalogue has none."""
    found = _BY_CODE.get(code)
    if found is None:
        raise UnknownServiceError("no service has that code (see `ledger services`)")
    return found


def _type_document(entry: CertificateType) -> dict[str, str]:
    return {"type": entry.name, "titleZh": entry.title_zh, "titleEn": entry.title_en}


def service_document(entry: Service) -> dict[str, Any]:
    """``entry`` as JSON: the one shape of ``GET /v1/services/{code}`` and of
    ``ledger services show --json``, written once so the two cannot drift."""
    return {
        "code": entry.code,
        "titleZh": entry.title_zh,
        "titleEn": entry.title_en,
        "summaryZh": entry.summary_zh,
        "summaryEn": entry.summary_en,
        "subjectKinds": [kind.value for kind in entry.subject_kinds],
        "requires": [_type_document(part) for part in entry.requires],
        "accepts": [_type_document(part) for part in entry.accepts],
        "content": [_type_document(part) for part in entry.content],
        "bundleParts": (
            None
            if entry.bundle_parts is None
            else [_type_document(part) for part in entry.bundle_parts]
        ),
    }


def catalogue_document() -> dict[str, Any]:
    """The whole catalogue as JSON (``GET /v1/services``, ``ledger services --json``)."""
    return {
        "version": SERVICES_VERSION,
        "services": [service_document(entry) for entry in SERVICES],
    }
