"""The ``ledger`` command line: :func:`main` runs it, :data:`cli` is its click group (``api.cli``
adds ``serve`` to it).

Not here: the commands themselves (a module per command group in this package).
"""

from __future__ import annotations

from ledger.cli.certificates import EXIT_CODES, EXIT_ERASED, EXIT_INVALID, cli, main

__all__ = ["EXIT_CODES", "EXIT_ERASED", "EXIT_INVALID", "cli", "main"]
