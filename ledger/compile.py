"""Compile the Solidity contracts into committed JSON artifacts.

The compiler settings come from ``brownie-config.yaml`` (``compiler:`` section, Brownie's format),
the one source of truth. Compilation goes through py-solc-x's :func:`solcx.compile_standard` with
an explicit ``solc_binary``: the repository's ``tools/solc`` (a native-CLI-compatible wrapper
around the npm ``solc`` package, needs ``npm ci``) or whatever ``LEDGER_SOLC`` names. Nothing is
ever downloaded.

Every non-abstract contract (one with creation bytecode; libraries excluded) becomes
``ledger/artifacts/<ContractName>.json``. This is a build-time tool: running the ledger only reads
those files (:mod:`ledger.contracts.artifacts`, which imports neither solcx nor yaml), so it needs
no Node.

Command line::

    python -m ledger.compile            # compile and (re)write the artifacts
    python -m ledger.compile --check    # recompile in memory; exit 1 if artifacts are stale
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
import solcx.exceptions
import solcx.wrapper
import yaml

from ledger.contracts.artifacts import Artifact, read_artifacts
from ledger.errors import CompilationError, LedgerError
from ledger.files import write_atomically

__all__ = [
    "CompilationError",
    "CompilerSettings",
    "check_artifacts",
    "compile_contracts",
    "find_solc",
    "load_compiler_settings",
    "main",
    "source_hash",
    "write_artifacts",
]

#: Environment variable naming a solc-compatible executable to use instead of ``tools/solc``.
SOLC_ENV = "LEDGER_SOLC"
CONFIG_FILE = "brownie-config.yaml"
#: Source unit names are ``contracts/<path relative to the contracts directory>`` whatever directory
#: is compiled, so that the metadata hash (part of the bytecode) does not depend on where the
#: checkout lives.
SOURCE_PREFIX = "contracts"
_OUTPUTS = ["abi", "metadata", "evm.bytecode.object", "evm.deployedBytecode.object"]
_ARTIFACT_FIELDS = ("abi", "bytecode", "deployedBytecode")


@dataclass(frozen=True)
class CompilerSettings:
    """The ``compiler:`` section of brownie-config.yaml, validated."""

    version: str
    evm_version: str
    optimizer_enabled: bool
    optimizer_runs: int
    via_ir: bool = False
    remappings: tuple[str, ...] = ()

    def solc_settings(self) -> dict[str, Any]:
        """The standard-JSON ``settings`` object (without ``outputSelection``)."""
        settings: dict[str, Any] = {
            "evmVersion": self.evm_version,
            "optimizer": {"enabled": self.optimizer_enabled, "runs": self.optimizer_runs},
            "remappings": list(self.remappings),
            "viaIR": self.via_ir,
        }
        return settings


# --------------------------------------------------------------------------- configuration


def load_compiler_settings(config_path: Path) -> CompilerSettings:
    """Read and validate the ``compiler:`` section of a Brownie-format config file."""
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompilationError(f"cannot read compiler configuration {config_path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CompilationError(f"{config_path} is not valid YAML: {exc}") from exc

    def section(value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise CompilationError(f"{config_path}: '{where}' must be a mapping")
        return value

    compiler = section((raw or {}).get("compiler"), "compiler")
    solc = section(compiler.get("solc"), "compiler.solc")
    optimizer = section(
        solc.get("optimizer", {"enabled": False, "runs": 200}), "compiler.solc.optimizer"
    )
    if "evm_version" in solc:
        raise CompilationError(
            f"{config_path}: evm_version belongs under 'compiler', not 'compiler.solc' "
            "(Brownie's layout)"
        )
    version = solc.get("version")
    evm_version = compiler.get("evm_version")
    enabled = optimizer.get("enabled", False)
    runs = optimizer.get("runs", 200)
    via_ir = solc.get("viaIR", False)
    remappings = solc.get("remappings") or []
    if not isinstance(version, str | float) or not str(version).strip():
        raise CompilationError(f"{config_path}: compiler.solc.version must be set (e.g. 0.8.37)")
    if not isinstance(evm_version, str) or not evm_version:
        raise CompilationError(f"{config_path}: compiler.evm_version must be set (e.g. cancun)")
    if not isinstance(enabled, bool) or not isinstance(via_ir, bool):
        raise CompilationError(f"{config_path}: optimizer.enabled and viaIR must be true or false")
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise CompilationError(f"{config_path}: optimizer.runs must be a positive integer")
    if isinstance(remappings, str):
        remappings = [remappings]
    if not isinstance(remappings, list) or not all(isinstance(r, str) for r in remappings):
        raise CompilationError(f"{config_path}: compiler.solc.remappings must be a list of strings")
    return CompilerSettings(
        version=str(version).strip(),
        evm_version=evm_version,
        optimizer_enabled=enabled,
        optimizer_runs=runs,
        via_ir=via_ir,
        remappings=tuple(remappings),
    )


def find_solc(root: Path) -> Path:
    """The compiler executable: ``$LEDGER_SOLC`` if set, else ``<root>/tools/solc``."""
    override = os.environ.get(SOLC_ENV)
    path = Path(override) if override else root / "tools" / "solc"
    if not path.is_file() or not os.access(path, os.X_OK):
        origin = f"${SOLC_ENV}" if override else "the repository's wrapper"
        raise CompilationError(
            f"solc executable not found or not executable: {path} ({origin}); "
            "run `npm ci` in the repository root, or point LEDGER_SOLC at a solc binary"
        )
    return path


def _solc_version(solc_binary: Path) -> str:
    try:
        stat = solc_binary.stat()
    except OSError as exc:
        raise CompilationError(f"cannot run the compiler {solc_binary}: {exc}") from exc
    return _cached_solc_version(str(solc_binary.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _cached_solc_version(solc_binary: str, _mtime_ns: int, _size: int) -> str:
    try:
        return str(solcx.wrapper.get_solc_version(solc_binary, with_commit_hash=True))
    except (OSError, subprocess.CalledProcessError, solcx.exceptions.SolcError) as exc:
        raise CompilationError(
            f"cannot run the compiler {solc_binary} --version ({exc}); "
            "is Node installed and `npm ci` done?"
        ) from exc


# --------------------------------------------------------------------------- sources


def _collect_sources(contracts_dir: Path) -> dict[str, str]:
    """Map source unit name (``contracts/<relative path>``) to file content, sorted by name."""
    if not contracts_dir.is_dir():
        raise CompilationError(f"contracts directory not found: {contracts_dir}")
    sources: dict[str, str] = {}
    for path in sorted(contracts_dir.rglob("*.sol")):
        if not path.is_file():
            continue
        name = f"{SOURCE_PREFIX}/{path.relative_to(contracts_dir).as_posix()}"
        try:
            sources[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CompilationError(f"cannot read {name}: {exc}") from exc
    return dict(sorted(sources.items()))


def source_hash(contracts_dir: Path) -> str:
    """SHA-256 over the sorted ``(source unit name, content)`` pairs of a contracts directory.

    Cheap staleness test: equal to every artifact's ``sourceHash`` when nothing changed.
    """
    return _hash_sources(_collect_sources(contracts_dir))


def _hash_sources(sources: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(sources):
        name_bytes = name.encode("utf-8")
        content = sources[name].encode("utf-8")
        digest.update(b"%d:%s\n%d:" % (len(name_bytes), name_bytes, len(content)))
        digest.update(content)
        digest.update(b"\n")
    return digest.hexdigest()


def _line_col(text: str, byte_offset: int) -> tuple[int, int]:
    prefix = text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace")
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return line, column


def _describe(error: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    kind = str(error.get("type", "Error"))
    message = str(error.get("message", "")).strip()
    location = error.get("sourceLocation") or {}
    file = location.get("file")
    start = location.get("start", -1)
    if isinstance(file, str) and file:
        if file in sources and isinstance(start, int) and start >= 0:
            line, column = _line_col(sources[file], start)
            return f"{file}:{line}:{column}: {kind}: {message}"
        return f"{file}: {kind}: {message}"
    return f"{kind}: {message}"


# --------------------------------------------------------------------------- compile


def compile_contracts(
    root: Path,
    *,
    contracts_dir: Path | None = None,
    config_path: Path | None = None,
    solc_binary: Path | None = None,
) -> dict[str, Artifact]:
    """Compile every ``*.sol`` under ``contracts_dir`` (default ``<root>/contracts``).

    Returns the artifacts of the deployable contracts, keyed by contract name and sorted. Imports of
    files outside the contracts directory (remapped libraries) are read by the compiler relative to
    ``root``. Raises :class:`CompilationError` naming file and line on a Solidity error.
    """
    root = root.resolve()
    contracts_dir = (contracts_dir or root / "contracts").resolve()
    settings = load_compiler_settings(config_path or root / CONFIG_FILE)
    sources = _collect_sources(contracts_dir)
    if not sources:
        return {}
    binary = solc_binary or find_solc(root)
    version = _solc_version(binary)
    if version.split("+")[0] != settings.version:
        raise CompilationError(
            f"{binary} is solc {version}, but {CONFIG_FILE} asks for {settings.version}"
        )
    solc_settings = settings.solc_settings()
    output = _run_solc(root, binary, sources, solc_settings)
    return _artifacts_of(output, sources, version, solc_settings)


def _run_solc(
    root: Path, binary: Path, sources: Mapping[str, str], solc_settings: dict[str, Any]
) -> dict[str, Any]:
    """solc's standard-JSON output for ``sources``; a :class:`CompilationError` naming file and
    line for each Solidity error, or saying why the compiler could not run."""
    input_json: dict[str, Any] = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {**solc_settings, "outputSelection": {"*": {"*": _OUTPUTS, "": ["ast"]}}},
    }
    try:
        output: dict[str, Any] = solcx.compile_standard(
            input_json, base_path=str(root), allow_paths=[str(root)], solc_binary=binary
        )
    except solcx.exceptions.SolcError as exc:
        if exc.error_dict:
            errors = [e for e in exc.error_dict if e.get("severity") == "error"]
            lines = [_describe(e, sources) for e in errors]
            raise CompilationError(
                "Solidity compilation failed:\n" + "\n".join(lines), diagnostics=lines
            ) from None
        raise CompilationError(
            f"the compiler {binary} failed (exit code {exc.return_code}): "
            f"{(exc.stderr_data or exc.message).strip()}"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise CompilationError(f"the compiler {binary} could not be run: {exc}") from exc
    return output


def _artifacts_of(
    output: Mapping[str, Any],
    sources: Mapping[str, str],
    version: str,
    solc_settings: dict[str, Any],
) -> dict[str, Artifact]:
    """The artifacts of the deployable contracts in solc's ``output``, sorted by name: not the
    interfaces, abstract contracts and libraries; refused when one links a library or two share
    a name."""
    libraries = _library_names(output)
    digest = _hash_sources(sources)
    artifacts: dict[str, Artifact] = {}
    for source_name, contracts in sorted(output.get("contracts", {}).items()):
        for name, out in sorted(contracts.items()):
            bytecode = out["evm"]["bytecode"]["object"]
            if not bytecode or (source_name, name) in libraries:
                continue  # interface, abstract contract or library
            if "__$" in bytecode or "__$" in out["evm"]["deployedBytecode"]["object"]:
                raise CompilationError(
                    f"{source_name}: {name} links an external library; make the library's "
                    "functions internal (linking is not supported by the artifact format)"
                )
            if name in artifacts:
                raise CompilationError(
                    f"two contracts are named {name} ({artifacts[name].source_name} and "
                    f"{source_name}); artifact files are keyed by contract name"
                )
            artifacts[name] = Artifact(
                contract_name=name,
                source_name=source_name,
                abi=out["abi"],
                bytecode="0x" + bytecode,
                deployed_bytecode="0x" + out["evm"]["deployedBytecode"]["object"],
                metadata=out["metadata"],
                compiler_version=version,
                compiler_settings=solc_settings,
                source_hash=digest,
            )
    return dict(sorted(artifacts.items()))


def _library_names(output: Mapping[str, Any]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for source_name, source in output.get("sources", {}).items():
        for node in (source.get("ast") or {}).get("nodes", []):
            if (
                node.get("nodeType") == "ContractDefinition"
                and node.get("contractKind") == "library"
            ):
                found.add((source_name, str(node.get("name"))))
    return found


# --------------------------------------------------------------------------- artifacts on disk


def write_artifacts(
    artifacts: Mapping[str, Artifact], artifacts_dir: Path, *, prune: bool = True
) -> list[Path]:
    """Write ``<name>.json`` per artifact; with ``prune``, delete artifact files for other names.

    Files whose content is unchanged are not rewritten. Returns the paths written (changed ones).
    """
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, artifact in sorted(artifacts.items()):
        path = artifacts_dir / f"{name}.json"
        text = artifact.to_json()
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        write_atomically(path, text.encode("utf-8"))
        written.append(path)
    if prune:
        for path in sorted(artifacts_dir.glob("*.json")):
            if path.stem not in artifacts:
                path.unlink()
    return written


def check_artifacts(compiled: Mapping[str, Artifact], artifacts_dir: Path) -> list[str]:
    """Compare fresh artifacts with those on disk: one line per problem, empty when up to date."""
    problems: list[str] = []
    committed = read_artifacts(artifacts_dir)
    for name in sorted(set(compiled) | set(committed)):
        if name not in committed:
            problems.append(f"missing: {name} ({artifacts_dir / (name + '.json')} not written)")
        elif name not in compiled:
            problems.append(f"extra: {name} (no such contract in the sources any more)")
        else:
            new, old = compiled[name].to_json_dict(), committed[name].to_json_dict()
            differ = [key for key in _ARTIFACT_FIELDS if new[key] != old[key]]
            if differ:
                problems.append(f"stale: {name} ({', '.join(differ)} differ)")
    return problems


# --------------------------------------------------------------------------- command line


def _default_root() -> Path:
    checkout = Path(__file__).resolve().parents[1]
    return checkout if (checkout / CONFIG_FILE).is_file() else Path.cwd()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ledger.compile",
        description="Compile contracts/**/*.sol into ledger/artifacts/*.json.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="recompile in memory and fail if the artifacts on disk differ",
    )
    parser.add_argument("--root", type=Path, default=None, help="repository root")
    parser.add_argument("--contracts-dir", type=Path, default=None)
    parser.add_argument("--artifacts-dir", type=Path, default=None)
    parser.add_argument("--config", type=Path, default=None, help=f"default <root>/{CONFIG_FILE}")
    parser.add_argument(
        "--solc",
        type=Path,
        default=None,
        help=f"solc executable (default ${SOLC_ENV} or <root>/tools/solc)",
    )
    args = parser.parse_args(argv)

    root: Path = (args.root or _default_root()).resolve()
    artifacts_dir: Path = args.artifacts_dir or root / "ledger" / "artifacts"
    started = time.monotonic()
    try:
        artifacts = compile_contracts(
            root, contracts_dir=args.contracts_dir, config_path=args.config, solc_binary=args.solc
        )
        if args.check:
            problems = check_artifacts(artifacts, artifacts_dir)
            if problems:
                print(
                    "artifacts are out of date (run `python -m ledger.compile`):", file=sys.stderr
                )
                for line in problems:
                    print(f"  {line}", file=sys.stderr)
                return 1
            print(f"{len(artifacts)} artifacts up to date in {artifacts_dir}")
            return 0
        written = write_artifacts(artifacts, artifacts_dir)
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - started
    print(
        f"compiled {len(artifacts)} contracts in {elapsed:.1f} s; "
        f"{len(written)} artifact files changed in {artifacts_dir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
