"""The service's ASGI middleware: request ids, rate limits, body limits and the audit trail.

One pure ASGI middleware (no ``BaseHTTPMiddleware``: it would buffer bodies) around the API:

- gives every request an id (``X-Request-ID``: the client's when it is a UUID, else a new one),
  answered in the response and written to the audit log;
- applies the caller's rate limit to ``/v1`` routes but the health probes (429 with
  ``Retry-After``), keyed by the identity a valid bearer credential proves (ADR 0018), else by
  the client address;
- refuses a body larger than the route's limit (413): at once when ``Content-Length`` says so,
  else as soon as the bytes read pass the limit, so an oversized upload is never held in memory;
- appends the audit row a route asked for (:func:`api.deps.audited`) with the status actually
  answered, failures included, before the response starts: a caller never learns an outcome
  whose row is not on disk;
- writes the access log (logger ``api.access``): one line a request when its response starts,
  with the request id, method, the template of the route that matched
  (``/v1/certificates/{document_hash}``, or ``<unmatched>``), status and milliseconds taken.
  Never the path as sent: a path is client text, which could carry an identity number or a
  control character forging a line. The client's address is not in it either: an address can
  identify a citizen, and the audit trail already says who acted. (uvicorn's own access log,
  which names the address, is off.)
- gives the body a deadline (``LEDGER_BODY_TIMEOUT``): a body still arriving after it is
  answered 408 and its connection closed, so that slow clients cannot hold the service's
  connections (the head's deadline is :mod:`api.protocol`'s);
- answers whatever escapes the application itself: an unhandled exception becomes a 500
  problem with the request id and an access-log line, on a connection kept alive (Starlette's
  own last-resort answer would carry neither), and a client that went away before its body was
  complete is one INFO line, not a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response

if TYPE_CHECKING:
    from api.service import Service

__all__ = ["MULTIPART_OVERHEAD", "UNMATCHED", "AuditNote", "GuardMiddleware", "RouteTemplates"]

# Named for the package, as it was before the package had modules: the name is in log lines.
_log = logging.getLogger("api.middleware")
_access = logging.getLogger("api.access")

#: Room for multipart boundaries and part headers on top of the document size limit.
MULTIPART_OVERHEAD: Final = 64 * 1024
#: A client's request id is taken only in UUID form: a free-form id could carry personal data
#: (an identity number is a valid 18-character token) into responses and audit rows.
_REQUEST_ID: Final = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)
#: Probes of orchestrators and load balancers are never rate limited.
_UNLIMITED: Final = frozenset({"/v1/health", "/v1/ready"})
#: What the access log names for a path no route matches.
UNMATCHED: Final = "<unmatched>"


class RouteTemplates:
    """The template of the route a path belongs to (``/v1/certificates/{document_hash}``,
    ``/static/{path}``), looked up in the application's own routes.

    Looked up rather than read from the scope after routing: FastAPI records the matched route
    only for its own routes and without the prefix they were included under, not for mounts,
    the documentation pages or a request answered before routing (``IndexFront``). A path that
    matches a route with another method still names it (the answer is a 405 of that route).
    """

    def __init__(self) -> None:
        self._exact: dict[str, str] = {}  # the templates without parameters (the hot paths)
        self._table: list[tuple[re.Pattern[str], str]] | None = None

    def of(self, scope: Scope) -> str:
        """The template for ``scope``'s path, or :data:`UNMATCHED`."""
        if self._table is None:
            self._table = self._build(scope["app"])
        path: str = scope["path"]
        exact = self._exact.get(path)
        if exact is not None:
            return exact
        for pattern, template in self._table:
            if pattern.fullmatch(path):
                return template
        return UNMATCHED

    def _build(self, app: Any) -> list[tuple[re.Pattern[str], str]]:
        table: list[tuple[re.Pattern[str], str]] = []
        for context in iter_route_contexts(app.routes):
            pattern = getattr(context, "path_regex", None)
            template = context.path_format
            if not (isinstance(pattern, re.Pattern) and isinstance(template, str)):
                continue
            if "{" not in template:
                self._exact.setdefault(template, template)
            else:
                # Starlette's patterns end in "$", which also matches before a final newline.
                table.append((re.compile(pattern.pattern.removesuffix("$")), template))
        return table


