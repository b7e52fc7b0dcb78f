"""``ledger serve`` as a child process, started and waited for until it answers, then stopped or
killed: for the end-to-end tests that need the real command, and for the benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

from tests.support.anvil import free_port

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
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server was not started"
        return self.process.pid

    def start(self, timeout: float = 120) -> None:
        """Start the server and return once ``/v1/health`` answers 200."""
        env = {**os.environ, **self.environment, "PYTHONUNBUFFERED": "1"}
        env.pop("LEDGER_DATA_DIR", None)
        if self.rpc_url:
            env["LEDGER_RPC_URL"] = self.rpc_url
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [str(LEDGER), "--data-dir", str(self.data_dir), "serve", "--port", str(self.port)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ServerDidNotStartError(f"the server exited:\n{self._log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerDidNotStartError(
                    f"the server did not answer in {timeout:.0f} s:\n{self._log_tail()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        assert self.process is not None, "the server was not started"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM, and SIGKILL if it has not stopped within ``timeout`` seconds."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


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
