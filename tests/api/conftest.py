"""The in-process service every API test module talks to.

Each module defines its own module-scoped ``prepared`` (a ``PreparedService`` from
tests/support/service.py or a ``Prepared`` from tests/api/support.py, with the settings it
needs); ``client`` is one ``TestClient`` over it, lifespan included, so the module's tests share
one service and one chain.
Plain helpers (``bearer``, ``assert_problem``) are in tests/support/http.py.

A module that defines no ``prepared`` gets the route tests' one: a service prepared once for the
session (small document limit, no rate limit), so that the modules of tests/api/routes/ and the
cross-cutting ones beside them share one chain as they did when they were one module; ``api``
is the shortcuts of tests/support/routes.py over it, and ``alternate`` a second data directory
for apps with other settings (one open at a time).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.support import Prepared
from tests.support.routes import LIMIT, Api
from tests.support.service import PreparedService, prepare_service


@pytest.fixture(scope="module")
def client(prepared: PreparedService | Prepared) -> Iterator[TestClient]:
    """The service over the module's ``prepared`` data directory. Server exceptions become the
    500 a real client would get, so that a test sees the problem document, not a traceback."""
    with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("routes"), max_upload_bytes=LIMIT, rate_limit=0)


@pytest.fixture(scope="module")
def api(client: TestClient, prepared: PreparedService) -> Api:
    tokens = []
    for subject in (prepared.citizen, prepared.enterprise):
        response = client.post("/v1/dev/token", json={"subject": subject})
        assert response.status_code == 200, response.text
        tokens.append(response.json()["token"])
    return Api(client, prepared, *tokens)


@pytest.fixture(scope="session")
def alternate(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    """A second data directory for apps with other settings (one open at a time)."""
    return prepare_service(tmp_path_factory.mktemp("alternate"))
