"""``POST /v1/rpc`` at its edges (ADR 0021): JSON-RPC errors for malformed requests, refused
writes and reverted calls, wire-form answers, and who may call it. The CLI reading through it
from a real service is tests/e2e/test_one_service.py."""

from __future__ import annotations

from typing import Any, Final

import pytest
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient
from hexbytes import HexBytes

from api.routes.rpc import MAX_BATCH
from ledger.chain.transactions import decode_revert_data
from ledger.errors import AccreditationUnknownSigner, ContractError
from ledger.serving import reader_key
from ledger.session import LedgerSession
from tests.api.support import ENTERPRISE, LICENCE, REGION, Prepared, prepare_ledger
from tests.support.http import bearer

STRANGER: Final = "0x" + "5a" * 20


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return prepare_ledger(tmp_path_factory.mktemp("rpc"), rate_limit=0, dev_issuer=True)


@pytest.fixture(scope="module")
def anchoring(prepared: Prepared) -> dict[str, str]:
    """A call that anchors, made by the governance key (funded, but no department's key): it
    must revert with the contract's own error."""
    with LedgerSession.open(prepared.settings) as session:
        governance = next(r.address for r in session.keystore.records() if r.role == "governance")
        certificates = session.certificates()
        terms = certificates.encode_terms(LICENCE.code, REGION, None)
        data = certificates.contract.encode_abi("anchorCertificate", args=[b"\x42" * 32, terms])
        return {"from": governance, "to": certificates.contract.address, "data": data}


@pytest.fixture(scope="module")
def addresses(prepared: Prepared) -> tuple[str, str]:
    """The access-log anchor contract and the certificate registry, read before the service
    holds the chain."""
    with LedgerSession.open(prepared.settings) as session:
        anchors = session.deployment.access_log
        assert anchors is not None
        return anchors, session.deployment.certificate_registry


@pytest.fixture(scope="module")
def client(
    anchoring: dict[str, str], addresses: tuple[str, str], client: TestClient, prepared: Prepared
) -> TestClient:
    """tests/api/conftest.py's client, calling as the service's reader. ``anchoring`` and
    ``addresses`` come first, so that they are built before the service starts and holds the
    chain."""
    del anchoring, addresses
    client.headers.update(bearer(reader_key(prepared.settings.pepper_bytes())))
    return client


