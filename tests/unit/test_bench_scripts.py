"""Every benchmark starts as its documented command (``python bench/NAME.py``): a script's own
folder comes first on the path, where ``bench/http.py`` would shadow the standard library's
``http`` module for every later import unless the script moves it aside first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[2]
SCRIPTS: Final = sorted(path.name for path in (ROOT / "bench").glob("*.py"))


def test_the_scripts_are_found() -> None:
    assert {"batch.py", "gas.py", "http.py", "throughput.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_benchmark_starts_as_a_script(script: str) -> None:
    finished = subprocess.run(
        [sys.executable, f"bench/{script}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "usage:" in finished.stdout
