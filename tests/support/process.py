"""Child processes of the tests and benchmarks (anvil, js-ipfs, ``ledger serve``), written once.

A child is started with its stdout and stderr appended to a log file, waited for until it says it
is ready - within a deadline, failing with an error that ends with the tail of its log - and
stopped with SIGTERM, a wait, then SIGKILL. A start that fails (the child exited, the deadline
passed, a Ctrl-C) kills the child before the error goes on, so none is left behind.

Not in here: what each program needs - its binary, arguments, environment and what "ready"
means. That stays in ``tests/support/anvil.py``, ``ipfs.py`` and ``serve.py``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeVar

__all__ = [
    "ChildProcess",
    "NotReady",
    "die_with_parent",
    "free_port",
    "read_log",
    "serving_on_a_port",
    "wait_until_ready",
]

#: How long a killed child is waited for, so that it does not linger as a zombie.
REAP_TIMEOUT = 30.0
#: Tries of a server started on a free port: another process may take the port in between.
PORT_ATTEMPTS = 3


class NotReady(Exception):  # noqa: N818 - a signal between a probe and its loop, not an error
    """Raised by a readiness probe: not yet, try again (its message is the reason, reported if
    the deadline passes)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def die_with_parent() -> None:
    """In the child before exec (Linux): SIGKILL it if the test process dies, so a killed
    pytest run leaves no node behind. Elsewhere a no-op."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def read_log(path: Path, offset: int = 0) -> str:
    """What the log holds from ``offset`` on (empty if it cannot be read)."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


@dataclass
class ChildProcess:
    """A started child process and the log its output goes to.

    Subclasses add what their program needs (a port, a repository); their fields follow
    ``process`` and ``log_path``, the keyword-only ones here are filled in by :meth:`spawn`.
    """

    process: subprocess.Popen[bytes]
    log_path: Path
    args: list[str] = field(default_factory=list, kw_only=True)
    #: Where this start's output begins in the log (a log may be appended to across starts).
    log_offset: int = field(default=0, kw_only=True)
    #: ``time.monotonic()`` just before the process was spawned.
    started: float = field(default=0.0, kw_only=True)

    @classmethod
    def spawn(
        cls,
        command: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        own_session: bool = True,
        **fields: Any,
    ) -> Self:
        """Start ``command`` with stdin from /dev/null and its output appended to ``log_path``.

        With ``own_session`` (the default) the child gets a session of its own - a Ctrl-C in
        the terminal goes to pytest, which then stops the child itself - and, on Linux, dies
        with the test process. ``fields`` are the subclass's own.
        """
        with log_path.open("ab") as log:
            log_offset = log.tell()
            started = time.monotonic()
            process = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=own_session,
                preexec_fn=die_with_parent if own_session else None,
            )
        return cls(
            process,
            log_path,
            args=list(command),
            log_offset=log_offset,
            started=started,
            **fields,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """What this start wrote to the log so far."""
        return read_log(self.log_path, self.log_offset)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, like ``kill -9``: the child gets no chance to finish anything."""
        if self.alive():
            self.process.kill()
        self._reap()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, and :meth:`kill` if it has not exited within ``timeout`` seconds."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reap()

    def _reap(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(REAP_TIMEOUT)


def wait_until_ready(
    child: ChildProcess,
    ready: Callable[[str], None],
    *,
    what: str,
    timeout: float,
    error: type[Exception],
    interval: float = 0.05,
) -> None:
    """Call ``ready`` with the child's output so far until it returns without :class:`NotReady`.

    ``error`` (the program's exception) is raised, with the tail of the log, if the child exits
    first or the deadline passes; ``ready`` may raise it itself for what no wait can mend. On any
    exception the child is killed before it goes on. An answer counts only while the child
    still runs: another process may hold the port and answer in its place.
    """
    deadline = time.monotonic() + timeout
    last: NotReady | None = None
    try:
        while True:
            if not child.alive():
                raise error(
                    f"{what} exited with code {child.process.returncode} before it was ready; "
                    f"log tail ({child.log_path}):\n{child.log_tail()}"
                )
            if time.monotonic() >= deadline:
                raise error(
                    f"{what} was not ready within {timeout:.0f} s (last error: {last}); "
                    f"log tail ({child.log_path}):\n{child.log_tail()}"
                )
            try:
                ready(child.output())
            except NotReady as exc:
                last = exc
            else:
                if child.alive():
                    return
                continue  # reported at the top of the loop
            time.sleep(interval)
    except BaseException:
        child.kill()
        raise


Child = TypeVar("Child", bound=ChildProcess)


def _temporary_log(name: str, port: int) -> Path:
    handle, path = tempfile.mkstemp(prefix=f"{name}-{port}-", suffix=".log")
    os.close(handle)
    return Path(path)


@contextlib.contextmanager
def serving_on_a_port(
    start: Callable[[int, Path], Child],
    ready: Callable[[Child, str], None],
    *,
    name: str,
    port: int | None,
    log_path: Path | None,
    timeout: float,
    error: type[Exception],
    port_taken: str,
) -> Iterator[Child]:
    """``start(port, log_path)`` a server child, wait until ``ready``, yield it, always stop it.

    Without ``port`` a free one is chosen, and another (up to three in all) if the start fails
    with ``port_taken`` in the child's output: a process may take the port between the choice
    and the bind. The log goes to ``log_path`` (default: a temporary file named after ``name``
    and the port, deleted afterwards unless the start failed).
    """
    attempt = 1
    while True:
        chosen = port if port is not None else free_port()
        path = log_path if log_path is not None else _temporary_log(name, chosen)
        child = start(chosen, path)
        try:
            wait_until_ready(
                child,
                functools.partial(ready, child),
                what=f"{name} on 127.0.0.1:{chosen}",
                timeout=timeout,
                error=error,
            )
        except error:
            if port is None and attempt < PORT_ATTEMPTS and port_taken in child.output():
                attempt += 1
                if log_path is None:
                    path.unlink(missing_ok=True)
                continue
            raise
        break
    try:
        yield child
    finally:
        child.stop()
        if log_path is None:
            child.log_path.unlink(missing_ok=True)
