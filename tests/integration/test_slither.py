"""tools/slither, the static-analysis gate of `make test` (issue #7, docs/adr/0013).

slither itself runs in `make slither` (a prerequisite of `make test`), not here: these tests check,
without slither, that the gate fails on exactly what it should, that it analyses the contracts with
the compiler settings the artifacts are built with, and that every suppression in the contracts
states its reason beside it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ledger.compile import CONFIG_FILE, load_compiler_settings

ROOT = Path(__file__).resolve().parents[2]
DIRECTIVE = re.compile(r"^\s*//\s*slither-disable-(next-line|start|end)\s+([a-z0-9_,-]+)")


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    """tools/slither imported as a module (it has no .py suffix)."""
    path = ROOT / "tools" / "slither"
    loader = importlib.machinery.SourceFileLoader("slither_runner", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _result(impact: str, check: str, description: str) -> dict[str, Any]:
    return {"impact": impact, "check": check, "description": description, "elements": []}


def _report(*results: dict[str, Any], success: bool = True) -> dict[str, Any]:
    return {"success": success, "error": None, "results": {"detectors": list(results)}}


def test_high_and_medium_findings_fail_one_line_each(runner: ModuleType) -> None:
    report = _report(
        _result(
            "Medium",
            "incorrect-equality",
            "C.f() (contracts/C.sol#3-9) uses a dangerous strict equality:\n"
            "\t- a == b (contracts/C.sol#5)\n",
        ),
        _result("High", "uninitialized-state", "C.x (contracts/C.sol#2) is never initialized.\n"),
        _result("Low", "timestamp", "C.g() (contracts/C.sol#10) uses timestamp for comparisons\n"),
        _result("Informational", "assembly", "C.h() (contracts/C.sol#12) uses assembly\n"),
        _result("Optimization", "constable-states", "C.y (contracts/C.sol#1) should be constant\n"),
    )
    by_impact, failures = runner.evaluate(report)
    assert failures == [
        "HIGH uninitialized-state: C.x (contracts/C.sol#2) is never initialized.",
        "MEDIUM incorrect-equality: C.f() (contracts/C.sol#3-9) uses a dangerous strict "
        "equality: a == b (contracts/C.sol#5)",
    ]
    assert {impact: sum(c.values()) for impact, c in by_impact.items()} == {
        "High": 1,
        "Medium": 1,
        "Low": 1,
        "Informational": 1,
        "Optimization": 1,
    }
    assert runner.summary(by_impact)[0] == (
        "findings by impact: high 1, medium 1, low 1, informational 1, optimization 1"
    )


def test_low_informational_and_optimization_findings_pass(runner: ModuleType) -> None:
    report = _report(
        _result("Low", "calls-loop", "C.f() has external calls inside a loop\n"),
        _result("Informational", "naming-convention", "C.X is not in mixedCase\n"),
    )
    _, failures = runner.evaluate(report)
    assert failures == []


def test_a_suppression_that_suppresses_nothing_fails_once(runner: ModuleType) -> None:
    unused = {
        "file": str(ROOT / "contracts" / "C.sol"),
        "line": 28,
        "comment_type": "next-line",
        "detectors": ["incorrect-equality"],
        "unused_detectors": ["incorrect-equality"],
    }
    report = _report(
        {
            "check": "unused-ignore-directive",
            "impact": "Informational",
            "description": "Found 2 unused slither-disable directive(s)",
            "elements": [],
            "unused_ignores": [unused, dict(unused)],  # slither 0.11.6 lists it twice
        }
    )
    by_impact, failures = runner.evaluate(report)
    assert failures == [
        "UNUSED slither-disable-next-line incorrect-equality contracts/C.sol#28: "
        "suppresses nothing any more; remove it"
    ]
    assert sum(sum(c.values()) for c in by_impact.values()) == 0


def test_a_failed_analysis_is_an_error_not_a_pass(runner: ModuleType) -> None:
    with pytest.raises(runner.SetupError, match="Invalid compilation"):
        runner.evaluate({"success": False, "error": "Invalid compilation: ParserError"})


def test_the_analysis_compiles_with_the_artifacts_settings(runner: ModuleType) -> None:
    compiler = runner.ledger_compiler(ROOT, Path(sys.executable))
    settings = load_compiler_settings(ROOT / CONFIG_FILE)
    assert compiler["version"] == settings.version
    assert compiler["settings"] == settings.solc_settings()
    assert Path(compiler["solc"]).is_file()

    standard_input = runner.standard_json_input(ROOT, compiler["settings"])
    assert standard_input["settings"] == settings.solc_settings()
    expected = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "contracts").rglob("*.sol"))
    assert sorted(standard_input["sources"]) == expected
    assert all(source == {"urls": [name]} for name, source in standard_input["sources"].items())


def test_every_suppression_in_the_contracts_gives_its_reason_beside_it() -> None:
    """A `slither-disable-next-line` or `-start` comment follows a comment line saying why."""
    found = 0
    for path in sorted((ROOT / "contracts").rglob("*.sol")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = DIRECTIVE.match(line)
            if not match or match[1] == "end":
                continue
            found += 1
            where = f"{path.relative_to(ROOT)}:{number + 1}"
            above = lines[number - 1].strip() if number else ""
            reason = f"{where}: put the reason for `{line.strip()}` in a comment just above it"
            assert above.startswith("//"), reason
            assert not DIRECTIVE.match(above), reason
            assert len(above.lstrip("/ ").split()) >= 4, f"{where}: the reason is too short"
    assert found > 0
