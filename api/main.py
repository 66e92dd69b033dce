"""The FastAPI app: `create_app(settings)`. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from api import docs, errors, tags
from api.deps import key_check
from api.limits import BodyLimits
from api.observe import RequestLog
from api.routes import (
    admin,
    alerts,
    audit,
    consortium,
    depositor_keys,
    evidence,
    health,
    metrics,
    monitor,
    public,
    reconciliation,
    shares,
    verify,
    web,
    webhooks,
)
from notary import __version__
from notary.config import Settings
from notary.core.certificate import MAX_CERTIFICATE_BYTES
from notary.service import NotaryService

MAX_OTHER_BODY_BYTES = 64 * 1024
"""Largest body of any other request (an organization or a key: a few hundred bytes)."""


def create_app(settings: Settings, *, start_batcher: bool = True) -> FastAPI:
    """The notary HTTP API over a NotaryService built from `settings`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = NotaryService(settings)
        app.state.service = service
        if start_batcher:
            service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(
        title="Evidence notary",
        version=__version__,
        description="Deposit design files or hashes; get certificates a court verifies with "
        "the file, the certificate and any node of the chain. See docs/certificate.md.",
        lifespan=lifespan,
        openapi_tags=tags.TAGS,
        docs_url=None,  # served by api.docs, with local files instead of a CDN's
        redoc_url=None,
    )
    errors.install(app)
    app.add_middleware(
        BodyLimits,
        limits={
            ("POST", "/v1/evidence/hash"): evidence.MAX_HASH_BODY_BYTES,
            ("POST", "/v1/evidence/hashes"): evidence.MAX_BULK_BODY_BYTES,
            # the file (up to the upload limit), the certificate, the multipart framing
            ("POST", "/v1/verify"): settings.max_upload_bytes + MAX_CERTIFICATE_BYTES + 65536,
            ("POST", "/v1/evidence"): None,  # streamed, with its own limit (413 as it streams)
            ("POST", "/v1/monitor/captures"): None,  # the same
        },
        default=MAX_OTHER_BODY_BYTES,
    )
    # outermost: the request id is set before anything else runs and is in every answer
    app.add_middleware(
        RequestLog, mode=settings.access_log, slow_seconds=settings.slow_request_seconds
    )
    for module in (
        evidence,
        shares,
        public,
        admin,
        health,
        verify,
        audit,
        reconciliation,
        metrics,
        webhooks,
        monitor,
        alerts,
        depositor_keys,
    ):
        _mark_key_routes(module.router)
        app.include_router(module.router)
    _mark_key_routes(depositor_keys.requirement_router)
    app.include_router(depositor_keys.requirement_router)
    app.include_router(consortium.router)  # signed by members, no API key
    app.include_router(web.router)  # the static verifier page: no key
    _declare_key_scheme(app)
    docs.install(app)
    return app


def _mark_key_routes(router: APIRouter) -> None:
    """List the bearer API key in the OpenAPI document on the routes that check it: the
    check reads the header itself, so FastAPI would not list it."""
    for route in router.routes:
        if isinstance(route, APIRoute) and key_check(route) is not None:
            route.openapi_extra = {**(route.openapi_extra or {}), "security": [{"apiKey": []}]}


def _declare_key_scheme(app: FastAPI) -> None:
    """The bearer scheme itself, so the interactive docs get an Authorize button."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key `nk_...` (`notary admin create-key`); "
                    "the header `X-API-Key: nk_...` is accepted too.",
                }
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
