"""ledger.storage.ipfs.IpfsStore on a real js-ipfs node: the DocumentStore contract, failure modes
(node stopped, hung, back again), and CID parity with the embedded computation.

Most tests share one node for the session (``ipfs_session``) and keep to one xdist worker
(``shared_node``), so that node starts once; the tests that stop or freeze a node get their own
(``ipfs_node``) and may run anywhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from ledger.errors import ConfigurationError
from ledger.storage import (
    DocumentNotFoundError,
    DocumentStore,
    StorageError,
    StorageUnavailableError,
)
from ledger.storage.ipfs import IpfsStore, parse_api_address
from tests.support.ipfs import IpfsNode, start_ipfs
from tests.support.store_contract import (
    ABSENT_DAG_PB,
    ABSENT_RAW,
    CHUNK,
    KNOWN_ANSWERS,
    MIB,
    DocumentStoreContract,
    known_input,
    unique_bytes,
)

#: Tests on the session node keep to one xdist worker, so that node starts once per run.
shared_node = pytest.mark.xdist_group("ipfs")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ipfs_store(ipfs_session: IpfsNode) -> Iterator[IpfsStore]:
    with IpfsStore(ipfs_session.api_multiaddr) as store:
        yield store


@shared_node
class TestIpfsStore(DocumentStoreContract):
    """The shared DocumentStore suite (tests/support/store_contract.py) on js-ipfs."""

    #: js-ipfs cannot say "not here" and is given lookup_timeout (1 s) to find a root block.
    missing_lookup_budget: ClassVar[float] = 3.0

    @pytest.fixture
    def store(self, ipfs_store: IpfsStore) -> DocumentStore:
        return ipfs_store


# ----------------------------------------------------------------------------------------------
# CID parity: the node, the recorded known answers and ledger.storage.unixfs agree
# ----------------------------------------------------------------------------------------------


def _case_id(case: tuple[str, int]) -> str:
    name, size = case
    return f"{name}-{size}"


@shared_node
@pytest.mark.parametrize("case", sorted(KNOWN_ANSWERS), ids=_case_id)
def test_cid_parity(ipfs_store: IpfsStore, case: tuple[str, int]) -> None:
    """Acceptance: for 0 B ... 50 MiB, js-ipfs (``add --cid-version=1 --raw-leaves
    --chunker=size-262144``) and the embedded ``build_dag`` give the same root CID."""
    from ledger.storage.unixfs import build_dag  # the embedded computation under test

    name, size = case
    data = known_input(name, size)
    node_cid = ipfs_store.put(data)
    assert node_cid == KNOWN_ANSWERS[case], "js-ipfs no longer prints the recorded CID"
    assert build_dag(data).root_str == node_cid
    assert ipfs_store.stat(node_cid).size == size


@shared_node
@pytest.mark.parametrize("case", sorted(KNOWN_ANSWERS), ids=_case_id)
def test_block_count_parity(ipfs_store: IpfsStore, case: tuple[str, int]) -> None:
    """Distinct blocks (``refs -r --unique`` + root on the node) match the embedded DAG's,
    repeated chunks of the pattern input counted once."""
    from ledger.storage.unixfs import build_dag

    data = known_input(*case)
    cid = ipfs_store.put(data)
    assert ipfs_store.stat(cid).blocks == build_dag(data, keep_blocks=False).block_count


@shared_node
def test_random_sizes_parity(ipfs_store: IpfsStore) -> None:
    """Odd sizes around the one- and two-level boundaries (174 leaves per node)."""
    from ledger.storage.unixfs import build_dag

    for size in (2 * CHUNK - 1, 174 * CHUNK, 174 * CHUNK + 1, 175 * CHUNK + 12_345):
        data = unique_bytes(size)
        assert ipfs_store.put(data) == build_dag(data, keep_blocks=False).root_str, size


# ----------------------------------------------------------------------------------------------
# Addresses
# ----------------------------------------------------------------------------------------------


_LOCAL = "/ip4/127.0.0.1/tcp/5001/http"


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        (_LOCAL, (_LOCAL, "api/v0", "127.0.0.1:5001")),
        (
            "/dns/ipfs.internal/tcp/5001",
            ("/dns/ipfs.internal/tcp/5001", "api/v0", "ipfs.internal:5001"),
        ),
        ("http://127.0.0.1:5001", (_LOCAL, "api/v0", "127.0.0.1:5001")),
        ("http://127.0.0.1:5001/api/v0/", (_LOCAL, "api/v0", "127.0.0.1:5001")),
        (
            "https://user:secret@ipfs.gov.example/rpc/api/v0",
            ("/dns/ipfs.gov.example/tcp/443/https", "rpc/api/v0", "ipfs.gov.example:443"),
        ),
        ("http://[::1]:5001", ("/ip6/::1/tcp/5001/http", "api/v0", "[::1]:5001")),
    ],
)
def test_api_address_forms(api: str, expected: tuple[str, str, str]) -> None:
    assert parse_api_address(api) == expected


@pytest.mark.parametrize(
    "api", ["", "localhost:5001", "ftp://host:21", "/ip4/127.0.0.1", "http://host:notaport"]
)
def test_bad_api_address(api: str) -> None:
    with pytest.raises(ConfigurationError):
        IpfsStore(api)


@shared_node
def test_url_and_multiaddr_reach_the_same_node(ipfs_session: IpfsNode) -> None:
    data = unique_bytes(5000)
    with IpfsStore(ipfs_session.api_url) as by_url:
        cid = by_url.put(data)
    with IpfsStore(ipfs_session.api_multiaddr) as by_multiaddr:
        assert by_multiaddr.get(cid) == data


@shared_node
def test_wrong_api_path_is_not_reported_as_unavailable(ipfs_session: IpfsNode) -> None:
    """An address that answers but is no RPC endpoint is a configuration problem, not an outage
    (retrying would not help)."""
    with (
        IpfsStore(ipfs_session.api_url + "/not/the/api", timeout=5) as store,
        pytest.raises(StorageError) as caught,
    ):
        store.put(b"x")
    assert not isinstance(caught.value, StorageUnavailableError)


# ----------------------------------------------------------------------------------------------
# Lookups, messages, lifecycle
# ----------------------------------------------------------------------------------------------


@shared_node
def test_lookup_timeout_bounds_the_missing_answer(ipfs_session: IpfsNode) -> None:
    with IpfsStore(ipfs_session.api_multiaddr, lookup_timeout=0.2) as store:
        started = time.monotonic()
        with pytest.raises(DocumentNotFoundError):
            store.get(ABSENT_DAG_PB)
        assert time.monotonic() - started < 1.0


@shared_node
def test_not_found_message_names_no_cid(ipfs_store: IpfsStore) -> None:
    with pytest.raises(DocumentNotFoundError) as caught:
        ipfs_store.stat(ABSENT_RAW)
    assert ABSENT_RAW not in str(caught.value)
    assert caught.value.__cause__ is None


@shared_node
def test_closed_store_refuses_work(ipfs_session: IpfsNode) -> None:
    store = IpfsStore(ipfs_session.api_multiaddr)
    cid = store.put(b"closed-store test " + unique_bytes(16))
    store.close()
    store.close()  # idempotent
    assert "closed" in repr(store)
    with pytest.raises(StorageError, match="closed"):
        store.get(cid)
    with pytest.raises(StorageError, match="closed"):
        store.put(b"more")


@shared_node
def test_no_warnings_escape(ipfs_session: IpfsNode) -> None:
    """ipfshttpclient warns about the daemon version (connect()) and urllib3 about its pool
    arguments on every request; with every warning turned into an error, a round trip passes."""
    script = textwrap.dedent(
        f"""
        from ledger.storage.ipfs import IpfsStore
        with IpfsStore({ipfs_session.api_multiaddr!r}) as store:
            cid = store.put(b"warnings test" * 100000)
            assert store.get(cid) == b"warnings test" * 100000
            assert store.has(cid) and store.stat(cid).pinned
            store.unpin(cid)
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@shared_node
def test_large_document_round_trip(ipfs_store: IpfsStore) -> None:
    data = unique_bytes(20 * MIB + 3)
    cid = ipfs_store.put(data)
    assert ipfs_store.get(cid) == data
    assert ipfs_store.stat(cid).blocks == 81 + 1


