"""``ledger serve`` as a child process, started and waited for until it answers, then stopped or
killed: for the end-to-end tests that need the real command, and for the benchmarks."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

from tests.support.process import ChildProcess, NotReady, free_port, wait_until_ready

__all__ = ["LEDGER", "ServeProcess", "ServerDidNotStartError", "serving"]

#: The ``ledger`` console script of the running interpreter's environment.
LEDGER: Final = Path(sys.executable).with_name("ledger")


class ServerDidNotStartError(RuntimeError):
    """The server exited, or did not answer ``/v1/health`` in time; the message ends with the
    tail of its log."""


@dataclass
class ServeProcess:
    """``ledger --data-dir DATA_DIR serve``, its output in ``log`` (appended to across
    restarts), with ``environment`` on top of this process's (by default: rate limits off)."""

    data_dir: Path
    log: Path
    rpc_url: str | None = None
    environment: dict[str, str] = field(default_factory=lambda: {"LEDGER_RATE_LIMIT": "0"})
    port: int = field(default_factory=free_port)
    #: The process of the latest start (``None`` before the first).
    child: ChildProcess | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return None if self.child is None else self.child.process

    @property
    def pid(self) -> int:
        return self._started().pid

    def start(self, timeout: float = 120) -> None:
        """Start the server and return once ``/v1/health`` answers 200."""
        env = {**os.environ, **self.environment, "PYTHONUNBUFFERED": "1"}
        env.pop("LEDGER_DATA_DIR", None)
        if self.rpc_url:
            env["LEDGER_RPC_URL"] = self.rpc_url
        # Not in a session of its own (unlike anvil and js-ipfs): a Ctrl-C reaches it too.
        self.child = ChildProcess.spawn(
            [str(LEDGER), "--data-dir", str(self.data_dir), "serve", "--port", str(self.port)],
            self.log,
            env=env,
            own_session=False,
        )
        self.starts += 1
        wait_until_ready(
            self.child,
            self._healthy,
            what=f"`ledger serve` on {self.url}",
            timeout=timeout,
            error=ServerDidNotStartError,
            interval=0.1,
        )

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        self._started().kill()

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM, and SIGKILL if it has not stopped within ``timeout`` seconds."""
        if self.child is not None:
            self.child.stop(timeout)

    def _started(self) -> ChildProcess:
        assert self.child is not None, "the server was not started"
        return self.child

    def _healthy(self, output: str) -> None:
        try:
            status = httpx.get(f"{self.url}/v1/health", timeout=2).status_code
        except httpx.TransportError as exc:
            raise NotReady(exc) from exc
        if status != 200:
            raise NotReady(f"/v1/health answered {status}")


@contextlib.contextmanager
def serving(
    data_dir: Path, rpc_url: str | None = None, log: Path | None = None
) -> Iterator[ServeProcess]:
    """A started server for the ``with`` block (its log in ``DATA_DIR/serve.log`` by default),
    stopped after it."""
    server = ServeProcess(data_dir, log or data_dir / "serve.log", rpc_url)
    server.start()
    try:
        yield server
    finally:
        server.stop()
