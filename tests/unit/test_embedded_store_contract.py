"""The shared DocumentStore suite (tests/support/store_contract.py) on the embedded store.

tests/integration/test_ipfs_store.py runs the same suite on a js-ipfs node, so the two backends are
held to one behaviour; tests/unit/test_embedded_store.py covers what only the embedded store has
(integrity on read, crash safety, garbage collection, CAR files).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.storage import DocumentStore
from ledger.storage.embedded import EmbeddedStore
from tests.support.store_contract import DocumentStoreContract


class TestEmbeddedStore(DocumentStoreContract):
    """A fresh store per test: nothing is shared, unlike the session's IPFS node."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> DocumentStore:
        return EmbeddedStore(tmp_path / "store")
