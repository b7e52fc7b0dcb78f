"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServiceDep
from api.problems import problem_responses
from api.schemas import HealthOut, ReadyOut
from ledger.chain.transactions import rpc_guard
from ledger.storage.unixfs import compute_cid

router = APIRouter(tags=["health"])

#: A CID asked of the document store to see that it answers (whether it has it does not matter).
_PROBE_CID = compute_cid(b"gov-ledger readiness probe\n")


@router.get("/health", response_model=HealthOut, responses=problem_responses(500))
async def health() -> HealthOut:
    """The process is up (it touches neither the chain nor the store)."""
    return HealthOut()


@router.get("/ready", response_model=ReadyOut, responses=problem_responses(500, 503))
async def ready(service: ServiceDep) -> ReadyOut:
    """The chain answers (its block number is read) and so does the document store."""
    session = service.session
    web3 = session.connection.web3
    block = await service.read(lambda: int(rpc_guard(lambda: web3.eth.block_number)))
    documents = await service.read(session.documents)
    await service.read(lambda: documents.store.has(_PROBE_CID))
    return ReadyOut(
        chain_id=session.connection.chain_id,
        block_number=block,
        storage="ipfs" if service.settings.uses_ipfs else "embedded",
    )
