"""Everything the running service holds: the ledger session, its chain lock, the token store,
the audit log, the identity provider, the certificate index and the rate limiter.

Chain access is serialized where it must be: the embedded chain is one py-evm instance that is
not thread-safe, so every call on it takes one lock; on a JSON-RPC node reads run concurrently and
writes take a lock, so one process never races itself for a signing key's nonce (the durable
transaction manager of issue #6 replaces that lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TypeVar

from starlette.concurrency import run_in_threadpool

from api.ratelimit import RateLimiter
from api.security import DevIssuer, IdentityProvider
from ledger.audit import AuditLog
from ledger.batchjobs import BatchJobs
from ledger.config import Settings
from ledger.errors import LedgerError
from ledger.index import CertificateIndex
from ledger.names import DepartmentNames
from ledger.servicedb import ServiceDatabase
from ledger.session import LedgerSession
from ledger.tokens import TokenStore, looks_like_token

__all__ = ["Service"]

T = TypeVar("T")

#: How long a credential's validity is remembered for rate limiting (seconds), and how many are.
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
    read_lock: contextlib.AbstractContextManager[object] = field(
        default_factory=contextlib.nullcontext
    )
    write_lock: contextlib.AbstractContextManager[object] = field(default_factory=threading.Lock)
    _credential_cache: OrderedDict[bytes, tuple[bool, float]] = field(
        default_factory=OrderedDict, repr=False
    )
    _credential_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: Background tasks (batch jobs) kept referenced until they end.
    background: set[asyncio.Task[None]] = field(default_factory=set, repr=False)

    @classmethod
    def open(cls, settings: Settings) -> Service:
        """Open the ledger of ``settings`` (initialized by ``ledger init``) and the service's
        database; raises ConfigurationError / NotDeployedError when the ledger is not ready."""
        session = LedgerSession.open(settings)
        database: ServiceDatabase | None = None
        try:
            database = ServiceDatabase(settings.service_db_path)
            dev = (
                DevIssuer(settings.data_dir, settings.oidc_audience)
                if settings.dev_issuer
                else None
            )
            identity = IdentityProvider(settings, dev)
            embedded = session.connection.kind == "embedded"
            lock: contextlib.AbstractContextManager[object] = threading.RLock()
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
                read_lock=lock if embedded else contextlib.nullcontext(),
                write_lock=lock if embedded else threading.Lock(),
            )
        except BaseException:
            if database is not None:
                database.close()
            session.close()
            raise

    def close(self) -> None:
        try:
            self.database.close()
        finally:
            self.session.close()

    def local_departments(self) -> frozenset[int]:
        """The departments whose signing keys this service holds: the ones whose stored copies
        its document store keeps (other regions' copies live in their own stores)."""
        return frozenset(
            record.department_id
            for record in self.session.keystore.records()
            if record.department_id is not None
        )

    def credential_is_valid(self, header: bytes) -> bool:
        """Whether an ``Authorization`` header carries a valid credential (cached for a while).

        Rate limits key a valid credential's requests to the credential and everything else to
        the client address, so a caller cannot escape its limit by inventing a new credential for
        every request. Authentication itself is checked on every request regardless.
        """
        digest = hashlib.sha256(header).digest()
        now = time.monotonic()
        with self._credential_lock:
            cached = self._credential_cache.get(digest)
            if cached is not None and cached[1] > now:
                return cached[0]
        valid = self._check_credential(header)
        with self._credential_lock:
            self._credential_cache[digest] = (valid, now + _CREDENTIAL_CACHE_SECONDS)
            while len(self._credential_cache) > _CREDENTIAL_CACHE_SIZE:
                self._credential_cache.popitem(last=False)
        return valid

    def _check_credential(self, header: bytes) -> bool:
        scheme, _, value = header.decode("latin-1").partition(" ")
        token = value.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        if looks_like_token(token):
            return self.tokens.authenticate(token) is not None
        try:
            self.identity.authenticate(token)
        except LedgerError:
            return False
        return True

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
