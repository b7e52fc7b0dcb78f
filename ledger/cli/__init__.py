"""The ``ledger`` command line: :func:`main` runs it, :data:`cli` is its click group (``api.cli``
adds ``serve`` to it).

Readable output by default, ``--json`` for scripts. Every error is one line on stderr and a
non-zero exit status that says what kind of error it was (see :data:`EXIT_CODES`); identifiers
never appear in output or errors, only their kind.

The root group and the entry point are in :mod:`ledger.cli.app`, what the commands share in
:mod:`ledger.cli.common`, and each command group in its own module; importing this package
attaches them all to :data:`cli`.
"""

from __future__ import annotations

from ledger.cli import (  # noqa: F401  (each attaches its commands to the group)
    access_log,
    bundles,
    certificates,
    credit,
    departments,
    documents,
    services,
    setup,
    stats,
    tokens,
    verify,
    window,
    window_uploads,
)
from ledger.cli.app import EXIT_CODES, EXIT_ERASED, EXIT_INVALID, cli, main

__all__ = ["EXIT_CODES", "EXIT_ERASED", "EXIT_INVALID", "cli", "main"]
