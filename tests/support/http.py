"""What a test says to the HTTP API and checks in its answers, written once for tests/api and
tests/e2e: a bearer credential, and the RFC 9457 problem document every refusal must be."""

from __future__ import annotations

import re
from typing import Any

import httpx

from api.problems import PROBLEM_MEDIA_TYPE


def bearer(token: str | None) -> dict[str, str]:
    """The ``Authorization`` header of ``token``; none at all for ``None`` or ``""`` (an
    anonymous caller)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def names_its_route(instance: object, path: str) -> bool:
    """Whether a problem's ``instance`` is the template of the route ``path`` matched
    (``/v1/certificates/{document_hash}`` for ``/v1/certificates/0x…``), or ``<unmatched>``.
    Problems name the template, not the path, which may carry personal data; that they never
    echo it is what tests/api/test_privacy.py searches for."""
    if instance == "<unmatched>":
        return True
    if not isinstance(instance, str):
        return False
    parts = re.split(r"\{[^/{}]+\}", instance)
    return re.fullmatch("[^/]+".join(re.escape(part) for part in parts), path) is not None


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem document with ``status`` and ``code`` (its body, to
    check further): the problem media type, a stable ``type`` and a ``title``, an ``instance``
    naming the route's template rather than echoing the path, a ``Bearer`` challenge on a 401
    and a ``Retry-After`` of at least a second on a 429 or 503."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"/problems/{code}"
    assert body["title"]
    assert names_its_route(body["instance"], response.request.url.path), body["instance"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer ")
    if status in (429, 503):
        assert int(response.headers["retry-after"]) >= 1
    return body
