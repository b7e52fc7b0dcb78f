"""The ``ledger`` command: the library's CLI (:mod:`ledger.cli`) plus ``ledger serve``.

``serve`` lives here, not in :mod:`ledger.cli`, so that the library never imports the web stack
(docs/architecture.md, "Layers and folders": ``api`` depends on ``ledger``, never the reverse).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from ledger import cli as ledger_cli

__all__ = ["main"]

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@ledger_cli.cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--dev-issuer",
    is_flag=True,
    envvar="LEDGER_DEV_ISSUER",
    help="Issue citizen tokens at POST /v1/dev/token (demo and tests only).",
)
@click.pass_obj
def serve(state: Any, host: str, port: int, dev_issuer: bool) -> None:
    """Serve the HTTP API and the web pages (the ledger must be initialized)."""
    from api.app import serve as run
    from ledger.errors import DataDirectoryLockedError, ServiceRunningError
    from ledger.serving import announced, running_service
    from ledger.session import LedgerSession

    settings = state.settings()
    if dev_issuer:
        settings = settings.model_copy(update={"dev_issuer": True})
        if host not in _LOOPBACK:
            click.echo(
                "warning: the development token issuer lets anyone act as any citizen; "
                f"it is on while listening on {host}",
                err=True,
            )
    # Fail with one line (and the CLI's exit status) before uvicorn starts, not in its lifespan:
    # a ledger that is not ready, or a data directory another service already serves (exit 7,
    # ADR 0021). The claim is held until the process ends; the app's own (Service.open) joins it.
    try:
        LedgerSession.open(settings).close()
    except DataDirectoryLockedError as busy:
        running = running_service(settings.data_dir)
        if running is None:
            raise
        raise ServiceRunningError(
            f"another `ledger serve` (pid {running.pid}, {running.url}) already serves this "
            "data directory; stop it, or give this one its own data directory"
        ) from busy
    # serve.json: where CLI commands on this data directory read while the service holds its
    # chain (the service withdraws it when it closes, even when a signal ends the process).
    with announced(settings, host, port):
        run(settings, host, port)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ledger`` console script."""
    ledger_cli.main(argv)
