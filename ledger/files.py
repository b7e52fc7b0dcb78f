"""Durable file replacement, shared by everything that writes state into the data directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["TEMPORARY_SUFFIX", "atomic_file", "write_atomically"]

#: Suffix of the temporary files (stray ones after a crash can be recognized and removed).
TEMPORARY_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_file(path: Path, *, mode: int = 0o644, exclusive: bool = False) -> Iterator[BinaryIO]:
    """A file that replaces ``path`` only once fully written and fsynced.

    The bytes go to a uniquely named temporary file in the same directory (so a crash leaves a
    stray file, never a blocker, and a reader sees the old file or the new one), which is renamed
    over ``path`` when the block ends without an exception. ``mode`` applies from creation: a
    secret is never readable by others, not even for a moment. ``exclusive`` never replaces: the
    file is linked in place, and FileExistsError leaves an existing ``path`` as it was (a key).
    """
    directory = path.parent if str(path.parent) else Path()
    fd, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=directory
    )
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            os.link(temporary, path)
            os.unlink(temporary)
        else:
            os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_atomically(path: Path, data: bytes | memoryview, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` durably and atomically (see :func:`atomic_file`)."""
    with atomic_file(path, mode=mode) as handle:
        handle.write(data)
