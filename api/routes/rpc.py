"""``POST /v1/rpc``: the service's chain, read-only, over Ethereum JSON-RPC (ADR 0021).

While ``ledger serve`` runs on the embedded chain it is the chain's only owner; this endpoint is
how a verifier or an officer reads it meanwhile (``ledger verify``, ``ledger credit history``, ...
fall back to it by themselves, or take it as ``--rpc``). On a JSON-RPC node the allowed calls are
passed through to the node, whose URL (and credentials) stay with the service.

Only the reads the ledger's own clients make are served (:data:`READ_METHODS`); everything else,
above all ``eth_sendRawTransaction`` and ``eth_sendTransaction``, is answered with a JSON-RPC
error: writes go through the API, which journals, authorizes and audits them. The endpoint
speaks JSON-RPC 2.0 (errors are JSON-RPC error objects in a 200 answer, as clients expect), but
what the service's guard refuses before the route (413, 429, 400) and a chain that does not
answer (503) are problem documents like everywhere else in the API.

Callers authenticate: a department or admin API token, or the *reader key* derived from the
deployment's pepper (:func:`ledger.serving.reader_key`), which a CLI holding the data directory
computes itself. A citizen's events are not for the public (docs/api.md), and raw logs would
show them grouped by subject. A citizen's or enterprise's token may make one read only:
``eth_call`` to the access-log anchor contract (``anchorOf``), so that the citizen page checks
an access-log entry's root against the chain without a department's help (ADR 0028).
"""

from __future__ import annotations

import ast
import hmac
import logging
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from hexbytes import HexBytes
from web3.datastructures import AttributeDict
from web3.types import RPCEndpoint

from api.deps import ServiceDep, get_principal, require_department_or_admin, unauthenticated
from api.problems import problem_responses
from api.security import Citizen
from api.service import Service
from ledger.chain.transactions import rpc_guard
from ledger.errors import LedgerError
from ledger.serving import READER_KEY_PREFIX, reader_key

__all__ = ["MAX_BATCH", "READ_METHODS", "router"]

router = APIRouter(prefix="/rpc", tags=["chain"])

_log = logging.getLogger(__name__)

#: The methods served: what web3 asks for the ledger's reads (contract calls, logs, blocks,
#: receipts, the deployment's code), and nothing that signs, sends or changes a node.
READ_METHODS: Final = frozenset(
    {
        "eth_accounts",  # answered [] here: the service lends no accounts
        "eth_blockNumber",
        "eth_call",
        "eth_chainId",
        "eth_estimateGas",
        "eth_gasPrice",
        "eth_getBalance",
        "eth_getBlockByHash",
        "eth_getBlockByNumber",
        "eth_getCode",
        "eth_getLogs",
        "eth_getStorageAt",
        "eth_getTransactionByHash",
        "eth_getTransactionCount",
        "eth_getTransactionReceipt",
        "net_version",
        "web3_clientVersion",
    }
)
#: Calls in one JSON-RPC batch: the guard counts a request once, whatever it holds.
MAX_BATCH: Final = 20

_PARSE_ERROR: Final = -32700
_INVALID_REQUEST: Final = -32600
_METHOD_NOT_FOUND: Final = -32601
_INVALID_PARAMS: Final = -32602
_REVERTED: Final = 3  # what geth and anvil answer for a reverted call, with the revert data
_BLOOM_BYTES: Final = 256

_bearer = HTTPBearer(auto_error=False, description="An API token (gld_/gla_) or the reader key")


async def require_chain_reader(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The deployment's reader key, or a department or governance token (401/403 otherwise)."""
    if credentials is None:
        raise unauthenticated("reading the chain needs a department or admin token")
    offered = credentials.credentials.strip()
    if offered.startswith(READER_KEY_PREFIX):
        expected = reader_key(service.settings.pepper_bytes())
        if hmac.compare_digest(offered.encode(), expected.encode()):
            return
        raise unauthenticated("the reader key is not this deployment's")
    principal = await get_principal(request, service, credentials)
    if isinstance(principal, Citizen) and _reads_access_log(service, await request.body()):
        return
    await require_department_or_admin(principal)


def _reads_access_log(service: Service, body: bytes) -> bool:
    """Whether ``body`` is one ``eth_call`` to the deployment's access-log anchor contract: the
    one read a subject's token may make (its roots and ranges hold nothing about anyone)."""
    contract = service.session.deployment.access_log
    try:
        call = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    if contract is None or not isinstance(call, dict) or call.get("method") != "eth_call":
        return False
    params = call.get("params")
    if not isinstance(params, list) or not params or not isinstance(params[0], dict):
        return False
    target = params[0].get("to")
    return isinstance(target, str) and target.lower() == contract.lower()


@router.post(
    "",
    dependencies=[Depends(require_chain_reader)],
    responses=problem_responses(400, 401, 403, 413, 429, 500, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "description": f"a JSON-RPC 2.0 request, or a batch of at most {MAX_BATCH}",
                        "type": ["object", "array"],
                    }
                }
            },
        }
    },
)
async def rpc(request: Request, service: ServiceDep) -> Response:
    """Answer read-only Ethereum JSON-RPC calls on the service's chain."""
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return _json(_error(None, _PARSE_ERROR, "parse error: the body is not JSON"))
    if isinstance(payload, list):
        if not payload or len(payload) > MAX_BATCH:
            return _json(_error(None, _INVALID_REQUEST, f"a batch holds 1 to {MAX_BATCH} requests"))
        return _json([await _answer(service, item) for item in payload])
    return _json(await _answer(service, payload))


