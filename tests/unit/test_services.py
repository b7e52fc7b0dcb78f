"""The service catalogue (ledger/data/services.toml, read by ledger/services.py): the shipped
file keeps its invariants, and a malformed file is refused with an error naming what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.catalogue import CERTIFICATE_TYPES
from ledger.errors import NotFoundError, UnknownServiceError, ValidationError
from ledger.services import (
    SERVICES,
    SERVICES_VERSION,
    SubjectKind,
    parse_services,
    service,
)

DATA_FILE = Path(__file__).resolve().parents[2] / "ledger" / "data" / "services.toml"
KNOWN_TYPES = {kind.name for kind in CERTIFICATE_TYPES}

GOOD_ENTRY = """
[[services]]
code = "marriage-registration"
title_zh = "结婚登记"
title_en = "Marriage registration"
summary_zh = "出示电子身份证并授权查验。"
summary_en = "Bring your e-identity card and grant consent."
subject_kinds = ["citizen"]
requires = ["identity-card"]
accepts = ["residence-certificate"]
"""


def test_the_shipped_catalogue_keeps_its_invariants() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", SERVICES_VERSION)
    assert len(SERVICES) >= 12
    codes = [entry.code for entry in SERVICES]
    assert len(codes) == len(set(codes))
    for entry in SERVICES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.code), entry.code
        assert len(entry.code) <= 64
        assert entry.title_zh.strip(), entry.code
        assert entry.title_en.strip(), entry.code
        assert re.search(r"[\u4e00-\u9fff]", entry.title_zh), entry.code
        assert entry.summary_zh.strip(), entry.code
        assert entry.summary_en.strip(), entry.code
        assert entry.subject_kinds, entry.code
        assert set(entry.subject_kinds) <= set(SubjectKind)
        assert entry.requires, entry.code
        named = [*entry.requires, *entry.accepts, *(entry.bundle_parts or ())]
        assert {kind.name for kind in named} <= KNOWN_TYPES, entry.code
        assert not set(entry.requires) & set(entry.accepts), entry.code
        assert set(entry.content) <= {*entry.requires, *entry.accepts}, entry.code
        if entry.bundle_parts is not None:
            assert len(entry.bundle_parts) >= 2, entry.code
    # Joint licensing (多证联办) is in the catalogue, and a citizen and an enterprise both find
    # services to apply for.
    assert any(entry.bundle_parts for entry in SERVICES)
    assert {kind for entry in SERVICES for kind in entry.subject_kinds} == set(SubjectKind)


def test_the_shipped_file_is_what_the_module_holds() -> None:
    parsed = parse_services(DATA_FILE.read_text("utf-8"), str(DATA_FILE))
    assert parsed.version == SERVICES_VERSION
    assert parsed.services == tuple(SERVICES)


def test_a_service_is_found_by_code() -> None:
    assert service("enterprise-establishment").title_zh == "企业开办"
    with pytest.raises(UnknownServiceError, match="no service has that code") as raised:
        service("no-such-service")
    assert isinstance(raised.value, NotFoundError)
    assert raised.value.code == "unknown_service"


def test_a_good_temporary_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "services.toml"
    path.write_text('version = "2026-12-01"\n' + GOOD_ENTRY, "utf-8")
    (only,) = parse_services(path.read_text("utf-8"), str(path)).services
    assert only.code == "marriage-registration"
    assert [kind.name for kind in only.requires] == ["identity-card"]
    assert only.bundle_parts is None
    assert only.content == ()  # optional: no stored copy is read unless a service names it


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(("", "version = oops"), r"not valid TOML", id="not-toml"),
        pytest.param(('"2026-12-01"', '"December"'), r"version must be a date", id="bad-version"),
        pytest.param(
            ('"identity-card"]', '"passport"]'),
            r"service 1 \(marriage-registration\): requires names 'passport', not a certificate",
            id="unknown-type",
        ),
        pytest.param(
            ('"identity-card"]', '"16777227"]'),
            r"requires must name types, not codes",
            id="type-by-code",
        ),
        pytest.param(
            ('"marriage-registration"', '"Marriage_Registration"'),
            r"code 'Marriage_Registration' is not kebab-case",
            id="bad-code",
        ),
        pytest.param(
            ('["citizen"]', '["person"]'),
            r"subject_kinds must list citizen and/or enterprise",
            id="bad-kind",
        ),
        pytest.param(('["identity-card"]', "[]"), r"requires must name at least one", id="none"),
        pytest.param(
            ('["residence-certificate"]', '["identity-card"]'),
            r"a type is both required and accepted",
            id="required-and-accepted",
        ),
        pytest.param(
            ('accepts = ["residence-certificate"]', 'content = ["marriage-certificate"]'),
            r"content may name only types it requires or accepts",
            id="content-outside",
        ),
        pytest.param(
            ('accepts = ["residence-certificate"]', 'bundle_parts = ["business-licence"]'),
            r"bundle_parts must name at least two types",
            id="bundle-of-one",
        ),
        pytest.param(
            ('title_en = "Marriage registration"', ""), r"title_en must be", id="no-title"
        ),
        pytest.param(('title_zh = "结婚登记"', 'title_zh = "  "'), r"title_zh must be", id="blank"),
        pytest.param(
            ('subject_kinds = ["citizen"]', 'subject_kinds = ["citizen"]\nfee = 0'),
            r"unknown field 'fee'",
            id="unknown-field",
        ),
    ],
)
def test_a_malformed_file_is_refused(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    text = 'version = "2026-12-01"\n' + GOOD_ENTRY
    text = new + text if old == "" else text.replace(old, new, 1)
    path = tmp_path / "services.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ValidationError, match=message) as raised:
        parse_services(path.read_text("utf-8"), str(path))
    assert str(raised.value).startswith(str(path))


def test_a_code_used_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "services.toml"
    path.write_text('version = "2026-12-01"\n' + GOOD_ENTRY + GOOD_ENTRY, "utf-8")
    with pytest.raises(ValidationError, match=r"code 'marriage-registration' is used twice"):
        parse_services(path.read_text("utf-8"), str(path))


def test_a_file_without_services_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"no \[\[services\]\] entries"):
        parse_services('version = "2026-12-01"\n')
