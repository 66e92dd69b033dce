"""The interactive docs, Swagger UI at `/docs` and ReDoc at `/redoc`, served with their own
JavaScript, CSS and icon, so they work without internet.

FastAPI's default pages load those from a CDN: offline (or where the CDN is unreachable)
they are blank. The files come from the package fastapi-offline (in the `server` extra),
which ships upstream's swagger-ui-dist `swagger-ui-bundle.js` and `swagger-ui.css`, redoc's
`bundles/redoc.standalone.js` and FastAPI's `favicon.png`; only its files are used. An
install without it (the server's files copied by hand, say) answers the two pages with 503
`not_configured` naming the package, rather than a page that stays blank.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from notary.errors import ConfigError

DOCS_URL: Final = "/docs"
REDOC_URL: Final = "/redoc"
ASSETS_URL: Final = "/docs/assets"
"""Where the files of ASSETS_PACKAGE are served."""

ASSETS_PACKAGE: Final = "fastapi_offline"
ASSET_FILES: Final = (
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "redoc.standalone.js",
    "favicon.png",
)
"""The files the two pages load, in the `static` folder of ASSETS_PACKAGE."""

THIS_ORIGIN_ONLY: Final = "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:"
"""The pages' Content-Security-Policy: the browser loads nothing from another host. Their
HTML names none, but ReDoc's bundle shows a logo from its vendor's CDN (hidden when it
fails to load); where that host is slow or blocked the browser need not even try. Inline
code, eval and blob: workers stay allowed: the two UIs use them, and the policy is about
where things come from, not a defence against injected script."""


def assets_dir(package: str = ASSETS_PACKAGE) -> Path | None:
    """The folder holding every one of ASSET_FILES, or None when `package` is not installed
    (or lacks one). The package is located, not imported: only its files are used."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if all((folder / name).is_file() for name in ASSET_FILES) else None


def install(app: FastAPI) -> None:
    """Serve the docs pages and their files on `app` (built with docs_url=None,
    redoc_url=None), and send `/` to the docs. None of it is in the OpenAPI document."""
    folder = assets_dir()
    if folder is not None:
        app.mount(ASSETS_URL, StaticFiles(directory=folder), name="docs-assets")

    def assets(request: Request) -> str:
        """The assets' URL prefix, under the root path the app is served at."""
        if folder is None:
            raise ConfigError(
                "the interactive docs need the package fastapi-offline (pip install "
                "'evidence-notary[server]'); /openapi.json is served without it"
            )
        return _root(request) + ASSETS_URL

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> RedirectResponse:
        return RedirectResponse(_root(request) + DOCS_URL)

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        prefix = assets(request)
        page = get_swagger_ui_html(
            openapi_url=_root(request) + str(app.openapi_url),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{prefix}/swagger-ui-bundle.js",
            swagger_css_url=f"{prefix}/swagger-ui.css",
            swagger_favicon_url=f"{prefix}/favicon.png",
            oauth2_redirect_url=None,  # the one scheme is a bearer key: no OAuth2 flow
            swagger_ui_parameters=app.swagger_ui_parameters,
        )
        page.headers["Content-Security-Policy"] = THIS_ORIGIN_ONLY
        return page

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        prefix = assets(request)
        page = get_redoc_html(
            openapi_url=_root(request) + str(app.openapi_url),
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{prefix}/redoc.standalone.js",
            redoc_favicon_url=f"{prefix}/favicon.png",
            with_google_fonts=False,  # fonts.googleapis.com: the system's fonts do
        )
        page.headers["Content-Security-Policy"] = THIS_ORIGIN_ONLY
        return page


def _root(request: Request) -> str:
    """The path the app is mounted at behind a proxy (uvicorn's --root-path), or ''."""
    return str(request.scope.get("root_path", "")).rstrip("/")
