"""Malformed request bodies on every JSON route: the body readers of api/deps.py and the
problems they become.

They run against the shared service of tests/api/conftest.py (``api``, ``alternate``).
"""

from __future__ import annotations

from typing import Final

import pytest

from tests.support.http import assert_problem
from tests.support.routes import (
    Api,
    hex32,
)

# -- malformed bodies ---------------------------------------------------------------------------

JSON_ROUTES: Final = (
    ("department", "/v1/credit/events"),
    ("department", "/v1/credit/lookup"),
    ("department", "/v1/credit/events/{event}/amend"),
    ("department", "/v1/credit/events/{event}/resolve"),
    ("citizen", "/v1/credit/events/{event}/dispute"),
    ("department", "/v1/certificates/{hash}/suspend"),
    ("department", "/v1/certificates/{hash}/revoke"),
    ("admin", "/v1/departments"),
    ("anonymous", "/v1/dev/token"),
    ("anonymous", "/v1/verify"),
)


def json_route(api: Api, caller: str, template: str) -> tuple[str, dict[str, str]]:
    path = template.format(event=hex32(api.prepared.event_id), hash=hex32(api.prepared.doc_hash))
    headers = {
        "department": api.department,
        "citizen": api.citizen,
        "admin": api.admin,
        "anonymous": {},
    }[caller]
    return path, headers


@pytest.mark.parametrize(("caller", "template"), JSON_ROUTES, ids=[t for _, t in JSON_ROUTES])
def test_malformed_json_400(api: Api, caller: str, template: str) -> None:
    path, headers = json_route(api, caller, template)
    response = api.client.post(
        path, headers={**headers, "content-type": "application/json"}, content=b'{"subject": '
    )
    assert_problem(response, 400, "bad_request")


@pytest.mark.parametrize(("caller", "template"), JSON_ROUTES, ids=[t for _, t in JSON_ROUTES])
def test_malformed_json_is_refused_without_effect(api: Api, caller: str, template: str) -> None:
    """Whatever the status (see test_malformed_json_400), it is a problem document, it names no
    submitted value, and nothing changed."""
    path, headers = json_route(api, caller, template)
    response = api.client.post(
        path,
        headers={**headers, "content-type": "application/json"},
        content=b'{"reason": "secret-input", ',
    )
    code = {400: "bad_request", 422: "invalid"}.get(response.status_code, "unexpected")
    assert_problem(response, response.status_code, code)
    assert "secret-input" not in response.text
    assert api.certificate(hex32(api.prepared.doc_hash))["status"] == "active"
    assert api.event(hex32(api.prepared.event_id))["amendment"] == "none"


def test_malformed_content_length_400(api: Api) -> None:
    response = api.client.post(
        "/v1/credit/lookup",
        headers={**api.department, "content-type": "application/json", "content-length": "ten"},
        content=b"{}",
    )
    assert_problem(response, 400, "bad_request")


@pytest.mark.parametrize(
    ("path", "content_type", "content"),
    [
        pytest.param("/v1/credit/lookup", "text/plain", b"x", id="text-to-json-route"),
        pytest.param("/v1/certificates", "application/json", b"{}", id="json-to-upload-route"),
    ],
)
def test_unsupported_media_type_415(api: Api, path: str, content_type: str, content: bytes) -> None:
    response = api.client.post(
        path, headers={**api.department, "content-type": content_type}, content=content
    )
    assert_problem(response, 415, "unsupported_media_type")
