"""``POST /v1/verify``: verify a presented document or a bare document hash.

The route answers every form of the request; :class:`api.middleware.IndexFront` answers the
commonest one (a hash whose report the verification index holds) before routing, with the same
bytes (:func:`api.views.report_response`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import pydantic
from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.deps import get_service, get_settings
from api.problems import ProblemError, problem_responses
from api.schemas import VerificationOut, VerifyHashIn
from api.service import Service
from api.views import JSON_MEDIA_TYPE, report_response
from ledger.catalogue import certificate_type
from ledger.config import Settings
from ledger.documents import DocumentDigester
from ledger.documents.batches import BatchProof
from ledger.verification import (
    AnchorOptions,
    VerificationReport,
    verify_document,
    verify_hash,
)

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["router", "verify_options", "verify_upload"]

router = APIRouter(prefix="/verify", tags=["verification"])

#: A batch proof of 64 steps is about 4.5 KiB; anything much larger is not one.
_MAX_PROOF_BYTES: Final = 16 * 1024
MULTIPART_MEDIA_TYPE: Final = "multipart/form-data"

_REQUEST_BODY: Final[dict[str, Any]] = {
    "required": True,
    "content": {
        JSON_MEDIA_TYPE: {"schema": VerifyHashIn.model_json_schema(by_alias=True)},
        MULTIPART_MEDIA_TYPE: {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "the document as presented (file bytes or a wrapped "
                        "structured certificate)",
                    },
                    "proof": {
                        "type": "string",
                        "format": "binary",
                        "description": "for a file anchored in a Merkle batch: its batch "
                        "proof (.proof.json)",
                    },
                },
            }
        },
    },
}


@router.post(
    "",
    response_model=VerificationOut,
    responses=problem_responses(400, 413, 415, 422, 429, 500, 503),
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def verify(request: Request) -> Response:
    """Verify a document (multipart ``file``) or a document hash (JSON ``documentHash``).

    Both VALID and INVALID verdicts are answered with 200: the report says which checks failed.
    """
    # The dependencies are called directly: this is the hot path, and resolving them through
    # FastAPI's dependency machinery costs more than what they do.
    service = await get_service(request)
    settings = await get_settings(request)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    context = service.session.context

    def full(doc_hash: bytes, proof: BatchProof | None = None) -> dict[str, Any]:
        options = verify_options(service, settings, proof)
        return verify_hash(doc_hash, context, **options).to_json()

    if media_type == JSON_MEDIA_TYPE:
        body = await _read_body(request, settings.max_json_bytes)
        doc_hash, raw_proof = _parse_hash(body)
        if raw_proof is not None:
            batch_proof = BatchProof.from_json(raw_proof)
            return report_response(await service.read(lambda: full(doc_hash, batch_proof)))
        # A hit while the chain was free was answered by IndexFront; here the index is asked
        # again in the thread pool (the chain may have been busy) and computes what it lacks.
        index = service.verify_index
        now = datetime.now(UTC)
        return report_response(
            await service.read(lambda: index.report(doc_hash, lambda: full(doc_hash), now=now))
        )
    if media_type == MULTIPART_MEDIA_TYPE:
        report = await verify_upload(request, service, settings)
        return report_response(report.to_json())
    raise ProblemError(
        415,
        "unsupported_media_type",
        f"send {MULTIPART_MEDIA_TYPE} with a 'file' part, or {JSON_MEDIA_TYPE} "
        "with a 'documentHash'",
    )


def verify_options(
    service: Service, settings: Settings, proof: BatchProof | None = None
) -> AnchorOptions:
    """How the service verifies a document: with the confirmations it requires, its stored
    copy checked too (``storage.copy``; copies of other regions' departments live in their
    stores, unless IPFS is shared) and, for a file of a Merkle batch, its ``proof``."""
    return {
        "confirmations": settings.confirmations,
        "documents": service.session.documents(),
        "encrypted_types": [certificate_type(name).code for name in settings.encrypt_types],
        "proof": proof,
        "local_issuers": service.local_departments(),
    }


async def verify_upload(
    request: Request, service: Service, settings: Settings
) -> VerificationReport:
    """The report of a multipart upload (``file``, and ``proof`` for a file of a batch), read
    within the document limit as ``POST /v1/verify`` reads it: for that route and for a
    window's verification under a consent (``api/routes/window_uploads.py``)."""
    digester, proof_bytes = await _read_document(request, settings.max_upload_bytes)
    file_proof = BatchProof.loads(proof_bytes) if proof_bytes is not None else None
    context = service.session.context
    return await service.read(
        lambda: verify_document(digester, context, **verify_options(service, settings, file_proof))
    )


