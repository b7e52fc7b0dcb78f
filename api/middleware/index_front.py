"""``IndexFront``: the commonest ``POST /v1/verify`` (a hash whose report the verification
index holds) answered before routing (ADR 0015). The route, which answers every other form of
the request, is :mod:`api.routes.verify`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import pydantic
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.schemas import VerifyHashIn
from api.views import JSON_MEDIA_TYPE, report_response

if TYPE_CHECKING:
    from api.service import Service

__all__ = ["VERIFY_PATH", "IndexFront"]

#: The route's full path (under api.app.API_PREFIX), which IndexFront answers.
VERIFY_PATH: Final = "/v1/verify"
#: The largest body IndexFront reads: a hash request is about 80 bytes.
_FRONT_MAX_BODY: Final = 1024


class IndexFront:
    """Answers ``POST /v1/verify`` by hash from the verification index, before routing.

    ASGI middleware inside :class:`~api.middleware.GuardMiddleware`, so request ids, rate
    limits, body limits and the access log apply as to any request, and outside FastAPI's
    routing, whose work for each request costs more than a hit (ADR 0015). It answers only
    what the route would answer from the index, with the same bytes: a JSON body declared by
    ``Content-Length`` of at most 1 KiB, accepted by ``VerifyHashIn``, without a batch proof,
    for a hash whose current report the index holds, while the chain is free. Everything else
    (a miss, a proof, a document, a malformed, deep or long body, a busy chain, a service
    starting) goes on to the route with the body replayed, so that errors are answered in one
    place.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != VERIFY_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        service: Service | None = getattr(scope["app"].state, "service", None)
        if service is None or not _small_json(scope["headers"]):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        try:
            complete = await _read_small(receive, messages)
        except HTTPException as refused:  # the guard's depth limit: the route answers it
            await self.app(scope, _raising(refused), send)
            return
        report = await _cached_report(service, messages) if complete else None
        if report is None:
            await self.app(scope, _replaying(messages, receive), send)
            return
        self.answered += 1
        await report_response(report)(scope, receive, send)


def _small_json(headers: list[tuple[bytes, bytes]]) -> bool:
    media_type = declared = b""
    for name, value in headers:
        if name == b"content-type":
            media_type = value.split(b";", 1)[0].strip().lower()
        elif name == b"content-length":
            declared = value.strip()
    return (
        media_type == JSON_MEDIA_TYPE.encode()
        and declared.isdigit()
        and int(declared) <= _FRONT_MAX_BODY
    )


async def _read_small(receive: Receive, messages: list[Message]) -> bool:
    """Read the body's messages into ``messages``; True when the whole body, at most
    ``_FRONT_MAX_BODY`` bytes, was read."""
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return False
        size += len(message.get("body", b""))
        if size > _FRONT_MAX_BODY:
            return False
        if not message.get("more_body", False):
            return True


async def _cached_report(service: Service, messages: list[Message]) -> dict[str, Any] | None:
    body = b"".join(message.get("body", b"") for message in messages)
    try:
        parsed = VerifyHashIn.model_validate_json(body)
    except pydantic.ValidationError:
        return None
    if parsed.proof is not None:
        return None
    return await service.indexed_report(parsed.hash_bytes(), datetime.now(UTC))


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` for the route: the messages already read, then the connection's own."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _raising(refused: HTTPException) -> Receive:
    async def refuse() -> Message:
        raise refused

    return refuse