# ----------------------------------------------------------------------------------------------
# The node going away
# ----------------------------------------------------------------------------------------------

_TIMEOUT = 3.0


def _operations(store: IpfsStore, cid: str) -> dict[str, Callable[[], object]]:
    return {
        "put": lambda: store.put(b"while down"),
        "get": lambda: store.get(cid),
        "has": lambda: store.has(cid),
        "stat": lambda: store.stat(cid),
        "pin": lambda: store.pin(cid),
        "unpin": lambda: store.unpin(cid),
    }


def test_node_stopped_raises_unavailable_within_timeout(ipfs_node: IpfsNode) -> None:
    with IpfsStore(ipfs_node.api_multiaddr, timeout=_TIMEOUT, retries=2) as store:
        cid = store.put(unique_bytes(CHUNK + 1))
        ipfs_node.stop()
        for name, operation in _operations(store, cid).items():
            started = time.monotonic()
            with pytest.raises(StorageUnavailableError) as caught:
                operation()
            elapsed = time.monotonic() - started
            assert elapsed <= _TIMEOUT, f"{name} took {elapsed:.2f} s"
            message = str(caught.value)
            assert cid not in message
            assert f"127.0.0.1:{ipfs_node.port}" in message
            assert isinstance(caught.value, ConnectionError)
            assert caught.value.retryable


def test_node_killed_raises_unavailable(ipfs_node: IpfsNode) -> None:
    with IpfsStore(ipfs_node.api_multiaddr, timeout=_TIMEOUT) as store:
        cid = store.put(b"kill test " + unique_bytes(32))
        ipfs_node.kill()
        with pytest.raises(StorageUnavailableError):
            store.get(cid)


def test_hung_node_raises_unavailable_within_timeout(ipfs_node: IpfsNode) -> None:
    """A node that accepts connections but never answers (SIGSTOP): the read timeout ends it,
    and no retry starts after the deadline."""
    with IpfsStore(ipfs_node.api_multiaddr, timeout=2.0, retries=2) as store:
        cid = store.put(unique_bytes(100))
        os.kill(ipfs_node.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(StorageUnavailableError, match="no answer in time"):
                store.get(cid)
            elapsed = time.monotonic() - started
        finally:
            os.kill(ipfs_node.pid, signal.SIGCONT)
        assert 1.9 <= elapsed < 3.0, f"took {elapsed:.2f} s"
        assert store.get(cid)  # answers again once resumed


def test_store_recovers_when_the_node_returns(ipfs_node: IpfsNode) -> None:
    """Same port after a restart: the store's pooled connection is replaced transparently, and
    the pinned document survived the restart."""
    data = unique_bytes(3 * CHUNK)
    with IpfsStore(ipfs_node.api_multiaddr, timeout=_TIMEOUT) as store:
        cid = store.put(data)
        ipfs_node.stop()
        with pytest.raises(StorageUnavailableError):
            store.get(cid)
        with start_ipfs(ipfs_node.repo_dir, port=ipfs_node.port):
            assert store.get(cid) == data
            assert store.stat(cid).pinned
