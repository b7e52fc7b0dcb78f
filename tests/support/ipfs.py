"""Run a real IPFS node (js-ipfs, from node_modules) for tests.

The node is js-ipfs, the npm package ``ipfs`` pinned in package.json (Kubo itself cannot be
installed here: its npm package downloads a binary at install time). It runs as
``node --require tools/ipfs-node/polyfill.cjs node_modules/ipfs/src/cli.js daemon --offline`` -
``node`` itself is the child, not a ``.bin/jsipfs`` shim, so a SIGKILL reaches the daemon. What it
needs on this machine (tools/ipfs-node/README.md has the details):

- ``Promise.withResolvers`` (Node 22+) for the ``mortice`` / ``it-queue`` releases its tree
  resolves to: the polyfill;
- ``Addresses.Swarm = []``: with the default swarm addresses an offline daemon logs "no valid
  addresses were provided for transports" and never gets ready;
- no preload (``--enable-preload=false``), bootstrap, MDNS, WebRTC-star, gateway or gRPC
  endpoint, and no update check (``NO_UPDATE_NOTIFIER``): nothing reaches for the network;
- after a SIGKILL its ``repo.lock`` stays behind and counts as stale only after 20 s, so
  :meth:`IpfsNode.kill` removes it once the process is reaped, and a restart can follow at once.

Usage::

    with start_ipfs(tmp_path / "repo") as node:
        store = IpfsStore(node.api_multiaddr)     # or node.api_url
        node.rpc("id")                            # a POST to /api/v0/id, JSON back
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.process import ChildProcess, NotReady, serving_on_a_port

ROOT = Path(__file__).resolve().parents[2]
#: Overrides the js-ipfs CLI script (``node_modules/ipfs/src/cli.js``).
IPFS_CLI_ENV = "LEDGER_JSIPFS_CLI"
POLYFILL = ROOT / "tools" / "ipfs-node" / "polyfill.cjs"
START_TIMEOUT = 60.0
_READY = "Daemon is ready"
_LISTENING = "HTTP API listening on /ip4/127.0.0.1/tcp/{port}/http"


class IpfsError(RuntimeError):
    """js-ipfs could not be found or did not come up."""


def jsipfs_cli(root: Path = ROOT) -> Path:
    """The js-ipfs CLI script installed by ``npm ci`` (or ``$LEDGER_JSIPFS_CLI``)."""
    override = os.environ.get(IPFS_CLI_ENV)
    cli = Path(override) if override else root / "node_modules" / "ipfs" / "src" / "cli.js"
    if not cli.is_file():
        raise IpfsError(f"js-ipfs not found at {cli}; run `npm ci` in the repository root")
    return cli


def node_executable() -> str:
    found = shutil.which("node")
    if found is None:
        raise IpfsError("`node` is not on PATH (Node 20+ runs the js-ipfs test node)")
    return found


def node_config(port: int) -> dict[str, Any]:
    """The repo config merged over js-ipfs's defaults on every start (``--init-config``)."""
    return {
        "Addresses": {
            "Swarm": [],
            "Announce": [],
            "NoAnnounce": [],
            "API": f"/ip4/127.0.0.1/tcp/{port}",
            "Gateway": "",
            "RPC": "",
            "Delegates": [],
        },
        "Bootstrap": [],
        "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
        "Swarm": {"DisableNatPortMap": True},
    }


def post_rpc(
    base_url: str,
    command: str,
    args: Mapping[str, str] | None = None,
    *,
    files: Mapping[str, bytes] | None = None,
    timeout: float = 10.0,
) -> bytes:
    """One Kubo RPC call (``POST /api/v0/<command>``) with the standard library; the raw body.

    ``files`` are sent as ``multipart/form-data`` (what ``add`` expects). HTTP errors raise
    ``urllib.error.HTTPError``; its body holds the node's JSON ``{"Message": ...}``.
    """
    query = urllib.parse.urlencode(dict(args or {}))
    url = f"{base_url}/api/v0/{command}" + (f"?{query}" if query else "")
    headers: dict[str, str] = {}
    body = b""
    if files:
        boundary = uuid.uuid4().hex
        parts = []
        for name, content in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # local node only
        return bytes(response.read())


