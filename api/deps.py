"""Dependencies shared by the routes (``Annotated`` aliases, STYLE.md)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ledger.chain.connection import ChainConnection
from ledger.config import Settings
from ledger.contracts import ChainContext
from ledger.errors import ChainUnavailableError

__all__ = [
    "ChainDep",
    "ChainState",
    "ContextDep",
    "Limits",
    "LimitsDep",
    "SettingsDep",
    "get_chain",
    "get_context",
    "get_limits",
    "get_settings",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """Request limits of the service."""

    #: Largest request body accepted by ``POST /v1/verify`` (bytes).
    max_upload_bytes: int


@dataclass
class ChainState:
    """The open chain and its read-only context, stored on ``app.state.chain``."""

    connection: ChainConnection
    context: ChainContext
    #: The embedded chain is one in-process py-evm instance: its reads are serialized.
    lock: contextlib.AbstractContextManager[object] = field(default_factory=contextlib.nullcontext)

    @classmethod
    def open(cls, connection: ChainConnection, context: ChainContext) -> ChainState:
        lock: contextlib.AbstractContextManager[object] = (
            threading.Lock() if connection.kind == "embedded" else contextlib.nullcontext()
        )
        return cls(connection, context, lock)

    async def run(self, call: Callable[[], T]) -> T:
        """Run a blocking chain read in the thread pool (serialized on the embedded chain)."""

        def guarded() -> T:
            with self.lock:
                return call()

        return await run_in_threadpool(guarded)


def get_chain(request: Request) -> ChainState:
    chain: ChainState | None = getattr(request.app.state, "chain", None)
    if chain is None:
        raise ChainUnavailableError("the chain connection is not open")
    return chain


def get_context(chain: Annotated[ChainState, Depends(get_chain)]) -> ChainContext:
    return chain.context


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_limits(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


ChainDep = Annotated[ChainState, Depends(get_chain)]
ContextDep = Annotated[ChainContext, Depends(get_context)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
