"""``ledger window``: the window (一窗受理) from the command line, for an officer with a
department token and no data directory: a client of the running service
(:mod:`ledger.cli.service_client`: ``--service``, ``LEDGER_TOKEN`` or ``--token-file``).

``ledger window check`` takes an applicant's consent code (or the id of a consent the window
took) and prints, per certificate type the service requires or accepts, the applicant's
certificates verified on the chain, and what is missing; ``ledger window copy`` saves the stored
copy of one of them when the service needs its content. Other commands of the window attach to
the :data:`window` group from their own modules.

Not here: what is shown and why (:mod:`ledger.service.window`, ``POST /v1/window/checks``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import click

from ledger.cli.app import EXIT_INVALID, cli
from ledger.cli.common import State, emit, json_option
from ledger.cli.service_client import ServiceClient, service_client, service_options
from ledger.errors import ValidationError
from ledger.files import atomic_file
from ledger.parsing import parse_hash

__all__ = ["consent_id_of", "window"]

_CONSENT_ID: Final = re.compile(r"[0-9a-f]{32}")
#: Characters of a hash shown in a line (the whole hash is in --json).
_SHORT: Final = 18


def consent_id_of(text: str) -> str:
    """``text`` as a consent id (32 hex digits, any case), or ValidationError (exit 2)."""
    consent_id = text.strip().lower()
    if not _CONSENT_ID.fullmatch(consent_id):
        raise ValidationError("a consent id is 32 hexadecimal digits")
    return consent_id


@cli.group()
def window() -> None:
    """The window (一窗受理): an applicant's certificates under their consent.

    A client of the running service: --service URL (or $LEDGER_SERVICE_URL; default: the
    service running on the data directory), the department token from $LEDGER_TOKEN or
    --token-file FILE.
    """


def _certificate_line(kind: str, required: bool, certificate: dict[str, Any]) -> str:
    report = certificate["report"]
    record = report.get("record") or {}
    issuer = (
        f"department {record['issuer']}, region {record['region']}" if record else "no anchor found"
    )
    line = (
        f"{kind:<28} {'required' if required else 'accepted':<8}  {report['verdict']:<8} "
        f"{issuer:<32} {certificate['documentHash'][:_SHORT]}…"
    )
    failed = [f"{c['name']}: {c['detail']}" for c in report["checks"] if c["outcome"] == "failed"]
    if failed:
        line += "  (" + "; ".join(failed) + ")"
    if certificate["storedCopy"]:
        line += "  [stored copy]"
    return line


def check_text(answer: dict[str, Any]) -> str:
    """The readable form of a check: the consent, one line per certificate (a type without any:
    missing when required), and what is missing."""
    lines = [
        f"service {answer['service']} for a {answer['subjectKind']}: consent "
        f"{answer['consentId']} ({answer['mode']}, until {answer['expiresAt']})"
    ]
    for item in answer["requirements"]:
        if not item["certificates"]:
            need = "required" if item["required"] else "accepted"
            state = "missing" if item["required"] else "none"
            lines.append(f"{item['type']:<28} {need:<8}  {state}")
        lines += [
            _certificate_line(item["type"], item["required"], certificate)
            for certificate in item["certificates"]
        ]
    missing = answer["missing"]
    lines.append(
        "missing: " + ", ".join(missing) if missing else "every required type has a VALID one"
    )
    if any(c["storedCopy"] for item in answer["requirements"] for c in item["certificates"]):
        lines.append(f"stored copies: ledger window copy {answer['consentId']} HASH --out FILE")
    return "\n".join(lines)


@window.command("check")
@click.argument("code", required=False)
@click.option(
    "--consent",
    "consent_id",
    metavar="ID",
    help="Check again under a consent the window took (its id) instead of taking a CODE.",
)
@service_options
@json_option
@click.pass_obj
def check(
    state: State,
    code: str | None,
    consent_id: str | None,
    service_url: str | None,
    token_file: Path | None,
) -> None:
    """Check the applicant's certificates for the consent's service: CODE (XXXXX-XXXXX, taken
    now: one use counted) or --consent ID. Exit status 10 when a required type is missing."""
    if (code is None) == (consent_id is None):
        raise ValidationError("give the applicant's CODE or --consent ID, one of them")
    body = {"code": code} if code is not None else {"consentId": consent_id_of(consent_id or "")}
    client = service_client(state, service_url, token_file)
    answer = client.json("POST", "/v1/window/checks", json=body)
    emit(state, answer, check_text(answer))
    if answer.get("missing"):
        raise SystemExit(EXIT_INVALID)


@window.command("copy")
@click.argument("consent_id", metavar="CONSENT_ID")
@click.argument("doc_hash", metavar="HASH")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write the copy to (never replaced if it exists; readable by you only).",
)
@service_options
@json_option
@click.pass_obj
def copy(
    state: State,
    consent_id: str,
    doc_hash: str,
    out: Path,
    service_url: str | None,
    token_file: Path | None,
) -> None:
    """Save the stored copy of the applicant's certificate HASH, under consent CONSENT_ID, to
    --out FILE: only for a type whose content the consent's service needs."""
    identifier = consent_id_of(consent_id)
    hash_text = "0x" + parse_hash(doc_hash).hex()
    client: ServiceClient = service_client(state, service_url, token_file)
    response = client.request("GET", f"/v1/window/consents/{identifier}/documents/{hash_text}")
    try:
        with atomic_file(out, mode=0o600, exclusive=True) as handle:
            handle.write(response.content)
    except FileExistsError:
        raise ValidationError(f"{out} exists: give another --out") from None
    size = len(response.content)
    emit(
        state,
        {"consentId": identifier, "documentHash": hash_text, "out": str(out), "bytes": size},
        f"wrote {size} bytes to {out}",
    )
