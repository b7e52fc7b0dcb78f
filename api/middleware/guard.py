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
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.templates = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        headers = {key.decode("latin-1").lower(): value for key, value in scope["headers"]}
        offered = headers.get("x-request-id", b"").decode("latin-1")
        request_id = offered.lower() if _REQUEST_ID.fullmatch(offered) else str(uuid.uuid4())
        state["request_id"] = request_id
        # What a problem document names as its ``instance``: the template, never the path.
        state["route"] = self.templates.of(scope)
        service: Service | None = getattr(scope["app"].state, "service", None)
        audited = False
        answered = False  # the response has started
        finished = False  # ... and was sent whole
        gone = False  # the client went away before its body was complete

        async def audit(status: int) -> None:
            nonlocal audited
            if not audited:
                audited = True
                # Most reads ask for no row: they need no hop to the thread pool.
                if state.get("audit") is not None and service is not None:
                    await run_in_threadpool(self._audit, scope, service, request_id, status)

        def log_access(status: str) -> None:
            # The route's template, never the path as sent (module docstring). A client gone
            # before its body was complete is this one line, with no status: nobody got one.
            _access.info(
                '%s "%s %s" %s %.1fms%s',
                request_id,
                scope["method"],
                self.templates.of(scope),
                "-" if gone else status,
                (time.perf_counter() - started) * 1000,
                " client disconnected before the body was complete" if gone else "",
            )

        async def send_with_id(message: Message) -> None:
            nonlocal answered, finished
            if message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            elif message["type"] == "http.response.start":
                answered = True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("ascii")),
                ]
                status = int(message["status"])
                # The row is durable before the caller learns the outcome.
                await audit(status)
                log_access(str(status))
            await send(message)

        async def guarded() -> None:
            # All the guard does for a request, in one function so that an exception anywhere
            # in it (the rate limiter's look-up included) is answered like one raised by the
            # application (below).
            settings = scope["app"].state.settings
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
                    await response(scope, receive, send_with_id)
                    return
            content_type = headers.get("content-type", b"").decode("latin-1").lower()
            multipart = content_type.startswith("multipart/")
            # The limit named in problems is the one settings state (the document's, for uploads).
            shown = settings.max_upload_bytes if multipart else settings.max_json_bytes
            limit = shown + MULTIPART_OVERHEAD if multipart else shown
            state["body_limit"] = limit
            declared = headers.get("content-length")
            if declared is not None:
                if not declared.strip().isdigit():
                    response = problem_response(
                        Request(scope), 400, "bad_request", "malformed Content-Length"
                    )
                    await response(scope, receive, send_with_id)
                    return
                if int(declared) > limit:
                    response = problem_response(
                        Request(scope),
                        413,
                        "content_too_large",
                        f"the request exceeds the upload limit of {shown} bytes",
                    )
                    await response(scope, receive, send_with_id)
                    return
            received = 0
            json_body = content_type.startswith("application/json") or "+json" in content_type
            gauge = JsonDepthGauge(settings.max_json_depth) if json_body else None
            body_timeout: float = settings.body_timeout
            deadline = asyncio.get_running_loop().time() + body_timeout
            complete = False  # the whole body was received

            async def counted_receive() -> Message:
                nonlocal received, complete, gone
                if complete:  # waiting for a disconnect, say: no deadline
                    return await receive()
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await receive()
                except TimeoutError:
                    raise BodyTimeout(body_timeout) from None
                if message["type"] == "http.request":
                    chunk = message.get("body", b"")
                    complete = not message.get("more_body", False)
                    received += len(chunk)
                    if received > limit:
                        raise BodyTooLarge(shown)
                    if gauge is not None:
                        gauge.feed(chunk)
                elif message["type"] == "http.disconnect":
                    complete = gone = True
                return message

            await self.app(scope, counted_receive, send_with_id)

        try:
            await guarded()
        except ClientDisconnect:
            # Raised by Starlette when the body ends in a disconnect: nothing to answer, nothing
            # unexpected. One line, not a traceback.
            await audit(500)
            gone = True
            if not answered:
                log_access("-")
            return
        except Exception as error:
            await audit(500)
            if answered and not finished:
                raise  # the response is cut short: the server closes the connection
            _log.error("request %s: unhandled %s", request_id, type(error).__name__, exc_info=error)
            if finished:  # after a whole answer (a background task): the connection is sound
                return
            # Answered here, inside the guard, so that the 500 carries the request id and has
            # its access-log line, and the connection stays usable.
            response = problem_response(
                Request(scope), 500, "internal_error", "internal server error"
            )
            await response(scope, receive, send_with_id)
            return
        except BaseException:
            await audit(500)
            raise
        await audit(500)  # no response was started: nothing was answered

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

    @staticmethod
    def _audit(scope: Scope, service: Service | None, request_id: str, status: int) -> None:
        note = scope.get("state", {}).get("audit")
        if note is None or service is None:
            return
        assert isinstance(note, AuditNote)
        try:
            service.audit.append(
                request_id=request_id,
                actor=note.actor,
                action=note.action,
                outcome=status,
                target=note.target,
                subject_ref=note.subject_ref,
            )
        except Exception as error:  # the operation is done; its failure must still be seen
            _log.error("audit row for request %s not written: %s", request_id, error)
