"""Compile contracts/ into ledger/artifacts/ (``--check`` verifies the committed artifacts).

Same as ``python -m ledger.compile``; see ledger/compile.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ledger.compile import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
