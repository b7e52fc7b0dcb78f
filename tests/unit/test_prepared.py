"""A prepared write's own rules (ledger/writes/prepared.py): who signs it, in the journal's form,
and what becomes of what it stored when the call fails or is dropped."""

from __future__ import annotations

from typing import Any, cast

import pytest
from web3.contract.contract import ContractFunction

from ledger.errors import (
    CertificateRegistryAlreadyAnchored,
    ChainUnavailableError,
    ValidationError,
)
from ledger.writes import GOVERNANCE, PreparedWrite, Signer, Undo, settled

#: The call is never looked at by these rules.
_CALL = cast(ContractFunction, object())


def _write(*, shared: bool = False, fails: bool = False) -> tuple[PreparedWrite[None], list[str]]:
    taken_back: list[str] = []

    def take_back() -> None:
        if fails:
            raise OSError("store unreachable")
        taken_back.append("bafy-copy")

    undo = Undo("the stored copy bafy-copy", take_back, shared)
    return PreparedWrite(_CALL, Signer.department(7), None, undo), taken_back


@pytest.mark.parametrize(
    ("signer", "journaled"),
    [(Signer.department(7), {"department": 7}), (GOVERNANCE, {"governance": True})],
)
def test_a_signer_round_trips_through_the_journal(
    signer: Signer, journaled: dict[str, Any]
) -> None:
    assert signer.to_json() == journaled
    assert Signer.from_json(journaled) == signer


@pytest.mark.parametrize(
    "journaled", [{}, {"department": "7"}, {"department": True}, {"governance": "yes"}]
)
def test_a_journaled_signer_names_a_department_or_governance(journaled: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Signer.from_json(journaled)


def test_a_refusal_proves_nothing_landed() -> None:
    assert settled(CertificateRegistryAlreadyAnchored({"docHash": bytes(32)}))
    assert not settled(ChainUnavailableError("the node stopped answering"))
    assert not settled(KeyboardInterrupt())


def test_what_was_stored_is_taken_back_when_the_call_certainly_failed() -> None:
    write, taken_back = _write()
    failure = CertificateRegistryAlreadyAnchored({"docHash": bytes(32)})
    write.failed(failure)
    assert taken_back == ["bafy-copy"]
    assert not getattr(failure, "__notes__", [])


def test_what_was_stored_is_kept_when_the_call_may_still_land() -> None:
    write, taken_back = _write()
    failure = ChainUnavailableError("the node stopped answering")
    write.failed(failure)
    assert taken_back == []
    assert failure.__notes__ == [
        "the stored copy bafy-copy was kept: the transaction may still land"
    ]


def test_a_failed_take_back_is_noted_on_the_write_s_own_error() -> None:
    write, _ = _write(fails=True)
    failure = CertificateRegistryAlreadyAnchored({"docHash": bytes(32)})
    write.failed(failure)
    assert failure.__notes__ == [
        "taking back the stored copy bafy-copy failed as well: OSError: store unreachable"
    ]


@pytest.mark.parametrize(("shared", "taken"), [(False, ["bafy-copy"]), (True, [])])
def test_a_dropped_write_takes_back_only_what_it_does_not_share(
    shared: bool, taken: list[str]
) -> None:
    write, taken_back = _write(shared=shared)
    write.dropped()
    assert taken_back == taken


def test_a_write_that_stored_nothing_has_nothing_to_take_back() -> None:
    write = PreparedWrite(_CALL, GOVERNANCE, None)
    write.failed(CertificateRegistryAlreadyAnchored({"docHash": bytes(32)}))
    write.dropped()
