"""The root of the ``ledger`` command line: the click group :data:`cli` with its global options,
the exit statuses, and :func:`main`, which turns every error into one line on stderr and a
status that says what kind of error it was (see :data:`EXIT_CODES`).

Not here: the commands, which attach themselves to :data:`cli` from their own modules (imported
by :mod:`ledger.cli`), and what they share (:mod:`ledger.cli.common`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final, NoReturn

import click

from ledger.cli.common import State
from ledger.errors import (
    ChainUnavailableError,
    ConfigurationError,
    ConflictError,
    DataDirectoryLockedError,
    DuplicateError,
    InsufficientFundsError,
    InvalidDocumentError,
    InvalidIdentifierError,
    LedgerError,
    NotAuthorizedError,
    NotDeployedError,
    NotFoundError,
    ServiceBusyError,
    UnknownKeyError,
    ValidationError,
)
from ledger.storage import DocumentNotFoundError, StorageUnavailableError
from ledger.storage.cid import InvalidCidError
from ledger.storage.vault import DocumentErasedError, VaultError

__all__ = ["EXIT_CODES", "EXIT_ERASED", "EXIT_INVALID", "cli", "main"]


#: Exit status of ``ledger verify`` and ``ledger window verify`` when the document is INVALID,
#: of ``ledger window check`` when a required type is missing, and of ``ledger access-log
#: verify`` when the entry is NOT INCLUDED (the command itself worked).
EXIT_INVALID: Final = 10
#: Exit status when a document was erased: unlike "not found" (3), no retry, other node or CAR
#: import will ever bring its content back, so scripts should stop asking.
EXIT_ERASED: Final = 11
#: Exit status when the service asks the client to wait (429): too many requests, too many failed
#: consent redemptions; the message says for how long.
EXIT_BUSY: Final = 12
#: Exit status per error kind (first match wins); 0 is success, 1 any other failure.
EXIT_CODES: Final[tuple[tuple[type[BaseException], int], ...]] = (
    (ValidationError, 2),
    (InvalidIdentifierError, 2),
    (InvalidDocumentError, 2),
    (InvalidCidError, 2),
    (DocumentErasedError, EXIT_ERASED),
    (DocumentNotFoundError, 3),
    (NotFoundError, 3),
    (NotAuthorizedError, 4),
    (DuplicateError, 5),
    (ConflictError, 5),
    (ChainUnavailableError, 6),
    (StorageUnavailableError, 6),
    (DataDirectoryLockedError, 7),
    (ConfigurationError, 8),
    (NotDeployedError, 8),
    (UnknownKeyError, 8),
    (VaultError, 8),
    (InsufficientFundsError, 9),
    (ServiceBusyError, EXIT_BUSY),
)
#: ``ledger --help`` epilog: what each exit status means.
_EXIT_STATUS_HELP: Final = """\b
Exit status:
  0  success
  1  any other failure
  2  invalid input (identifier, document, CID, option)
  3  not found (department, certificate, stored document, service)
  4  not authorized
  5  duplicate or conflicting record
  6  chain node, document store (IPFS node) or service (`ledger window`)
     unreachable: retry
  7  data directory in use by another process (the embedded chain, or the
     service database of a running `ledger serve`; writes then go through its API)
  8  configuration (secrets, master key, deployment, keys, key vault), or no
     ledger here: point at one with --data-dir DIR or --rpc URL, or `ledger init`
  9  signing key cannot pay for gas
  10 `ledger verify`, `ledger window verify`: the document is INVALID;
     `ledger window check`: a required type is missing; `ledger access-log
     verify`: the entry is NOT INCLUDED in an anchored batch
  11 the stored document was erased: its key is destroyed for good
  12 the service asks to wait (too many requests, too many failed consent
     codes): retry after the time the message says
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EXIT_STATUS_HELP)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="LEDGER_DATA_DIR",
    default=Path("ledger-data"),
    show_default=True,
    help="Data directory (embedded chain, keys, deployments).",
)
@click.option(
    "--rpc", "rpc_url", envvar="LEDGER_RPC_URL", help="JSON-RPC URL instead of the embedded chain."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (also accepted after the command)."
)
@click.pass_context
def cli(ctx: click.Context, data_dir: Path, rpc_url: str | None, as_json: bool) -> None:
    """Certificate and credit ledger for government services."""
    ctx.obj = State(data_dir=data_dir, rpc_url=rpc_url, as_json=as_json)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; errors become one line on stderr and a non-zero exit status."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None, prog_name="ledger", standalone_mode=False
        )
    except click.exceptions.Abort:
        _fail("aborted", 1)
    except click.UsageError as exc:
        _fail(f"{exc.format_message()} (see --help)", 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code or 1)
    except LedgerError as exc:
        for kind, code in EXIT_CODES:
            if isinstance(exc, kind):
                _fail(str(exc), code)
        _fail(str(exc), 1)
    except OSError as exc:
        _fail(f"{exc.strerror or type(exc).__name__}", 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
