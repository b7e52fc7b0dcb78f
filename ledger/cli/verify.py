"""``ledger verify``: checking a document, a hash or a joint licensing bundle against one chain
node, or against several that must agree; exit status 10 when INVALID.

Not here: the checks themselves (:mod:`ledger.verification`); this module only gathers what
they need (the chain, the deployment, the stored copies) and prints the report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ledger.catalogue import certificate_type, certificate_type_label
from ledger.cli.app import EXIT_INVALID, cli
from ledger.cli.common import (
    State,
    document_service,
    emit,
    json_option,
    load_proof,
    parse_bundle_id,
    serving_instead,
    to_hex,
)
from ledger.config import Settings
from ledger.errors import ConfigurationError, DataDirectoryLockedError, ValidationError
from ledger.parsing import parse_hash
from ledger.storage.vault import DocumentService

if TYPE_CHECKING:
    from ledger.verification import VerificationReport, VerifyOptions

__all__ = ["verify"]


@cli.command()
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option("--hash", "doc_hash", help="Verify a hash instead of a file.")
@click.option(
    "--rpc",
    "rpc_urls",
    multiple=True,
    help="Verify against this JSON-RPC node only; give it twice (or more) to require that "
    "several nodes agree.",
)
@click.option("--confirmations", type=click.IntRange(0, 10_000), default=None)
@click.option(
    "--deployments",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Deployments file naming the contracts (default: the data directory's).",
)
@click.option(
    "--proof",
    "proof_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Batch proof of a file anchored in a Merkle batch (FILE.proof.json).",
)
@click.option(
    "--bundle",
    "bundle_id",
    metavar="BUNDLE_ID",
    help="Verify a joint licensing bundle: every part filed, each certificate VALID.",
)
@json_option
@click.pass_obj
def verify(
    state: State,
    file: Path | None,
    doc_hash: str | None,
    rpc_urls: tuple[str, ...],
    confirmations: int | None,
    deployments: Path | None,
    proof_file: Path | None,
    bundle_id: str | None,
) -> None:
    """Check FILE (or --hash, or --bundle) against the chain; exit status 10 when INVALID.

    With a data directory holding the document master key, the stored copy named by the anchor
    is fetched (from the embedded store or LEDGER_IPFS_API), decrypted where the key is here, and
    compared too (check storage.copy). A bare --rpc verifier without one skips that check.
    """
    from ledger.verification import agree

    if sum(given is not None for given in (file, doc_hash, bundle_id)) != 1:
        raise ValidationError("give one of FILE, --hash or --bundle")
    if bundle_id is not None and proof_file is not None:
        raise ValidationError("--proof belongs to a file or a hash, not to a bundle")
    presented_bundle = parse_bundle_id(bundle_id) if bundle_id is not None else None
    if len(set(rpc_urls)) != len(rpc_urls):
        raise ValidationError("each --rpc node must be a different URL")
    nodes: list[str | None] = list(rpc_urls) or [None]
    settings = state.settings(rpc_url=nodes[0])
    presented = _Presented(
        bundle=presented_bundle,
        source=file.read_bytes() if file is not None else None,
        doc_hash=doc_hash,
        proof=load_proof(proof_file),
        confirmations=settings.confirmations if confirmations is None else confirmations,
        encrypted_types=[certificate_type(name).code for name in settings.encrypt_types],
        local_issuers=_local_issuers(settings),
    )
    with contextlib.ExitStack() as stack:
        documents = (
            stack.enter_context(_verifier_documents(settings))
            if settings.data_dir.is_dir()
            else None
        )
        reports = [
            presented.report_on(_chain_context(state, stack, node, deployments), documents)
            for node in nodes
        ]
    report = agree(reports, [node or "the embedded chain" for node in nodes])
    emit(state, report.to_json(), _report_text(report))
    if report.verdict.value != "VALID":
        raise SystemExit(EXIT_INVALID)


@dataclass(frozen=True)
class _Presented:
    """What ``ledger verify`` checks on each node: a bundle, a document or a hash (the first
    given), and what the checks take beside it."""

    bundle: bytes | None
    source: bytes | None
    doc_hash: str | None
    proof: Any
    confirmations: int
    encrypted_types: list[int]
    local_issuers: set[int]

    def report_on(self, context: Any, documents: DocumentService | None) -> VerificationReport:
        """The report of one node (its ``context``), stored copies read from ``documents``."""
        from ledger.verification import verify_bundle, verify_document, verify_hash

        options: VerifyOptions = {
            "confirmations": self.confirmations,
            "documents": documents,
            "encrypted_types": self.encrypted_types,
            "local_issuers": self.local_issuers,
        }
        if self.bundle is not None:
            return verify_bundle(self.bundle, context, **options)
        if self.source is not None:
            return verify_document(self.source, context, proof=self.proof, **options)
        return verify_hash(parse_hash(self.doc_hash or ""), context, proof=self.proof, **options)


def _local_issuers(settings: Settings) -> set[int]:
    """The departments whose keys are here: copies of the others live in other regions' stores."""
    from ledger.chain.keys import Keystore

    return {
        record.department_id
        for record in Keystore(settings.data_dir / "keys", "").records()
        if record.department_id is not None
    }


