"""Limits against a real ``ledger serve`` process (issue #7): a 100 MB upload is refused
without the server reading it into memory, whether its size is declared or only streamed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
import pytest

from ledger.documents import hash_file_bytes
from tests.support.serve import serving
from tests.support.service import PreparedService, prepare_service

MEGABYTE: Final = 1 << 20
UPLOAD: Final = 100 * MEGABYTE


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, PreparedService]]:
    prepared = prepare_service(tmp_path_factory.mktemp("limits"), rate_limit=0)
    with serving(prepared.settings.data_dir) as process:
        yield process.url, process.pid, prepared


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the peak resident set: what reading 100 MB would raise
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def streamed(total: int) -> Iterator[bytes]:
    boundary = b"--limit\r\n"
    yield boundary + b'Content-Disposition: form-data; name="type"\r\n\r\nbusiness-licence\r\n'
    yield boundary + b'Content-Disposition: form-data; name="subject"\r\n\r\nx\r\n'
    yield boundary + b'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    chunk = b"\0" * MEGABYTE
    for _ in range(total // MEGABYTE):
        yield chunk
    yield b"\r\n--limit--\r\n"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_100_mb_upload_is_refused_without_being_read(
    server: tuple[str, int, PreparedService], declared: bool
) -> None:
    url, pid, prepared = server
    before = resident_bytes(pid)
    headers = {
        "Authorization": f"Bearer {prepared.department_token}",
        "Content-Type": "multipart/form-data; boundary=limit",
    }
    if declared:
        headers["Content-Length"] = str(sum(len(piece) for piece in streamed(UPLOAD)))
    sent = 0

    def counted() -> Iterator[bytes]:
        nonlocal sent
        for piece in streamed(UPLOAD):
            sent += len(piece)
            yield piece

    try:
        response = httpx.post(
            f"{url}/v1/certificates", headers=headers, content=counted(), timeout=120
        )
    except httpx.TransportError:
        response = None  # the server answered and closed while the client was still sending
    if response is not None:
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "content_too_large"
    grown = resident_bytes(pid) - before
    # The default document limit is 10 MiB: whatever the server buffered stays near it.
    assert grown < 40 * MEGABYTE, f"the server's peak memory grew by {grown / MEGABYTE:.0f} MiB"
    assert sent < UPLOAD or response is not None
    assert httpx.get(f"{url}/v1/health", timeout=10).status_code == 200


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A server of its own: the peak resident set it reports is this module's test's alone."""
    prepared = prepare_service(tmp_path_factory.mktemp("verify-memory"), rate_limit=0)
    with serving(prepared.settings.data_dir) as process:
        yield process.url, process.pid


def test_a_10_mb_verification_upload_is_hashed_as_it_streams(
    own_server: tuple[str, int],
) -> None:
    """Issue 13: an anonymous 10 MB verification used to cost about 27 MB of server memory
    (the body, its joined copy and the parsed part); hashed as it arrives, it costs about the
    size of the pieces read."""
    url, pid = own_server
    document = os.urandom(10 * MEGABYTE - 1024)
    # A first upload sets up what any first request does (threads, buffers, imports).
    warm_up = httpx.post(f"{url}/v1/verify", files={"file": ("a.bin", b"warm up")}, timeout=60)
    assert warm_up.status_code == 200, warm_up.text
    before = resident_bytes(pid)
    response = httpx.post(
        f"{url}/v1/verify",
        files={"file": ("big.bin", document, "application/octet-stream")},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["documentHash"] == "0x" + hash_file_bytes(document).hex()
    assert report["verdict"] == "INVALID"  # never anchored
    grown = resident_bytes(pid) - before
    assert grown < 5 * MEGABYTE, f"the server's peak memory grew by {grown / MEGABYTE:.1f} MiB"
