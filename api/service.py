"""Everything the running service holds: the ledger session, its chain lock, the token store,
the audit log, the identity provider, the certificate index and the rate limiter.

Chain access is serialized where it must be: the embedded chain is one py-evm instance that is
not thread-safe, so every call on it takes one lock; on a JSON-RPC node reads run concurrently and
writes take a lock. Journaled writes (ADR 0012) are sent by the transaction manager's thread,
which allocates nonces itself and holds each signing key's lock while it signs and sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from api.heads import SharedHead
from api.ratelimit import RateLimiter
from api.security import DevIssuer, IdentityProvider
from ledger.chain.transactions import TransactionSender
from ledger.config import Settings
from ledger.errors import LedgerError
from ledger.locks import SharedProcessLock
from ledger.names import DepartmentNames
from ledger.service.access_log import AccessLog
from ledger.service.audit import AuditLog
from ledger.service.batch_jobs import BatchJobs
from ledger.service.certificate_index import CertificateIndex
from ledger.service.consents import ConsentStore, consent_key
from ledger.service.database import ServiceDatabase, lock_service_database
from ledger.service.journal import Journal, Operation
from ledger.service.tokens import TokenStore, looks_like_token
from ledger.service.transactions import TransactionManager
from ledger.service.verification_index import VerificationIndex
from ledger.serving import withdraw
from ledger.session import LedgerSession
from ledger.stats import StatsIndex
from ledger.writes import Signer

__all__ = ["Service", "bearer_token"]

T = TypeVar("T")

#: How long a credential's identity is remembered for rate limiting (seconds), and how many are.
#: A token revoked meanwhile keeps its identity's bucket that long, and is refused all the same.
_CREDENTIAL_CACHE_SECONDS: Final = 30.0
_CREDENTIAL_CACHE_SIZE: Final = 10_000


@dataclass
class Service:
    """The open service (``app.state.service``)."""

    settings: Settings
    session: LedgerSession
    database: ServiceDatabase
    tokens: TokenStore
    names: DepartmentNames
    jobs: BatchJobs
    audit: AuditLog
    identity: IdentityProvider
    dev_issuer: DevIssuer | None
    index: CertificateIndex
    limiter: RateLimiter
    journal: Journal
    transactions: TransactionManager
    verify_index: VerificationIndex
    #: Consents of citizens and enterprises to the windows (ADR 0025).
    consents: ConsentStore
    #: Who used or read each subject's records, for the subject to see (查询记录).
    access_log: AccessLog
    #: The head for the event loop, on a JSON-RPC node (None on the embedded chain, whose
    #: head is read directly in microseconds).
    shared_head: SharedHead | None = None
    read_lock: contextlib.AbstractContextManager[object] = field(
        default_factory=contextlib.nullcontext
    )
    write_lock: contextlib.AbstractContextManager[object] = field(default_factory=threading.Lock)
    #: This process's claim on the service database (None only for services built by hand).
    claim: SharedProcessLock | None = field(default=None, repr=False)
    #: The open statistics' index (ADR 0030), in the data directory.
    stats: StatsIndex | None = field(default=None, repr=False)
    #: Rate-limit identities of recent credentials: token digest -> (identity or None, until).
    _credential_cache: OrderedDict[bytes, tuple[str | None, float]] = field(
        default_factory=OrderedDict, repr=False
    )
    _credential_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: Background tasks (batch jobs) kept referenced until they end.
    background: set[asyncio.Task[None]] = field(default_factory=set, repr=False)

    @classmethod
    def open(cls, settings: Settings) -> Service:
        """Open the ledger of ``settings`` (initialized by ``ledger init``) and the service's
        database; raises ConfigurationError / NotDeployedError when the ledger is not ready, and
        ServiceRunningError when another process already serves this service database (its
        journal and recovery assume one owner, ADR 0021)."""
        session = LedgerSession.open(settings)
        database: ServiceDatabase | None = None
        claim: SharedProcessLock | None = None
        try:
            claim = lock_service_database(settings.service_db_path)
            database = ServiceDatabase(settings.service_db_path)
            return cls._assemble(settings, session, database, claim)
        except BaseException:
            if database is not None:
                database.close()
            if claim is not None:
                claim.release()
            session.close()
            raise

    @classmethod
    def _assemble(
        cls,
        settings: Settings,
        session: LedgerSession,
        database: ServiceDatabase,
        claim: SharedProcessLock,
    ) -> Service:
        """The service's parts over an open ledger session and service database (which
        :meth:`open` closes again if this fails), with the locks the chain's kind needs."""
        dev = DevIssuer(settings.data_dir, settings.oidc_audience) if settings.dev_issuer else None
        identity = IdentityProvider(settings, dev)
        embedded = session.connection.kind == "embedded"
        lock: contextlib.AbstractContextManager[object] = threading.RLock()
        write_lock: contextlib.AbstractContextManager[object] = (
            lock if embedded else threading.RLock()
        )
        journal = Journal(database, max_unfinished=settings.max_unfinished)
        transactions = TransactionManager(
            session.context,
            journal,
            functools.partial(_signer, session),
            # The embedded chain takes one lock for everything; a node serves the manager's
            # thread concurrently (each key's own lock keeps its nonces in order).
            chain_lock=lock if embedded else contextlib.nullcontext(),
            confirmations=settings.confirmations,
            stuck_after=settings.stuck_after,
            on_failed=functools.partial(_after_failure, session),
        )
        return cls(
            settings=settings,
            session=session,
            database=database,
            tokens=TokenStore(database),
            names=DepartmentNames(database),
            jobs=BatchJobs(database),
            audit=AuditLog(database),
            identity=identity,
            dev_issuer=dev,
            index=CertificateIndex(database, session.certificates()),
            limiter=RateLimiter(settings.rate_limit, settings.rate_burst),
            journal=journal,
            transactions=transactions,
            verify_index=VerificationIndex(
                database,
                session.context,
                confirmations=settings.confirmations,
                max_age=settings.verify_cache_seconds,
                head=session.connection.head,
            ),
            consents=ConsentStore(
                database,
                consent_key(settings.pepper_bytes()),
                max_minutes=settings.consent_minutes,
            ),
            access_log=AccessLog(database),
            shared_head=None if embedded else SharedHead(session.connection.head),
            read_lock=lock if embedded else contextlib.nullcontext(),
            write_lock=write_lock,
            claim=claim,
            stats=StatsIndex(
                settings.data_dir / "stats.sqlite3",
                session.context,
                confirmations=settings.confirmations,
            ),
        )

    def close(self) -> None:
        try:
            self.transactions.stop()
            self.database.close()
        finally:
            try:
                self.session.close()
            finally:
                # The chain is free again: CLI commands stop reading through this service.
                withdraw(self.settings.data_dir)
                if self.claim is not None:
                    self.claim.release()

    async def await_operation(self, op_id: str, timeout: float) -> Operation:
        """The operation once it is finished, or as it is after ``timeout`` seconds."""
        if timeout > 0:
            loop = asyncio.get_running_loop()
            done: asyncio.Future[Operation] = loop.create_future()

            def finished(operation: Operation) -> None:
                loop.call_soon_threadsafe(_settle, done, operation)

            self.transactions.listen(op_id, finished)
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(asyncio.shield(done), timeout)
        operation = await run_in_threadpool(self.journal.get, op_id)
        assert operation is not None
        return operation

    def local_departments(self) -> frozenset[int]:
        """The departments whose signing keys this service holds: the ones whose stored copies
        its document store keeps (other regions' copies live in their own stores)."""
        return frozenset(
            record.department_id
            for record in self.session.keystore.records()
            if record.department_id is not None
        )

    def rate_identity(self, header: bytes) -> str | None:
        """The identity a valid ``Authorization`` header authenticates, as a rate-limit key
        (``department:3``, ``governance``, ``subject:<reference>``); None when it carries no
        valid credential.

        Rate limits key a valid credential's requests to the identity it proves, whatever the
        header's spelling (``bearer``, two spaces) and whichever of its tokens a department uses,
        and everything else to the client address, so a caller can escape its limit neither by
        respelling its credential nor by inventing a new one for every request (ADR 0018).
        Authentication itself is checked on every request regardless.
        """
        token = bearer_token(header)
        if token is None:
            return None
        cached, identity = self.cached_rate_identity(header, token)
        if cached:
            return identity
        identity = self._identity_of(token)
        digest = hashlib.sha256(token.encode("latin-1")).digest()
        until = time.monotonic() + _CREDENTIAL_CACHE_SECONDS
        with self._credential_lock:
            self._credential_cache[digest] = (identity, until)
            self._credential_cache.move_to_end(digest)
            while len(self._credential_cache) > _CREDENTIAL_CACHE_SIZE:
                self._credential_cache.popitem(last=False)
        return identity

    def cached_rate_identity(
        self, header: bytes, token: str | None = None
    ) -> tuple[bool, str | None]:
        """``(True, identity)`` when the header's credential was resolved in the last
        :data:`_CREDENTIAL_CACHE_SECONDS` (or carries none), without blocking: the event loop
        asks here first and takes the thread pool only on a miss."""
        if token is None:
            token = bearer_token(header)
            if token is None:
                return True, None
        # Keyed by the token alone, so every spelling of one header finds the same entry; by
        # its digest, so the cache holds no usable secret.
        digest = hashlib.sha256(token.encode("latin-1")).digest()
        now = time.monotonic()
        with self._credential_lock:
            entry = self._credential_cache.get(digest)
            if entry is None or entry[1] <= now:
                return False, None
            return True, entry[0]

    def _identity_of(self, token: str) -> str | None:
        if looks_like_token(token):
            record = self.tokens.authenticate(token)
            if record is None:
                return None
            if record.role == "admin":
                return "governance"
            return f"department:{record.department_id}"
        try:
            citizen = self.identity.authenticate(token)
        except LedgerError:
            return None
        return f"subject:{citizen.subject_ref.hex()}"

    async def indexed_report(self, doc_hash: bytes, now: datetime) -> dict[str, Any] | None:
        """The verification index's current report of ``doc_hash`` if it can be had without
        waiting on the chain, else None (the caller then takes the thread pool).

        On the embedded chain the head is read in microseconds, on the event loop, if the
        chain's lock is free at once: a transaction being sent never stalls the loop. On a node
        the head comes from a read begun after this call (:class:`~api.heads.SharedHead`), and
        None when blocks have passed that the index has not scanned yet, or the node did not
        answer."""
        index = self.verify_index
        if self.shared_head is None:
            lock = self.read_lock
            if not lock.acquire(blocking=False):  # type: ignore[attr-defined]
                return None
            try:
                return index.cached(doc_hash, now=now)[0]
            finally:
                lock.release()  # type: ignore[attr-defined]
        try:
            head = await self.shared_head.read()
        except LedgerError:
            return None
        return index.cached(doc_hash, now=now, head=head, scan=False)[0]

    async def read(self, call: Callable[[], T]) -> T:
        """Run a blocking chain read in the thread pool."""

        def guarded() -> T:
            with self.read_lock:
                return call()

        return await run_in_threadpool(guarded)

    async def offload(self, call: Callable[[], T]) -> T:
        """Run a blocking call that does not touch the chain (the service database) in the
        thread pool."""
        return await run_in_threadpool(call)

    async def write(self, call: Callable[[], T]) -> T:
        """Run a blocking chain write (and the reads it makes) in the thread pool, serialized."""

        def guarded() -> T:
            with self.write_lock:
                return call()

        return await run_in_threadpool(guarded)


