"""API fuzzing with Schemathesis (issue #7): every operation of the app's OpenAPI schema, with
valid credentials for it, against a real uvicorn server. Bounded examples a operation in the
default run; no answer may be a 5xx, and every answer must match the schema (status declared,
content type and body as documented).

Schemathesis alone draws values from the schema: a date is any string of 10 to 40 characters,
an integer anything in its bounds, so the values that break arithmetic behind the schema are
never sent (issue 13, item 8). A third of the cases are therefore sent "at the edges": the
members a route reads first get values that pass (a known certificate type, subject,
category, ...), so that the request gets as far as its dates, and then every date member gets
a boundary date (0001-01-01, 9999-12-31 in the widest offsets, the epoch, 2^32 and 2^40
seconds), the list cursor a boundary cursor (huge, negative, malformed), and integer members
(at any depth) boundary integers half of the time."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any, Final, NamedTuple

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.server import running_server
from tests.support.service import PreparedService, prepare_service

pytestmark = pytest.mark.slow

#: Examples generated for each operation in the default test run.
EXAMPLES: Final = 12
CHECKS: Final = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Governance routes (the admin token).
_GOVERNANCE: Final = ("/v1/departments/{department_id}/", "/v1/departments")

#: Members holding a date or a time, in any route.
DATE_MEMBERS: Final = frozenset({"expiresAt", "deadline", "occurredAt", "validUntil"})
#: Dates and times at and past the edges of what the chain (uint40 seconds, 0 for "none") and
#: Python (years 1 to 9999) can hold, in the widest offsets; and a few ordinary ones.
BOUNDARY_DATES: Final = (
    "0001-01-01",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-12:00",
    "1969-12-31",
    "1969-12-31T23:59:59Z",
    "1970-01-01",
    "1970-01-01T00:00:00Z",
    "1970-01-01T08:00:00+08:00",
    "2000-02-29",
    "2030-06-30",
    "2106-02-07T06:28:15Z",  # 2^32 - 1 seconds
    "2106-02-07T06:28:16Z",  # 2^32 seconds
    "2106-02-08",
    "2999-12-31",
    "3000-01-01",
    "9999-12-30",
    "9999-12-31",
    "9999-12-31T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59.999999Z",
    "+36812-02-20T00:00:00Z",  # 2^40 seconds, past any ISO 8601 parser
    "2030-02-30",
)
BOUNDARY_INTEGERS: Final = (
    0,
    -1,
    1,
    255,
    256,
    2**31,
    2**32 - 1,
    2**32,
    2**40,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64,
    10**30,
    -(2**63) - 1,
)


class Members(NamedTuple):
    """The members an operation declares: query parameters and (top-level) body members."""

    query: frozenset[str]
    body: frozenset[str]


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


#: List cursors: the service hands out ``base64url("<block>.<log index>")``.
BOUNDARY_CURSORS: Final = (
    _cursor("0.0"),
    _cursor("1.0"),
    _cursor(f"{2**63}.0"),
    _cursor(f"{2**64}.{2**64}"),
    _cursor("9" * 40 + ".1"),
    _cursor("-1.0"),
    _cursor("1.-1"),
    _cursor("1.2.3"),
    _cursor("١٢.٣"),  # digits Python's int() takes
    _cursor("1_000.1"),
    "not base64!",
    "",
    "=" * 8,
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PreparedService, str]]:
    prepared = prepare_service(tmp_path_factory.mktemp("fuzz"), rate_limit=0, write_wait=5)
    with running_server(prepared.settings) as url:
        yield prepared, url


@pytest.fixture(scope="module")
def credentials(served: tuple[PreparedService, str]) -> dict[str, str]:
    prepared, url = served
    citizen = httpx.post(f"{url}/v1/dev/token", json={"subject": prepared.citizen}, timeout=30)
    citizen.raise_for_status()
    return {
        "department": prepared.department_token,
        "admin": prepared.admin_token,
        "citizen": str(citizen.json()["token"]),
    }


@pytest.fixture(scope="module")
def api_schema(served: tuple[PreparedService, str]) -> Any:
    _prepared, url = served
    return schemathesis.openapi.from_url(f"{url}/openapi.json").include(path_regex="^/v1/")


def credential_for(method: str, path: str) -> str:
    """Which valid credential an operation is called with."""
    if path.startswith("/v1/me/") or path.endswith("/dispute"):
        return "citizen"
    if method == "POST" and path.startswith(_GOVERNANCE) and not path.endswith("/certificates"):
        return "admin"
    return "department"


def operations() -> list[Any]:
    """Every ``/v1`` operation of the app's schema, as ``pytest.param(method, path)``."""
    from api.app import create_app
    from ledger.config import Settings

    document = create_app(Settings(dev_issuer=True)).openapi()
    return [
        pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
        for path, item in sorted(document["paths"].items())
        if path.startswith("/v1/")
        for method in sorted(item)
    ]


