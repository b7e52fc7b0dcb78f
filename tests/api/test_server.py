"""End to end: a real uvicorn server on 127.0.0.1 answering health and verify."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from tests.api.support import Prepared, prepare_ledger
from tests.support.process import free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Prepared]]:
    prepared = prepare_ledger(tmp_path)
    port = free_port()
    config = uvicorn.Config(
        create_app(prepared.settings), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not instance.started:
        assert thread.is_alive(), "uvicorn stopped during startup"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", prepared
    finally:
        instance.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_uvicorn_health_and_verify(server: tuple[str, Prepared]) -> None:
    base, prepared = server
    with httpx.Client(base_url=base, timeout=30) as http:
        health = http.get("/v1/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}

        by_file = http.post(
            "/v1/verify", files={"file": ("licence.txt", prepared.document, "text/plain")}
        )
        assert by_file.status_code == 200, by_file.text
        assert by_file.json()["verdict"] == "VALID"

        by_hash = http.post("/v1/verify", json={"documentHash": "0x" + prepared.doc_hash.hex()})
        assert by_hash.status_code == 200
        assert by_hash.json()["verdict"] == "VALID"

        bad = http.post("/v1/verify", json={"documentHash": "0x12"})
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