def _chain_context(
    state: State, stack: contextlib.ExitStack[Any], node: str | None, deployments: Path | None
) -> Any:
    """The contracts on ``node`` (None: the command line's chain), its connection closed with
    ``stack``; ``deployments`` names them, or the data directory's deployments file."""
    from ledger.contracts import ChainContext, load_deployment
    from ledger.session import DEPLOYMENTS_FILE

    node_settings = state.settings(rpc_url=node)
    connection = stack.enter_context(_read_connection(state, node_settings))
    deployment_file = deployments or node_settings.data_dir / DEPLOYMENTS_FILE
    return ChainContext(connection.web3, load_deployment(deployment_file, connection.web3))


def _report_text(report: VerificationReport) -> str:
    """The readable form of a verification report: the verdict, one line a check, one a bundle
    part."""
    marks = {"passed": "ok  ", "failed": "FAIL", "not_applicable": "n/a "}
    lines = [
        f"{report.verdict.value}  {to_hex(report.document_hash) if report.document_hash else ''}"
    ]
    lines += [f"  [{marks[c.outcome.value]}] {c.name.value:<24} {c.detail}" for c in report.checks]
    for part in report.parts:
        verdict = part.report.verdict.value if part.report else "NOT FILED"
        filed = to_hex(part.document_hash) if part.document_hash else "-"
        lines.append(
            f"  part {part.index}: department {part.department_id}, "
            f"{certificate_type_label(part.cert_type)}: {verdict} {filed}"
        )
    return "\n".join(lines)


def _read_connection(state: State, settings: Settings) -> Any:
    """The chain of ``settings`` for reading: through the running service's ``/v1/rpc`` when
    it holds the data directory's embedded chain (ADR 0021)."""
    from ledger.chain.connection import connect
    from ledger.serving import rpc_credential

    try:
        return connect(settings.data_dir, settings.rpc_url, token=rpc_credential(settings))
    except DataDirectoryLockedError as busy:
        served = state.settings(rpc_url=serving_instead(state, busy, read_only=True))
        return connect(served.data_dir, served.rpc_url, token=rpc_credential(served))


@contextlib.contextmanager
def _verifier_documents(settings: Settings) -> Iterator[DocumentService | None]:
    """The data directory's document service, or None when it has no master key (a directory
    holding only a deployments file): the stored copy is then not checked. A vault that refuses
    its master key is an error, not a reason to skip the check."""
    try:
        settings.master_key_bytes()
    except ConfigurationError:
        yield None
        return
    with document_service(settings) as service:
        yield service
