"""Encryption of personal documents and erasure by key destruction (ADR 0008).

A document about a natural person is encrypted with AES-256-GCM under a fresh 256-bit key before it
reaches any storage backend; the chain anchors the hash of the plaintext, the store holds only the
ciphertext. Keys live in a key vault in the data directory, each wrapped (AES-256-GCM) under the
deployment's master key, with the ciphertext's CID as associated data. Erasure (PIPL / GDPR) is
destroying the key: the stored copy becomes unreadable for good, while the anchor still verifies a
copy that the holder presents.

Why keys are destroyed rather than ciphertexts deleted: a CID may have been copied to other IPFS
nodes, caches and backups that this deployment cannot reach, while the one key exists only here.

Sealed document format (version 1), so that another implementation can open it::

    blob = 0x01 || nonce (12 bytes) || AES-256-GCM(key, nonce, plaintext, aad)
    aad  = b"gov-ledger/document/v1\\0"

where the GCM output is the ciphertext (as long as the plaintext) followed by the 16-byte tag.

Wrapped key format in the vault: ``nonce (12) || AES-256-GCM(master, nonce, key, aad)`` with
``aad = b"gov-ledger/vault/v1\\0" + cid`` (the CID string in ASCII).

What erasure does and does not reach: the vault row is deleted with ``secure_delete`` on, then the
database is rebuilt (``VACUUM``) and its write-ahead log checkpointed and truncated, so the wrapped
key is gone from the vault's files. Blocks the filesystem or an SSD freed earlier, and backups of
the vault, may still hold the wrapped bytes; they are useless without the master key, which is why
the master key must never be stored next to the vault or in its backups.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.closing import Closing
from ledger.errors import ConfigurationError, InvalidDocumentError, ValidationError
from ledger.storage import DocumentNotFoundError, DocumentStore, StorageError
from ledger.storage.cid import cid_from_str

__all__ = [
    "DOCUMENT_AAD",
    "DOCUMENT_FORMAT_VERSION",
    "KEY_BYTES",
    "NONCE_BYTES",
    "TAG_BYTES",
    "WRAP_AAD_PREFIX",
    "DocumentErasedError",
    "DocumentService",
    "KeyVault",
    "StoredDocument",
    "VaultError",
    "decrypt_document",
    "encrypt_document",
    "looks_sealed",
]

# ----------------------------------------------------------------------------------------------
# Formats
# ----------------------------------------------------------------------------------------------

#: First byte of every sealed document; a reader refuses any other value instead of guessing.
DOCUMENT_FORMAT_VERSION: Final = 1
#: AES-256: document keys and the master key.
KEY_BYTES: Final = 32
#: 96-bit GCM nonces, the size GCM is specified for (other sizes are hashed into one).
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
#: Associated data of every version-1 document blob. The version byte sits outside the
#: ciphertext, so GCM would not protect it by itself; naming the version here means a blob whose
#: first byte was changed fails authentication instead of being read under other rules. The
#: domain prefix keeps a document blob from ever authenticating as anything else sealed with
#: AES-GCM in this system (wrapped keys use their own prefix). The CID cannot be bound here as
#: it is for wrapped keys: it is the hash of this very blob.
DOCUMENT_AAD: Final = b"gov-ledger/document/v1\x00"
#: Associated data of a wrapped key is this prefix followed by the CID: a wrapped key copied to
#: another CID's row does not unwrap, so a vault row cannot be swapped to open another document.
WRAP_AAD_PREFIX: Final = b"gov-ledger/vault/v1\x00"
#: Associated data of the vault's check value (a separate domain: no CID spells "check").
_CHECK_AAD: Final = b"gov-ledger/vault/v1/check\x00"
_CHECK_PLAINTEXT: Final = b"gov-ledger key vault"
_VERSION_BYTE: Final = bytes((DOCUMENT_FORMAT_VERSION,))
_HEADER_BYTES: Final = 1 + NONCE_BYTES
_WRAPPED_BYTES: Final = NONCE_BYTES + KEY_BYTES + TAG_BYTES
#: The most ``cryptography``'s AESGCM seals in one call (it refuses 2**31 bytes and more).
_MAX_PLAINTEXT: Final = 2**31 - 1
#: ``PRAGMA user_version`` of the vault schema below.
_SCHEMA_VERSION: Final = 1
_SCHEMA: Final = (
    # One row per encrypted document still readable.
    "CREATE TABLE IF NOT EXISTS keys ("
    " cid TEXT PRIMARY KEY NOT NULL,"  # canonical CID string of the stored ciphertext
    " wrapped BLOB NOT NULL,"  # nonce || AES-GCM(master key, document key) || tag
    " created_at INTEGER NOT NULL)",  # UTC seconds
    # One row per erased document: it must never be given a key (or served) again.
    "CREATE TABLE IF NOT EXISTS erased ("
    " cid TEXT PRIMARY KEY NOT NULL,"
    " erased_at INTEGER NOT NULL)",  # UTC seconds
    # The check value that tells a wrong master key at open time.
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL)",
)


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


class VaultError(StorageError):
    """The key vault failed: damaged, wrong master key, or no key for a CID."""

    code = "vault_error"


class DocumentErasedError(StorageError):
    """The document's key was destroyed (erasure): its stored copy can never be read again."""

    code = "document_erased"


