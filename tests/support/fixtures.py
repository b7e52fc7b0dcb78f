"""pytest fixtures for a real anvil node. Not a conftest: the suite's conftest imports them.

    from tests.support.fixtures import anvil, anvil_session, anvil_state_file  # noqa: F401

A missing anvil binary is an error (run `npm ci`), not a skip, so CI cannot pass without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.anvil import AnvilNode, start_anvil


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
