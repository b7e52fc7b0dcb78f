"""ledger.compile and the tools/solc wrapper (needs Node and `npm ci`)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import solcx
import solcx.wrapper
from packaging.version import Version

from ledger.compile import (
    CompilationError,
    check_artifacts,
    compile_contracts,
    find_solc,
    load_compiler_settings,
    main,
    source_hash,
    write_artifacts,
)
from ledger.contracts.artifacts import (
    Artifact,
    ArtifactNotFoundError,
    load_artifact,
    read_artifacts,
)
from ledger.errors import LedgerError

ROOT = Path(__file__).resolve().parents[2]
SOLC = ROOT / "tools" / "solc"
FIXTURES = ROOT / "tests" / "fixtures" / "contracts"
CONFIG = ROOT / "brownie-config.yaml"

SIMPLE_SOURCE = (
    "// SPDX-License-Identifier: Apache-2.0\n"
    "pragma solidity 0.8.37;\n"
    "contract Simple { uint256 public x; function set(uint256 v) external { x = v; } }\n"
)


def _standard_input(sources: dict[str, str]) -> dict[str, object]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "evmVersion": "cancun",
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }


@pytest.fixture(scope="module")
def fixture_artifacts() -> dict[str, Artifact]:
    return compile_contracts(ROOT, contracts_dir=FIXTURES)


# --------------------------------------------------------------------------- the wrapper


def test_wrapper_version_output_is_native_format() -> None:
    out = subprocess.run(
        [str(SOLC), "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert re.fullmatch(
        r"solc, the solidity compiler commandline interface\n"
        r"Version: 0\.8\.37\+commit\.[0-9a-f]{8}\.Linux\.g\+\+\n",
        out,
    ), out


def test_py_solc_x_parses_wrapper_version() -> None:
    assert solcx.wrapper.get_solc_version(SOLC) == Version("0.8.37")
    with_commit = solcx.wrapper.get_solc_version(SOLC, with_commit_hash=True)
    assert str(with_commit).startswith("0.8.37+commit.")


def test_compile_standard_through_wrapper() -> None:
    output = solcx.compile_standard(
        _standard_input({"Simple.sol": SIMPLE_SOURCE}),
        solc_binary=SOLC,
        base_path=str(ROOT),
        allow_paths=[str(ROOT)],
    )
    contract = output["contracts"]["Simple.sol"]["Simple"]
    assert contract["evm"]["bytecode"]["object"]
    assert {entry["name"] for entry in contract["abi"]} == {"x", "set"}


def test_wrapper_stdout_is_only_json_and_unknown_flags_are_ignored() -> None:
    proc = subprocess.run(
        [str(SOLC), "--standard-json", "--no-such-flag", "--allow-paths", "/nonexistent,/tmp"],
        input=json.dumps(_standard_input({"S.sol": SIMPLE_SOURCE})),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no-such-flag" in proc.stderr
    assert json.loads(proc.stdout)["contracts"]["S.sol"]["Simple"]["abi"]


def test_wrapper_reports_json_errors_in_json() -> None:
    proc = subprocess.run(
        [str(SOLC), "--standard-json"],
        input="not json",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0
    errors = json.loads(proc.stdout)["errors"]
    assert errors[0]["severity"] == "error"
    assert errors[0]["type"] == "JSONError"


def test_wrapper_rejects_other_modes() -> None:
    proc = subprocess.run([str(SOLC), "--bin", "x.sol"], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert proc.stdout == ""


def test_wrapper_import_callback_uses_base_and_include_paths(tmp_path: Path) -> None:
    project, lib, outside = tmp_path / "project", tmp_path / "lib", tmp_path / "outside"
    (project / "src").mkdir(parents=True)
    (lib / "dep").mkdir(parents=True)
    outside.mkdir()
    header = "// SPDX-License-Identifier: Apache-2.0\npragma solidity 0.8.37;\n"
    (lib / "dep" / "L.sol").write_text(
        header + "library L { function one() internal pure returns (uint256) { return 1; } }\n"
    )
    (project / "src" / "A.sol").write_text(
        header + 'import {L} from "dep/L.sol";\nimport {B} from "./B.sol";\n'
        "contract A is B { function f() external pure returns (uint256) { return L.one(); } }\n"
    )
    (project / "src" / "B.sol").write_text(header + "contract B {}\n")
    (outside / "X.sol").write_text(header + "contract X {}\n")
    (project / "src" / "X.sol").symlink_to(outside / "X.sol")

    def run(*args: str, url: str = "src/A.sol") -> dict[str, object]:
        data = {
            "language": "Solidity",
            "sources": {url: {"urls": [url]}},
            "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
        }
        proc = subprocess.run(
            [str(SOLC), "--standard-json", *args],
            input=json.dumps(data),
            capture_output=True,
            text=True,
            cwd=project,
            check=True,
            timeout=120,
        )
        result: dict[str, object] = json.loads(proc.stdout)
        return result

    found = run("--base-path", ".", "--include-path", str(lib))
    assert sorted(found["sources"]) == ["dep/L.sol", "src/A.sol", "src/B.sol"]  # type: ignore[call-overload]
    missing = run("--base-path", ".")
    assert "not found" in json.dumps(missing["errors"])
    # A symlink out of the allowed directories is refused unless --allow-paths names the target.
    refused = run("--base-path", ".", url="src/X.sol")
    assert "outside of allowed directories" in json.dumps(refused["errors"])
    allowed = run("--base-path", ".", "--allow-paths", str(outside), url="src/X.sol")
    assert "errors" not in allowed


# --------------------------------------------------------------------------- configuration


def test_compiler_settings_come_from_brownie_config() -> None:
    settings = load_compiler_settings(CONFIG)
    assert settings.version == "0.8.37"
    assert settings.evm_version == "cancun"
    assert settings.optimizer_enabled is True
    assert settings.optimizer_runs == 10000
    assert settings.solc_settings() == {
        "evmVersion": "cancun",
        "optimizer": {"enabled": True, "runs": 10000},
        "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
        "viaIR": settings.via_ir,
    }


def test_misplaced_or_missing_settings_are_errors(tmp_path: Path) -> None:
    bad = tmp_path / "brownie-config.yaml"
    bad.write_text("compiler:\n  solc:\n    version: 0.8.37\n    evm_version: cancun\n")
    with pytest.raises(CompilationError, match="evm_version belongs under 'compiler'"):
        load_compiler_settings(bad)
    bad.write_text("compiler:\n  solc:\n    version: 0.8.37\n")
    with pytest.raises(CompilationError, match="evm_version must be set"):
        load_compiler_settings(bad)


def test_ledger_solc_env_overrides_the_wrapper(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEDGER_SOLC", str(tmp_path / "no-solc"))
    with pytest.raises(CompilationError, match="LEDGER_SOLC"):
        find_solc(ROOT)
    monkeypatch.setenv("LEDGER_SOLC", str(SOLC))
    assert find_solc(tmp_path) == SOLC


def test_compiler_version_must_match_config(tmp_path: Path) -> None:
    config = tmp_path / "brownie-config.yaml"
    config.write_text(CONFIG.read_text().replace("version: 0.8.37", "version: 0.8.30"))
    with pytest.raises(CompilationError, match=r"asks for 0\.8\.30"):
        compile_contracts(ROOT, contracts_dir=FIXTURES, config_path=config)


# --------------------------------------------------------------------------- compiling


def test_fixture_compiles_to_one_artifact(fixture_artifacts: dict[str, Artifact]) -> None:
    # The interface, the abstract contract and the internal library get no artifact.
    assert list(fixture_artifacts) == ["Counter"]
    counter = fixture_artifacts["Counter"]
    assert counter.source_name == "contracts/Counter.sol"
    assert re.fullmatch(r"0x[0-9a-f]{100,}", counter.bytecode)
    assert re.fullmatch(r"0x[0-9a-f]+", counter.deployed_bytecode)
    assert len(counter.deployed_bytecode) < len(counter.bytecode)
    names = {(entry["type"], entry.get("name")) for entry in counter.abi}
    assert ("error", "CounterLimitReached") in names
    assert ("event", "Incremented") in names
    assert ("function", "increment") in names
    metadata = json.loads(counter.metadata)
    assert metadata["settings"]["evmVersion"] == "cancun"
    assert metadata["settings"]["optimizer"] == {"enabled": True, "runs": 10000}
    assert metadata["settings"].get("viaIR", False) == load_compiler_settings(CONFIG).via_ir
    assert counter.compiler_version.startswith("0.8.37+commit.")
    assert counter.compiler_settings["evmVersion"] == "cancun"
    assert counter.source_hash == source_hash(FIXTURES)


def test_compile_is_deterministic(fixture_artifacts: dict[str, Artifact], tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_artifacts(fixture_artifacts, first)
    write_artifacts(compile_contracts(ROOT, contracts_dir=FIXTURES), second)
    files = sorted(p.name for p in first.iterdir())
    assert files == ["Counter.json"]
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes()
    text = (first / "Counter.json").read_text()
    assert text.startswith('{\n  "abi": [')
    assert text.endswith("}\n")
    # Writing the same artifacts again changes nothing.
    assert write_artifacts(fixture_artifacts, first) == []


def test_artifact_round_trip_and_load(
    fixture_artifacts: dict[str, Artifact], tmp_path: Path
) -> None:
    write_artifacts(fixture_artifacts, tmp_path)
    assert read_artifacts(tmp_path) == fixture_artifacts
    assert load_artifact("Counter", tmp_path) == fixture_artifacts["Counter"]
    with pytest.raises(ArtifactNotFoundError):
        load_artifact("NoSuchContract", tmp_path)
    with pytest.raises(ArtifactNotFoundError):
        load_artifact("../Counter", tmp_path)
    with pytest.raises(LookupError):  # it is also a LookupError, catchable by intent
        load_artifact("NoSuchContract")


def test_check_mode_reports_stale_missing_and_extra(
    fixture_artifacts: dict[str, Artifact], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_artifacts(fixture_artifacts, tmp_path)
    assert check_artifacts(fixture_artifacts, tmp_path) == []

    path = tmp_path / "Counter.json"
    data = json.loads(path.read_text())
    data["bytecode"] = data["bytecode"][:-2] + ("00" if data["bytecode"][-2:] != "00" else "01")
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    (tmp_path / "Gone.json").write_text(
        fixture_artifacts["Counter"].to_json().replace('"Counter"', '"Gone"')
    )
    problems = check_artifacts(fixture_artifacts, tmp_path)
    assert problems == [
        "stale: Counter (bytecode differ)",
        "extra: Gone (no such contract in the sources any more)",
    ]

    code = main(["--check", "--contracts-dir", str(FIXTURES), "--artifacts-dir", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert "stale: Counter (bytecode differ)" in err
    assert "extra: Gone" in err

    path.unlink()
    assert check_artifacts(fixture_artifacts, tmp_path)[0].startswith("missing: Counter")


def test_main_writes_then_check_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--contracts-dir", str(FIXTURES), "--artifacts-dir", str(tmp_path)]
    assert main(args) == 0
    assert (tmp_path / "Counter.json").is_file()
    assert main(["--check", *args]) == 0
    assert "1 artifacts up to date" in capsys.readouterr().out


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    (contracts / "sub").mkdir(parents=True)
    (contracts / "sub" / "Broken.sol").write_text(
        "// SPDX-License-Identifier: Apache-2.0\n"
        "pragma solidity 0.8.37;\n"
        "\n"
        "contract Broken {\n"
        "    uint256 x = 1\n"
        "    function f() external {}\n"
        "}\n"
    )
    with pytest.raises(CompilationError) as caught:
        compile_contracts(ROOT, contracts_dir=contracts)
    error = caught.value
    assert isinstance(error, LedgerError)
    assert error.code == "compilation_error"
    assert len(error.diagnostics) == 1
    assert re.match(
        r"contracts/sub/Broken\.sol:6:5: ParserError: Expected ';'", error.diagnostics[0]
    ), error.diagnostics
    assert "contracts/sub/Broken.sol:6:5" in str(error)


def test_type_error_names_file_and_line(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "Typo.sol").write_text(
        "// SPDX-License-Identifier: Apache-2.0\n"
        "pragma solidity 0.8.37;\n"
        "contract Typo {\n"
        "    function f() external pure returns (uint256) { return y; }\n"
        "}\n"
    )
    with pytest.raises(CompilationError, match=r"contracts/Typo\.sol:4:59: DeclarationError"):
        compile_contracts(ROOT, contracts_dir=contracts)


def test_duplicate_contract_names_are_refused(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    (contracts / "a").mkdir(parents=True)
    (contracts / "b").mkdir()
    for sub in ("a", "b"):
        (contracts / sub / "Simple.sol").write_text(SIMPLE_SOURCE)
    with pytest.raises(CompilationError, match="two contracts are named Simple"):
        compile_contracts(ROOT, contracts_dir=contracts)


def test_empty_contracts_directory_compiles_to_nothing(tmp_path: Path) -> None:
    assert compile_contracts(ROOT, contracts_dir=tmp_path) == {}