# ----------------------------------------------------------------------------------------------
# Sealing documents
# ----------------------------------------------------------------------------------------------


def encrypt_document(plaintext: bytes) -> tuple[bytes, bytes]:
    """Encrypt under a fresh 256-bit key; returns (sealed blob, key).

    The blob is self-describing: a version byte, the 96-bit nonce, then ciphertext and tag.
    Each key seals exactly one document, so nonce reuse cannot happen; the nonce is random all
    the same, which costs nothing and keeps the format safe should a key ever be used twice.
    """
    if len(plaintext) > _MAX_PLAINTEXT:
        raise InvalidDocumentError("document is too large to encrypt in one piece (2 GiB limit)")
    key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, bytes(plaintext), DOCUMENT_AAD)
    return _VERSION_BYTE + nonce + sealed, key


def looks_sealed(blob: bytes) -> bool:
    """Whether ``blob`` has the shape of a sealed document (version byte, room for nonce and
    tag): what a verifier without the key can tell of a stored copy. A clear copy may have that
    shape by chance (it starts with byte 0x01); what is certain is the opposite: a copy without
    it is not a ciphertext of this format."""
    return len(blob) >= _HEADER_BYTES + TAG_BYTES and blob[0] == DOCUMENT_FORMAT_VERSION


def decrypt_document(blob: bytes, key: bytes) -> bytes:
    """Open a blob made by :func:`encrypt_document`; VaultError when it is not authentic.

    Messages never quote the blob, not even its first byte: a clear document handed here by
    mistake would otherwise leak a byte of its content into logs.
    """
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
        raise VaultError("a document key is 32 bytes")
    if len(blob) < _HEADER_BYTES + TAG_BYTES:
        raise VaultError("not an encrypted document: too short")
    if blob[0] != DOCUMENT_FORMAT_VERSION:
        raise VaultError("not an encrypted document of a known format version")
    nonce = bytes(blob[1:_HEADER_BYTES])
    try:
        return AESGCM(bytes(key)).decrypt(nonce, bytes(blob[_HEADER_BYTES:]), DOCUMENT_AAD)
    except InvalidTag:
        raise VaultError("cannot decrypt the document: wrong key or damaged ciphertext") from None


# ----------------------------------------------------------------------------------------------
# Key vault
# ----------------------------------------------------------------------------------------------


def _master_cipher(master_key: bytes) -> AESGCM:
    """The master key as a cipher, after refusing what cannot be a real 256-bit secret.

    A key of one repeated byte (``bytes(32)``) is what a copied example or an unset variable
    decoded to zeros looks like; like the pepper (ADR 0006), such a deployment must
    refuse to start rather than wrap every document key under a public value.
    """
    if not isinstance(master_key, bytes | bytearray):
        raise ConfigurationError("vault master key must be bytes")
    if len(master_key) != KEY_BYTES:
        raise ConfigurationError(
            f"vault master key must be exactly {KEY_BYTES} bytes (AES-256), "
            f"e.g. secrets.token_bytes({KEY_BYTES})"
        )
    if len(set(master_key)) == 1:
        raise ConfigurationError("vault master key is one byte repeated; generate a random one")
    return AESGCM(bytes(master_key))


def _make_private(path: Path) -> None:
    """Create the vault file (0600) in a private directory (0700) before SQLite opens it.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions, so a private
    database keeps them private too. The directory is tightened as well because it lists the
    vault's files and holds them while they are rewritten. A directory this process cannot make
    private (not its own) is a deployment mistake, reported as such.
    """
    directory = path.parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(directory.stat().st_mode)
    if mode & 0o077:
        try:
            os.chmod(directory, mode & 0o700)
        except PermissionError:
            raise ConfigurationError(
                "the key vault's directory must be private to the ledger's user (mode 0700)"
            ) from None
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        flags = os.O_RDWR | (os.O_CREAT if candidate == path else 0)
        try:
            descriptor = os.open(candidate, flags, 0o600)
        except FileNotFoundError:
            continue
        try:
            if stat.S_IMODE(os.fstat(descriptor).st_mode) & 0o077:
                os.fchmod(descriptor, 0o600)
        finally:
            os.close(descriptor)


