"""The Kubo RPC backend: documents on a real IPFS node (or cluster peer) through ``/api/v0``.

:class:`IpfsStore` talks to the node with ``ipfshttpclient`` 0.8.0a2 (the 0.7 line refuses every
daemon newer than 0.8). Documents are added as Kubo's ``ipfs add --cid-version=1 --raw-leaves
--chunker=size-262144 --pin`` makes them, so the CID matches the embedded store's for the same
bytes (``tests/integration/test_ipfs_store.py`` checks both against a node).

Reads are answered from the node's own blockstore, never fetched from the network: the store is
where documents are put and pinned, and a CID it does not hold must be reported as missing at
once instead of searched for. Kubo honours the ``offline`` request option for that. js-ipfs
(the node the tests run) ignores it and asks its (peerless) bitswap for any block it lacks, which
never answers; so every lookup first stats the root block with a short server-side ``timeout``
(``lookup_timeout``), and a node that times out on a block of its own store does not have it.

Errors: a node that cannot be reached, drops the connection or does not answer within
``timeout`` raises :class:`~ledger.storage.StorageUnavailableError` (after ``retries`` more
attempts with backoff, all within ``timeout``); content the node does not hold raises
:class:`~ledger.storage.DocumentNotFoundError`; a malformed CID raises
:class:`~ledger.storage.cid.InvalidCidError` before any request, as in the embedded store.
Messages name the operation and the node's host and port, never a CID or document bytes.
"""

from __future__ import annotations

import io
import ipaddress
import re
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import ipfshttpclient
from ipfshttpclient import exceptions as ipfs_errors

from ledger.closing import Closing
from ledger.errors import ConfigurationError
from ledger.storage import (
    DocumentNotFoundError,
    DocumentStat,
    StorageError,
    StorageUnavailableError,
)
from ledger.storage.cid import InvalidCidError, cid_from_str
from ledger.storage.unixfs import DEFAULT_CHUNK_SIZE

__all__ = ["CHUNKER", "DEFAULT_LOOKUP_TIMEOUT", "IpfsStore", "parse_api_address"]

#: ``ipfs add --chunker``: fixed 256 KiB chunks, Kubo's default, spelled out so a node configured
#: with another default (``Import.UnixFSChunker``) still produces the CIDs the embedded store does.
CHUNKER: Final = f"size-{DEFAULT_CHUNK_SIZE}"
#: Seconds the node may take to find a block in its own store before it is taken as absent.
DEFAULT_LOOKUP_TIMEOUT: Final = 1.0
#: First pause before a retry; doubled for each further attempt.
_BACKOFF: Final = 0.25
#: Extra seconds the client waits beyond a server-side ``timeout`` so the node's own "timed out"
#: answer arrives before the connection is given up as dead.
_SERVER_TIMEOUT_GRACE: Final = 2.0
_DEFAULT_BASE: Final = "api/v0"

#: Node messages meaning "no such block here": Kubo offline ("block was not found locally
#: (offline)", "ipld: could not find"), a server-side timeout (js-ipfs "request timed out", Kubo
#: "context deadline exceeded"), a missing path element.
_ABSENT: Final = re.compile(
    r"not found|could not find|timed out|deadline exceeded|no link named", re.IGNORECASE
)
_NOT_PINNED: Final = re.compile(r"not pinned", re.IGNORECASE)
#: CID spellings a node may echo in a message (v0, base32, base58btc, base36): redacted.
_CID_IN_TEXT: Final = re.compile(
    r"\b(?:Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{50,}|z[1-9A-HJ-NP-Za-km-z]{40,}|k[0-9a-z]{50,})\b"
)
_TRANSPORT_ERRORS: Final = (
    ipfs_errors.ConnectionError,
    ipfs_errors.TimeoutError,
    ipfs_errors.ProtocolError,
)

T = TypeVar("T")


