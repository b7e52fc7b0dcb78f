"""The compiled contracts as the ledger runs them: ``ledger/artifacts/<ContractName>.json``.

Running the ledger only reads these committed files (ABI and bytecode), so this module needs
neither the compiler nor its configuration: no ``solcx``, no ``yaml``, no Node. Writing and
checking them is the build-time tool's job (``python -m ledger.compile``, ledger/compile.py),
which produces :class:`Artifact` values and writes them with :meth:`Artifact.to_json`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ledger.errors import ArtifactNotFoundError, CompilationError

__all__ = [
    "Artifact",
    "ArtifactNotFoundError",
    "load_artifact",
    "read_artifacts",
]


@dataclass(frozen=True)
class Artifact:
    """One compiled contract, as stored in ``ledger/artifacts/<contract_name>.json``.

    ``bytecode`` and ``deployed_bytecode`` are ``0x``-prefixed hex strings.
    """

    contract_name: str
    source_name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    metadata: str
    compiler_version: str
    compiler_settings: dict[str, Any] = field(default_factory=dict)
    source_hash: str = ""

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "contractName": self.contract_name,
            "sourceName": self.source_name,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "metadata": self.metadata,
            "compiler": {"version": self.compiler_version, "settings": self.compiler_settings},
            "sourceHash": self.source_hash,
        }

    def to_json(self) -> str:
        """Deterministic text: sorted keys, 2-space indent, trailing newline."""
        return json.dumps(self.to_json_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> Artifact:
        try:
            compiler = data["compiler"]
            return cls(
                contract_name=str(data["contractName"]),
                source_name=str(data["sourceName"]),
                abi=list(data["abi"]),
                bytecode=str(data["bytecode"]),
                deployed_bytecode=str(data["deployedBytecode"]),
                metadata=str(data["metadata"]),
                compiler_version=str(compiler["version"]),
                compiler_settings=dict(compiler["settings"]),
                source_hash=str(data.get("sourceHash", "")),
            )
        except (KeyError, TypeError) as exc:
            raise CompilationError(f"malformed artifact: missing or invalid field {exc}") from exc


def read_artifacts(artifacts_dir: Path) -> dict[str, Artifact]:
    """Every ``*.json`` artifact in a directory, keyed by file stem."""
    if not artifacts_dir.is_dir():
        return {}
    result: dict[str, Artifact] = {}
    for path in sorted(artifacts_dir.glob("*.json")):
        try:
            result[path.stem] = Artifact.from_json_dict(json.loads(path.read_text("utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise CompilationError(f"cannot read artifact {path}: {exc}") from exc
    return result


def load_artifact(name: str, artifacts_dir: Path | None = None) -> Artifact:
    """Load one contract's artifact, by default from the package data (``ledger/artifacts``)."""
    if not name or not name.isidentifier():
        raise ArtifactNotFoundError(f"not a contract name: {name!r}")
    try:
        if artifacts_dir is not None:
            text = (artifacts_dir / f"{name}.json").read_text(encoding="utf-8")
        else:
            resource = resources.files("ledger").joinpath("artifacts", f"{name}.json")
            text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArtifactNotFoundError(
            f"no artifact for contract {name}; run `python -m ledger.compile`"
        ) from None
    return Artifact.from_json_dict(json.loads(text))
