"""``ledger access-log verify PROOF.json``: whether an entry of a citizen's access log (查询记录) is
in a batch anchored on chain, from the proof ``GET /v1/me/access-log/{seq}/proof`` answered
(ADR 0028). Exit status 0 when INCLUDED, 10 (as ``ledger verify``'s INVALID) when NOT INCLUDED.

It trusts only the chain: the entry's canonical text, its leaf and the proof are recomputed here
(:func:`ledger.service.access_log.check_inclusion`), and the root is looked up with
``anchorOf`` on the anchor contract the deployment names, through the data directory's chain or
each ``--rpc`` node (which must all agree), connected the way ``ledger verify`` connects.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Final

import click

from ledger.cli.app import EXIT_INVALID, cli
from ledger.cli.common import State, emit, json_option, to_hex
from ledger.errors import ValidationError

__all__ = ["access_log"]

#: A proof file is a few kilobytes; anything much larger is not one.
_MAX_PROOF_BYTES: Final = 1 << 20


@cli.group("access-log")
def access_log() -> None:
    """The citizens' access log (查询记录): check an entry against the chain."""


def _read_proof(path: Path) -> Any:
    data = path.read_bytes()
    if len(data) > _MAX_PROOF_BYTES:
        raise ValidationError("the proof file is larger than 1 MiB: not an access-log proof")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationError("the proof file is not JSON (save the API's answer as is)") from None


def _named_elsewhere(document: Any, context: Any) -> str | None:
    """Why the proof's ``anchor`` (when it has one) does not name this chain's anchor contract,
    or None: a root anchored on another contract or chain proves nothing here."""
    anchor = document.get("anchor") if isinstance(document, dict) else None
    if not isinstance(anchor, dict):
        return None
    contract = anchor.get("contract")
    ours = context.deployment.access_log
    if isinstance(contract, str) and ours is not None and contract.lower() != ours.lower():
        return f"the proof names anchor contract {contract}, this deployment's is {ours}"
    chain_id = anchor.get("chainId")
    if isinstance(chain_id, int) and chain_id != context.web3.eth.chain_id:
        return (
            f"the proof names chain {chain_id}, this node serves chain {context.web3.eth.chain_id}"
        )
    return None


def _check_on(document: Any, context: Any, node: str) -> dict[str, Any]:
    """The check of ``document`` on one node's chain, as the JSON output reports it."""
    from ledger.contracts import AccessLogAnchorsClient
    from ledger.service.access_log import check_inclusion

    client = AccessLogAnchorsClient(context)
    inclusion = check_inclusion(document, client.anchor_of)
    elsewhere = _named_elsewhere(document, context)
    included = inclusion.included and elsewhere is None
    anchor = inclusion.anchor
    return {
        "node": node,
        "included": included,
        "reason": "" if included else (elsewhere or inclusion.reason),
        "seq": inclusion.seq,
        "root": None if inclusion.root is None else to_hex(inclusion.root),
        "anchor": None
        if anchor is None
        else {
            "contract": client.contract.address,
            "firstSeq": anchor.first_seq,
            "lastSeq": anchor.last_seq,
            "anchoredAt": anchor.anchored_at.isoformat(),
        },
    }


def _text(checks: list[dict[str, Any]]) -> str:
    """The readable verdict: INCLUDED with the anchored range, or NOT INCLUDED with the reason
    (and the node, when several were asked)."""
    failed = [check for check in checks if not check["included"]]
    seq = checks[0]["seq"]
    if failed:
        where = f" (on {failed[0]['node']})" if len(checks) > 1 else ""
        return f"NOT INCLUDED  entry {seq}: {failed[0]['reason']}{where}"
    anchor = checks[0]["anchor"]
    return (
        f"INCLUDED  entry {seq}, root {checks[0]['root']}\n"
        f"  anchored {anchor['anchoredAt']} for entries {anchor['firstSeq']} to "
        f"{anchor['lastSeq']}"
    )


@access_log.command("verify")
@click.argument("proof_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rpc",
    "--rpc-url",
    "rpc_urls",
    multiple=True,
    help="Check against this JSON-RPC node only; give it twice (or more) to require that "
    "several nodes agree.",
)
@click.option(
    "--deployments",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Deployments file naming the contracts (default: the data directory's).",
)
@json_option
@click.pass_obj
def verify_entry(
    state: State, proof_file: Path, rpc_urls: tuple[str, ...], deployments: Path | None
) -> None:
    """Check that the access-log entry of PROOF_FILE (the answer of GET
    /v1/me/access-log/{seq}/proof) is anchored on chain: its canonical text, leaf and proof
    lead to a root that anchorOf knows, for a range holding the entry. Exit status 10 when NOT
    INCLUDED (the reason is printed), 0 when INCLUDED."""
    from ledger.cli.verify import _chain_context
    from ledger.service.access_log import check_inclusion

    document = _read_proof(proof_file)
    check_inclusion(document, lambda _root: None)  # a file that is no proof: exit 2 at once
    if len(set(rpc_urls)) != len(rpc_urls):
        raise ValidationError("each --rpc node must be a different URL")
    nodes: list[str | None] = list(rpc_urls) or [None]
    with contextlib.ExitStack() as stack:
        checks = [
            _check_on(
                document,
                _chain_context(state, stack, node, deployments),
                node or "the embedded chain",
            )
            for node in nodes
        ]
    included = all(check["included"] for check in checks)
    emit(state, {"included": included, "seq": checks[0]["seq"], "checks": checks}, _text(checks))
    if not included:
        raise SystemExit(EXIT_INVALID)
