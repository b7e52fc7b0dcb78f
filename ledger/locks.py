"""Exclusive ownership of a file in the data directory by one process (ADR 0021).

A :class:`ProcessLock` is an ``fcntl.flock`` on a lock file, taken without waiting and held as
long as the process keeps it: the kernel drops it when the descriptor closes, so a process that
crashes (even with ``kill -9``) leaves nothing to clean up; a stale lock cannot exist. The
owner's pid is written into the file for the message the next process shows and for
:func:`holder`, which tells whether a known process is the one holding it.

Two locks use it: ``chain/LOCK`` (the embedded chain has one owner, ADR 0002) and
``service.sqlite3.lock`` (one ``ledger serve`` per service database: two would each take the
other's journaled operations for their own).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from ledger.errors import LedgerError

__all__ = ["ProcessLock", "SharedProcessLock", "holder"]

#: A lock found busy is asked again for this long before it is reported as held: a process
#: that is only looking (:func:`holder` does not lock, but an older client might) must not
#: make a starting owner fail.
_RETRY_SECONDS: Final = 0.2


class ProcessLock:
    """An exclusive, non-blocking ``flock`` on ``path`` holding the owner's pid.

    ``busy`` builds the error raised when another process (or another open handle in this
    process) holds the file; it receives the holder's pid as text ("unknown" when unreadable).
    """

    def __init__(self, path: Path, *, busy: Callable[[str], LedgerError]) -> None:
        self.path = Path(path)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _flock(fd)
        except BlockingIOError:
            os.close(fd)
            pid = holder(self.path)
            raise busy(str(pid) if pid is not None else "unknown") from None
        except BaseException:
            os.close(fd)
            raise
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        """Whether this handle still holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing the descriptor drops the flock


def _flock(fd: int) -> None:
    deadline = time.monotonic() + _RETRY_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def holder(path: Path) -> int | None:
    """The pid written into the lock file ``path`` by its last owner, or None.

    Only meaningful while the lock is known to be held (a crashed owner's pid stays in the
    file): callers ask after taking the lock failed.
    """
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


_shared: dict[Path, tuple[ProcessLock, int]] = {}
_shared_guard = threading.Lock()


class SharedProcessLock:
    """A hold on ``path`` for this process, sharing one :class:`ProcessLock` among the holders
    in it; another process is refused with ``busy``.

    The service lock is taken twice by one ``ledger serve``: by the command before uvicorn
    starts (so that a second service fails in one line, before it binds a port) and by
    :meth:`api.service.Service.open`, which every host of the app runs. Both are the same
    service, so the second hold joins the first. The file is released when the last holder in
    the process lets go.
    """

    def __init__(self, path: Path, *, busy: Callable[[str], LedgerError]) -> None:
        self.path = Path(path).resolve()
        with _shared_guard:
            lock, count = _shared.get(self.path, (None, 0))
            if lock is None:
                lock = ProcessLock(self.path, busy=busy)
            _shared[self.path] = (lock, count + 1)
        self._held = True

    def release(self) -> None:
        """Let go of this hold (idempotent); the last one in the process drops the lock."""
        with _shared_guard:
            if not self._held:
                return
            self._held = False
            lock, count = _shared[self.path]
            if count > 1:
                _shared[self.path] = (lock, count - 1)
            else:
                del _shared[self.path]
                lock.release()
