"""``ledger bundle``: joint licensing (多证联办): opening a bundle for an enterprise, filing its
parts, showing it.

Not here: verifying a bundle (``ledger verify --bundle``, :mod:`ledger.cli.verify`).
"""

from __future__ import annotations

import click

from ledger.catalogue import certificate_type, certificate_type_label
from ledger.cli.app import cli
from ledger.cli.common import (
    State,
    department_for,
    department_option,
    emit,
    json_option,
    open_session,
    parse_bundle_id,
    to_hex,
)
from ledger.errors import NotFoundError, ValidationError
from ledger.parsing import deadline_day, parse_deadline, parse_hash
from ledger.writes.bundles import file_part, open_bundle

__all__ = ["bundle"]


@cli.group()
def bundle() -> None:
    """Joint licensing (多证联办): open a bundle, file its parts, show it."""


def _parse_part(text: str) -> tuple[int, int]:
    department, sep, type_name = text.partition(":")
    if not sep or not department.strip().isdigit():
        raise ValidationError(f"--part {text!r}: expected DEPARTMENT:TYPE, e.g. 3:food-licence")
    department_id = int(department)
    if not 0 < department_id < 2**32:
        raise ValidationError(f"--part {text!r}: department out of range")
    return department_id, certificate_type(type_name.strip()).code


@bundle.command("open")
@click.option("--enterprise", required=True, help="Unified social credit code of the enterprise.")
@click.option(
    "--deadline",
    required=True,
    help="Last day to file parts (YYYY-MM-DD: through 23:59:59 China time), or an ISO time.",
)
@click.option(
    "--part",
    "parts",
    multiple=True,
    required=True,
    metavar="DEPARTMENT:TYPE",
    help="A licence the bundle needs, e.g. 3:food-licence; give one --part per licence.",
)
@department_option
@json_option
@click.pass_obj
def bundle_open(
    state: State,
    enterprise: str,
    deadline: str,
    parts: tuple[str, ...],
    department_id: int | None,
) -> None:
    """Open a bundle for an enterprise, led by this department."""
    due = parse_deadline(deadline, "--deadline")
    wanted = [_parse_part(text) for text in parts]
    with open_session(state) as session:
        lead = department_for(session, department_id)
        opening = open_bundle(session, lead, enterprise, due, wanted)
        receipt = session.send(opening)
    bundle_id = opening.facts.bundle_id
    emit(
        state,
        {
            "bundleId": to_hex(bundle_id),
            "lead": lead,
            "deadline": due.isoformat(),
            "lastDay": deadline_day(due).isoformat(),
            "parts": [{"department": d, "certType": t} for d, t in wanted],
            "block": receipt["blockNumber"],
        },
        f"opened bundle {to_hex(bundle_id)} with {len(wanted)} part(s) in block "
        f"{receipt['blockNumber']}",
    )


@bundle.command("file")
@click.argument("bundle_id", metavar="BUNDLE_ID")
@click.argument("index", type=click.IntRange(0, 255))
@click.argument("doc_hash", metavar="HASH")
@department_option
@json_option
@click.pass_obj
def bundle_file(
    state: State, bundle_id: str, index: int, doc_hash: str, department_id: int | None
) -> None:
    """File this department's anchored certificate HASH as part INDEX of a bundle."""
    bundle_digest = parse_bundle_id(bundle_id)
    digest = parse_hash(doc_hash)
    with open_session(state) as session:
        department_id = department_for(session, department_id)
        receipt = session.send(file_part(session, department_id, bundle_digest, index, digest))
        current = session.bundles().bundle(bundle_digest)
    assert current is not None
    complete = current.completed_at is not None
    emit(
        state,
        {
            "bundleId": to_hex(bundle_digest),
            "index": index,
            "documentHash": to_hex(digest),
            "filed": current.filed,
            "parts": len(current.parts),
            "completed": complete,
            "block": receipt["blockNumber"],
        },
        f"filed part {index} of bundle {to_hex(bundle_digest)}: {current.filed} of "
        f"{len(current.parts)} filed" + (", bundle complete" if complete else ""),
    )


@bundle.command("show")
@click.argument("bundle_id", metavar="BUNDLE_ID")
@json_option
@click.pass_obj
def bundle_show(state: State, bundle_id: str) -> None:
    """Show a bundle: its parts, what was filed, and whether it is complete now."""
    digest = parse_bundle_id(bundle_id)
    with open_session(state, read_only=True) as session:
        client = session.bundles()
        current = client.bundle(digest)
        if current is None:
            raise NotFoundError("no bundle with this id")
        complete = client.is_complete(digest)
    lines = [
        f"bundle {to_hex(digest)}: led by department {current.lead}, due "
        f"{deadline_day(current.deadline).isoformat()} (China time), "
        + ("complete" if complete else "incomplete")
    ]
    for index, part in enumerate(current.parts):
        filed = to_hex(part.doc_hash) if part.doc_hash else "not filed"
        lines.append(
            f"  part {index}: department {part.department_id}, "
            f"{certificate_type_label(part.cert_type)}: {filed}"
        )
    emit(
        state,
        {
            "bundleId": to_hex(digest),
            "lead": current.lead,
            "openedAt": current.opened_at.isoformat(),
            "deadline": current.deadline.isoformat(),
            "lastDay": deadline_day(current.deadline).isoformat(),
            "completedAt": current.completed_at.isoformat() if current.completed_at else None,
            "complete": complete,
            "parts": [
                {
                    "index": index,
                    "department": part.department_id,
                    "certType": certificate_type_label(part.cert_type),
                    "documentHash": to_hex(part.doc_hash) if part.doc_hash else None,
                }
                for index, part in enumerate(current.parts)
            ],
        },
        "\n".join(lines),
    )