@pytest.mark.parametrize(("method", "path"), operations())
def test_no_server_error_and_every_answer_matches_the_schema(
    method: str,
    path: str,
    api_schema: Any,
    served: tuple[PreparedService, str],
    credentials: dict[str, str],
) -> None:
    _prepared, url = served
    token = credentials[credential_for(method, path)]
    operation = api_schema[path][method]

    prepared = served[0]
    known = {
        "document_hash": "0x" + prepared.doc_hash.hex(),
        "event_id": "0x" + prepared.event_id.hex(),
        # Governance acts on department 4, so department 3's token keeps working.
        "department_id": prepared.other_department_id
        if credential_for(method, path) == "admin"
        else prepared.department_id,
    }
    members = declared_members(api_schema.raw_schema, method, path)

    @given(
        case=operation.as_strategy(),
        mode=st.sampled_from(["generated", "known", "edges"]),
        data=st.data(),
    )
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any, mode: str, data: st.DataObject) -> None:
        if mode != "generated":  # these reach a record that exists, not only the 404s
            for name in list(case.path_parameters or {}):
                if name in known:
                    case.path_parameters[name] = known[name]
        if mode == "edges":
            at_the_edges(case, members, passing_values(prepared), data)
        response = case.call_and_validate(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS, timeout=60
        )
        statuses.append(response.status_code)

    statuses: list[int] = []
    fuzz()
    assert statuses, "no request was made"
    assert all(status < 500 for status in statuses)
    print(f"{method} {path}: {len(statuses)} requests, statuses {sorted(set(statuses))}")