def _too_large(limit: int) -> ProblemError:
    return ProblemError(
        413, "content_too_large", f"the request exceeds the upload limit of {limit} bytes"
    )


async def _read_body(request: Request, limit: int, shown: int | None = None) -> bytes:
    """The request body, refused with 413 when longer than ``limit`` (declared or actual).

    ``shown`` is the limit the problem document names (the document limit, for multipart).
    """
    shown = limit if shown is None else shown
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ProblemError(400, "bad_request", "malformed Content-Length")
        if int(declared) > limit:
            raise _too_large(shown)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(shown)
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_hash(body: bytes) -> tuple[bytes, dict[str, Any] | None]:
    try:
        parsed = VerifyHashIn.model_validate_json(body)
    except pydantic.ValidationError as exc:
        raise RequestValidationError(
            [
                {"loc": ("body", *error["loc"]), "msg": error["msg"], "type": error["type"]}
                for error in exc.errors(include_input=False, include_url=False)
            ]
        ) from None
    return parsed.hash_bytes(), parsed.proof


#: Most parts a verification upload may have (a file, a proof, and a few a form adds).
_MAX_PARTS: Final = 8


class _Upload:
    """The parts of a verification upload as python-multipart finds them: the ``file`` part
    goes into a :class:`DocumentDigester` piece by piece, the ``proof`` part is kept (it is
    small), anything else is skipped. Neither a part's file name nor its other headers are
    kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.digester = DocumentDigester()
        self.has_file = False
        self.proof: bytearray | None = None
        self.parts = 0
        self._current: str | None = None
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""

    def on_part_begin(self) -> None:
        self._current = None
        self._disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        self.parts += 1
        if self.parts > _MAX_PARTS:
            raise ProblemError(400, "bad_request", f"more than {_MAX_PARTS} parts")
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if name == b"file":
            if self.has_file:
                raise ProblemError(400, "bad_request", "more than one 'file' part")
            self.has_file = True
            self._current = "file"
        elif name == b"proof":
            self.proof = bytearray()
            self._current = "proof"

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current == "file":
            self.digester.update(data[start:end])
            if self.digester.size > self.limit:
                raise _too_large(self.limit)
        elif self._current == "proof":
            assert self.proof is not None
            self.proof += data[start:end]
            if len(self.proof) > _MAX_PROOF_BYTES:
                raise ProblemError(413, "content_too_large", "the batch proof is too large")


async def _read_document(request: Request, limit: int) -> tuple[DocumentDigester, bytes | None]:
    """The multipart ``file`` part hashed as it arrives (at most ``limit`` bytes of it), and
    the optional ``proof`` part (a batch proof, for a file anchored in a Merkle batch).

    The document is never held whole: memory stays near the size of the pieces the server reads
    (a document that may be a structured certificate is kept up to the certificate limit, as it
    must be parsed). The body's own size limit is the guard's (api.middleware).
    """
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise ProblemError(400, "bad_request", "the multipart body names no boundary")
    upload = _Upload(limit)
    callbacks: MultipartCallbacks = {
        "on_part_begin": upload.on_part_begin,
        "on_header_field": upload.on_header_field,
        "on_header_value": upload.on_header_value,
        "on_header_end": upload.on_header_end,
        "on_headers_finished": upload.on_headers_finished,
        "on_part_data": upload.on_part_data,
    }
    try:
        # The parser refuses a boundary over 256 bytes when built: malformed too, not a 500.
        parser = MultipartParser(boundary, callbacks)
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise ProblemError(400, "bad_request", "the multipart body is malformed") from None
    if not upload.has_file:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "file"),
                    "msg": "a file part named 'file' is required",
                    "type": "missing",
                }
            ]
        )
    return upload.digester, None if upload.proof is None else bytes(upload.proof)
