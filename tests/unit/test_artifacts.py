"""The committed artifacts are what the committed sources compile to (recompiles, ~10 s).

Grouped for xdist (``--dist loadgroup``) so one worker compiles once for the whole module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ledger.compile import Artifact, check_artifacts, compile_contracts, read_artifacts, source_hash

pytestmark = pytest.mark.xdist_group("solc")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = ROOT / "ledger" / "artifacts"
CONTRACTS = ("CertificateRegistry", "CreditLedger", "DepartmentRegistry", "LicenceBundles")


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
