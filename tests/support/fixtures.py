"""pytest fixtures for real anvil and IPFS nodes. Not a conftest: the suite's conftest imports
them.

    from tests.support.fixtures import anvil, anvil_session, anvil_state_file  # noqa: F401
    from tests.support.fixtures import ipfs_node, ipfs_session  # noqa: F401

A missing anvil binary or js-ipfs install is an error (run `npm ci`), not a skip, so CI cannot
pass without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.anvil import AnvilNode, start_anvil
from tests.support.ipfs import IpfsNode, start_ipfs


@pytest.fixture
def anvil_state_file(tmp_path: Path) -> Path:
    """Where an anvil started by a test keeps its ``--state`` (not created yet)."""
    return tmp_path / "anvil-state.json"


@pytest.fixture
def anvil(tmp_path: Path) -> Iterator[AnvilNode]:
    """A fresh in-memory anvil node for one test (log in ``tmp_path/anvil.log``)."""
    with start_anvil(log_path=tmp_path / "anvil.log") as node:
        yield node


@pytest.fixture(scope="session")
def anvil_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    """One anvil node shared by the whole session (tests must not depend on its block height)."""
    log = tmp_path_factory.mktemp("anvil") / "anvil.log"
    with start_anvil(log_path=log) as node:
        yield node


@pytest.fixture
def ipfs_node(tmp_path: Path) -> Iterator[IpfsNode]:
    """A fresh offline js-ipfs node for one test: repo in ``tmp_path/ipfs``, log in
    ``tmp_path/ipfs.log``; the test may stop, kill or restart it (``start_ipfs(node.repo_dir)``)."""
    with start_ipfs(tmp_path / "ipfs", log_path=tmp_path / "ipfs.log") as node:
        yield node


@pytest.fixture(scope="session")
def ipfs_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsNode]:
    """One js-ipfs node shared by the whole session (about 3-4 s to start). Tests must not stop
    it, and must not rely on what else is stored or pinned on it: use content of their own."""
    directory = tmp_path_factory.mktemp("ipfs")
    with start_ipfs(directory / "repo", log_path=directory / "ipfs.log") as node:
        yield node
