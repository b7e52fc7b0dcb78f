"""The in-process service every API test module talks to.

Each module defines its own module-scoped ``prepared`` (a ``PreparedService`` from
tests/support/service.py or a ``Prepared`` from tests/api/support.py, with the settings it
needs); ``client`` is one ``TestClient`` over it, lifespan included, so the module's tests share
one service and one chain.
Plain helpers (``bearer``, ``assert_problem``) are in tests/support/http.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.support import Prepared
from tests.support.service import PreparedService


@pytest.fixture(scope="module")
def client(prepared: PreparedService | Prepared) -> Iterator[TestClient]:
    """The service over the module's ``prepared`` data directory. Server exceptions become the
    500 a real client would get, so that a test sees the problem document, not a traceback."""
    with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as test_client:
        yield test_client
