"""The HTTP service: ``create_app(settings)`` and ``serve(settings, host, port)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.deps import ChainState, Limits
from api.problems import install_problem_handlers
from api.routes import health, verify
from ledger.chain.connection import connect
from ledger.config import Settings
from ledger.contracts import ChainContext, load_deployment
from ledger.session import DEPLOYMENTS_FILE

__all__ = ["API_PREFIX", "DEFAULT_MAX_UPLOAD_BYTES", "create_app", "open_chain", "serve"]

API_PREFIX: Final = "/v1"
#: Largest document ``POST /v1/verify`` accepts unless told otherwise (10 MiB).
DEFAULT_MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024


def open_chain(settings: Settings) -> ChainState:
    """Open the chain of ``settings`` and its deployment, read-only (no signing key)."""
    connection = connect(settings.data_dir, settings.rpc_url)
    try:
        deployment = load_deployment(settings.data_dir / DEPLOYMENTS_FILE, connection.web3)
    except BaseException:
        connection.close()
        raise
    return ChainState.open(connection, ChainContext(connection.web3, deployment))


def create_app(settings: Settings, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> FastAPI:
    """The service for ``settings``; the chain is opened at startup and closed at shutdown."""
    if max_upload_bytes <= 0:
        raise ValueError("max_upload_bytes must be positive")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        chain = await run_in_threadpool(open_chain, settings)
        app.state.chain = chain
        try:
            yield
        finally:
            app.state.chain = None
            await run_in_threadpool(chain.connection.close)

    app = FastAPI(
        title="Government certificate ledger",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.limits = Limits(max_upload_bytes=max_upload_bytes)
    app.state.chain = None
    install_problem_handlers(app)
    app.include_router(health.router, prefix=API_PREFIX)
    app.include_router(verify.router, prefix=API_PREFIX)
    return app


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(
        create_app(settings, max_upload_bytes=max_upload_bytes),
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
    )
