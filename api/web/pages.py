"""The web pages: verification (``/``), the service guide (``/services``), the open statistics
(``/stats``), citizens and enterprises (``/citizen``), departments (``/console``), and their
assets under ``/static``.

The pages are static HTML assembled once at import from ``pages/layout.html`` and one fragment per
page; everything they show comes from the public API through the scripts in ``static/``. No
inline script or style exists, so the Content-Security-Policy can forbid both, and nothing is
loaded from another origin (no CDN, no web fonts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "STATIC_DIR",
    "mount_web",
    "router",
]

WEB_DIR: Final = Path(__file__).resolve().parent
STATIC_DIR: Final = WEB_DIR / "static"
PAGES_DIR: Final = WEB_DIR / "pages"

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'"
)

#: Sent with every page. The pages hold bearer tokens in sessionStorage: no framing, no referrer
#: (the verification page takes a hash in its fragment), no caching of a page with results.
PAGE_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


def _assemble(page: str, script: str, title_key: str) -> str:
    layout = (PAGES_DIR / "layout.html").read_text(encoding="utf-8")
    main = (PAGES_DIR / f"{page}.html").read_text(encoding="utf-8").rstrip("\n")
    return (
        layout.replace("@TITLE@", title_key)
        .replace("@SCRIPT@", script)
        .replace("@PAGE@", page)
        .replace("@MAIN@", main)
    )


_VERIFY_PAGE: Final = _assemble("verify", "verify.js", "verify.pageTitle")
_SERVICES_PAGE: Final = _assemble("services", "services.js", "services.pageTitle")
_CITIZEN_PAGE: Final = _assemble("citizen", "citizen.js", "citizen.pageTitle")
_CONSOLE_PAGE: Final = _assemble("console", "console.js", "console.pageTitle")
_STATS_PAGE: Final = _assemble("stats", "stats.js", "stats.pageTitle")

router = APIRouter(include_in_schema=False)


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers=PAGE_HEADERS)


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def verification_page() -> HTMLResponse:
    """Verify a presented file or a document hash."""
    return _page(_VERIFY_PAGE)


@router.api_route("/services", methods=["GET", "HEAD"], response_class=HTMLResponse)
def services_page() -> HTMLResponse:
    """The service guide (办事指南): each government service and the e-certificates it checks."""
    return _page(_SERVICES_PAGE)


@router.api_route("/stats", methods=["GET", "HEAD"], response_class=HTMLResponse)
def stats_page() -> HTMLResponse:
    """The open statistics: counts from the chain as charts and tables (small cells withheld)."""
    return _page(_STATS_PAGE)


@router.api_route("/citizen", methods=["GET", "HEAD"], response_class=HTMLResponse)
def citizen_page() -> HTMLResponse:
    """A citizen's or an enterprise's own certificates and credit history."""
    return _page(_CITIZEN_PAGE)


@router.api_route("/console", methods=["GET", "HEAD"], response_class=HTMLResponse)
def console_page() -> HTMLResponse:
    """A department's console: anchor, revoke, record credit events, list certificates."""
    return _page(_CONSOLE_PAGE)


class _StaticAssets(StaticFiles):
    """``StaticFiles`` whose answers tell browsers not to guess their content type."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def mount_web(app: FastAPI) -> None:
    """Serve the pages and ``/static`` from ``app`` (called by ``create_app``)."""
    app.include_router(router)
    app.mount("/static", _StaticAssets(directory=STATIC_DIR), name="static")
