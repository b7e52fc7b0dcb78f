"""Times the chain holds but Python's datetime cannot (issue 13, item 8).

The ledger never writes a time past 2999 (ledger.parsing.check_moment), but an accredited
department may call the contract with another client, and a uint40 expiry reaches the year
36812. Reading such a record must not fail: it reads as the last representable second.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.catalogue import certificate_type
from ledger.session import LedgerSession
from tests.support.service import REGION, PreparedService, prepare_service

#: The largest expiry the contract takes (2^40 - 1 means open-ended).
FARTHEST: int = (1 << 40) - 2


@pytest.fixture(scope="module")
def far_record(tmp_path_factory: pytest.TempPathFactory) -> tuple[PreparedService, str]:
    prepared = prepare_service(tmp_path_factory.mktemp("out-of-range"), rate_limit=0)
    digest = secrets.token_bytes(32)
    terms = (certificate_type("business-licence").code << 64) | (REGION << 40) | FARTHEST
    with LedgerSession.open(prepared.settings) as session:
        anchor = session.certificates().contract.functions.anchorCertificate(digest, terms)
        session.department_sender(prepared.department_id).transact(anchor)
    return prepared, "0x" + digest.hex()


@pytest.fixture(scope="module")
def client(far_record: tuple[PreparedService, str]) -> Iterator[TestClient]:
    prepared, _ = far_record
    with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_expiry_past_the_year_9999_reads_as_the_last_second(
    client: TestClient, far_record: tuple[PreparedService, str]
) -> None:
    prepared, document_hash = far_record
    record = client.get(f"/v1/certificates/{document_hash}")
    assert record.status_code == 200, record.text
    assert record.json()["expiresAt"] == "9999-12-31T23:59:59Z"
    listed = client.get(
        f"/v1/departments/{prepared.department_id}/certificates",
        headers={"Authorization": f"Bearer {prepared.department_token}"},
    )
    assert listed.status_code == 200, listed.text
    assert document_hash in [item["documentHash"] for item in listed.json()["items"]]
    verified = client.post("/v1/verify", json={"documentHash": document_hash})
    assert verified.status_code == 200, verified.text