async def _answer(service: Service, call: object) -> dict[str, Any]:
    """The JSON-RPC response object for one request object."""
    if not isinstance(call, dict):
        return _error(None, _INVALID_REQUEST, "a request is a JSON object")
    call_id = call.get("id")
    if call_id is not None and (isinstance(call_id, bool) or not isinstance(call_id, int | str)):
        return _error(None, _INVALID_REQUEST, "id must be a number or a string")
    method = call.get("method")
    params = call.get("params", [])
    if call.get("jsonrpc") != "2.0" or not isinstance(method, str):
        return _error(call_id, _INVALID_REQUEST, 'a request has "jsonrpc": "2.0" and a method')
    if not isinstance(params, list):
        return _error(call_id, _INVALID_PARAMS, "params must be an array")
    if method not in READ_METHODS:
        # Never echo the method: it is client text.
        return _error(
            call_id,
            _METHOD_NOT_FOUND,
            "method not available: this endpoint only reads the chain; "
            "write through the ledger's API",
        )
    if method == "eth_accounts":
        return {"jsonrpc": "2.0", "id": call_id, "result": []}
    connection = service.session.connection
    if connection.kind == "rpc":
        provider = connection.web3.provider
        endpoint = RPCEndpoint(method)
        answer = await service.read(
            lambda: rpc_guard(lambda: provider.make_request(endpoint, params))
        )
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": call_id}
        if "error" in answer:
            reply["error"] = answer["error"]
        else:
            reply["result"] = answer.get("result")
        return reply
    return await _embedded(service, call_id, method, params)


async def _embedded(
    service: Service, call_id: int | str | None, method: str, params: list[Any]
) -> dict[str, Any]:
    """One call on the embedded chain, through web3's eth-tester provider and its request
    formatting (the service's read lock held: eth-tester is not thread-safe)."""
    web3 = service.session.connection.web3
    request_func = web3.provider.request_func(web3, web3.middleware_onion)

    endpoint = RPCEndpoint(method)

    def call() -> Any:
        return request_func(endpoint, params)

    try:
        answer = await service.read(call)
    except LedgerError:
        raise  # the chain is closed or failed: a problem document (503)
    except Exception as error:
        revert = _revert_data(error)
        if revert is not None:
            return _error(call_id, _REVERTED, "execution reverted", data="0x" + revert.hex())
        _log.info("JSON-RPC %s refused: %s", method, type(error).__name__)
        return _error(call_id, _INVALID_PARAMS, f"invalid params ({type(error).__name__})")
    reply: dict[str, Any] = {"jsonrpc": "2.0", "id": call_id}
    if "error" in answer:
        failure = dict(answer["error"])
        reply["error"] = {"code": int(failure.get("code", -32603)), "message": "request failed"}
    else:
        reply["result"] = _encode(answer.get("result"))
    return reply


def _revert_data(error: BaseException) -> bytes | None:
    """The revert bytes of an eth-tester ``TransactionFailed`` (how a reverted call ends on the
    embedded chain: its message holds the bytes' repr, ledger.chain.transactions reads it the same
    way); None for any other exception, empty when the reason is not raw bytes."""
    if type(error).__name__ != "TransactionFailed":
        return None
    message = str(error.args[0]) if error.args else ""
    text = message.removeprefix("execution reverted: ")
    if not text.startswith(("b'", 'b"')):
        return b""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return b""
    return value if isinstance(value, bytes) else b""


def _encode(value: Any, key: str = "") -> Any:
    """eth-tester's answer in JSON-RPC's wire form: quantities as hex, bytes as hex, the logs
    bloom as its 256 bytes."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        if key == "logsBloom":
            return "0x" + value.to_bytes(_BLOOM_BYTES, "big").hex()
        return hex(value)
    if isinstance(value, bytes | bytearray | HexBytes):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict | AttributeDict):
        return {str(k): _encode(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item, key) for item in value]
    return str(value)


def _error(
    call_id: int | str | None, code: int, message: str, *, data: str | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": call_id, "error": error}


def _json(body: object) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")
