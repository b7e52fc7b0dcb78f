"""The service's HTTP/1.1 connections: uvicorn's httptools protocol with deadlines and problem
documents for what the application never sees.

uvicorn reads a request's head and body for as long as the client cares to send them: a client
sending one header byte a second, or one body byte a second, holds a connection (and its
buffers) indefinitely. :func:`guarded_protocol` gives each connection two deadlines (ADR 0017):

- the **head** (request line and headers) must be complete ``LEDGER_HEADER_TIMEOUT`` seconds
  after the connection opened (its first request) or after the head's first bytes arrived (a
  later one: idling between requests is the keep-alive timeout's business); otherwise the
  connection is answered 408 (if a head had begun) and closed. Bytes that begin no request
  (blank lines, which reset uvicorn's keep-alive timer) get the same deadline;
- the **body** must be complete ``LEDGER_BODY_TIMEOUT`` seconds after the head. While the
  application reads it, :class:`api.middleware.GuardMiddleware` enforces this and answers 408;
  here the connection is closed when the deadline passes after the response was sent (a body
  the application never read), or once the response is sent.

A request that is not HTTP at all (a malformed ``Content-Length``, a control character in a
header) never reaches the application: uvicorn answers it with a plain-text 400. Here it is
answered with the same problem document every other error has, with a request id and an
access-log line like any response.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any, ClassVar, Final

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.problems import PROBLEM_MEDIA_TYPE

__all__ = ["UNPARSED", "GuardedHttpToolsProtocol", "guarded_protocol"]

_access = logging.getLogger("api.access")
#: What the access log names for a request whose head could not be read.
UNPARSED: Final = "<unparsed>"


def _problem_bytes(status: int, reason: str, code: str, detail: str, request_id: str) -> bytes:
    body = orjson.dumps(
        {
            "type": f"/problems/{code}",
            "title": reason,
            "status": status,
            "detail": detail,
            "code": code,
        }
    )
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"content-type: {PROBLEM_MEDIA_TYPE}\r\n"
        f"content-length: {len(body)}\r\n"
        f"x-request-id: {request_id}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """One connection; :func:`guarded_protocol` makes the subclass with the deadlines set."""

    head_timeout: ClassVar[float] = 20.0
    body_timeout: ClassVar[float] = 120.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn logs a line per request (raw path, client address) whenever "uvicorn.access"
        # has a handler, whatever ``access_log`` says: a logging configuration that gives it one
        # would write identity numbers in paths to the log. The service's own access log
        # (api.access) names the route template instead, never client text.
        self.access_log = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._head_begun = 0.0  # perf_counter when the pending head began; 0: none pending
        self._body_late = False
        self._body_pending = False  # a head is complete, its body is not

    # -- the timers ----------------------------------------------------------------------------
    #
    # Armed only when something is left waiting once the bytes at hand are parsed: a request
    # whose head and body arrive together (nearly all) costs no timer at all.

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head()  # the first head's deadline runs from the connection's opening

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._head_timer is None:
            cycle = self.cycle
            if self._head_begun or cycle is None or cycle.response_complete:
                # A head begun and not complete, or bytes that begin none (blank lines, which
                # reset uvicorn's keep-alive timer) on a connection with nothing in flight.
                self._arm_head()
        if self._body_pending and self._body_timer is None:
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_deadline)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = time.perf_counter()

    def on_headers_complete(self) -> None:
        self._cancel_head()
        self._head_begun = 0.0
        self._body_pending = True
        self._body_late = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._body_pending = False
        self._cancel_body()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._body_late and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head()
        self._cancel_body()
        super().connection_lost(exc)

    def _arm_head(self) -> None:
        self._cancel_head()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_deadline)

    def _cancel_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _head_deadline(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # A pipelined head behind a response still being sent: close after that response.
            cycle.keep_alive = False
        elif self._head_begun:
            detail = f"the request head was not received within {self.head_timeout:g} seconds"
            self._answer_and_close(408, "Request Timeout", "request_timeout", detail)
        else:  # an idle connection: nothing was asked, nothing is answered
            self.transport.close()

    def _body_deadline(self) -> None:
        self._body_timer = None
        self._body_late = True
        cycle = self.cycle
        # A response not yet started is the application's: it answers 408 if it reads the body
        # (GuardMiddleware), else the connection is closed once its response is sent.
        if cycle is not None and cycle.response_complete and not self.transport.is_closing():
            self.transport.close()

    # -- requests that are not HTTP ------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a head or body its parser refuses, as a problem document."""
        self._cancel_head()
        self._cancel_body()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The application is answering this request (a body its parser then refused):
            # it learns of the end through the closed connection.
            self.transport.close()
            return
        self._answer_and_close(
            400, "Bad Request", "bad_request", "the request is not valid HTTP/1.1"
        )

    def _answer_and_close(self, status: int, reason: str, code: str, detail: str) -> None:
        request_id = str(uuid.uuid4())
        began = self._head_begun or time.perf_counter()
        self.transport.write(_problem_bytes(status, reason, code, detail, request_id))
        self.transport.close()
        # The request line is client text that could not be read: neither is logged.
        _access.info(
            '%s "- %s" %d %.1fms',
            request_id,
            UNPARSED,
            status,
            (time.perf_counter() - began) * 1000,
        )


def guarded_protocol(head_timeout: float, body_timeout: float) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for uvicorn's ``http=``, with these deadlines (seconds)."""
    return type(
        "GuardedHttpToolsProtocol",
        (GuardedHttpToolsProtocol,),
        {"head_timeout": head_timeout, "body_timeout": body_timeout},
    )
