"""A journaled write's failure, stored by class name, comes back as the problem its error had.

The transaction manager records ``type(exc).__name__``; the API finds the class again among every
:class:`LedgerError` subclass, wherever it is defined (``ledger.storage``,
``ledger.service.journal``, ``api.security``, ...), so none of them silently becomes a 500.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import api
import ledger
from api.problems import _status_of, status_of_error
from ledger.errors import LedgerError, error_classes
from ledger.service.calls import encode_call
from ledger.service.database import ServiceDatabase
from ledger.service.journal import Journal

ROOT = Path(__file__).resolve().parents[2]


def _defined_errors() -> list[type[LedgerError]]:
    """Every LedgerError subclass defined in ``ledger`` or ``api`` (all their modules imported)."""
    for package in (ledger, api):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    seen: dict[type[LedgerError], None] = {}
    pending: list[type[LedgerError]] = [LedgerError]
    while pending:
        cls = pending.pop()
        if cls not in seen and cls.__module__.split(".")[0] in ("ledger", "api"):
            seen[cls] = None
            pending.extend(cls.__subclasses__())
    return sorted(seen, key=lambda cls: cls.__name__)


ERRORS = _defined_errors()

#: The classes defined outside ledger/errors.py and the status each must keep: a class added
#: elsewhere must be added here, with the status it deserves.
OUTSIDE_ERRORS_MODULE = {
    "CarFormatError": (500, "car_format"),
    "CorruptBlockError": (500, "corrupt_block"),
    "DocumentErasedError": (500, "document_erased"),
    "DocumentNotFoundError": (404, "document_not_found"),
    "InvalidCidError": (500, "invalid_cid"),
    "MalformedBlockError": (500, "malformed_block"),
    "MissingBlockError": (500, "missing_block"),
    "StorageError": (500, "storage_error"),
    "StorageUnavailableError": (503, "storage_unavailable"),
    "TokenRejectedError": (401, "unauthenticated"),
    "VaultError": (500, "vault_error"),
}


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with ServiceDatabase(tmp_path / "service.sqlite3") as database:
        yield Journal(database)


def test_error_class_names_are_unique() -> None:
    names = [cls.__name__ for cls in ERRORS]
    assert len(names) == len(set(names))
    assert len(ERRORS) > 80  # the whole hierarchy was found, contract errors included


def test_every_error_round_trips_through_the_journal(journal: Journal) -> None:
    """Stored as the transaction manager stores it, read back, mapped: the status and code are
    those the error has when raised in a request (api/problems.py ``_ledger_error``)."""
    call = encode_call("CertificateRegistry", "revoke", [b"\x01" * 32, 3], {"department": 7})
    for cls in ERRORS:
        operation, _ = journal.accept("certificate.revoke", {"call": call}, department_id=7)
        journal.mark_failed(operation.op_id, cls.__name__, "it failed")
        failed = journal.get(operation.op_id)
        assert failed is not None
        assert failed.error_code is not None
        assert status_of_error(failed.error_code) == (_status_of(cls), cls.code), cls


def test_errors_outside_the_errors_module_keep_their_status() -> None:
    outside = {cls.__name__ for cls in ERRORS if cls.__module__ != "ledger.errors"}
    assert outside == set(OUTSIDE_ERRORS_MODULE)
    for name, expected in OUTSIDE_ERRORS_MODULE.items():
        assert status_of_error(name) == expected, name
    # Moved to ledger/errors.py, still mapped as the service has always answered them.
    assert status_of_error("BacklogFullError") == (429, "too_many_operations")
    assert status_of_error("IdempotencyConflictError") == (422, "idempotency_conflict")
    assert status_of_error("ServiceDatabaseError") == (500, "service_database_error")


def test_the_service_process_knows_every_error_class() -> None:
    """The registry holds only classes whose modules were imported: a fresh service process
    (no journaled write run yet, only old failures to show) must still find each of them."""
    script = "import api.app\nfrom ledger.errors import error_classes\nprint(*error_classes())\n"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert {cls.__name__ for cls in ERRORS} <= set(result.stdout.split())


def test_an_unknown_name_is_an_internal_error() -> None:
    """A name no class has (a journal written by another version): the service cannot say why
    the write failed, which is its fault, not the client's."""
    assert "NoSuchError" not in error_classes()
    assert status_of_error("NoSuchError") == (500, "internal_error")
    assert status_of_error("") == (500, "internal_error")
    assert status_of_error("LedgerError") == (500, "ledger_error")
