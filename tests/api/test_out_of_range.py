"""Times the chain holds but Python's datetime cannot (issue 13, item 8).

The ledger never writes a time past 2999 (ledger.parsing.check_moment), but an accredited
department may call the contract with another client, and a uint40 expiry reaches the year
36812. Reading such a record must not fail: it reads as the last representable second.
"""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient

from ledger.catalogue import certificate_type
from ledger.session import LedgerSession
from tests.support.http import bearer
from tests.support.service import REGION, PreparedService, prepare_service

#: The largest expiry the contract takes (2^40 - 1 means open-ended).
FARTHEST: int = (1 << 40) - 2
#: The hash the far record is anchored under (each module has a chain of its own).
FAR_RECORD: bytes = keccak(b"out-of-range expiry")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    """A service whose department 3 anchored ``FAR_RECORD``, straight to the contract, with the
    farthest expiry the contract takes."""
    prepared = prepare_service(tmp_path_factory.mktemp("out-of-range"), rate_limit=0)
    terms = (certificate_type("business-licence").code << 64) | (REGION << 40) | FARTHEST
    with LedgerSession.open(prepared.settings) as session:
        anchor = session.certificates().contract.functions.anchorCertificate(FAR_RECORD, terms)
        session.department_sender(prepared.department_id).transact(anchor)
    return prepared


def test_an_expiry_past_the_year_9999_reads_as_the_last_second(
    client: TestClient, prepared: PreparedService
) -> None:
    document_hash = "0x" + FAR_RECORD.hex()
    record = client.get(f"/v1/certificates/{document_hash}")
    assert record.status_code == 200, record.text
    assert record.json()["expiresAt"] == "9999-12-31T23:59:59Z"
    listed = client.get(
        f"/v1/departments/{prepared.department_id}/certificates",
        headers=bearer(prepared.department_token),
    )
    assert listed.status_code == 200, listed.text
    assert document_hash in [item["documentHash"] for item in listed.json()["items"]]
    verified = client.post("/v1/verify", json={"documentHash": document_hash})
    assert verified.status_code == 200, verified.text
