"""The read-only API against a real embedded chain (TestClient, lifespan included)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import pytest
from fastapi.testclient import TestClient

from api.app import API_PREFIX
from api.problems import PROBLEM_MEDIA_TYPE
from tests.api.support import Prepared, prepare_ledger
from tests.support.http import assert_problem

#: Small enough that oversized uploads stay cheap in tests.
LIMIT: Final = 64 * 1024


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return prepare_ledger(tmp_path_factory.mktemp("api"), max_upload_bytes=LIMIT)


def check(body: dict[str, Any], name: str) -> str:
    [outcome] = [c["outcome"] for c in body["checks"] if c["name"] == name]
    return str(outcome)


def test_health(client: TestClient) -> None:
    response = client.get(f"{API_PREFIX}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready(client: TestClient) -> None:
    response = client.get(f"{API_PREFIX}/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["blockNumber"] > 0
    assert isinstance(body["chainId"], int)


def test_verify_file_valid(client: TestClient, prepared: Prepared) -> None:
    response = client.post(
        f"{API_PREFIX}/verify", files={"file": ("licence.txt", prepared.document, "text/plain")}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == "VALID"
    assert body["documentHash"] == "0x" + prepared.doc_hash.hex()
    assert check(body, "anchor.exists") == "passed"
    assert body["record"]["issuer"] == 3
    assert body["record"]["status"] == "active"


def test_verify_modified_file_invalid(client: TestClient, prepared: Prepared) -> None:
    modified = prepared.document.replace(b"API", b"APX")
    response = client.post(
        f"{API_PREFIX}/verify", files={"file": ("licence.txt", modified, "text/plain")}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "INVALID"
    assert check(body, "anchor.exists") == "failed"
    assert body["record"] is None


def test_verify_hash_valid(client: TestClient, prepared: Prepared) -> None:
    response = client.post(
        f"{API_PREFIX}/verify", json={"documentHash": "0x" + prepared.doc_hash.hex()}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == "VALID"
    assert check(body, "document.hash") == "not_applicable"
    assert check(body, "anchor.exists") == "passed"


def test_verify_unknown_hash_invalid(client: TestClient) -> None:
    response = client.post(f"{API_PREFIX}/verify", json={"documentHash": "0x" + "ab" * 32})
    assert response.status_code == 200
    assert response.json()["verdict"] == "INVALID"


@pytest.mark.parametrize(
    "payload",
    [
        {"documentHash": "0x" + "zz-secret-input" * 4},
        {"documentHash": "deadbeef-secret-input"},
        {"documentHash": "0x" + "ab" * 31},
        {"somethingElse": "secret-input"},
    ],
)
def test_verify_malformed_hash_422(client: TestClient, payload: dict[str, str]) -> None:
    response = client.post(f"{API_PREFIX}/verify", json=payload)
    body = assert_problem(response, 422, "invalid")
    assert "secret-input" not in response.text
    assert body["errors"]
    assert all(error["loc"][0] == "body" for error in body["errors"])
    for value in payload.values():
        assert value not in response.text


def test_verify_invalid_json_400(client: TestClient) -> None:
    response = client.post(
        f"{API_PREFIX}/verify",
        content=b'{"documentHash": secret-input',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 400, "bad_request")
    assert "secret-input" not in response.text


def test_oversized_upload_413(client: TestClient) -> None:
    response = client.post(
        f"{API_PREFIX}/verify", files={"file": ("big.bin", b"x" * (LIMIT * 2), "text/plain")}
    )
    body = assert_problem(response, 413, "content_too_large")
    assert str(LIMIT) in body["detail"]


def test_oversized_stream_without_content_length_413(client: TestClient) -> None:
    """Chunked bodies (no Content-Length) are counted while they are read."""

    def chunks() -> Iterator[bytes]:
        for _ in range(4):
            yield b"y" * LIMIT

    response = client.post(
        f"{API_PREFIX}/verify",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=abc"},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_problem(response, 413, "content_too_large")


def test_file_just_over_limit_413(client: TestClient) -> None:
    """The document itself is limited, not only the body (multipart framing has room)."""
    response = client.post(
        f"{API_PREFIX}/verify", files={"file": ("big.bin", b"x" * (LIMIT + 1), "text/plain")}
    )
    assert_problem(response, 413, "content_too_large")


def test_wrong_content_type_415(client: TestClient) -> None:
    response = client.post(
        f"{API_PREFIX}/verify", content=b"hello", headers={"content-type": "text/plain"}
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_multipart_without_file_422(client: TestClient) -> None:
    # A field without a filename, sent as multipart.
    response = client.post(
        f"{API_PREFIX}/verify",
        files={"other": (None, b"secret-input")},
    )
    body = assert_problem(response, 422, "invalid")
    assert body["errors"][0]["loc"] == ["body", "file"]
    assert "secret-input" not in response.text


def test_malformed_multipart_400(client: TestClient) -> None:
    response = client.post(
        f"{API_PREFIX}/verify",
        content=b"garbage",
        headers={"content-type": "multipart/form-data"},
    )
    assert_problem(response, 400, "bad_request")


def test_unknown_route_404_problem(client: TestClient) -> None:
    assert_problem(client.get(f"{API_PREFIX}/nothing-here"), 404, "not_found")


def test_method_not_allowed_problem(client: TestClient) -> None:
    assert_problem(client.get(f"{API_PREFIX}/verify"), 405, "method_not_allowed")


EXPECTED_RESPONSES: Final = {
    ("/v1/health", "get"): {"200", "500"},
    ("/v1/ready", "get"): {"200", "500", "503"},
    ("/v1/verify", "post"): {"200", "400", "413", "415", "422", "429", "500", "503"},
}


def test_openapi_declares_every_response(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for (path, method), codes in EXPECTED_RESPONSES.items():
        operation = schema["paths"][path][method]
        assert set(operation["responses"]) == codes, (path, operation["responses"].keys())
        for code in codes - {"200"}:
            content = operation["responses"][code]["content"]
            assert content[PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
    body = schema["paths"]["/v1/verify"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    assert "Problem" in schema["components"]["schemas"]
