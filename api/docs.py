"""The interactive API documentation (``/docs``, Swagger UI), served whole by the service itself.

FastAPI's own pages load their scripts and styles from a CDN, so on a network without the
internet (a government intranet, a laptop at a demo) they are blank. Here the assets come from
the pinned ``fastapi-offline`` package (its Swagger UI 5 build, ADR 0022), mounted under
:data:`ASSETS_URL`; nothing on the page is fetched from another origin. There is no ``/redoc``:
ReDoc's build fetches its logo from its vendor's CDN, and one reference page is enough.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

__all__ = ["ASSETS_DIR", "ASSETS_URL", "mount_docs"]

#: Where the documentation assets are served (outside ``/v1``: not rate limited, never audited).
ASSETS_URL: Final = "/docs-assets"
#: The assets as the ``fastapi-offline`` wheel installs them.
ASSETS_DIR: Final = Path(str(files("fastapi_offline") / "static"))

#: Swagger UI would otherwise show a badge fetched from the public validator service.
_SWAGGER_PARAMETERS: Final = {"validatorUrl": None}


def mount_docs(app: FastAPI, *, docs_url: str = "/docs") -> None:
    """Serve Swagger UI at ``docs_url`` for ``app``'s OpenAPI document; ``app`` must be created
    with ``docs_url=None`` (and ``redoc_url=None``: no ReDoc page)."""
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} · Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), **_SWAGGER_PARAMETERS},
        )
