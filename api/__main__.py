"""``python -m api [--host H] [--port P]``: run the service with settings from ``LEDGER_*``."""

from __future__ import annotations

import argparse
import sys

from api.app import serve
from ledger.config import Settings
from ledger.errors import LedgerError
from ledger.serving import announced


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        # One service per data directory, announced for the CLI beside it (ADR 0021).
        with announced(settings, args.host, args.port):
            serve(settings, args.host, args.port)
    except LedgerError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
