"""Run a real anvil node (Foundry, from node_modules) for tests.

The binary comes from the npm package ``@foundry-rs/anvil`` pinned in package.json; its executable
ships in the platform package (``node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil`` here). The
binary is started directly, not through ``node_modules/.bin/anvil`` (a Node launcher that would
leave anvil orphaned when it is SIGKILLed). ``LEDGER_ANVIL`` overrides the path.

Usage::

    with start_anvil() as node:
        w3 = Web3(Web3.HTTPProvider(node.url))

    with start_anvil(state_file=tmp_path / "state.json") as node:
        ...  # state is dumped every second; node.kill() is a `kill -9`
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.process import ChildProcess, NotReady, serving_on_a_port

ROOT = Path(__file__).resolve().parents[2]
ANVIL_ENV = "LEDGER_ANVIL"
CHAIN_ID = 31337
#: py-evm (the embedded chain) stops at cancun; run anvil on the same rules so gas and behaviour
#: match. Bytecode compiled for cancun also runs on later forks (pass hardfork="prague" etc.).
DEFAULT_HARDFORK = "cancun"
START_TIMEOUT = 30.0
#: The well-known anvil/hardhat dev mnemonic's first account and its private key (test only).
DEV_ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEV_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

_PLATFORM = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}
_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "AMD64": "amd64",
    "arm64": "arm64",
    "aarch64": "arm64",
}


class AnvilError(RuntimeError):
    """anvil could not be found or did not come up."""


def anvil_binary(root: Path = ROOT) -> Path:
    """Path of the anvil executable installed by ``npm ci`` (or ``$LEDGER_ANVIL``)."""
    override = os.environ.get(ANVIL_ENV)
    if override:
        candidates = [Path(override)]
    else:
        system = _PLATFORM.get(platform.system(), platform.system().lower())
        arch = _ARCH.get(platform.machine(), platform.machine())
        name = "anvil.exe" if system == "win32" else "anvil"
        scope = root / "node_modules" / "@foundry-rs"
        candidates = [
            scope / f"anvil-{system}-{arch}" / "bin" / name,
            scope / "anvil" / name,  # where the package's download fallback would put it
        ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise AnvilError(
        "anvil binary not found (looked at "
        + ", ".join(str(c) for c in candidates)
        + "); run `npm ci` in the repository root"
    )


def anvil_available(root: Path = ROOT) -> bool:
    try:
        anvil_binary(root)
    except AnvilError:
        return False
    return True


def rpc(url: str, method: str, params: Sequence[Any] = (), timeout: float = 10.0) -> Any:
    """One JSON-RPC call with the standard library (no web3 needed); raises on an RPC error."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # local node only
        reply = json.loads(response.read())
    if "error" in reply:
        raise AnvilError(f"{method} failed: {reply['error']}")
    return reply["result"]


@dataclass
class AnvilNode(ChildProcess):
    """A running anvil process; ``url`` is its HTTP JSON-RPC endpoint.

    :meth:`stop` sends SIGTERM (SIGKILL after its timeout), on which anvil dumps its ``--state``
    file; :meth:`kill` is a ``kill -9``: no shutdown hooks, so no final state dump.
    """

    port: int
    state_file: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rpc(self, method: str, params: Sequence[Any] = ()) -> Any:
        return rpc(self.url, method, params)


def check_state_file(state_file: Path) -> None:
    """Raise :class:`AnvilError` if an existing state file is not complete JSON (a torn dump)."""
    if not state_file.exists():
        return
    try:
        with state_file.open("rb") as handle:
            json.load(handle)
    except (OSError, ValueError) as exc:
        raise AnvilError(
            f"anvil state file {state_file} is unreadable or torn ({exc}); anvil rewrites it in "
            "place, so a kill -9 during a dump can leave it incomplete"
        ) from exc


_LISTENING = "Listening on 127.0.0.1:{port}"


def _answers(node: AnvilNode, output: str, *, quiet: bool) -> None:
    """Ready once this process answers ``eth_chainId`` with :data:`CHAIN_ID`."""
    # Another process may already listen on that port: only trust an answer once this anvil
    # has logged that it listens (a failed bind would otherwise go unnoticed).
    listening = _LISTENING.format(port=node.port)
    if not quiet and listening not in output:
        raise NotReady(f"anvil has not logged {listening!r} yet")
    try:
        chain_id = int(rpc(node.url, "eth_chainId", timeout=2.0), 16)
    except (OSError, urllib.error.URLError, ValueError, AnvilError) as exc:
        raise NotReady(exc) from exc
    if chain_id != CHAIN_ID:
        raise AnvilError(f"anvil on {node.url} answered chain id {chain_id}")


@contextlib.contextmanager
def start_anvil(
    state_file: Path | None = None,
    port: int | None = None,
    *,
    hardfork: str = DEFAULT_HARDFORK,
    preserve_historical_states: bool = True,
    log_path: Path | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = START_TIMEOUT,
) -> Iterator[AnvilNode]:
    """Start anvil on 127.0.0.1, wait until it answers, yield it, and always stop it.

    With ``state_file`` the node loads that file if it exists and dumps its state there every
    second (``--state FILE --state-interval 1``) and on a graceful stop; with
    ``preserve_historical_states`` (the default) the dump keeps the per-block states too, so
    queries at past block numbers still answer after a restart. What a ``kill -9`` costs: the
    blocks mined since the last dump (up to one second), and - rarely - the whole file, as anvil
    rewrites it in place (truncate, write; no rename): a kill during a dump leaves a torn file
    that anvil refuses to load (:class:`AnvilError` is raised here before starting).

    Without ``port`` a free port is chosen (and a few others tried if it is taken in the
    meantime). The log goes to ``log_path`` (default: a temporary file, deleted afterwards
    unless the start failed).
    """
    binary = anvil_binary()
    if state_file is not None:
        check_state_file(state_file)
    quiet = "-q" in extra_args or "--quiet" in extra_args

    def start(chosen: int, path: Path) -> AnvilNode:
        args = [
            str(binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(chosen),
            "--chain-id",
            str(CHAIN_ID),
            "--hardfork",
            hardfork,
            "--color",
            "never",
        ]
        if state_file is not None:
            args += ["--state", str(state_file), "--state-interval", "1"]
            if preserve_historical_states:
                args.append("--preserve-historical-states")
        args += list(extra_args)
        return AnvilNode.spawn(args, path, port=chosen, state_file=state_file)

    with serving_on_a_port(
        start,
        functools.partial(_answers, quiet=quiet),
        name="anvil",
        port=port,
        log_path=log_path,
        timeout=timeout,
        error=AnvilError,
        port_taken="Address already in use",
    ) as node:
        yield node


if __name__ == "__main__":  # manual use: python tests/support/anvil.py [STATE_FILE]
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    with start_anvil(target) as running:
        print(f"anvil pid {running.pid} on {running.url} (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            running.process.wait()