@dataclass
class IpfsNode(ChildProcess):
    """A running js-ipfs daemon; ``api_multiaddr`` / ``api_url`` address its RPC API.

    :meth:`stop` sends SIGTERM: js-ipfs closes its repo and releases the lock (SIGKILL after
    its timeout, through :meth:`kill`).
    """

    port: int
    repo_dir: Path
    #: Seconds from spawning the process to the first answer of ``/api/v0/id``.
    start_seconds: float = 0.0

    @property
    def api_multiaddr(self) -> str:
        """What ``ipfshttpclient`` (and ``LEDGER_IPFS_API``) takes."""
        return f"/ip4/127.0.0.1/tcp/{self.port}/http"

    @property
    def api_url(self) -> str:
        """The same API as an HTTP base URL (commands live under ``/api/v0``)."""
        return f"http://127.0.0.1:{self.port}"

    def rpc(
        self,
        command: str,
        args: Mapping[str, str] | None = None,
        *,
        files: Mapping[str, bytes] | None = None,
        timeout: float = 10.0,
    ) -> Any:
        """``POST /api/v0/<command>`` and decode the JSON answer (the last line of a stream)."""
        body = post_rpc(self.api_url, command, args, files=files, timeout=timeout)
        lines = [line for line in body.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else None

    def cat(self, cid: str, timeout: float = 10.0) -> bytes:
        return post_rpc(self.api_url, "cat", {"arg": cid}, timeout=timeout)

    def kill(self, *, keep_lock: bool = False) -> None:
        """SIGKILL, like ``kill -9``. js-ipfs then leaves ``repo.lock`` behind, which it would
        take for stale only after 20 s; since this process is known dead once reaped, the lock
        is removed (``keep_lock=True`` leaves it, to see what a restart meets)."""
        super().kill()
        if not keep_lock and not self.alive():
            shutil.rmtree(self.repo_dir / "repo.lock", ignore_errors=True)


def _answers(node: IpfsNode, output: str) -> None:
    """Ready once this daemon has said it is ready and answers ``/api/v0/id``."""
    # Only trust an answer once this daemon logged that it listens on the port: another
    # process may hold it, and a failed bind would otherwise go unnoticed.
    if "EADDRINUSE" in output:  # js-ipfs logs the failed bind but keeps running, never ready
        raise IpfsError(
            f"js-ipfs could not listen on 127.0.0.1:{node.port} (EADDRINUSE); log tail "
            f"({node.log_path}):\n{node.log_tail()}"
        )
    ready_lines = (_LISTENING.format(port=node.port), _READY)
    if not all(line in output for line in ready_lines):
        raise NotReady(f"js-ipfs has not logged {ready_lines!r} yet")
    try:
        identity = node.rpc("id", timeout=2.0)
    except (OSError, ValueError) as exc:
        raise NotReady(exc) from exc
    if not isinstance(identity, dict) or "ID" not in identity:
        raise IpfsError(f"js-ipfs on {node.api_url} answered /id with {identity!r}")
    node.start_seconds = time.monotonic() - node.started


@contextlib.contextmanager
def start_ipfs(
    repo_dir: Path,
    port: int | None = None,
    *,
    log_path: Path | None = None,
    timeout: float = START_TIMEOUT,
) -> Iterator[IpfsNode]:
    """Start an offline js-ipfs daemon on 127.0.0.1 with its repo in ``repo_dir`` (created and
    initialised on first use, reused after), wait until it answers, yield it, always stop it.

    Without ``port`` a free port is chosen (and a few others tried if it is taken in the
    meantime); the port is written into the repo config on every start, so a restart may use
    another one. The log goes to ``log_path`` (default: a temporary file, deleted afterwards
    unless the start failed).
    """
    cli = jsipfs_cli()
    node_bin = node_executable()
    if not POLYFILL.is_file():
        raise IpfsError(f"{POLYFILL} is missing")
    repo_dir = repo_dir.resolve()
    repo_dir.parent.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("IPFS_")}
    env.update({"IPFS_PATH": str(repo_dir), "NO_UPDATE_NOTIFIER": "1"})
    env.pop("DEBUG", None)  # js-ipfs would log every libp2p event
    with tempfile.TemporaryDirectory(prefix="ipfs-config-") as config_dir:

        def start(chosen: int, path: Path) -> IpfsNode:
            config_file = Path(config_dir) / f"config-{chosen}.json"
            config_file.write_text(json.dumps(node_config(chosen)), encoding="utf-8")
            args = [
                node_bin,
                "--require",
                str(POLYFILL),
                str(cli),
                "daemon",
                "--offline",
                "--enable-preload=false",
                "--init-config",
                str(config_file),
            ]
            return IpfsNode.spawn(args, path, env=env, cwd=ROOT, port=chosen, repo_dir=repo_dir)

        with serving_on_a_port(
            start,
            _answers,
            name="js-ipfs",
            port=port,
            log_path=log_path,
            timeout=timeout,
            error=IpfsError,
            port_taken="EADDRINUSE",
        ) as node:
            yield node


if __name__ == "__main__":  # manual use: python tests/support/ipfs.py REPO_DIR
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "repo"
    with start_ipfs(target) as running:
        print(
            f"js-ipfs pid {running.pid}: {running.api_multiaddr} ({running.api_url}), "
            f"ready in {running.start_seconds:.1f} s (Ctrl-C to stop)",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            running.process.wait()
