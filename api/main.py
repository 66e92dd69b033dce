"""The FastAPI app: `create_app(settings)`. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import admin, audit, evidence, health, verify
from notary import __version__
from notary.config import Settings
from notary.service import NotaryService


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
    )
    errors.install(app)
    for module in (evidence, admin, health, verify, audit):
        app.include_router(module.router)
    return app
