"""``with resource:`` closes the ledger's resources, written once in ledger/closing.py."""

from __future__ import annotations

import pytest

from ledger.chain.connection import ChainConnection
from ledger.chain.embedded import EmbeddedChain
from ledger.closing import Closing
from ledger.service.database import ServiceDatabase
from ledger.session import LedgerSession
from ledger.storage.ipfs import IpfsStore
from ledger.storage.vault import KeyVault


class _Resource(Closing):
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_with_yields_the_resource_and_closes_it_however_the_block_ends() -> None:
    resource = _Resource()
    with resource as entered:
        assert entered is resource
        assert resource.closed == 0
    assert resource.closed == 1
    with pytest.raises(RuntimeError, match="boom"), resource:
        raise RuntimeError("boom")  # the error goes on, after the close
    assert resource.closed == 2


def test_the_ledgers_resources_share_it() -> None:
    for cls in (
        ChainConnection,
        EmbeddedChain,
        LedgerSession,
        ServiceDatabase,
        KeyVault,
        IpfsStore,
    ):
        assert issubclass(cls, Closing)
        assert "__exit__" not in vars(cls)  # no copy of its own
