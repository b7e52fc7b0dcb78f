"""The HTTP service: ``create_app(settings)`` and ``serve(settings, host, port)``."""

from __future__ import annotations

import asyncio
import copy
import gc
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.middleware import GuardMiddleware
from api.problems import install_problem_handlers
from api.routes import (
    batches,
    bundles,
    catalogue,
    certificates,
    credit,
    departments,
    dev,
    health,
    me,
    operations,
    verify,
)
from api.routes.batches import resume_jobs
from api.service import Service
from ledger.config import Settings

__all__ = ["API_PREFIX", "create_app", "serve"]

API_PREFIX: Final = "/v1"

_log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """The service for ``settings``; the ledger is opened at startup and closed at shutdown."""

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
        try:
            yield
        finally:
            app.state.service = None
            if service.background:
                # A job cut short here stays "accepted" and is resumed at the next start.
                await asyncio.wait(set(service.background), timeout=30)
            await run_in_threadpool(service.close)

    app = FastAPI(
        title="Government certificate and credit ledger",
        version="1",
        summary="Anchor, verify and revoke certificates; record and read credit events.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = None
    install_problem_handlers(app)
    app.add_middleware(verify.IndexFront)  # inside the guard: added first
    app.add_middleware(GuardMiddleware)
    for module in (
        health,
        catalogue,
        verify,
        departments,
        batches,
        certificates,
        bundles,
        credit,
        me,
        operations,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    if settings.dev_issuer:
        app.include_router(dev.router, prefix=API_PREFIX)
    if importlib.util.find_spec("api.web.pages") is not None:
        from api.web.pages import mount_web

        mount_web(app)
    return app


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration plus the service's own loggers (``api``, with the
    access log ``api.access``, and ``ledger``) at INFO on standard error."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["service"] = {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    }
    config["handlers"]["service"] = {
        "formatter": "service",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    for name in ("api", "ledger"):
        config["loggers"][name] = {"handlers": ["service"], "level": "INFO", "propagate": False}
    return config


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        log_config=log_config(),
        # The service writes its own access log, without client addresses (api.middleware).
        access_log=False,
    )
