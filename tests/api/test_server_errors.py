"""An unhandled exception is answered like every other response (issue 13, item 8): a 500
problem document carrying ``X-Request-ID``, with its access-log line, on a keep-alive
connection that stays usable. Against a real uvicorn server, over one socket."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator

import pytest

import api.routes.health
from tests.support.server import running_server
from tests.support.service import PreparedService, prepare_service


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("errors"), rate_limit=0)


@pytest.fixture
def base(prepared: PreparedService) -> Iterator[str]:
    with running_server(prepared.settings) as url:
        yield url


def read_response(stream: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One response with a Content-Length from ``stream`` (left-overs stay in ``buffer``)."""
    while b"\r\n\r\n" not in buffer:
        chunk = stream.recv(65536)
        assert chunk, f"the server closed the connection without an answer: {bytes(buffer)!r}"
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = stream.recv(65536)
        assert chunk, "the server closed the connection in the middle of a response"
        rest += chunk
    buffer[:] = rest[length:]
    return int(status_line.split()[1]), headers, rest[:length]


def request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode("ascii")


def test_an_unhandled_exception_is_a_500_problem_on_a_connection_kept_alive(
    base: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.routes.health, "rpc_guard", broken)
    caplog.set_level(logging.INFO, logger="api")
    host, port = base.removeprefix("http://").split(":")
    buffer = bytearray()
    with socket.create_connection((host, int(port)), timeout=30) as stream:
        stream.sendall(request("/v1/ready"))
        status, headers, body = read_response(stream, buffer)
        assert status == 500
        assert headers["content-type"] == "application/problem+json"
        problem = json.loads(body)
        assert problem["code"] == "internal_error"
        assert "a bug" not in body.decode()  # nothing of the internals
        request_id = headers["x-request-id"]
        assert headers.get("connection", "").lower() != "close"
        # The same connection answers the next request.
        stream.sendall(request("/v1/health"))
        status, headers, _ = read_response(stream, buffer)
        assert status == 200
    access = [r.getMessage() for r in caplog.records if r.name == "api.access"]
    assert any(line.startswith(f'{request_id} "GET /v1/ready" 500 ') for line in access), access
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]  # one traceback, not two
    assert request_id in errors[0].getMessage()
