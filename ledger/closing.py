"""The ``with`` protocol of the ledger's resources, written once.

A chain connection, the embedded chain, a session, the service database, the key vault and the
document store each hold something to release (a file lock, a SQLite connection, an HTTP pool):
each defines :meth:`Closing.close`, and ``with resource:`` closes it however the block ends.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing:
    """A resource closed at the end of a ``with`` block (exception or not), which yields the
    resource itself. Subclasses define :meth:`close`."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
