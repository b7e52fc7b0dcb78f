"""The committed artifacts are what the committed sources compile to (recompiles, ~10 s), and the
ledger reads them (ledger/contracts/artifacts.py) without the compiler.

Grouped for xdist (``--dist loadgroup``) so one worker compiles once for the whole module.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.compile import check_artifacts, compile_contracts, source_hash
from ledger.contracts.artifacts import (
    Artifact,
    ArtifactNotFoundError,
    load_artifact,
    read_artifacts,
)

pytestmark = pytest.mark.xdist_group("solc")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = ROOT / "ledger" / "artifacts"
CONTRACTS = (
    "AccessLogAnchors",
    "CertificateRegistry",
    "CreditLedger",
    "DepartmentRegistry",
    "LicenceBundles",
)
#: The compiler's own dependencies: only the build-time tool (ledger/compile.py) may load them.
BUILD_ONLY = ("solcx", "yaml")


@pytest.fixture(scope="module")
def compiled() -> dict[str, Artifact]:
    return compile_contracts(ROOT)


@pytest.fixture
def artifacts_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "artifacts"
    shutil.copytree(ARTIFACTS_DIR, copy)
    return copy


def _flip_byte(hex_code: str, index: int) -> str:
    """``hex_code`` (0x-prefixed) with byte ``index`` XOR 0x01."""
    start = 2 + 2 * index
    flipped = int(hex_code[start : start + 2], 16) ^ 0x01
    return f"{hex_code[:start]}{flipped:02x}{hex_code[start + 2 :]}"


def test_committed_artifacts_are_up_to_date(compiled: dict[str, Artifact]) -> None:
    assert sorted(compiled) == list(CONTRACTS)
    assert check_artifacts(compiled, ARTIFACTS_DIR) == []
    committed = read_artifacts(ARTIFACTS_DIR)
    current = source_hash(ROOT / "contracts")
    for name in CONTRACTS:
        assert committed[name].source_hash == current
        assert compiled[name].source_hash == current


@pytest.mark.parametrize("name", CONTRACTS)
def test_one_altered_bytecode_byte_is_reported_stale(
    compiled: dict[str, Artifact], artifacts_copy: Path, name: str
) -> None:
    assert check_artifacts(compiled, artifacts_copy) == []
    path = artifacts_copy / f"{name}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    original = document["bytecode"]
    document["bytecode"] = _flip_byte(original, (len(original) - 2) // 4)
    assert document["bytecode"] != original
    assert len(document["bytecode"]) == len(original)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert check_artifacts(compiled, artifacts_copy) == [f"stale: {name} (bytecode differ)"]


def test_missing_and_extra_artifacts_are_reported(
    compiled: dict[str, Artifact], artifacts_copy: Path
) -> None:
    (artifacts_copy / "CreditLedger.json").unlink()
    shutil.copy(artifacts_copy / "CertificateRegistry.json", artifacts_copy / "Retired.json")
    problems = check_artifacts(compiled, artifacts_copy)
    assert problems == [
        f"missing: CreditLedger ({artifacts_copy / 'CreditLedger.json'} not written)",
        "extra: Retired (no such contract in the sources any more)",
    ]


def test_starting_the_cli_or_the_service_loads_no_compiler() -> None:
    """A fresh interpreter that imports the CLI, the service and every other module of ``ledger``
    and ``api`` (but the build-time compiler) has loaded neither solcx nor yaml."""
    script = (
        "import importlib, pkgutil, sys\n"
        "import ledger.cli, api.app\n"
        f"early = [m for m in {BUILD_ONLY!r} if m in sys.modules]\n"
        "import ledger, api\n"
        "for package in (ledger, api):\n"
        "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        if info.name != 'ledger.compile':\n"
        "            importlib.import_module(info.name)\n"
        f"late = [m for m in {BUILD_ONLY!r} if m in sys.modules]\n"
        "print(early, late)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[] []"


def test_only_the_compiler_imports_its_dependencies() -> None:
    """No module but ledger/compile.py imports solcx or yaml, not even inside a function (which
    the import test above would not see until the function runs)."""
    offenders: list[str] = []
    for path in sorted([*(ROOT / "ledger").rglob("*.py"), *(ROOT / "api").rglob("*.py")]):
        if path == ROOT / "ledger" / "compile.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if any(name.split(".")[0] in BUILD_ONLY or name == "ledger.compile" for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_committed_artifacts_load_without_the_compiler() -> None:
    for name in CONTRACTS:
        artifact = load_artifact(name)
        assert artifact.contract_name == name
        assert artifact.bytecode.startswith("0x")
        assert artifact == read_artifacts(ARTIFACTS_DIR)[name]
    with pytest.raises(ArtifactNotFoundError):
        load_artifact("NoSuchContract")
