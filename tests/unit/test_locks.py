"""The data directory's ownership locks (ADR 0021): exclusive between processes, one shared hold
within the service's process, released by the kernel when the owner dies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.errors import LedgerError, ServiceRunningError
from ledger.locks import ProcessLock, SharedProcessLock, holder
from ledger.service.database import lock_service_database, service_lock_path


class BusyError(LedgerError):
    """What the locks under test raise when held."""


def busy(pid: str) -> BusyError:
    return BusyError(pid)


_CHILD = """
import sys
from pathlib import Path
from ledger.service.database import lock_service_database
from ledger.errors import ServiceRunningError
try:
    lock_service_database(Path(sys.argv[1]))
except ServiceRunningError as error:
    print(error)
    sys.exit(7)
print("acquired")
"""


def try_in_child(database: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CHILD, str(database)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_process_lock_is_exclusive_and_names_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "LOCK"
    first = ProcessLock(path, busy=busy)
    assert holder(path) == os.getpid()
    with pytest.raises(BusyError, match=str(os.getpid())):
        ProcessLock(path, busy=busy)  # another handle, even in this process
    first.release()
    first.release()  # idempotent
    ProcessLock(path, busy=busy).release()


def test_holds_in_one_process_share_the_lock_and_other_processes_are_refused(
    tmp_path: Path,
) -> None:
    database = tmp_path / "service.sqlite3"
    command = lock_service_database(database)
    app = lock_service_database(database)  # Service.open in the same `ledger serve`
    refused = try_in_child(database)
    assert refused.returncode == 7, refused.stderr
    assert f"pid {os.getpid()}" in refused.stdout
    command.release()
    assert try_in_child(database).returncode == 7  # the app still holds it
    app.release()
    acquired = try_in_child(database)
    assert acquired.returncode == 0, acquired.stderr
    assert service_lock_path(database) == tmp_path / "service.sqlite3.lock"


def test_a_killed_owner_leaves_no_lock_behind(tmp_path: Path) -> None:
    database = tmp_path / "service.sqlite3"
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from ledger.service.database import lock_service_database; "
            "lock_service_database(Path(sys.argv[1])); print('held', flush=True); time.sleep(600)",
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "held"
        with pytest.raises(ServiceRunningError, match=f"pid {owner.pid}"):
            lock_service_database(database)
    finally:
        owner.kill()
        owner.wait(timeout=30)
    lock_service_database(database).release()  # the kernel dropped the dead owner's lock


def test_shared_holds_release_only_their_own(tmp_path: Path) -> None:
    path = tmp_path / "LOCK"
    one = SharedProcessLock(path, busy=busy)
    two = SharedProcessLock(path, busy=busy)
    one.release()
    one.release()  # a second release of the same hold does not drop the other's
    with pytest.raises(BusyError):
        ProcessLock(path, busy=busy)
    two.release()
    ProcessLock(path, busy=busy).release()