class BodyTimeout(HTTPException):
    """Raised from ``receive`` when the body is not complete by its deadline: answered 408 and
    the connection closed (the rest of the body may still be on its way)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"the request body was not received within {seconds:g} seconds",
            headers={"Connection": "close"},
        )


@dataclass
class AuditNote:
    """What a route wants audited; completed by the route as it learns more."""

    actor: str
    action: str
    target: str = ""
    subject_ref: bytes | None = None


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body passes its limit; an HTTPException so that FastAPI's
    body parsing lets it through unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request exceeds the upload limit of {limit} bytes")


class JsonTooDeep(HTTPException):
    """Raised from ``receive`` when a JSON body nests deeper than ``LEDGER_MAX_JSON_DEPTH``."""

    def __init__(self, limit: int) -> None:
        super().__init__(400, f"the JSON body is nested deeper than {limit} levels")


_JSON_STRUCTURE: Final = re.compile(rb'[\[\]{}"\\]')


class JsonDepthGauge:
    """Follows the nesting depth of a JSON text as it arrives, chunk by chunk, without parsing
    it: brackets inside strings do not count. Only the structural bytes are visited."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escaped_at = -1  # offset in the current chunk of a byte escaped by a backslash

    def feed(self, chunk: bytes) -> None:
        """Raise JsonTooDeep when the text so far nests deeper than the limit."""
        skip = self.escaped_at
        self.escaped_at = -1
        for match in _JSON_STRUCTURE.finditer(chunk):
            position = match.start()
            if position == skip:
                continue
            byte = chunk[position]
            if self.in_string:
                if byte == 0x5C:  # backslash: the next byte is escaped
                    skip = position + 1
                    if skip == len(chunk):
                        self.escaped_at = 0
                elif byte == 0x22:
                    self.in_string = False
            elif byte == 0x22:
                self.in_string = True
            elif byte in (0x5B, 0x7B):
                self.depth += 1
                if self.depth > self.limit:
                    raise JsonTooDeep(self.limit)
            elif byte in (0x5D, 0x7D):
                self.depth -= 1


