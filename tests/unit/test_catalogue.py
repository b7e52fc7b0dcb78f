"""How a scope code the chain holds is named: one look-up (``scope_name``), each caller's own
spelling of a code the catalogue lacks."""

from __future__ import annotations

import pytest

from api.routes.bundles import _type_name
from api.views import scope_name as view_scope_name
from ledger.authorization import scope_label
from ledger.catalogue import (
    CERTIFICATE_TYPES,
    CREDIT_CATEGORIES,
    ReasonCode,
    ScopeKind,
    certificate_type,
    certificate_type_label,
    credit_category,
    reason_code,
    scope_code,
    scope_name,
)
from ledger.errors import ValidationError

UNKNOWN_TYPE = scope_code(ScopeKind.CERTIFICATE, 0xFFFFFF)
UNKNOWN_CATEGORY = scope_code(ScopeKind.CREDIT, 0xFFFFFF)
CATEGORY = CREDIT_CATEGORIES[0]


def test_every_catalogued_scope_is_named() -> None:
    for kind in CERTIFICATE_TYPES:
        assert scope_name(kind.code) == kind.name
    for category in CREDIT_CATEGORIES:
        assert scope_name(category.code) == category.name
    for kind in CERTIFICATE_TYPES:
        assert scope_name(kind.code, ScopeKind.CERTIFICATE) == kind.name
        assert certificate_type_label(kind.code) == kind.name


def test_a_code_the_catalogue_lacks_has_no_name() -> None:
    assert scope_name(UNKNOWN_TYPE) is None
    assert scope_name(UNKNOWN_CATEGORY) is None
    assert scope_name(0) is None
    assert scope_name(3 << 24 | 1) is None  # no such kind
    # Only the kind asked for: a credit category is no certificate type.
    assert scope_name(CATEGORY.code, ScopeKind.CERTIFICATE) is None
    assert scope_name(CATEGORY.code, ScopeKind.CREDIT) == CATEGORY.name


def test_each_output_keeps_its_spelling_of_a_nameless_code() -> None:
    assert certificate_type_label(UNKNOWN_TYPE) == "type 0x1ffffff"
    assert certificate_type_label(CATEGORY.code) == f"type {CATEGORY.code:#x}"
    assert _type_name(UNKNOWN_TYPE) == "0x1ffffff"  # a bundle part in the API
    assert _type_name(CATEGORY.code) == f"{CATEGORY.code:#x}"
    assert scope_label(UNKNOWN_CATEGORY) == "0x2ffffff"  # an authorization message
    assert scope_label(CATEGORY.code) == CATEGORY.name
    assert view_scope_name(UNKNOWN_TYPE) == str(UNKNOWN_TYPE)  # a record in the API
    assert view_scope_name(CATEGORY.code) == CATEGORY.name


def test_types_and_categories_are_found_by_name_code_or_decimal_text() -> None:
    for kind in CERTIFICATE_TYPES:
        assert certificate_type(kind.name) is certificate_type(kind.code) is kind
        assert certificate_type(str(kind.code)) is kind
    for category in CREDIT_CATEGORIES:
        assert credit_category(category.name) is credit_category(category.code) is category
        assert credit_category(str(category.code)) is category
    with pytest.raises(
        ValidationError, match=r"^unknown certificate type; known: business-licence, "
    ):
        certificate_type(CATEGORY.name)
    with pytest.raises(ValidationError, match=r"^unknown credit category; known: "):
        credit_category(CERTIFICATE_TYPES[0].code)


def test_a_reason_is_written_in_kebab_case_and_read_back() -> None:
    assert ReasonCode.ISSUED_IN_ERROR.label == "issued-in-error"
    assert ReasonCode.FRAUD.label == "fraud"
    for reason in ReasonCode:
        assert reason_code(reason.label) is reason_code(int(reason)) is reason
    with pytest.raises(ValidationError, match=r"^unknown reason; known: issued-in-error, fraud, "):
        reason_code("no-such-reason")
