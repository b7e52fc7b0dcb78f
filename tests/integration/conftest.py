"""Backends for the integration suite: the same tests run on the embedded chain and on anvil.

``ledger_backend`` (and ``ledger_session``, its session) is parametrized with the ids
``embedded`` and ``anvil``: an initialized ledger in ``tmp_path / "data"``, on the in-process chain
or on a fresh anvil node started for the test. ``department`` registers a department with scopes.
The helpers below are imported by the test modules of this folder.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

import pytest
from eth_typing import ChecksumAddress
from pydantic import SecretStr

from ledger.catalogue import certificate_type, credit_category
from ledger.cli.departments import add_department
from ledger.config import Settings
from ledger.session import LedgerSession
from tests.support.anvil import AnvilNode, start_anvil

BackendKind = Literal["embedded", "anvil"]
BACKENDS: Final[tuple[BackendKind, ...]] = ("embedded", "anvil")

#: The department most tests act as: a county-level office (Dongcheng, Beijing).
DEPARTMENT_ID: Final = 1
DEPARTMENT_REGION: Final = 110101
DEPARTMENT_NAME: Final = "东城区市场监督管理局"
BUSINESS_LICENCE: Final = certificate_type("business-licence").code
RESIDENCE_CERTIFICATE: Final = certificate_type("residence-certificate").code
MARRIAGE_CERTIFICATE: Final = certificate_type("marriage-certificate").code  # never granted
TAX_VIOLATION: Final = credit_category("tax-violation").code
CONTRACT_DEFAULT: Final = credit_category("contract-default").code
COMMENDATION: Final = credit_category("commendation").code
DEPARTMENT_SCOPES: Final = (
    BUSINESS_LICENCE,
    RESIDENCE_CERTIFICATE,
    TAX_VIOLATION,
    CONTRACT_DEFAULT,
    COMMENDATION,
)

#: Environment variables that would silently change which chain or secrets a test uses.
_LEDGER_ENVIRONMENT: Final = (
    "LEDGER_DATA_DIR",
    "LEDGER_RPC_URL",
    "LEDGER_PEPPER",
    "LEDGER_KEYSTORE_PASSWORD",
    "LEDGER_CONFIRMATIONS",
    "LEDGER_RECEIPT_TIMEOUT",
)


@dataclass
class Backend:
    """An open ledger on one backend; ``node`` is the anvil process (None when embedded)."""

    kind: BackendKind
    session: LedgerSession
    data_dir: Path
    node: AnvilNode | None = None

    def chain_time(self) -> datetime:
        """Timestamp of the latest block (it may run ahead of the wall clock)."""
        block = self.session.connection.web3.eth.get_block("latest")
        return datetime.fromtimestamp(int(block["timestamp"]), UTC)

    def next_block_in_a_later_second(self) -> None:
        """Make the next block's timestamp strictly greater than the latest one's.

        The embedded chain always does (``max(parent + 1, now)``); anvil mines every block of the
        same wall-clock second with the same timestamp, so it is told explicitly.
        """
        if self.node is None:
            return
        latest = int(self.session.connection.web3.eth.get_block("latest")["timestamp"])
        self.node.rpc("evm_setNextBlockTimestamp", [latest + 1])

    def next_block_in_the_same_second(self) -> None:
        """Make the next block's timestamp equal the latest one's (anvil only)."""
        assert self.node is not None, "only anvil mines two blocks in one second"
        latest = int(self.session.connection.web3.eth.get_block("latest")["timestamp"])
        self.node.rpc("evm_setNextBlockTimestamp", [latest])


@contextlib.contextmanager
def open_backend(
    kind: BackendKind,
    root: Path,
    *,
    pepper: str | None = None,
    keystore_password: str | None = None,
) -> Iterator[Backend]:
    """Initialize a ledger in ``root / "data"`` on ``kind``; always closes it (and stops anvil)."""
    root.mkdir(parents=True, exist_ok=True)
    data_dir = root / "data"
    with contextlib.ExitStack() as stack:
        node: AnvilNode | None = None
        if kind == "anvil":
            node = stack.enter_context(start_anvil(log_path=root / "anvil.log"))
        settings = Settings(
            data_dir=data_dir,
            rpc_url=None if node is None else node.url,
            pepper=None if pepper is None else SecretStr(pepper),
            keystore_password=None if keystore_password is None else SecretStr(keystore_password),
        )
        session, deployed = LedgerSession.initialize(settings)
        stack.callback(session.close)
        assert deployed, "a fresh chain must get a fresh deployment"
        yield Backend(kind, session, data_dir, node)


@pytest.fixture(autouse=True)
def _clean_ledger_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read ``LEDGER_*``: a variable left in the shell must not redirect the tests."""
    for name in _LEDGER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=BACKENDS)
def ledger_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """An initialized ledger on the embedded chain or on a fresh anvil node."""
    with open_backend(request.param, tmp_path) as backend:
        yield backend


@pytest.fixture
def ledger_session(ledger_backend: Backend) -> LedgerSession:
    """The session of :func:`ledger_backend` (parametrized ``embedded`` / ``anvil``)."""
    return ledger_backend.session


@dataclass(frozen=True)
class RegisteredDepartment:
    """A department registered by the ``department`` fixture, with its first signing key."""

    department_id: int
    region: int
    name: str
    scopes: tuple[int, ...]
    signer: ChecksumAddress


@pytest.fixture
def department(ledger_session: LedgerSession) -> RegisteredDepartment:
    """Department 1 in region 110101, accredited for :data:`DEPARTMENT_SCOPES`."""
    signer = add_department(
        ledger_session, DEPARTMENT_ID, DEPARTMENT_REGION, DEPARTMENT_NAME, list(DEPARTMENT_SCOPES)
    )
    return RegisteredDepartment(
        DEPARTMENT_ID, DEPARTMENT_REGION, DEPARTMENT_NAME, DEPARTMENT_SCOPES, signer
    )
