"""The HTTP service: ``create_app(settings)`` and ``serve(settings, host, port)``."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import importlib.util
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Final

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.access_log_anchoring import start_periodic_anchoring, stop_periodic_anchoring
from api.docs import mount_docs
from api.jobs import resume_jobs
from api.middleware import GuardMiddleware, IndexFront
from api.problems import install_problem_handlers
from api.routes import (
    access_log,
    batches,
    bundles,
    catalogue,
    certificates,
    consents,
    credit,
    departments,
    dev,
    health,
    me,
    operations,
    rpc,
    services,
    stats,
    verify,
    window,
    window_uploads,
)
from api.service import Service
from ledger.config import Settings

if TYPE_CHECKING:
    import uvicorn

__all__ = ["API_PREFIX", "create_app", "log_config", "serve", "server_config"]

API_PREFIX: Final = "/v1"

_log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """The service for ``settings``; the ledger is opened at startup and closed at shutdown."""
    app = FastAPI(
        title="Government certificate and credit ledger",
        version="1",
        summary="Anchor, verify and revoke certificates; record and read credit events.",
        lifespan=_lifespan(settings),
        # Served by api.docs from a pinned package instead of a CDN.
        docs_url=None,
        redoc_url=None,
    )
    mount_docs(app)
    app.state.settings = settings
    app.state.service = None
    install_problem_handlers(app)
    _add_middleware(app)
    _include_routers(app, settings)
    _mount_web_pages(app)
    return app


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """What runs around the service's life: open the ledger and the service database, finish
    the journal's unfinished operations, resume interrupted batch jobs and start the access
    log's periodic anchoring; at the end, stop that, let running jobs finish (30 seconds at
    most) and close."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await run_in_threadpool(Service.open, settings)
        app.state.service = service
        recovered = await run_in_threadpool(service.transactions.recover)
        if recovered["accepted"] or recovered["sent"]:
            _log.warning(
                "journal recovery: %d accepted and %d sent operation(s) found unfinished, "
                "%d still waiting for the chain",
                recovered["accepted"],
                recovered["sent"],
                recovered["unfinished"],
            )
        service.transactions.start()
        resumed = resume_jobs(service)
        if resumed:
            _log.warning("resumed %d batch job(s) interrupted by a restart", resumed)
        if settings.dev_issuer:
            _log.warning("the development token issuer is enabled: not for production")
        # What start-up built (contracts, schemas, the chain's state) lives as long as the
        # process: out of the collector's sight, it is not traversed again by every full
        # collection, which otherwise shows up as pauses in the slowest answers.
        gc.freeze()
        # The access log's batches are anchored every LEDGER_ACCESS_LOG_ANCHOR_MINUTES (ADR 0028).
        anchoring = start_periodic_anchoring(service)
        try:
            yield
        finally:
            await stop_periodic_anchoring(anchoring)
            app.state.service = None
            if service.background:
                # A job cut short here stays "accepted" and is resumed at the next start.
                await asyncio.wait(set(service.background), timeout=30)
            await run_in_threadpool(service.close)

    return lifespan


def _add_middleware(app: FastAPI) -> None:
    """The guard outermost (:mod:`api.middleware`), the index front inside it."""
    app.add_middleware(IndexFront)  # inside the guard: added first
    app.add_middleware(GuardMiddleware)


def _include_routers(app: FastAPI, settings: Settings) -> None:
    """Every router under :data:`API_PREFIX`; the development token issuer's only when
    ``settings`` enable it."""
    for module in (
        health,
        catalogue,
        services,
        verify,
        departments,
        batches,
        certificates,
        bundles,
        credit,
        me,
        consents,
        access_log,
        window,
        window_uploads,
        operations,
        rpc,
        stats,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    if settings.dev_issuer:
        app.include_router(dev.router, prefix=API_PREFIX)


def _mount_web_pages(app: FastAPI) -> None:
    """The web pages (:mod:`api.web.pages`), when that package is installed."""
    if importlib.util.find_spec("api.web.pages") is not None:
        from api.web.pages import mount_web

        mount_web(app)


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration plus the service's own loggers (``api``, with the
    access log ``api.access``, and ``ledger``) at INFO on standard error, and every other
    library's warnings there too (the root logger). Every handler escapes control characters
    (:mod:`api.logsafety`): no client text can forge or split a line."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"controls": {"()": "api.logsafety.ControlCharacterFilter"}}
    config["formatters"]["service"] = {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    }
    config["handlers"]["service"] = {
        "formatter": "service",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["controls"]
    for name in ("api", "ledger"):
        config["loggers"][name] = {"handlers": ["service"], "level": "INFO", "propagate": False}
    config["root"] = {"handlers": ["service"], "level": "WARNING"}
    return config


def server_config(
    settings: Settings, host: str = "127.0.0.1", port: int = 8000, **overrides: Any
) -> uvicorn.Config:
    """How the service runs under uvicorn (``overrides`` for the tests: a quieter log).

    The HTTP protocol is uvicorn's httptools one with the head and body deadlines of
    ``settings`` and problem documents for malformed requests (:mod:`api.protocol`).
    """
    import uvicorn

    from api.protocol import guarded_protocol

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "http": guarded_protocol(settings.header_timeout, settings.body_timeout),
        "proxy_headers": False,
        "server_header": False,
        "log_level": "info",
        "log_config": log_config(),
        # The service writes its own access log, without client addresses (api.middleware).
        "access_log": False,
        **overrides,
    }
    return uvicorn.Config(create_app(settings), **options)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the service with uvicorn until interrupted (what ``uvicorn.run`` does for one
    process: it takes no configuration object)."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    server = uvicorn.Server(server_config(settings, host, port))
    # Python's warnings become log records: one line each, in the service's format, through
    # the same control-character filter (api.logsafety), not free text on standard error.
    logging.captureWarnings(True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
