"""A real uvicorn server on 127.0.0.1, in a thread of the test process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from api.app import server_config
from ledger.config import Settings
from ledger.session import LedgerSession
from tests.support.process import free_port


@contextmanager
def running_server(settings: Settings, *, startup_timeout: float = 60) -> Iterator[str]:
    """Serve ``create_app(settings)`` with uvicorn; yields the base URL (``http://127.0.0.1:N``)."""
    port = free_port()
    # As ``ledger serve`` runs it (its HTTP protocol, the service's own access log), with
    # uvicorn's default logging at WARNING.
    config = server_config(
        settings, "127.0.0.1", port, log_level="warning", log_config=LOGGING_CONFIG
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not instance.started:
        assert thread.is_alive(), "uvicorn stopped during startup"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "uvicorn did not stop"


def new_ledger(directory: Path) -> Settings:
    """The settings of a ledger just initialized in ``directory/data`` (deployed, no department,
    no record): enough for the pages and routes that read only what the service ships
    (documentation, catalogues)."""
    settings = Settings(data_dir=directory / "data")
    session, _ = LedgerSession.initialize(settings)
    session.close()
    return settings


@contextmanager
def running_new_ledger(directory: Path) -> Iterator[str]:
    """Serve :func:`new_ledger` in ``directory``; yields the base URL."""
    with running_server(new_ledger(directory)) as url:
        yield url
