"""``python -m ledger.cli``: the ``ledger`` command without the console script."""

from __future__ import annotations

import sys

from ledger.cli import main

if __name__ == "__main__":  # pragma: no cover - importing this module runs nothing
    main(sys.argv[1:])