def bearer_token(header: bytes) -> str | None:
    """The token of an ``Authorization: Bearer`` header, parsed as the routes' own
    authentication parses it (FastAPI's ``HTTPBearer``: the scheme in any case, the token with
    surrounding blanks removed); None for another scheme or no token."""
    scheme, token = get_authorization_scheme_param(header.decode("latin-1"))
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def _settle(future: asyncio.Future[Operation], operation: Operation) -> None:
    if not future.done():
        future.set_result(operation)


def _signer(session: LedgerSession, signer: Mapping[str, Any]) -> TransactionSender:
    """The sender of a journaled operation's signer (``{"department": id}`` or
    ``{"governance": true}``, :class:`~ledger.writes.Signer`): its current key."""
    return session.signer_sender(Signer.from_json(signer))


def _after_failure(session: LedgerSession, operation: Operation) -> None:
    """Discard the stored copy of an anchoring that failed for good (ADR 0008): unless the
    document is already anchored (a duplicate: the same copy may be named by that anchor)."""
    cid = operation.request.get("response", {}).get("cid")
    if operation.kind not in ("certificate.anchor", "certificate.supersede") or not cid:
        return
    if operation.error_code == "CertificateRegistryAlreadyAnchored":
        return
    session.documents().discard(str(cid))