def call(client: TestClient, method: str, params: list[Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    response = client.post("/v1/rpc", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["jsonrpc"] == "2.0"
    return answer


def test_reads_answer_in_wire_form(client: TestClient) -> None:
    assert call(client, "eth_chainId")["result"] == "0x539"
    assert call(client, "net_version")["result"] == "1337"
    head = call(client, "eth_blockNumber")["result"]
    block = call(client, "eth_getBlockByNumber", [head, True])["result"]
    assert block["number"] == head
    assert len(block["logsBloom"]) == 2 + 2 * 256
    assert all(isinstance(tx["nonce"], str) for tx in block["transactions"])
    receipt = call(client, "eth_getTransactionReceipt", [block["transactions"][0]["hash"]])
    assert receipt["result"]["status"] == "0x1"
    assert call(client, "eth_getTransactionReceipt", ["0x" + "00" * 32])["result"] is None
    assert call(client, "eth_accounts")["result"] == []  # the service lends no accounts


def test_writes_and_unknown_methods_are_refused(client: TestClient) -> None:
    head = call(client, "eth_blockNumber")["result"]
    for method, params in (
        ("eth_sendRawTransaction", ["0x02f86b"]),
        ("eth_sendTransaction", [{"from": STRANGER, "to": STRANGER, "value": "0x1"}]),
        ("eth_sign", [STRANGER, "0x00"]),
        ("personal_unlockAccount", [STRANGER, "", 0]),
        ("evm_mine", []),
        ("anvil_setBalance", [STRANGER, "0x1"]),
        ("eth_newFilter", [{}]),
        ("no_such_method\n", []),
    ):
        answer = call(client, method, params)
        assert "result" not in answer
        assert answer["error"]["code"] == -32601
        assert method not in answer["error"]["message"]  # client text is not echoed
    assert call(client, "eth_blockNumber")["result"] == head


def test_a_reverted_call_carries_its_revert_data(
    client: TestClient, anchoring: dict[str, str]
) -> None:
    for method in ("eth_call", "eth_estimateGas"):
        answer = call(client, method, [anchoring, "latest"])
        assert answer["error"]["code"] == 3
        error = decode_revert_data(HexBytes(answer["error"]["data"]))
        assert isinstance(error, ContractError)
        assert isinstance(error, AccreditationUnknownSigner)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", -32700),
        (b"[]", -32600),
        (b"42", -32600),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1}', -32600),
        (b'{"jsonrpc": "2.0", "id": [1], "method": "eth_chainId"}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": {}}', -32602),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["x"]}', -32602),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": [1, 2, 3]}', -32602),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [{"fromBlock": -1}]}',
            -32602,
        ),
    ],
)
def test_malformed_requests_get_json_rpc_errors(client: TestClient, body: bytes, code: int) -> None:
    response = client.post("/v1/rpc", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json()["error"]["code"] == code


def test_batches_are_answered_in_order_and_bounded(client: TestClient) -> None:
    batch = [{"jsonrpc": "2.0", "id": index, "method": "eth_chainId"} for index in range(MAX_BATCH)]
    batch[3]["method"] = "eth_sendRawTransaction"
    answers = client.post("/v1/rpc", json=batch).json()
    assert [a["id"] for a in answers] == list(range(MAX_BATCH))
    assert answers[0]["result"] == "0x539"
    assert answers[3]["error"]["code"] == -32601
    too_many = client.post("/v1/rpc", json=[*batch, batch[0]]).json()
    assert too_many["error"]["code"] == -32600


def test_callers_must_authenticate(client: TestClient, prepared: Prepared) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}
    anonymous = client.post("/v1/rpc", json=body, headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    forged = client.post("/v1/rpc", json=body, headers={"Authorization": "Bearer glr_" + "0" * 64})
    assert forged.status_code == 401
    bad_token = client.post("/v1/rpc", json=body, headers={"Authorization": "Bearer gld_x_y"})
    assert bad_token.status_code == 401


def test_a_subject_reads_only_the_access_log_anchors(
    client: TestClient, addresses: tuple[str, str]
) -> None:
    """A citizen's token makes one read, ``eth_call`` to the access-log anchor contract (the
    citizen page checks an entry's root with it); anything else stays 403 as before."""
    issued = client.post("/v1/dev/token", json={"subject": ENTERPRISE})
    assert issued.status_code == 200, issued.text
    citizen = bearer(issued.json()["token"])
    anchors, other = addresses
    # anchorOf(bytes32) of an unknown root: three zero words.
    data = "0x" + keccak(text="anchorOf(bytes32)")[:4].hex() + "ab" * 32
    body = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "eth_call",
        "params": [{"to": anchors, "data": data}, "latest"],
    }
    answer = client.post("/v1/rpc", json=body, headers=citizen)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"jsonrpc": "2.0", "id": 7, "result": "0x" + "00" * 96}
    lowered = {**body, "params": [{"to": anchors.lower(), "data": data}, "latest"]}
    assert client.post("/v1/rpc", json=lowered, headers=citizen).status_code == 200
    for refused in (
        {**body, "params": [{"to": other, "data": data}, "latest"]},
        {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"},
        {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [{"address": anchors}]},
        [body],
    ):
        response = client.post("/v1/rpc", json=refused, headers=citizen)
        assert response.status_code == 403, refused
        assert response.json()["code"] == "not_authorized"


def test_guard_limits_apply(client: TestClient) -> None:
    deep = (
        b'{"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": '
        + b"[" * 100
        + b"]" * 100
        + b"}"
    )
    response = client.post("/v1/rpc", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    huge = b" " * (1 << 20) + b"{}"
    response = client.post("/v1/rpc", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
