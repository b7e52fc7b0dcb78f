"""``python -m api [--host H] [--port P]``: run the service with settings from ``LEDGER_*``."""

from __future__ import annotations

import argparse

from api.app import serve
from ledger.config import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    serve(Settings(), args.host, args.port)


if __name__ == "__main__":
    main()
