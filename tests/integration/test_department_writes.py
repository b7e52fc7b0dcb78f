"""The department use cases of ``ledger/writes/departments.py`` on a real chain: what each one
refuses before anything is sent, the resume rule of a registration that stopped before its key,
and that every call is signed by governance. The CLI and the API run them through
``tests/integration/test_cli.py`` and ``tests/api/routes/test_departments.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger import errors
from ledger.session import LedgerSession
from ledger.writes import GOVERNANCE, departments
from tests.integration.conftest import (
    BUSINESS_LICENCE,
    DEPARTMENT_REGION,
    RegisteredDepartment,
)

UNKNOWN = 4242
OTHER_REGION = 310101


def test_a_registration_is_finished_by_accrediting_its_key_only(
    ledger_session: LedgerSession,
) -> None:
    """Registered without a key is half-registered in its own region only: the registration is
    not sent again, and once the key is accredited the department is a duplicate."""
    session = ledger_session
    assert not departments.half_registered(session, UNKNOWN, DEPARTMENT_REGION)
    registration = departments.register(
        session, UNKNOWN, DEPARTMENT_REGION, " 东城区民政局 ", [BUSINESS_LICENCE]
    )
    assert registration.signer == GOVERNANCE
    assert registration.facts == departments.Registered(UNKNOWN)
    session.send(registration)
    assert departments.half_registered(session, UNKNOWN, DEPARTMENT_REGION)
    assert not departments.half_registered(session, UNKNOWN, OTHER_REGION)
    with pytest.raises(errors.DepartmentRegistryDuplicateDepartment):
        departments.register(session, UNKNOWN, DEPARTMENT_REGION, "东城区民政局", [])
    with pytest.raises(errors.DepartmentRegistryDuplicateDepartment):
        departments.accredit_key(session, UNKNOWN, OTHER_REGION)

    accreditation = departments.accredit_key(session, UNKNOWN, DEPARTMENT_REGION)
    assert accreditation.signer == GOVERNANCE
    session.send(accreditation)
    assert session.registry().signers(UNKNOWN) == [accreditation.facts.signer]
    assert not departments.half_registered(session, UNKNOWN, DEPARTMENT_REGION)
    with pytest.raises(errors.DepartmentRegistryDuplicateDepartment):
        departments.accredit_key(session, UNKNOWN, DEPARTMENT_REGION)


@pytest.mark.parametrize(
    ("name", "valid_until"),
    [
        pytest.param("   ", None, id="blank-name"),
        pytest.param("n", datetime(2035, 1, 1), id="key-window-without-time-zone"),
        pytest.param("n", datetime.now(UTC) - timedelta(days=1), id="key-window-past"),
    ],
)
def test_a_refused_registration_sends_nothing(
    ledger_session: LedgerSession, name: str, valid_until: datetime | None
) -> None:
    with pytest.raises(errors.ValidationError):
        departments.register(
            ledger_session,
            UNKNOWN,
            DEPARTMENT_REGION,
            name,
            [BUSINESS_LICENCE],
            valid_until=valid_until,
        )
    assert ledger_session.registry().department(UNKNOWN) is None


@pytest.mark.parametrize("use_case", ["accredit_key", "rotate_key", "suspend", "reinstate"])
def test_an_unknown_department_is_refused_before_anything_is_sent_or_created(
    ledger_session: LedgerSession, use_case: str
) -> None:
    prepare = {
        "accredit_key": lambda: departments.accredit_key(
            ledger_session, UNKNOWN, DEPARTMENT_REGION
        ),
        "rotate_key": lambda: departments.rotate_key(ledger_session, UNKNOWN),
        "suspend": lambda: departments.suspend(ledger_session, UNKNOWN),
        "reinstate": lambda: departments.reinstate(ledger_session, UNKNOWN),
    }[use_case]
    with pytest.raises(errors.DepartmentRegistryUnknownDepartment):
        prepare()
    assert ledger_session.keystore.department_keys(UNKNOWN) == []


def test_rotation_and_suspension_are_signed_by_governance(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    session = ledger_session
    rotation = departments.rotate_key(session, department.department_id)
    assert rotation.signer == GOVERNANCE
    assert rotation.facts.retired == department.signer
    session.send(rotation)
    assert session.registry().signers(department.department_id) == [rotation.facts.signer]
    for change, suspended in ((departments.suspend, True), (departments.reinstate, False)):
        write = change(session, department.department_id)
        assert (write.signer, write.facts.suspended) == (GOVERNANCE, suspended)
        session.send(write)
        record = session.registry().department(department.department_id)
        assert record is not None
        assert record.suspended is suspended
