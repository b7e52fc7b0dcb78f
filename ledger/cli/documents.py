"""``ledger docs``: storing, fetching, exporting (CAR) and erasing documents in the embedded
store or on the IPFS node of ``LEDGER_IPFS_API``.

Not here: anchoring a document (``ledger anchor``, :mod:`ledger.cli.certificates`), which stores
it too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from ledger.cli.app import cli
from ledger.cli.common import F, State, document_service, emit, existing, json_option
from ledger.errors import ConfigurationError, NotFoundError
from ledger.files import write_atomically
from ledger.storage import StorageUnavailableError
from ledger.storage.vault import DocumentErasedError, DocumentService

__all__ = ["docs"]


@cli.group()
def docs() -> None:
    """Store, fetch, export and erase documents.

    Documents live in the embedded store (DATA_DIR/documents) or, with LEDGER_IPFS_API, on an
    IPFS node; either way under the CID Kubo gives the same bytes. Keys of encrypted documents
    are in DATA_DIR/vault.sqlite3, wrapped under the master key (LEDGER_MASTER_KEY or
    DATA_DIR/secrets.json). An erased document fails with exit status 11.
    """


def _file_to_write(*names: str, help_text: str) -> Callable[[F], F]:
    """The required option naming the file a command writes (``docs get``, ``docs export``)."""
    return click.option(
        *names,
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        required=True,
        help=help_text,
    )


@docs.command("put")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encrypt", is_flag=True, help="Encrypt under a fresh key kept in the vault.")
@json_option
@click.pass_obj
def docs_put(state: State, file: Path, encrypt: bool) -> None:
    """Store FILE (pinned) and print its CID."""
    data = file.read_bytes()
    with document_service(state.settings()) as service:
        stored = service.store_document(data, encrypt=encrypt)
    emit(
        state,
        {"cid": stored.cid, "encrypted": stored.encrypted, "size": stored.size},
        stored.cid,
    )


@docs.command("get")
@click.argument("cid", metavar="CID")
@_file_to_write(
    "-o", "--output", help_text="File to write (replaced atomically once the document is complete)."
)
@json_option
@click.pass_obj
def docs_get(state: State, cid: str, output: Path) -> None:
    """Fetch the document stored under CID, decrypting it when its key is here."""
    with document_service(existing(state.settings())) as service:
        try:
            data = service.fetch_document(cid)
        except DocumentErasedError:
            raise DocumentErasedError(_erased_message(service, cid)) from None
        decrypted = service.vault.get_key(cid) is not None
    write_atomically(output, data, mode=0o600)
    emit(
        state,
        {"cid": cid, "output": str(output), "size": len(data), "decrypted": decrypted},
        f"wrote {len(data)} bytes to {output}" + (" (decrypted)" if decrypted else ""),
    )


@docs.command("export")
@click.argument("cids", metavar="[CID]...", nargs=-1)
@_file_to_write("--car", "out", help_text="CARv1 file to write (for `ipfs dag import`).")
@json_option
@click.pass_obj
def docs_export(state: State, cids: tuple[str, ...], out: Path) -> None:
    """Export documents (default: every pinned one) from the embedded store to a CAR file."""
    from ledger.storage.embedded import EmbeddedStore

    settings = existing(state.settings())
    if settings.uses_ipfs:
        raise ConfigurationError(
            "CAR export reads the embedded store, but documents are on the IPFS node of "
            "LEDGER_IPFS_API: export there with `ipfs dag export CID`"
        )
    store = EmbeddedStore(settings.documents_dir)
    roots = list(dict.fromkeys(cids)) or store.pins()
    if not roots:
        raise NotFoundError("no pinned documents to export")
    blocks = store.export_car(roots, out)
    emit(
        state,
        {"car": str(out), "cids": roots, "blocks": blocks},
        f"exported {len(roots)} document(s), {blocks} block(s) to {out}",
    )


@docs.command("erase")
@click.argument("cid", metavar="CID")
@json_option
@click.pass_obj
def docs_erase(state: State, cid: str) -> None:
    """Erase an encrypted document: destroy its key and unpin its copy (idempotent).

    The stored copy can never be read again, here or wherever it was copied; the anchor stays and
    still verifies the copy its holder presents. Documents stored in clear have no key to destroy.
    """
    with document_service(state.settings()) as service:
        vault = service.vault
        already = vault.is_erased(cid)
        if not already and vault.get_key(cid) is None:
            raise NotFoundError(
                "no key for this document here: only documents encrypted by this deployment can "
                "be erased (one stored in clear is public and stays readable where it was copied)"
            )
        try:
            service.erase(cid)
        except StorageUnavailableError as exc:
            raise StorageUnavailableError(
                f"the document is erased (its key is destroyed), but its copy could not be "
                f"unpinned: {exc}; run the command again to finish"
            ) from None
        erased_at = vault.erased_at(cid)
    when = erased_at.isoformat() if erased_at else None
    emit(
        state,
        {"cid": cid, "erased": True, "alreadyErased": already, "erasedAt": when},
        f"{cid} was already erased on {when}"
        if already
        else f"erased {cid}: key destroyed, copy unpinned; the anchor still verifies the "
        "holder's copy",
    )


def _erased_message(service: DocumentService, cid: str) -> str:
    erased_at = service.vault.erased_at(cid)
    when = f" on {erased_at.isoformat()}" if erased_at else ""
    return f"the document was erased{when}: its key is destroyed and it can never be read again"
