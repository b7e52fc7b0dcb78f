"""Hostile and careless clients against a real ``ledger serve`` process (issue 13, items 3, 10
and 11): what the access log names, slow clients, clients that go away, requests that are not
HTTP. The server runs with short deadlines (1 s for a head, 2 s for a body) so that the slow
clients are cut off quickly."""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import httpx
import pytest

from ledger.identity import make_citizen_id
from tests.support.serve import ServeProcess
from tests.support.service import PreparedService, prepare_service

HEADER_TIMEOUT: Final = 1.0
BODY_TIMEOUT: Final = 2.0
#: How long past its deadline a slow connection may stay open before the test calls it held.
GRACE: Final = 8.0
#: A line of the server's log: the service's (``2026-… INFO api.access: …``), uvicorn's
#: (``INFO:     …``), or the indented continuation of a traceback.
LOG_LINE: Final = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \S+: |[A-Z]+: +| ")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServeProcess, PreparedService]]:
    prepared = prepare_service(tmp_path_factory.mktemp("hostile"), rate_limit=0)
    data_dir = prepared.settings.data_dir
    process = ServeProcess(
        data_dir,
        data_dir / "serve.log",
        environment={
            "LEDGER_RATE_LIMIT": "0",
            "LEDGER_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
            "LEDGER_BODY_TIMEOUT": str(BODY_TIMEOUT),
        },
    )
    process.start()
    try:
        yield process, prepared
    finally:
        process.stop()


def log_text(process: ServeProcess) -> str:
    return process.log.read_text(encoding="utf-8", errors="replace")


