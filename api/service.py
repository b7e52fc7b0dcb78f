"""Everything the running service holds: the ledger session, its chain lock, the token store,
the audit log, the identity provider, the certificate index and the rate limiter.

Chain access is serialized where it must be: the embedded chain is one py-evm instance that is
not thread-safe, so every call on it takes one lock; on a JSON-RPC node reads run concurrently and
writes take a lock, so one process never races itself for a signing key's nonce (the durable
transaction manager of issue #6 replaces that lock).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from api.ratelimit import RateLimiter
from api.security import DevIssuer, IdentityProvider
from ledger.audit import AuditLog
from ledger.config import Settings
from ledger.index import CertificateIndex
from ledger.names import DepartmentNames
from ledger.servicedb import ServiceDatabase
from ledger.session import LedgerSession
from ledger.tokens import TokenStore

__all__ = ["Service"]

T = TypeVar("T")


@dataclass
class Service:
    """The open service (``app.state.service``)."""

    settings: Settings
    session: LedgerSession
    database: ServiceDatabase
    tokens: TokenStore
    names: DepartmentNames
    audit: AuditLog
    identity: IdentityProvider
    dev_issuer: DevIssuer | None
    index: CertificateIndex
    limiter: RateLimiter
    read_lock: contextlib.AbstractContextManager[object] = field(
        default_factory=contextlib.nullcontext
    )
    write_lock: contextlib.AbstractContextManager[object] = field(default_factory=threading.Lock)

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
