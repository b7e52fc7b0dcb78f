"""``ledger window verify`` and ``ledger window report-false-information``: a document the
applicant hands over at the window, verified under their consent and, when the officer confirms
it is forged or altered, recorded as a false-information credit event (ADR 0029). A client of
the running service, like the rest of ``ledger window`` (:mod:`ledger.cli.service_client`).

The document is sent under a fixed part name, never its file name (a file name may carry a name
or an identity number). Not here: the rules (:mod:`ledger.service.forgery`, enforced by the
service).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import click

from ledger.cli.app import EXIT_INVALID
from ledger.cli.common import State, emit, json_option
from ledger.cli.service_client import service_client, service_options
from ledger.cli.window import consent_id_of, window
from ledger.errors import ValidationError
from ledger.service.forgery import REASONS

__all__ = ["report_false_information", "verify_at_window"]

#: The part name a document is sent under (its own file name is never sent).
_PART_NAME: Final = "document"
_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


def _upload(path: Path, proof: Path | None = None) -> dict[str, tuple[str, bytes, str]]:
    files = {"file": (_PART_NAME, path.read_bytes(), "application/octet-stream")}
    if proof is not None:
        files["proof"] = ("proof.json", proof.read_bytes(), "application/json")
    return files


def verification_text(answer: dict[str, Any]) -> str:
    """The readable form of a window's verification: the verdict, the failed checks, and
    whether forgery may be suspected (and what the officer may then do)."""
    lines = [f"{answer['verdict']}  {answer.get('documentHash') or '(no hash: not parsed)'}"]
    lines += [
        f"  failed {check['name']}: {check['detail']}"
        for check in answer["checks"]
        if check["outcome"] == "failed"
    ]
    if answer["forgerySuspected"]:
        lines.append(
            "forgery suspected: if you are sure, record it with "
            "`ledger window report-false-information CONSENT_ID FILE --reason R --confirm`"
        )
    elif answer["verdict"] == "INVALID":
        lines.append("no ground to suspect forgery (a damaged file or the chain explains it)")
    return "\n".join(lines)


@window.command("verify")
@click.argument("consent_id", metavar="CONSENT_ID")
@click.argument("file", type=_FILE)
@click.option("--proof", type=_FILE, help="The batch proof (.proof.json) of a file of a batch.")
@service_options
@json_option
@click.pass_obj
def verify_at_window(
    state: State,
    consent_id: str,
    file: Path,
    proof: Path | None,
    service_url: str | None,
    token_file: Path | None,
) -> None:
    """Verify FILE, a document the applicant handed over, under consent CONSENT_ID: the report
    of `ledger verify`, and whether forgery may be suspected. Exit status 10 when INVALID."""
    identifier = consent_id_of(consent_id)
    client = service_client(state, service_url, token_file)
    answer = client.json(
        "POST", f"/v1/window/consents/{identifier}/verifications", files=_upload(file, proof)
    )
    emit(state, answer, verification_text(answer))
    if answer["verdict"] != "VALID":
        raise SystemExit(EXIT_INVALID)


@window.command("report-false-information")
@click.argument("consent_id", metavar="CONSENT_ID")
@click.argument("file", type=_FILE)
@click.option(
    "--reason",
    type=click.Choice(REASONS),
    required=True,
    help="Why you report it.",
)
@click.option(
    "--confirm",
    is_flag=True,
    help="You confirm that the document is forged or altered (required).",
)
@service_options
@json_option
@click.pass_obj
def report_false_information(
    state: State,
    consent_id: str,
    file: Path,
    reason: str,
    confirm: bool,
    service_url: str | None,
    token_file: Path | None,
) -> None:
    """Record FILE, handed over under consent CONSENT_ID and verifying INVALID, as false
    information in the applicant's credit file: kept encrypted as evidence, the event visible to
    the applicant at once and open to dispute. Only for a department accredited for the
    false-information category."""
    identifier = consent_id_of(consent_id)
    if not confirm:
        raise ValidationError("confirm the report with --confirm: you answer for it")
    client = service_client(state, service_url, token_file)
    response = client.request(
        "POST",
        f"/v1/window/consents/{identifier}/false-information",
        files=_upload(file),
        data={"reason": reason, "confirm": "true"},
    )
    answer: dict[str, Any] = response.json()
    if response.status_code == 202:
        text = (
            f"accepted, not confirmed yet: operation {answer['operationId']} "
            f"({answer['state']}); its answer is at {response.headers.get('location', '')}"
        )
    else:
        text = (
            f"recorded false-information event {answer['eventId']}\n"
            f"evidence {answer['evidenceHash']} (encrypted copy {answer['evidenceCid']})"
        )
    emit(state, answer, text)
