"""``POST /v1/verify`` with a document upload, now parsed as it streams (issue 13, item 11):
the same reports as before for files and structured certificates, and a specific problem for
every malformed or oversized upload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.documents import dump_certificate, hash_file_bytes, salt_fields
from tests.support.service import PreparedService, prepare_service

LIMIT = 4096
BOUNDARY = "cut"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("upload"), max_upload_bytes=LIMIT, rate_limit=0)


def part(name: str, content: bytes, filename: str | None = "x.bin") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    )


def post(client: TestClient, *parts: bytes, chunked: bool = False) -> tuple[int, dict[str, Any]]:
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    content: bytes | Iterator[bytes] = iter([body[:100], body[100:]]) if chunked else body
    response = client.post("/v1/verify", headers=headers, content=content)
    return response.status_code, response.json()


def test_the_anchored_file_is_valid(client: TestClient, prepared: PreparedService) -> None:
    status, report = post(client, part("file", prepared.document, "licence.txt"))
    assert status == 200
    assert report["verdict"] == "VALID"
    assert report["documentHash"] == "0x" + prepared.doc_hash.hex()


def test_parts_other_than_file_and_proof_are_ignored(
    client: TestClient, prepared: PreparedService
) -> None:
    status, report = post(
        client,
        part("note", b"ignored", None),
        part("file", prepared.document),
        part("extra", b"ignored too"),
    )
    assert status == 200
    assert report["verdict"] == "VALID"


def test_a_structured_certificate_is_parsed_not_hashed_as_bytes(client: TestClient) -> None:
    certificate = dump_certificate(
        salt_fields({"name": "示例"}, certificate_type="business-licence")
    )
    status, report = post(client, part("file", certificate, "c.json"))
    assert status == 200
    assert report["documentKind"] == "certificate"
    assert report["documentHash"] != "0x" + hash_file_bytes(certificate).hex()


def test_a_proof_may_be_a_plain_field(client: TestClient, prepared: PreparedService) -> None:
    status, report = post(
        client, part("file", prepared.document), part("proof", b"not a proof", None)
    )
    # Read as a proof (and found malformed), not ignored.
    assert status == 422, report
    assert report["code"] == "invalid_document"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_file_over_the_limit_is_413(client: TestClient, chunked: bool) -> None:
    status, problem = post(client, part("file", b"x" * (LIMIT + 1)), chunked=chunked)
    assert status == 413
    assert problem["code"] == "content_too_large"


def test_a_file_at_the_limit_is_read(client: TestClient) -> None:
    status, report = post(client, part("file", b"x" * LIMIT))
    assert status == 200
    assert report["documentHash"] == "0x" + hash_file_bytes(b"x" * LIMIT).hex()


def test_a_proof_over_16_kib_is_413(client: TestClient, prepared: PreparedService) -> None:
    # The body limit is the document's plus 64 KiB of framing: a 17 KiB proof passes it.
    status, problem = post(
        client, part("file", prepared.document), part("proof", b" " * (16 * 1024 + 1))
    )
    assert status == 413
    assert problem["detail"] == "the batch proof is too large"


@pytest.mark.parametrize(
    ("parts", "detail"),
    [
        ([part("file", b"a"), part("file", b"b")], "more than one 'file' part"),
        ([part(f"p{index}", b"x", None) for index in range(9)], "more than 8 parts"),
    ],
    ids=["two-files", "nine-parts"],
)
def test_too_many_parts_are_400(client: TestClient, parts: list[bytes], detail: str) -> None:
    status, problem = post(client, *parts)
    assert status == 400
    assert problem["detail"] == detail


def test_a_missing_file_part_is_422(client: TestClient) -> None:
    status, problem = post(client, part("proof", b"{}", None))
    assert status == 422
    assert ["body", "file"] in [error["loc"] for error in problem["errors"]]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--cut\r\n"),
        (f"multipart/form-data; boundary={BOUNDARY}", b"no multipart here"),
        (f"multipart/form-data; boundary={BOUNDARY}", b"--cut\r\nno headers end"),
    ],
    ids=["no-boundary", "not-multipart", "cut-short"],
)
def test_a_malformed_upload_is_400(client: TestClient, content_type: str, body: bytes) -> None:
    response = client.post("/v1/verify", headers={"content-type": content_type}, content=body)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert json.loads(response.text)["status"] == response.status_code