def declared_members(document: dict[str, Any], method: str, path: str) -> Members:
    """The query parameters and top-level body members an operation declares."""
    operation = document["paths"][path][method.lower()]
    query = {
        parameter["name"]
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    body: set[str] = set()
    for content in operation.get("requestBody", {}).get("content", {}).values():
        schema = content.get("schema", {})
        for option in [schema, *schema.get("anyOf", [])]:
            reference = option.get("$ref", "")
            if reference.startswith("#/components/schemas/"):
                option = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
            body |= set(option.get("properties", {}))
    return Members(frozenset(query), frozenset(body))


def passing_values(prepared: PreparedService) -> dict[str, object]:
    """Values that get a request past the members routes read before its dates."""
    return {
        "type": "business-licence",
        "certificateType": "business-licence",
        "category": "false-information",
        "subject": prepared.enterprise,
        "subjectKind": "enterprise",
        "enterprise": prepared.enterprise,
        "reason": "fraud",
        "evidenceHash": "0x" + "ab" * 32,
        "scopes": ["business-licence"],
        "region": 110105,
        "limit": 10,
        "files": [b"a document of a boundary batch"],
    }


def at_the_edges(
    case: Any, members: Members, passing: dict[str, object], data: st.DataObject
) -> None:
    """Give ``case`` passing values where routes look first (at any depth), then boundary
    values: every date member (added when the case left it out) and the cursor; and in half of
    the cases every integer too (else one bad integer would always stop the request before its
    dates are read)."""
    if case.query is None and members.query:
        case.query = {}
    containers = [
        (container, names)
        for container, names in ((case.body, members.body), (case.query, members.query))
        if isinstance(container, dict)
    ]
    for container, names in containers:
        _fill(container, passing)
        for name in sorted(names & (DATE_MEMBERS | {"cursor"})):
            values = BOUNDARY_CURSORS if name == "cursor" else BOUNDARY_DATES
            container[name] = data.draw(st.sampled_from(values), label=name)
    if data.draw(st.booleans(), label="integers at the edges"):
        for container in [case.path_parameters, *(container for container, _ in containers)]:
            if container:
                _integers_at_the_edges(container, data)


def _fill(value: Any, passing: dict[str, object]) -> None:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in list(items):
        if isinstance(key, str) and key in passing:
            value[key] = passing[key]
        elif isinstance(item, dict | list):
            _fill(item, passing)


def _integers_at_the_edges(value: Any, data: st.DataObject) -> None:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in list(items):
        if isinstance(item, int) and not isinstance(item, bool):
            value[key] = data.draw(st.sampled_from(BOUNDARY_INTEGERS), label=str(key))
        elif isinstance(item, dict | list):
            _integers_at_the_edges(item, data)


def bounded_operations() -> list[Any]:
    """The operations that take a date or a list cursor, as ``pytest.param(method, path)``."""
    from api.app import create_app
    from ledger.config import Settings

    document = create_app(Settings(dev_issuer=True)).openapi()
    found = []
    for param in operations():
        method, path = param.values
        members = declared_members(document, method, path)
        if (members.body | members.query) & (DATE_MEMBERS | {"cursor"}):
            found.append(param)
    return found


@pytest.mark.parametrize(("method", "path"), bounded_operations())
def test_every_boundary_date_and_cursor_is_answered_below_500(
    method: str,
    path: str,
    api_schema: Any,
    served: tuple[PreparedService, str],
    credentials: dict[str, str],
) -> None:
    """Every boundary date in every date member and every boundary cursor, each sent once in
    an otherwise passing request (one Schemathesis case with the passing values): the random
    cases above reach a few of them per operation, this reaches all of them."""
    prepared, url = served
    token = credentials[credential_for(method, path)]
    operation = api_schema[path][method]
    members = declared_members(api_schema.raw_schema, method, path)
    known = {"document_hash": "0x" + prepared.doc_hash.hex(), "department_id": 3}
    answers: dict[str, int | str] = {}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=1,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def send_every_boundary(case: Any) -> None:
        for name in list(case.path_parameters or {}):
            case.path_parameters[name] = known.get(name, case.path_parameters[name])
        if case.query is None:
            case.query = {}
        for container, names in ((case.body, members.body), (case.query, members.query)):
            if not isinstance(container, dict):
                continue
            _fill(container, passing_values(prepared))
            for name in sorted(names & (DATE_MEMBERS | {"cursor"})):
                values = BOUNDARY_CURSORS if name == "cursor" else BOUNDARY_DATES
                for value in values:
                    container[name] = value
                    try:
                        response = case.call_and_validate(
                            base_url=url,
                            headers={"Authorization": f"Bearer {token}"},
                            checks=CHECKS,
                            timeout=60,
                        )
                    except (Failure, FailureGroup) as failure:  # try every value, show all
                        answers[f"{name}={value!r}"] = _summary(failure)
                    else:
                        answers[f"{name}={value!r}"] = response.status_code
                container.pop(name)

    send_every_boundary()
    print(f"{method} {path}: {answers}")
    assert answers, "no request was made"
    failed = {value: answer for value, answer in answers.items() if not isinstance(answer, int)}
    assert not failed, "\n".join(f"{value}: {answer}" for value, answer in failed.items())


def _summary(failure: Failure | FailureGroup) -> str:
    """What Schemathesis found, one failure a line (its title, e.g. "Server error")."""
    found = failure.exceptions if isinstance(failure, FailureGroup) else (failure,)
    return "; ".join(str(getattr(item, "title", item)) for item in found)
