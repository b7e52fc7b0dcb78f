"""Where a running ``ledger serve`` can be reached, for the CLI on the same data directory.

The embedded chain has one owner (``chain/LOCK``); while the service runs, a CLI command on the
same data directory cannot open it. The service therefore exposes its chain read-only at
``/v1/rpc`` (ADR 0021) and records where, in ``DATA_DIR/serve.json``, written when it starts and
removed when it stops. A read-only command that finds the chain held looks there and reads
through the service instead; a write command says the service is running and to use its API.

A ``serve.json`` left by a service that was killed is *stale*; it is recognized because its pid
is not the one holding the chain's lock (the lock file names its current holder, written when
the lock was taken; the kernel released the dead one's).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from ledger.errors import ConfigurationError, NoLedgerError
from ledger.files import write_atomically
from ledger.locks import holder

if TYPE_CHECKING:
    from ledger.config import Settings

__all__ = [
    "READER_KEY_PREFIX",
    "RPC_PATH",
    "SERVE_FILE",
    "RunningService",
    "announce",
    "announced",
    "base_url",
    "chain_holder",
    "reader_key",
    "rpc_credential",
    "running_service",
    "withdraw",
]

#: The file a running service announces itself in, inside the data directory.
SERVE_FILE: Final = "serve.json"
#: The path of the service's read-only JSON-RPC endpoint.
RPC_PATH: Final = "/v1/rpc"
#: Prefix of the reader key, so that it is never taken for an API token or a JWT.
READER_KEY_PREFIX: Final = "glr_"
_LOOPBACK_FOR: Final = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


@dataclass(frozen=True)
class RunningService:
    """A service found running on the data directory."""

    pid: int
    #: The service's base URL (``http://127.0.0.1:8000``).
    url: str

    @property
    def rpc_url(self) -> str:
        """Its read-only JSON-RPC endpoint."""
        return self.url + RPC_PATH


def base_url(host: str, port: int) -> str:
    """The URL a local client reaches a service listening on ``host``:``port`` at."""
    host = _LOOPBACK_FOR.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def announce(data_dir: Path, host: str, port: int) -> RunningService:
    """Record this process as the service of ``data_dir``, reachable at ``host``:``port``."""
    service = RunningService(pid=os.getpid(), url=base_url(host, port))
    body = json.dumps({"pid": service.pid, "url": service.url, "rpc": service.rpc_url}) + "\n"
    write_atomically(Path(data_dir) / SERVE_FILE, body.encode(), mode=0o600)
    return service


@contextlib.contextmanager
def announced(settings: Settings, host: str, port: int) -> Iterator[RunningService]:
    """Claim the service database of ``settings`` for this process (ServiceRunningError when
    another serves it) and announce the service at ``host``:``port`` for the ``with`` block.

    The claim comes first, so that a second service refused at start never overwrites the
    first one's announcement. Fails with NoLedgerError where there is no data directory.
    """
    from ledger.service.database import lock_service_database

    if not Path(settings.data_dir).is_dir():
        raise NoLedgerError.at(settings.data_dir)
    claim = lock_service_database(settings.service_db_path)
    try:
        service = announce(settings.data_dir, host, port)
        try:
            yield service
        finally:
            withdraw(settings.data_dir)
    finally:
        claim.release()


def withdraw(data_dir: Path) -> None:
    """Remove the record, if it is still this process's (a later service may have replaced
    it)."""
    path = Path(data_dir) / SERVE_FILE
    found = _read(path)
    if found is not None and found.pid == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def chain_holder(data_dir: Path) -> int | None:
    """The pid recorded in the embedded chain's lock file (its holder, while it is held)."""
    from ledger.chain.embedded import CHAIN_SUBDIR, LOCK_FILENAME

    return holder(Path(data_dir) / CHAIN_SUBDIR / LOCK_FILENAME)


def running_service(data_dir: Path) -> RunningService | None:
    """The service that holds the embedded chain of ``data_dir``, if that is what holds it.

    Ask only after opening the chain failed because it is held: the pid in its lock file is
    then the live holder's. A ``serve.json`` naming another pid is stale and ignored.
    """
    found = _read(Path(data_dir) / SERVE_FILE)
    if found is None or found.pid != chain_holder(data_dir):
        return None
    return found


def _read(path: Path) -> RunningService | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pid, url = data["pid"], data["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(pid, int) or not isinstance(url, str) or not url.startswith("http"):
        return None
    return RunningService(pid=pid, url=url)


def reader_key(pepper: bytes) -> str:
    """The bearer key with which whoever holds the deployment's pepper reads the service's
    chain at ``/v1/rpc`` without an API token (ADR 0021).

    Derived, not stored: the service and a CLI on the same data directory (or with the same
    ``LEDGER_PEPPER``) compute it alike, and it reveals nothing of the pepper. Whoever has the
    pepper can already link subject references to people, which is more than the chain shows.
    """
    digest = hmac.new(pepper, b"gov-ledger/chain-reader/v1", hashlib.sha256).hexdigest()
    return READER_KEY_PREFIX + digest


def rpc_credential(settings: Settings) -> str | None:
    """The bearer credential to send to ``settings.rpc_url``: ``LEDGER_RPC_TOKEN`` when set;
    else, when the URL is a ledger service's endpoint (path ``/v1/rpc``), the reader key of
    this deployment's pepper, if it has one; else none (a plain JSON-RPC node)."""
    if settings.rpc_token is not None and settings.rpc_token.get_secret_value():
        return settings.rpc_token.get_secret_value()
    if settings.rpc_url is None or not urlsplit(settings.rpc_url).path.rstrip("/").endswith(
        RPC_PATH
    ):
        return None
    try:
        return reader_key(settings.pepper_bytes())
    except ConfigurationError:
        return None