def lines_naming(process: ServeProcess, request_id: str, timeout: float = 10) -> list[str]:
    """The log lines naming ``request_id``, once there is one."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in log_text(process).splitlines() if request_id in line]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def connect(process: ServeProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", process.port), timeout=30)


def read_until_closed(stream: socket.socket, timeout: float) -> bytes:
    stream.settimeout(timeout)
    received = b""
    while chunk := stream.recv(65536):
        received += chunk
    return received


# -- item 3: the access log --------------------------------------------------------------------


def test_the_access_log_names_route_templates_never_what_the_client_sent(
    server: tuple[ServeProcess, PreparedService],
) -> None:
    process, prepared = server
    citizen = make_citizen_id()
    forged = "%0a2026-01-01 00:00:00,000 INFO api.access: forged%0d%1b[2J"
    by_hash = {"documentHash": "0x" + prepared.doc_hash.hex()}
    asked = [
        ("GET", f"/v1/certificates/{citizen}{forged}", None, "/v1/certificates/{document_hash}"),
        (
            "GET",
            f"/v1/departments/{citizen}%0a/certificates",
            None,
            "/v1/departments/{department_id}/certificates",
        ),
        ("GET", f"/no/such/{citizen}{forged}", None, "<unmatched>"),
        ("GET", f"/static/{citizen}.css", None, "/static/{path}"),
        ("GET", "/console", None, "/console"),
        ("DELETE", "/v1/health", None, "/v1/health"),
        # The second is answered from the verification index, before routing.
        ("POST", "/v1/verify", by_hash, "/v1/verify"),
        ("POST", "/v1/verify", by_hash, "/v1/verify"),
    ]
    with httpx.Client(base_url=process.url, timeout=30) as client:
        for method, path, body, template in asked:
            request_id = str(uuid.uuid4())
            response = client.request(method, path, json=body, headers={"X-Request-ID": request_id})
            assert response.status_code < 500, response.text
            [line] = lines_naming(process, request_id)
            assert f'{request_id} "{method} {template}" {response.status_code} ' in line
    text = log_text(process)
    assert citizen not in text
    assert "forged" not in text
    assert "\x1b" not in text
    assert "\r" not in text
    for line in text.splitlines():
        assert LOG_LINE.match(line), f"a line that is not a log record: {line!r}"


# -- item 11 (c): requests that are not HTTP ----------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"POST /v1/verify HTTP/1.1\r\nHost: t\r\nContent-Length: 12abc\r\n\r\n",
        b"GET /v1/health HTTP/1.1\r\nHost: t\r\nX-Note: a\x01b\r\n\r\n",
        b"GET /v1/health HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ],
    ids=["content-length", "control-character", "two-lengths"],
)
def test_a_request_the_parser_refuses_is_answered_with_a_problem(
    server: tuple[ServeProcess, PreparedService], head: bytes
) -> None:
    process, _ = server
    with connect(process) as stream:
        stream.sendall(head)
        answer = read_until_closed(stream, timeout=10)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 400 "), answer
    headers_part, _, body = rest.partition(b"\r\n\r\n")
    headers = dict(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(b":") for line in headers_part.split(b"\r\n"))
    )
    assert headers[b"content-type"] == b"application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 400
    assert problem["code"] == "bad_request"
    request_id = headers[b"x-request-id"].decode()
    [line] = lines_naming(process, request_id)
    assert f'{request_id} "- <unparsed>" 400 ' in line


# -- item 11 (b): a client that goes away -------------------------------------------------------


@pytest.mark.parametrize("kind", ["multipart", "json"])
def test_a_client_gone_before_its_body_is_complete_is_one_info_line(
    server: tuple[ServeProcess, PreparedService], kind: str
) -> None:
    process, _ = server
    request_id = str(uuid.uuid4())
    if kind == "multipart":
        media_type = "multipart/form-data; boundary=cut"
        start = b'--cut\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        declared = 1_000_000
    else:  # longer than the verification index's front reads: the route reads it
        media_type = "application/json"
        start = b'{"documentHash": "0x'
        declared = 4_000
    head = (
        f"POST /v1/verify HTTP/1.1\r\nHost: t\r\nX-Request-ID: {request_id}\r\n"
        f"Content-Type: {media_type}\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    logged_before = len(log_text(process))
    with connect(process) as stream:
        stream.sendall(head + start + b"0" * 1000)
        time.sleep(0.3)  # the route is reading
    [line] = lines_naming(process, request_id)
    assert " INFO api.access: " in line
    assert "client disconnected" in line
    time.sleep(0.5)  # anything it would have logged after
    text = log_text(process)[logged_before:]
    assert "Traceback" not in text
    assert "ERROR" not in text


# -- item 10: slow clients -----------------------------------------------------------------------


@dataclass
class SlowClient:
    """Sends ``head`` and then one byte of ``trickle`` every 0.2 s, until the server closes."""

    head: bytes
    trickle: bytes
    closed_after: float | None = None
    answer: bytes = b""

    def run(self, port: int, give_up: float) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as stream:
            began = time.monotonic()
            stream.sendall(self.head)
            sent = 0
            while time.monotonic() - began < give_up:
                readable, _, _ = select.select([stream], [], [], 0.2)
                if readable:
                    try:
                        chunk = stream.recv(65536)
                    except ConnectionResetError:  # closed with bytes of ours unread
                        chunk = b""
                    if not chunk:
                        self.closed_after = time.monotonic() - began
                        return
                    self.answer += chunk
                    continue
                if not self.trickle:  # a client that says nothing at all
                    continue
                try:
                    stream.sendall(
                        self.trickle[sent % len(self.trickle) : sent % len(self.trickle) + 1]
                    )
                except OSError:
                    self.closed_after = time.monotonic() - began
                    return
                sent += 1


def slow_clients() -> list[tuple[str, SlowClient]]:
    slow_head = SlowClient(b"GET /v1/health HTTP/1.1\r\nHost: t\r\n", b"X-Slow: " + b"a" * 64)
    slow_json = SlowClient(
        b"POST /v1/verify HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 200\r\n\r\n",
        b'{"documentHash": "0x' + b"ab" * 90,
    )
    slow_upload = SlowClient(
        b"POST /v1/verify HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; "
        b"boundary=slow\r\nContent-Length: 100000\r\n\r\n",
        b'--slow\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n' + b"x" * 99,
    )
    # After an answer, blank lines (which begin no request) on the kept-alive connection.
    blank_lines = SlowClient(b"GET /v1/health HTTP/1.1\r\nHost: t\r\n\r\n", b"\r\n")
    kinds = (
        ("silent", SlowClient(b"", b"")),
        ("head", slow_head),
        ("json", slow_json),
        ("upload", slow_upload),
        ("blank-lines", blank_lines),
    )
    return [
        (kind, SlowClient(client.head, client.trickle)) for _ in range(10) for kind, client in kinds
    ]


@pytest.mark.slow
def test_fifty_slow_clients_are_cut_off_while_health_stays_fast(
    server: tuple[ServeProcess, PreparedService],
) -> None:
    process, _ = server
    clients = slow_clients()
    threads = [
        threading.Thread(target=client.run, args=(process.port, BODY_TIMEOUT + GRACE), daemon=True)
        for _, client in clients
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # all connected and trickling
    with httpx.Client(base_url=process.url, timeout=10) as health:
        while any(thread.is_alive() for thread in threads):
            assert health.get("/v1/health").status_code == 200
            time.sleep(0.1)
    for thread in threads:
        thread.join()
    for kind, client in clients:
        deadline = BODY_TIMEOUT if kind in ("json", "upload") else HEADER_TIMEOUT
        assert client.closed_after is not None, f"a slow {kind} was never cut off"
        assert client.closed_after < deadline + GRACE
        if kind == "silent":  # nothing asked, nothing answered
            assert client.answer == b""
        elif kind == "blank-lines":  # answered, then closed: no request had begun
            assert client.answer.startswith(b"HTTP/1.1 200 "), client.answer
            assert client.answer.count(b"HTTP/1.1") == 1
        else:  # each is told why, with a problem document
            assert client.answer.startswith(b"HTTP/1.1 408 "), (kind, client.answer)
            assert b"application/problem+json" in client.answer