def parse_api_address(api: str) -> tuple[str, str, str]:
    """``(multiaddr, base path, host:port)`` for an RPC address given either way operators write it.

    Accepts a multiaddr (``/ip4/127.0.0.1/tcp/5001/http``, ``/dns/ipfs.internal/tcp/5001/https``)
    or a URL (``http://127.0.0.1:5001``, optionally ending in the API path ``/api/v0``). The third
    item is what error messages show: no scheme, path or credentials.
    """
    text = api.strip()
    if text.startswith("/"):
        parts = text.strip("/").split("/")
        if len(parts) < 4 or parts[0] not in ("ip4", "ip6", "dns", "dns4", "dns6"):
            raise ConfigurationError(
                "IPFS API multiaddr must look like /ip4/HOST/tcp/PORT[/http|/https]"
            )
        return text, _DEFAULT_BASE, f"{parts[1]}:{parts[3]}"
    url = urlsplit(text)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigurationError(
            "IPFS API address must be a multiaddr (/ip4/HOST/tcp/PORT/http) or an http(s) URL"
        )
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        raise ConfigurationError("IPFS API URL has an invalid port") from None
    host = url.hostname
    try:
        protocol = "ip4" if ipaddress.ip_address(host).version == 4 else "ip6"
    except ValueError:
        protocol = "dns"
    base = url.path.strip("/") or _DEFAULT_BASE
    shown = f"[{host}]:{port}" if protocol == "ip6" else f"{host}:{port}"
    return f"/{protocol}/{host}/tcp/{port}/{url.scheme}", base, shown


def _server_timeout(seconds: float) -> str:
    """A ``timeout`` request option both Kubo (Go duration) and js-ipfs (``ms`` suffix) parse."""
    return f"{max(1, round(seconds * 1000))}ms"


def _redact(message: str) -> str:
    return _CID_IN_TEXT.sub("<cid>", message)[:300]


