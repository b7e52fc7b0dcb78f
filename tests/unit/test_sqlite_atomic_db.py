"""The SQLite key-value store under the embedded chain: basics, batches, commit points."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils.exceptions import ValidationError
from hexbytes import HexBytes

from ledger.chain.embedded import SqliteAtomicDB
from ledger.errors import ChainUnavailableError

HEAD = b"head"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "kv.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[SqliteAtomicDB]:
    store = SqliteAtomicDB(db_path, commit_keys=(HEAD,))
    yield store
    store.close()


def on_disk(path: Path) -> dict[bytes, bytes]:
    """What another connection sees: committed data only."""
    conn = sqlite3.connect(path)
    try:
        return {bytes(k): bytes(v) for k, v in conn.execute("SELECT key, value FROM kv")}
    finally:
        conn.close()


def test_basic_mapping_operations(db: SqliteAtomicDB) -> None:
    db[b"a"] = b"1"
    db.set(b"b", b"2")
    assert db[b"a"] == b"1"
    assert b"b" in db
    assert db.exists(b"b")
    assert b"c" not in db
    with pytest.raises(KeyError):
        db[b"c"]
    del db[b"a"]
    assert b"a" not in db
    with pytest.raises(KeyError):
        del db[b"a"]
    db.delete(b"a")  # no error for a missing key
    db[b"b"] = b"22"
    assert db[b"b"] == b"22"
    db[b"empty"] = b""
    assert db[b"empty"] == b""
    assert b"empty" in db


def test_bytes_subclasses_are_stored_as_plain_bytes(db: SqliteAtomicDB, db_path: Path) -> None:
    db[HexBytes(b"k")] = HexBytes(b"v")
    db.commit()
    assert db[b"k"] == b"v"
    assert type(db[b"k"]) is bytes
    assert on_disk(db_path) == {b"k": b"v"}


def test_rejects_non_bytes(db: SqliteAtomicDB) -> None:
    with pytest.raises(TypeError):
        db["a"] = b"1"  # type: ignore[index]
    with pytest.raises(TypeError):
        db[b"a"] = "1"  # type: ignore[assignment]


def test_wal_and_full_sync(db: SqliteAtomicDB, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    assert db._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db_path.stat().st_mode & 0o777 == 0o600


def test_writes_are_durable_only_after_commit(db_path: Path) -> None:
    store = SqliteAtomicDB(db_path)
    store[b"a"] = b"1"
    assert on_disk(db_path) == {}
    store.commit()
    assert on_disk(db_path) == {b"a": b"1"}
    store[b"b"] = b"2"
    del store[b"a"]
    assert store.pending_count == 2
    store.close()  # uncommitted writes are discarded
    reopened = SqliteAtomicDB(db_path)
    try:
        assert reopened[b"a"] == b"1"
        assert b"b" not in reopened
        del reopened[b"a"]
        reopened.commit()
    finally:
        reopened.close()
    assert on_disk(db_path) == {}


def test_rollback_discards_pending(db: SqliteAtomicDB, db_path: Path) -> None:
    db[b"a"] = b"1"
    db.commit()
    db[b"a"] = b"2"
    db[b"b"] = b"3"
    db.rollback()
    assert db[b"a"] == b"1"
    assert b"b" not in db


def test_atomic_batch_reads_its_own_writes_and_applies_on_success(db: SqliteAtomicDB) -> None:
    db[b"keep"] = b"k"
    db[b"gone"] = b"g"
    with db.atomic_batch() as batch:
        batch[b"a"] = b"1"
        assert batch[b"a"] == b"1"
        assert b"a" not in db  # not visible outside before the batch ends
        assert batch[b"keep"] == b"k"  # reads through to the store
        del batch[b"gone"]
        assert b"gone" not in batch
        assert b"gone" in db
        with pytest.raises(KeyError):
            del batch[b"never"]
    assert db[b"a"] == b"1"
    assert b"gone" not in db
    assert db[b"keep"] == b"k"


def test_atomic_batch_rolls_back_on_exception(db: SqliteAtomicDB, db_path: Path) -> None:
    db[b"a"] = b"1"

    class BoomError(Exception):
        pass

    def failing_batch() -> None:
        with db.atomic_batch() as batch:
            batch[b"a"] = b"changed"
            batch[b"b"] = b"2"
            batch[HEAD] = b"would commit"
            del batch[b"a"]
            raise BoomError

    with pytest.raises(BoomError):
        failing_batch()
    assert db[b"a"] == b"1"  # pending writes made before the batch are kept
    assert b"b" not in db
    assert HEAD not in db
    assert on_disk(db_path) == {}  # and nothing was committed


def test_batch_is_unusable_after_its_context(db: SqliteAtomicDB) -> None:
    with db.atomic_batch() as batch:
        batch[b"a"] = b"1"
    with pytest.raises(ValidationError):
        batch[b"a"]
    with pytest.raises(ValidationError):
        batch[b"b"] = b"2"


def test_commit_key_in_a_batch_commits_everything_pending_at_once(
    db: SqliteAtomicDB, db_path: Path
) -> None:
    db[b"state-node"] = b"s"  # written before the block, like py-evm's state.persist()
    with db.atomic_batch() as batch:
        batch[b"trie-node"] = b"t"
    assert on_disk(db_path) == {}
    with db.atomic_batch() as batch:
        batch[HEAD] = b"block-1"  # the head first: the commit must wait for the whole batch
        batch[b"tx-index"] = b"i"
        assert on_disk(db_path) == {}
    assert on_disk(db_path) == {
        b"state-node": b"s",
        b"trie-node": b"t",
        HEAD: b"block-1",
        b"tx-index": b"i",
    }
    assert db.pending_count == 0


def test_direct_write_of_commit_key_commits(db: SqliteAtomicDB, db_path: Path) -> None:
    db[b"x"] = b"1"
    db[HEAD] = b"h"
    assert on_disk(db_path) == {b"x": b"1", HEAD: b"h"}


def test_cache_follows_commits_and_eviction(db_path: Path) -> None:
    store = SqliteAtomicDB(db_path, cache_entries=10)
    try:
        for i in range(50):
            store[b"k%d" % i] = b"v%d" % i
        store.commit()
        assert len(store._cache) <= 10
        for i in range(50):
            assert store[b"k%d" % i] == b"v%d" % i
        del store[b"k49"]
        store.commit()
        assert b"k49" not in store
        assert b"k49" not in store._cache
    finally:
        store.close()


def test_failed_commit_makes_the_store_refuse_further_use(db_path: Path) -> None:
    store = SqliteAtomicDB(db_path, busy_timeout=0.0)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    try:
        store[b"a"] = b"1"
        blocker.execute("BEGIN IMMEDIATE")  # someone else holds the write lock
        with pytest.raises(ChainUnavailableError):
            store.commit()
        blocker.execute("ROLLBACK")
        with pytest.raises(ChainUnavailableError, match="reopen"):
            store[b"b"] = b"2"
        with pytest.raises(ChainUnavailableError):
            store.commit()
    finally:
        blocker.close()
        store.close()
    reopened = SqliteAtomicDB(db_path)
    try:
        assert b"a" not in reopened
    finally:
        reopened.close()


def test_closed_store_refuses_use(db_path: Path) -> None:
    store = SqliteAtomicDB(db_path)
    store.close()
    store.close()  # idempotent
    assert store.closed
    with pytest.raises(ChainUnavailableError):
        store[b"a"]
    with pytest.raises(ChainUnavailableError):
        store[b"a"] = b"1"