class GuardMiddleware:
    """The guard around the API (module docstring): one method per concern, in the order it
    enforces them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.templates = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Guard one request: give it an id (:meth:`_identify`), then everything else inside
        :meth:`_guarded`, whose failures are answered here; the audit row and the access-log
        line go with the response's head (:class:`_Exchange`)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers, exchange = self._identify(scope, send)
        try:
            await self._guarded(exchange, headers, receive)
        except ClientDisconnect:
            # Raised by Starlette when the body ends in a disconnect: nothing to answer, nothing
            # unexpected. One line, not a traceback.
            await exchange.audit(500)
            exchange.gone = True
            if not exchange.answered:
                exchange.log_access("-")
            return
        except Exception as error:
            if not await self._answer_unhandled(exchange, receive, error):
                raise  # the response is cut short: the server closes the connection
            return
        except BaseException:
            await exchange.audit(500)
            raise
        await exchange.audit(500)  # no response was started: nothing was answered

    def _identify(self, scope: Scope, send: Send) -> tuple[dict[str, bytes], _Exchange]:
        """The request's headers by lower-case name, and the exchange that follows it: its id
        (the client's when it is a UUID, else a new one) and its route's template, both in the
        request's state."""
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        headers = {key.decode("latin-1").lower(): value for key, value in scope["headers"]}
        offered = headers.get("x-request-id", b"").decode("latin-1")
        request_id = offered.lower() if _REQUEST_ID.fullmatch(offered) else str(uuid.uuid4())
        state["request_id"] = request_id
        # What a problem document names as its ``instance``: the template, never the path.
        state["route"] = self.templates.of(scope)
        service: Service | None = getattr(scope["app"].state, "service", None)
        return headers, _Exchange(scope, state, send, self.templates, service, request_id, started)

    async def _guarded(
        self, exchange: _Exchange, headers: dict[str, bytes], receive: Receive
    ) -> None:
        """All the guard does for a request once it has an id, in one call so that an exception
        anywhere in it (the rate limiter's look-up included) is answered like one raised by the
        application (:meth:`__call__`): the rate limit, the declared body length, then the body
        as it arrives (:class:`_BodyReader`) while the application runs."""
        scope = exchange.scope
        settings = scope["app"].state.settings
        if await self._rate_limited(exchange, headers, receive):
            return
        content_type = headers.get("content-type", b"").decode("latin-1").lower()
        multipart = content_type.startswith("multipart/")
        # The limit named in problems is the one settings state (the document's, for uploads).
        shown = settings.max_upload_bytes if multipart else settings.max_json_bytes
        limit = shown + MULTIPART_OVERHEAD if multipart else shown
        exchange.state["body_limit"] = limit
        declared = headers.get("content-length")
        if await self._refused_length(exchange, declared, limit, shown, receive):
            return
        json_body = content_type.startswith("application/json") or "+json" in content_type
        gauge = JsonDepthGauge(settings.max_json_depth) if json_body else None
        body = _BodyReader(receive, exchange, limit, shown, gauge, settings.body_timeout)
        await self.app(scope, body, exchange.send)

    async def _rate_limited(
        self, exchange: _Exchange, headers: dict[str, bytes], receive: Receive
    ) -> bool:
        """Whether the caller's bucket is empty, answered 429 with ``Retry-After``: for ``/v1``
        routes but the health probes."""
        scope = exchange.scope
        service = exchange.service
        path: str = scope["path"]
        if path.startswith("/v1/") and path not in _UNLIMITED and service is not None:
            key = await self._limit_key(scope, headers, service)
            wait = service.limiter.acquire(key)
            if wait > 0:
                response = problem_response(
                    Request(scope),
                    429,
                    "too_many_requests",
                    "too many requests; slow down",
                    headers={"Retry-After": service.limiter.retry_after(wait)},
                )
                await exchange.answer(response, receive)
                return True
        return False

    @staticmethod
    async def _refused_length(
        exchange: _Exchange, declared: bytes | None, limit: int, shown: int, receive: Receive
    ) -> bool:
        """Whether the ``Content-Length`` is malformed (answered 400) or over the route's limit
        (answered 413, naming ``shown``), before a byte of the body is read."""
        if declared is None:
            return False
        if not declared.strip().isdigit():
            response = problem_response(
                Request(exchange.scope), 400, "bad_request", "malformed Content-Length"
            )
        elif int(declared) > limit:
            response = problem_response(
                Request(exchange.scope),
                413,
                "content_too_large",
                f"the request exceeds the upload limit of {shown} bytes",
            )
        else:
            return False
        await exchange.answer(response, receive)
        return True

    @staticmethod
    async def _answer_unhandled(exchange: _Exchange, receive: Receive, error: Exception) -> bool:
        """Answer an exception that escaped the application: a 500 problem with the request id
        and its access-log line, on a connection kept alive; nothing more after a whole answer
        (a background task failed). False when the response was cut short: the caller re-raises,
        and the server closes the connection."""
        await exchange.audit(500)
        if exchange.answered and not exchange.finished:
            return False
        _log.error(
            "request %s: unhandled %s", exchange.request_id, type(error).__name__, exc_info=error
        )
        if exchange.finished:  # after a whole answer (a background task): the connection is sound
            return True
        # Answered here, inside the guard, so that the 500 carries the request id and has
        # its access-log line, and the connection stays usable.
        response = problem_response(
            Request(exchange.scope), 500, "internal_error", "internal server error"
        )
        await exchange.answer(response, receive)
        return True

    @staticmethod
    async def _limit_key(scope: Scope, headers: dict[str, bytes], service: Service) -> str:
        """The bucket of the identity a valid credential proves (a department, governance, a
        citizen or enterprise), however its header is spelled; the client address for anything
        else (anonymous calls and credentials that are not valid, so inventing them buys
        nothing). The first ``Authorization`` header counts, as for authentication."""
        credential = next(
            (value for name, value in scope["headers"] if name.lower() == b"authorization"), None
        )
        if credential is not None:
            cached, identity = service.cached_rate_identity(credential)
            if not cached:
                identity = await run_in_threadpool(service.rate_identity, credential)
            if identity is not None:
                return identity
        client = scope.get("client")
        return f"address:{client[0] if client else 'unknown'}"


class _Exchange:
    """One request as the guard follows it: its id, how far its response has gone, its audit
    row (appended once, before the response's head is sent) and its access-log line."""

    __slots__ = (
        "_send",
        "_templates",
        "answered",
        "audited",
        "finished",
        "gone",
        "request_id",
        "scope",
        "service",
        "started",
        "state",
    )

    def __init__(
        self,
        scope: Scope,
        state: dict[str, Any],
        send: Send,
        templates: RouteTemplates,
        service: Service | None,
        request_id: str,
        started: float,
    ) -> None:
        self.scope = scope
        self.state = state
        self._send = send
        self._templates = templates
        self.service = service
        self.request_id = request_id
        self.started = started
        self.audited = False
        self.answered = False  # the response has started
        self.finished = False  # ... and was sent whole
        self.gone = False  # the client went away before its body was complete

    async def answer(self, response: ASGIApp, receive: Receive) -> None:
        """Send the guard's own ``response`` (a refusal, or the last-resort 500)."""
        await response(self.scope, receive, self.send)

    async def send(self, message: Message) -> None:
        """Send ``message``; the response's head gets the request id, and its audit row and
        access-log line go first."""
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.finished = True
        elif message["type"] == "http.response.start":
            self.answered = True
            message.setdefault("headers", [])
            message["headers"] = [
                *message["headers"],
                (b"x-request-id", self.request_id.encode("ascii")),
            ]
            status = int(message["status"])
            # The row is durable before the caller learns the outcome.
            await self.audit(status)
            self.log_access(str(status))
        await self._send(message)

    async def audit(self, status: int) -> None:
        """Append the audit row the route asked for, with ``status``; once, whatever calls."""
        if not self.audited:
            self.audited = True
            # Most reads ask for no row: they need no hop to the thread pool.
            if self.state.get("audit") is not None and self.service is not None:
                await run_in_threadpool(self._append_row, status)

    def _append_row(self, status: int) -> None:
        note = self.scope.get("state", {}).get("audit")
        service = self.service
        if note is None or service is None:
            return
        assert isinstance(note, AuditNote)
        try:
            service.audit.append(
                request_id=self.request_id,
                actor=note.actor,
                action=note.action,
                outcome=status,
                target=note.target,
                subject_ref=note.subject_ref,
            )
        except Exception as error:  # the operation is done; its failure must still be seen
            _log.error("audit row for request %s not written: %s", self.request_id, error)

    def log_access(self, status: str) -> None:
        """The access-log line: the route's template, never the path as sent (module
        docstring). A client gone before its body was complete is this one line, with no
        status: nobody got one."""
        _access.info(
            '%s "%s %s" %s %.1fms%s',
            self.request_id,
            self.scope["method"],
            self._templates.of(self.scope),
            "-" if self.gone else status,
            (time.perf_counter() - self.started) * 1000,
            " client disconnected before the body was complete" if self.gone else "",
        )


class _BodyReader:
    """The ``receive`` the application gets: the body is held to its deadline (408 after it),
    counted against its limit (413 as soon as the bytes read pass it) and, for JSON, gauged for
    depth; a disconnect before the body was complete is noted on the exchange."""

    __slots__ = (
        "_complete",
        "_deadline",
        "_exchange",
        "_gauge",
        "_limit",
        "_receive",
        "_received",
        "_shown",
        "_timeout",
    )

    def __init__(
        self,
        receive: Receive,
        exchange: _Exchange,
        limit: int,
        shown: int,
        gauge: JsonDepthGauge | None,
        timeout: float,
    ) -> None:
        self._receive = receive
        self._exchange = exchange
        self._limit = limit
        self._shown = shown
        self._gauge = gauge
        self._timeout = timeout
        self._deadline = asyncio.get_running_loop().time() + timeout
        self._received = 0
        self._complete = False  # the whole body was received

    async def __call__(self) -> Message:
        if self._complete:  # waiting for a disconnect, say: no deadline
            return await self._receive()
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            raise BodyTimeout(self._timeout) from None
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            self._complete = not message.get("more_body", False)
            self._received += len(chunk)
            if self._received > self._limit:
                raise BodyTooLarge(self._shown)
            if self._gauge is not None:
                self._gauge.feed(chunk)
        elif message["type"] == "http.disconnect":
            self._complete = self._exchange.gone = True
        return message