def _http_status(error: BaseException) -> int | None:
    response = getattr(getattr(error, "original", None), "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _drop_strict_pool_argument(client: Any) -> None:
    """ipfshttpclient 0.8.0a2 builds its urllib3 pools with ``strict=True``, an argument urllib3 2
    ignores but warns about (FutureWarning) on every request. Removed from the open session's
    pool settings here rather than filtered: a warnings filter is process-wide, and this is the
    one place that knows the warning is noise (tests/integration/test_ipfs_store.py runs a round
    trip with every warning made an error, so a changed client layout is noticed)."""
    session = getattr(getattr(client, "_client", None), "_session", None)
    for adapter in getattr(session, "adapters", {}).values():
        settings = getattr(getattr(adapter, "poolmanager", None), "connection_pool_kw", None)
        if isinstance(settings, dict):
            settings.pop("strict", None)


class IpfsStore(Closing):
    """:class:`~ledger.storage.DocumentStore` on an IPFS node's RPC API.

    ``api`` is the node's RPC address (``LEDGER_IPFS_API``), a multiaddr or an http(s) URL.
    ``timeout`` bounds each request's connect and read waits and the whole of an operation's
    retries; a DAG walk on the node (``has``, ``stat``, ``pin``) is limited to it as well, and
    its answer may take 2 s more. ``retries`` is how many more attempts follow a transport
    failure (refused or dropped connection, no answer, a 5xx from a proxy in front of the node);
    errors the node itself answers are never retried.
    ``lookup_timeout`` is how long the node may take to find a root block in its own store before
    the document counts as absent (js-ipfs only; Kubo answers at once). Close the store (or use it
    as a context manager) to release its pooled connections.
    """

    def __init__(
        self,
        api: str,
        *,
        timeout: float = 30,
        retries: int = 2,
        lookup_timeout: float = DEFAULT_LOOKUP_TIMEOUT,
    ) -> None:
        if timeout <= 0 or lookup_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if retries < 0:
            raise ValueError("retries must not be negative")
        multiaddr, base, self._shown = parse_api_address(api)
        self._timeout = float(timeout)
        self._retries = retries
        self._lookup_timeout = min(float(lookup_timeout), self._timeout)
        # Built directly rather than with ipfshttpclient.connect(): connect() asks the daemon for
        # its version and warns (VersionMismatch) outside go-ipfs 0.5-0.8, which is every node in
        # use today (Kubo 0.9+; js-ipfs reports its own 0.18 numbering). The commands used here
        # (add, cat, block/stat, refs, files/stat, pin) are the same on all of them, and skipping
        # the call means a store can be created while the node is still starting.
        try:
            self._client: Any = ipfshttpclient.Client(
                multiaddr,
                base,
                offline=True,  # Kubo: answer from the local blockstore only (see module doc)
                session=True,
                timeout=self._timeout,
            )
        except ipfs_errors.AddressError:
            raise ConfigurationError("IPFS API address is not a usable multiaddr") from None
        _drop_strict_pool_argument(self._client)
        self._closed = False

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<IpfsStore {self._shown}{state}>"

    def close(self) -> None:
        """Release the pooled HTTP connections; the store cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._client.close()

    # ------------------------------------------------------------------------------------------
    # DocumentStore
    # ------------------------------------------------------------------------------------------

    def put(self, data: bytes) -> str:
        """Add and pin ``data``; the CIDv1 (base32) Kubo gives the same bytes."""
        self._check_open()

        def add() -> Any:
            return self._client.add(
                io.BytesIO(data),  # a fresh stream per attempt
                cid_version=1,
                raw_leaves=True,
                pin=True,
                chunker=CHUNKER,
                opts={"cid-base": "base32", "hash": "sha2-256"},
                timeout=self._timeout,
            )

        try:
            reply = self._request("add", add)
        except ipfs_errors.ErrorResponse as error:
            raise self._node_error("add", error) from None
        cid = str(reply["Hash"])
        # js-ipfs prints CIDv1 in base58btc unless asked; a node ignoring cid-base or cid-version
        # would hand back a CID the embedded store would not compute: refuse it.
        try:
            if not cid.startswith("b"):
                raise InvalidCidError("not CIDv1 base32")
            cid_from_str(cid)
        except InvalidCidError:
            raise StorageError(
                f"IPFS node at {self._shown} answered add with a CID that is not CIDv1 base32"
            ) from None
        return cid

    def get(self, cid: str) -> bytes:
        """The document's bytes; DocumentNotFoundError when the node does not hold it."""
        self._check_cid(cid)
        self._require_root(cid)
        try:
            data = self._request("cat", lambda: self._client.cat(cid, timeout=self._timeout))
        except ipfs_errors.ErrorResponse as error:
            if _ABSENT.search(str(error)):
                raise DocumentNotFoundError("part of the document is missing") from None
            raise self._node_error("cat", error) from None
        return bytes(data)

    def has(self, cid: str) -> bool:
        """Whether the root and every block under it are on the node."""
        self._check_cid(cid)
        if not self._root_present(cid):
            return False
        try:
            self._blocks_below(cid)
        except DocumentNotFoundError:
            return False
        return True

    def pin(self, cid: str) -> None:
        """Pin ``cid`` recursively; DocumentNotFoundError when any of its blocks is absent."""
        self._check_cid(cid)
        self._require_root(cid)
        # The node walks the whole DAG to pin it; a missing block there would (on js-ipfs) wait
        # for the network, so the walk gets the full timeout as a server-side limit.
        try:
            self._request(
                "pin/add",
                lambda: self._client.pin.add(
                    cid,
                    recursive=True,
                    opts={"timeout": _server_timeout(self._timeout)},
                    timeout=self._timeout + _SERVER_TIMEOUT_GRACE,
                ),
            )
        except ipfs_errors.ErrorResponse as error:
            if _ABSENT.search(str(error)):
                raise DocumentNotFoundError("part of the document is missing") from None
            raise self._node_error("pin/add", error) from None

    def unpin(self, cid: str) -> None:
        """Remove the recursive pin; nothing happens when there is none (or no such content)."""
        self._check_cid(cid)
        try:
            self._request(
                "pin/rm",
                lambda: self._client.pin.rm(cid, recursive=True, timeout=self._timeout),
            )
        except ipfs_errors.ErrorResponse as error:
            message = str(error)
            if _NOT_PINNED.search(message) or _ABSENT.search(message):
                return
            raise self._node_error("pin/rm", error) from None

    def stat(self, cid: str) -> DocumentStat:
        """Size (file bytes), distinct blocks (root included) and whether it is pinned."""
        self._check_cid(cid)
        self._require_root(cid)
        below = self._blocks_below(cid)
        try:
            info = self._request(
                "files/stat",
                lambda: self._client.files.stat(f"/ipfs/{cid}", timeout=self._timeout),
            )
        except ipfs_errors.ErrorResponse as error:
            raise self._node_error("files/stat", error) from None
        return DocumentStat(
            cid=cid, size=int(info["Size"]), blocks=len(below) + 1, pinned=self._pinned(cid)
        )

    # ------------------------------------------------------------------------------------------
    # Node queries
    # ------------------------------------------------------------------------------------------

    def _root_present(self, cid: str) -> bool:
        """Whether the node holds the root block, asking its own store only (module doc)."""
        try:
            self._request(
                "block/stat",
                lambda: self._client.block.stat(
                    cid,
                    opts={"timeout": _server_timeout(self._lookup_timeout)},
                    timeout=self._timeout,
                ),
            )
        except ipfs_errors.ErrorResponse as error:
            if _ABSENT.search(str(error)):
                return False
            raise self._node_error("block/stat", error) from None
        return True

    def _require_root(self, cid: str) -> None:
        if not self._root_present(cid):
            raise DocumentNotFoundError("no document with this CID in the store")

    def _blocks_below(self, cid: str) -> set[str]:
        """The distinct blocks under the root (``refs -r --unique``); DocumentNotFoundError when
        one of them is not on the node."""
        try:
            replies = self._request(
                "refs",
                lambda: self._client.unstable.refs(
                    cid,
                    opts={
                        "recursive": "true",
                        "unique": "true",
                        "timeout": _server_timeout(self._timeout),
                    },
                    timeout=self._timeout + _SERVER_TIMEOUT_GRACE,
                ),
            )
        except ipfs_errors.ErrorResponse as error:
            if _ABSENT.search(str(error)):
                raise DocumentNotFoundError("part of the document is missing") from None
            raise self._node_error("refs", error) from None
        blocks: set[str] = set()
        for reply in replies:
            if reply.get("Err"):
                raise DocumentNotFoundError("part of the document is missing")
            blocks.add(str(reply["Ref"]))
        return blocks

    def _pinned(self, cid: str) -> bool:
        """Recursively pinned, as put() and pin() leave it. Indirect pins are not looked at: on
        js-ipfs that check walks every pinned DAG on the node."""
        try:
            self._request(
                "pin/ls",
                lambda: self._client.pin.ls(cid, type="recursive", timeout=self._timeout),
            )
        except ipfs_errors.ErrorResponse as error:
            if _NOT_PINNED.search(str(error)):
                return False
            raise self._node_error("pin/ls", error) from None
        return True

    # ------------------------------------------------------------------------------------------
    # Transport
    # ------------------------------------------------------------------------------------------

    def _request(self, operation: str, call: Callable[[], T]) -> T:
        """Run ``call``; retry transport failures with backoff while the deadline allows."""
        self._check_open()
        deadline = time.monotonic() + self._timeout
        attempt = 0
        while True:
            try:
                return call()
            except ipfs_errors.ErrorResponse:
                raise  # the node answered: the caller decides what it means
            except (*_TRANSPORT_ERRORS, ipfs_errors.StatusError) as error:
                status = _http_status(error)
                if isinstance(error, ipfs_errors.StatusError) and (status is None or status < 500):
                    raise StorageError(
                        f"IPFS API at {self._shown} answered {operation} with HTTP {status}: "
                        "is the address an IPFS RPC endpoint?"
                    ) from None
                attempt += 1
                pause = _BACKOFF * 2 ** (attempt - 1)
                if attempt > self._retries or time.monotonic() + pause >= deadline:
                    raise StorageUnavailableError(
                        f"IPFS node at {self._shown} unavailable for {operation} "
                        f"({self._describe(error, status)}, {attempt} attempt(s))"
                    ) from None
                time.sleep(pause)

    @staticmethod
    def _describe(error: BaseException, status: int | None) -> str:
        if isinstance(error, ipfs_errors.TimeoutError):
            return "no answer in time"
        if isinstance(error, ipfs_errors.ConnectionError):
            return "connection failed"
        if isinstance(error, ipfs_errors.ProtocolError):
            return "connection broken"
        return f"HTTP {status}"

    def _node_error(self, operation: str, error: BaseException) -> StorageError:
        return StorageError(
            f"IPFS node at {self._shown} refused {operation}: {_redact(str(error))}"
        )

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the IPFS store is closed")

    def _check_cid(self, cid: str) -> None:
        """Refuse a malformed CID before asking the node (InvalidCidError, a ValueError)."""
        self._check_open()
        cid_from_str(cid)