def _now() -> int:
    return int(time.time())


class KeyVault(Closing):
    """Document keys at rest, wrapped under the master key; one SQLite file.

    The database runs in WAL mode with ``synchronous=FULL`` (a key is on disk before
    :meth:`put_key` returns, so no document gets anchored whose key a crash could still lose) and
    ``secure_delete=ON`` (a deleted row is zeroed in place; :meth:`erase` also rebuilds the file).
    One connection serves every thread, behind a lock: vault operations are short, and a single
    connection makes the checkpoint after an erasure see no reader of its own.

    Opening checks the master key against a check value stored at creation, so a wrong master key
    is refused at once instead of wrapping new keys under it next to the old ones.
    ``busy_timeout`` (seconds) is how long an operation waits for another process's lock.
    """

    def __init__(self, path: Path, master_key: bytes, *, busy_timeout: float = 5.0) -> None:
        self._master = _master_cipher(master_key)
        self._path = Path(path)
        self._lock = threading.Lock()
        self._closed = True
        _make_private(self._path)
        try:
            self._connection = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
            )
        except sqlite3.Error as error:
            raise VaultError(f"cannot open the key vault: {error}") from None
        self._closed = False
        try:
            self._configure()
        except BaseException:
            self.close()
            raise

    @property
    def path(self) -> Path:
        """The SQLite file (its ``-wal`` and ``-shm`` companions sit next to it)."""
        return self._path

    def __repr__(self) -> str:
        return f"<KeyVault {self._path}{' closed' if self._closed else ''}>"

    # -- opening -------------------------------------------------------------------------------

    def _configure(self) -> None:
        connection = self._connection
        try:
            # Per connection, and before anything is deleted: freed cells and pages are zeroed.
            connection.execute("PRAGMA secure_delete = ON")
            secure = connection.execute("PRAGMA secure_delete").fetchone()
            if secure is None or int(secure[0]) != 1:
                raise VaultError("this SQLite build cannot zero deleted vault content")
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise VaultError("the key vault could not be switched to WAL mode")
            connection.execute("PRAGMA synchronous = FULL")
            # VACUUM's copy of the vault and any sort stay in memory: no key material in /tmp.
            connection.execute("PRAGMA temp_store = MEMORY")
            with self._transaction():
                version = int(connection.execute("PRAGMA user_version").fetchone()[0])
                if version > _SCHEMA_VERSION:
                    raise VaultError("the key vault was written by a newer version of the ledger")
                for statement in _SCHEMA:
                    connection.execute(statement)
                if version < _SCHEMA_VERSION:
                    connection.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                row = connection.execute("SELECT value FROM meta WHERE name = 'check'").fetchone()
                if row is None:
                    has_keys = connection.execute("SELECT 1 FROM keys LIMIT 1").fetchone()
                    if has_keys is not None:
                        raise VaultError("the key vault is damaged: its check value is missing")
                    nonce = secrets.token_bytes(NONCE_BYTES)
                    check = nonce + self._master.encrypt(nonce, _CHECK_PLAINTEXT, _CHECK_AAD)
                    connection.execute(
                        "INSERT INTO meta (name, value) VALUES ('check', ?)", (check,)
                    )
                else:
                    self._verify_check_value(bytes(row[0]))
        except sqlite3.DatabaseError as error:
            raise VaultError(f"the key vault file is damaged or not a key vault: {error}") from None

    def _verify_check_value(self, check: bytes) -> None:
        try:
            opened = self._master.decrypt(check[:NONCE_BYTES], check[NONCE_BYTES:], _CHECK_AAD)
        except (InvalidTag, ValueError):
            opened = b""
        if opened != _CHECK_PLAINTEXT:
            raise VaultError(
                "cannot unwrap the vault's check value: wrong master key or damaged vault"
            )

    # -- keys ----------------------------------------------------------------------------------

    def put_key(self, cid: str, key: bytes) -> None:
        """Remember the key of the ciphertext stored under ``cid`` (durable before returning).

        Storing the same key again is a no-op. An erased CID is refused: it is never keyed again
        (a fresh encryption of the same plaintext has another CID anyway). A different key for a
        CID that already has one is refused too: replacing it would lose the ciphertext.
        """
        _check_cid(cid)
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
            raise ValidationError("a document key is 32 bytes")
        key = bytes(key)
        with self._transaction():
            connection = self._connection
            if connection.execute("SELECT 1 FROM erased WHERE cid = ?", (cid,)).fetchone():
                raise VaultError("this document was erased; an erased CID is never keyed again")
            row = connection.execute("SELECT wrapped FROM keys WHERE cid = ?", (cid,)).fetchone()
            if row is not None:
                if not secrets.compare_digest(self._unwrap(cid, bytes(row[0])), key):
                    raise VaultError("a different key is already held for this document")
                return
            connection.execute(
                "INSERT INTO keys (cid, wrapped, created_at) VALUES (?, ?, ?)",
                (cid, self._wrap(cid, key), _now()),
            )

    def get_key(self, cid: str) -> bytes | None:
        """The key, None when the CID was never encrypted here; DocumentErasedError if erased."""
        _check_cid(cid)
        with self._reading():
            connection = self._connection
            row = connection.execute("SELECT wrapped FROM keys WHERE cid = ?", (cid,)).fetchone()
            if row is None:
                if connection.execute("SELECT 1 FROM erased WHERE cid = ?", (cid,)).fetchone():
                    raise DocumentErasedError("the document was erased: its key was destroyed")
                return None
            return self._unwrap(cid, bytes(row[0]))

    def erase(self, cid: str) -> None:
        """Destroy the key for good (idempotent); remembers that (and when) it was erased.

        The row is deleted and the erasure recorded in one transaction; then the database is
        rebuilt and its write-ahead log emptied, so no copy of the wrapped key stays in any of the
        vault's files (:meth:`_purge_remnants` says why both are needed). If another connection
        keeps that from finishing, the key is still erased but VaultError asks for a retry, which
        completes the cleanup (an erased CID is erased again without error).

        A CID without a key (a document stored in clear, or never stored) is refused with
        VaultError: there is nothing whose destruction makes it unreadable, and recording it as
        erased would claim an erasure that did not happen. Deleting a clear document is unpinning
        and garbage collection, and copies elsewhere on IPFS stay readable.
        """
        _check_cid(cid)
        with self._transaction():
            connection = self._connection
            deleted = connection.execute("DELETE FROM keys WHERE cid = ?", (cid,)).rowcount
            if deleted:
                connection.execute(
                    "INSERT OR IGNORE INTO erased (cid, erased_at) VALUES (?, ?)", (cid, _now())
                )
            elif not connection.execute("SELECT 1 FROM erased WHERE cid = ?", (cid,)).fetchone():
                raise VaultError("not an encrypted document: erasure needs a key to destroy")
        self._purge_remnants()

    def is_erased(self, cid: str) -> bool:
        """Whether the key of ``cid`` was destroyed."""
        return self.erased_at(cid) is not None

    def erased_at(self, cid: str) -> datetime | None:
        """When the key of ``cid`` was destroyed (UTC), or None if it was not."""
        _check_cid(cid)
        with self._reading():
            row = self._connection.execute(
                "SELECT erased_at FROM erased WHERE cid = ?", (cid,)
            ).fetchone()
        return None if row is None else datetime.fromtimestamp(int(row[0]), UTC)

    def close(self) -> None:
        """Close the database (idempotent); the vault cannot be used afterwards."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._connection.close()

    # -- internals -----------------------------------------------------------------------------

    def _wrap(self, cid: str, key: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, key, WRAP_AAD_PREFIX + cid.encode("ascii"))

    def _unwrap(self, cid: str, wrapped: bytes) -> bytes:
        if len(wrapped) != _WRAPPED_BYTES:
            raise VaultError("cannot unwrap the key of a document: damaged vault")
        try:
            return self._master.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], WRAP_AAD_PREFIX + cid.encode("ascii")
            )
        except InvalidTag:
            raise VaultError(
                "cannot unwrap the key of a document: wrong master key or damaged vault"
            ) from None

    def _purge_remnants(self) -> None:
        """Rebuild the database and empty the log, so no old copy of an erased key survives.

        ``secure_delete`` zeroes a row where it is deleted, but not the copies SQLite left
        behind earlier: when a page splits, the cells that move to a sibling stay as stale bytes
        in the old page's unused space (tests/unit/test_vault.py finds wrapped keys there after
        a few thousand inserts and erasures). ``VACUUM`` rebuilds every page from the live rows
        only; the checkpoint then writes the new pages over the old ones in the database file
        and truncates the log, which held the old page images. An erasure costs a copy of the
        vault (about 100 bytes a key), acceptable for a rare, legally required operation.
        """
        try:
            with self._reading():
                self._connection.execute("VACUUM")
                row = self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except VaultError:
            row = None
        if row is None or int(row[0]) != 0:
            raise VaultError(
                "the key is erased, but the vault could not be compacted while another "
                "connection used it, so an old copy of the wrapped key may remain; erase again"
            )

    def _check_open(self) -> None:
        if self._closed:
            raise VaultError("the key vault is closed")

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Hold the connection; report SQLite failures as VaultError (their messages name the
        failure, never a bound value)."""
        with self._lock:
            self._check_open()
            try:
                yield
            except sqlite3.Error as error:
                raise VaultError(f"the key vault failed: {error}") from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, committed (durably) on success and rolled back otherwise.

        ``BEGIN IMMEDIATE`` takes the write lock up front, so a check and the write that depends
        on it (erased? then refuse) cannot interleave with another process.
        """
        connection = self._connection
        with self._reading():
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield
                connection.execute("COMMIT")
            except BaseException:
                # Also after a failed COMMIT (busy, I/O error): the connection must not be left
                # inside a transaction that every later call would trip over.
                if connection.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        connection.execute("ROLLBACK")
                raise


def _check_cid(cid: str) -> None:
    """Only canonical CID strings: one document has one row, and the AAD has one spelling."""
    cid_from_str(cid)


# ----------------------------------------------------------------------------------------------
# Document service
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredDocument:
    """Where a document went."""

    #: CID of what the store holds (the ciphertext when ``encrypted``).
    cid: str
    #: Whether the store holds a ciphertext whose key is in the vault (erasable).
    encrypted: bool
    #: Size of the plaintext.
    size: int


class DocumentService:
    """A document store plus the vault: stores, fetches (decrypting) and erases documents.

    The vault is the source of truth for what is encrypted: a CID with a key is a ciphertext, an
    erased CID is never served, any other CID is a document stored in clear.
    """

    def __init__(self, store: DocumentStore, vault: KeyVault) -> None:
        self._store = store
        self._vault = vault

    @property
    def store(self) -> DocumentStore:
        return self._store

    @property
    def vault(self) -> KeyVault:
        return self._vault

    def store_document(self, data: bytes, *, encrypt: bool) -> StoredDocument:
        """Store ``data`` (encrypted under a fresh key when ``encrypt``); the key is in the vault
        before this returns, so a stored ciphertext never lacks its key.

        If the key cannot be recorded the ciphertext is unpinned (it could never be read) and the
        vault's error is raised; should the unpin fail too, what stays pinned is a ciphertext
        whose key no longer exists anywhere.
        """
        if not encrypt:
            return StoredDocument(cid=self._store.put(data), encrypted=False, size=len(data))
        blob, key = encrypt_document(data)
        cid = self._store.put(blob)
        try:
            self._vault.put_key(cid, key)
        except BaseException:
            with contextlib.suppress(Exception):
                self._store.unpin(cid)
            raise
        return StoredDocument(cid=cid, encrypted=True, size=len(data))

    def fetch_document(self, cid: str) -> bytes:
        """The plaintext stored under ``cid`` (decrypted when a key is known).

        DocumentErasedError when its key was destroyed (the store is not asked: the answer
        must not depend on whether some node still holds the ciphertext); DocumentNotFoundError
        when absent.
        """
        key = self._vault.get_key(cid)
        blob = self._store.get(cid)
        return blob if key is None else decrypt_document(blob, key)

    def discard(self, cid: str) -> None:
        """Undo a :meth:`store_document` whose anchoring failed: unpin, and destroy its key.

        Only encrypted documents are unpinned. A ciphertext is unique to its fresh key, so nothing
        else can rely on its pin; a document stored in clear shares its CID and pin with every
        identical document, such as the one whose earlier anchoring makes this one fail as
        already anchored, and unpinning it would let the store lose that anchored copy. Such a
        pin is left in place (public content, at worst an unanchored copy kept).
        """
        try:
            if self._vault.get_key(cid) is None:
                return  # stored in clear: see above
            self._vault.erase(cid)
        except DocumentErasedError:
            pass  # a repeated discard: the key is gone already, the unpin below is idempotent
        with contextlib.suppress(DocumentNotFoundError):
            self._store.unpin(cid)

    def erase(self, cid: str) -> None:
        """Erasure: destroy the key and unpin the ciphertext (idempotent).

        The key goes first: once it is destroyed the erasure has happened, whatever the store
        does next. If the unpin fails (node down) the error is raised and calling again finishes
        it. A CID without a key raises VaultError (see :meth:`KeyVault.erase`).
        """
        self._vault.erase(cid)
        with contextlib.suppress(DocumentNotFoundError):
            self._store.unpin(cid)
