"""tests.support.ipfs: a real offline js-ipfs node from node_modules (needs `npm ci`)."""

from __future__ import annotations

import json
import socket
import urllib.error
from pathlib import Path

import pytest

from tests.support.ipfs import (
    IPFS_CLI_ENV,
    IpfsError,
    IpfsNode,
    jsipfs_cli,
    post_rpc,
    start_ipfs,
)
from tests.support.store_contract import raw_cid, unique_bytes

ROOT = Path(__file__).resolve().parents[2]
#: Tests on the session node share the xdist worker of tests/integration/test_ipfs_store.py.
shared_node = pytest.mark.xdist_group("ipfs")


def _add(node: IpfsNode, data: bytes) -> str:
    reply = node.rpc(
        "add",
        {"cid-version": "1", "raw-leaves": "true", "cid-base": "base32", "pin": "true"},
        files={"document": data},
    )
    return str(reply["Hash"])


def test_cli_is_the_pinned_version() -> None:
    cli = jsipfs_cli()
    assert cli == ROOT / "node_modules" / "ipfs" / "src" / "cli.js"
    package = json.loads((ROOT / "node_modules" / "ipfs" / "package.json").read_text())
    assert package["version"] == "0.66.1"


@shared_node
def test_node_answers_id_offline(ipfs_session: IpfsNode) -> None:
    identity = ipfs_session.rpc("id")
    assert identity["ID"].startswith("12D3KooW")
    assert identity["AgentVersion"] == "js-ipfs/0.18.1"  # ipfs 0.66.1 runs ipfs-core 0.18.1
    assert identity["Addresses"] == []  # no swarm listener: nothing reachable from outside
    assert ipfs_session.api_multiaddr == f"/ip4/127.0.0.1/tcp/{ipfs_session.port}/http"
    assert ipfs_session.api_url == f"http://127.0.0.1:{ipfs_session.port}"
    assert 0 < ipfs_session.start_seconds < 60
    assert ipfs_session.rpc("swarm/peers")["Peers"] == []


@shared_node
def test_add_and_cat_over_http(ipfs_session: IpfsNode) -> None:
    data = unique_bytes(1000)
    cid = _add(ipfs_session, data)
    assert cid == raw_cid(data)
    assert ipfs_session.cat(cid) == data


@shared_node
def test_other_endpoints_are_off(ipfs_session: IpfsNode) -> None:
    """No gateway or gRPC listener: the API port is the only one."""
    config = ipfs_session.rpc("config/show")
    assert config["Addresses"]["Gateway"] == ""
    assert config["Addresses"]["RPC"] == ""
    assert config["Addresses"]["Swarm"] == []
    assert config["Bootstrap"] == []
    assert config["Discovery"]["MDNS"]["Enabled"] is False


def test_stop_is_graceful(ipfs_node: IpfsNode) -> None:
    ipfs_node.stop()
    assert ipfs_node.process.returncode == 0
    assert not (ipfs_node.repo_dir / "repo.lock").exists()


def test_kill_and_restart_keeps_pinned_content(ipfs_node: IpfsNode, tmp_path: Path) -> None:
    data = unique_bytes(300_000)  # two blocks
    cid = _add(ipfs_node, data)
    peer_id = ipfs_node.rpc("id")["ID"]
    ipfs_node.kill()
    assert ipfs_node.process.returncode == -9
    with start_ipfs(ipfs_node.repo_dir, log_path=tmp_path / "restart.log") as again:
        assert again.cat(cid) == data
        pins = again.rpc("pin/ls", {"arg": cid, "type": "recursive", "cid-base": "base32"})
        assert list(pins["Keys"]) == [cid]
        assert again.rpc("id")["ID"] == peer_id  # same repo, same identity


def test_stale_lock_after_kill_is_reported(ipfs_node: IpfsNode) -> None:
    """What a kill -9 leaves: repo.lock, which js-ipfs honours for 20 s. The node exits at once
    with the reason in the log tail of the error (kill() removes the lock unless told not to)."""
    ipfs_node.kill(keep_lock=True)
    assert (ipfs_node.repo_dir / "repo.lock").is_dir()
    with (
        pytest.raises(IpfsError, match="Lock already being held"),
        start_ipfs(ipfs_node.repo_dir, timeout=20),
    ):
        pass


def test_port_in_use_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(IpfsError, match="EADDRINUSE"),
            start_ipfs(tmp_path / "repo", port=port, timeout=30),
        ):
            pass


def test_missing_install_is_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(IPFS_CLI_ENV, str(tmp_path / "node_modules" / "ipfs" / "src" / "cli.js"))
    with pytest.raises(IpfsError, match="npm ci"), start_ipfs(tmp_path / "repo"):
        pass


@shared_node
def test_missing_block_waits_instead_of_failing(ipfs_session: IpfsNode) -> None:
    """The js-ipfs quirk IpfsStore works around: offline, a block it lacks is still asked from
    (peerless) bitswap, so the request only ends with a server-side timeout."""
    absent = raw_cid(b"never added")
    with pytest.raises(urllib.error.HTTPError) as caught:
        post_rpc(ipfs_session.api_url, "block/stat", {"arg": absent, "timeout": "300ms"})
    assert "timed out" in caught.value.read().decode()
