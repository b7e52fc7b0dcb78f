"""The README's five-minute tour runs as written.

Every ``$ `` command of the tour's ``console`` blocks (from "A five-minute tour" up to "The
service", which needs ``make demo`` serving) runs in order in one bash shell, in an empty
directory with the virtual environment first on ``PATH``; each output must have the shape the
README shows: hashes, addresses, CIDs, times, block numbers, gas and sizes may differ, and a
``...`` line stands for any number of lines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

pytestmark = pytest.mark.slow

ROOT: Final = Path(__file__).resolve().parents[2]
README: Final = ROOT / "README.md"
TOUR_START: Final = "## A five-minute tour"
TOUR_END: Final = "### The service"
#: A line of the README's output standing for any number of lines.
ELISION: Final = "..."
_MARK: Final = "@@readme-tour-command@@"

#: Values that differ from one run to the next, replaced by a placeholder on both sides.
_VARIABLE: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"0x[0-9a-fA-F]{64}\b"), "<hash>"),
    (re.compile(r"0x[0-9a-fA-F]{8}…[0-9a-fA-F]{4}"), "<hash>"),
    (re.compile(r"0x[0-9a-fA-F]{40}\b"), "<address>"),
    (re.compile(r"\bbaf[a-z2-7]{50,}\b"), "<cid>"),
    (
        re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)"),
        "<time>",
    ),
    (re.compile(r"\bblock \d+"), "block <n>"),
    (re.compile(r"\(\d+ gas\)"), "(<n> gas)"),
    (re.compile(r"\b\d+ bytes\b"), "<n> bytes"),
    (re.compile(r"\(/[^)]*\)"), "(<path>)"),
)


@dataclass(frozen=True)
class Step:
    command: str
    expected: list[str]


def tour_steps(text: str) -> list[Step]:
    """The tour's commands (continuation lines joined) and the output lines after each."""
    tour = text[text.index(TOUR_START) : text.index(TOUR_END)]
    steps: list[Step] = []
    for block in re.findall(r"^```console\n(.*?)^```$", tour, flags=re.MULTILINE | re.DOTALL):
        lines = block.splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            assert line.startswith("$ "), f"output before any command: {line!r}"
            command = [line[2:]]
            while command[-1].endswith("\\"):
                index += 1
                command.append(lines[index])
            index += 1
            expected: list[str] = []
            while index < len(lines) and not lines[index].startswith("$ "):
                expected.append(lines[index])
                index += 1
            steps.append(Step("\n".join(command), expected))
    return steps


def shape(line: str) -> str:
    for pattern, placeholder in _VARIABLE:
        line = pattern.sub(placeholder, line)
    return " ".join(line.split())


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` has ``expected``'s shape, an ``...`` line matching any lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == ELISION:
        return any(matches(rest, actual[start:]) for start in range(len(actual) + 1))
    return bool(actual) and shape(head) == shape(actual[0]) and matches(rest, actual[1:])


def run_tour(steps: list[Step], directory: Path) -> list[list[str]]:
    """Run ``steps`` in one bash shell in ``directory``; the output lines of each step."""
    script = ["exec 2>&1", "__status=0"]
    for step in steps:
        # The marker is printed, then the previous command's status is restored for `echo $?`.
        script += [f"printf '\\n{_MARK}\\n'", "(exit $__status)", step.command, "__status=$?"]
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(directory),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
    }
    finished = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
        cwd=directory,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    outputs = finished.stdout.split(f"\n{_MARK}\n")[1:]
    assert len(outputs) == len(steps), finished.stdout[-2000:]
    return [[line for line in output.splitlines() if line.strip()] for output in outputs]


def test_tour_parses() -> None:
    steps = tour_steps(README.read_text(encoding="utf-8"))
    commands = [step.command for step in steps]
    assert len(steps) > 20
    # Every file the tour uses is made by the tour itself.
    assert any("licence.txt" in command and ">" in command for command in commands)
    assert matches(["a", ELISION, "c"], ["a", "b", "b", "c"])
    assert not matches(["a", ELISION, "c"], ["a", "b"])
    assert shape("anchored 0x" + "ab" * 32 + " in block 12") == "anchored <hash> in block <n>"


def test_readme_tour_runs_as_written(tmp_path: Path) -> None:
    steps = tour_steps(README.read_text(encoding="utf-8"))
    outputs = run_tour(steps, tmp_path)
    mismatches = [
        "\n".join([f"$ {step.command}", "--- README", *step.expected, "--- got", *got])
        for step, got in zip(steps, outputs, strict=True)
        if not matches(step.expected, got)
    ]
    assert mismatches == [], "\n\n".join(mismatches)
