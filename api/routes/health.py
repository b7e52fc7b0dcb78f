"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ChainDep
from api.problems import problem_responses
from api.schemas import HealthOut, ReadyOut
from ledger.tx import rpc_guard

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, responses=problem_responses(500))
async def health() -> HealthOut:
    """The process is up (it does not touch the chain)."""
    return HealthOut()


@router.get("/ready", response_model=ReadyOut, responses=problem_responses(500, 503))
async def ready(chain: ChainDep) -> ReadyOut:
    """The chain answers: its current block number is read."""
    web3 = chain.context.web3
    block = await chain.run(lambda: int(rpc_guard(lambda: web3.eth.block_number)))
    return ReadyOut(chain_id=chain.connection.chain_id, block_number=block)
