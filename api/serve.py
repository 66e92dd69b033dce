"""`notary serve`: check the database, build the app, run it under uvicorn.

The HTTP side owns serving; the command line (notary.cli.server) only parses options and
reports a NotaryError as one line.
"""

from __future__ import annotations

import gc
from typing import Final

import uvicorn
from fastapi import FastAPI

from api.main import create_app
from notary.config import Settings
from notary.ops import logs
from notary.store.db import database_url, make_engine

GC_THRESHOLD: Final = 10_000
"""Allocations between young-generation collections in `notary serve` (Python's default: 700)."""


def prepare(settings: Settings) -> FastAPI:
    """The app to serve; NotaryError (e.g. SchemaVersionError, with the command that
    upgrades) before anything listens when the database or the settings cannot be used."""
    # the schema is checked before anything starts: a database behind this release is
    # refused with the command that upgrades it, not with a traceback at startup
    make_engine(database_url(settings.data_dir, settings.database_url)).dispose()
    return create_app(settings)


def run(application: FastAPI, host: str, port: int, settings: Settings | None = None) -> None:
    """Serve `application` on host:port until interrupted (SIGINT/SIGTERM).

    Logging follows `settings` (NOTARY_LOG_FORMAT, NOTARY_LOG_LEVEL; notary.ops.logs), and
    uvicorn's own access log is off: api.observe writes the access log (NOTARY_ACCESS_LOG).
    """
    settings = settings or Settings()
    logs.configure(settings.log_format, settings.log_level)
    # The ~150,000 objects of the loaded libraries never die: keep the cyclic collector from
    # walking them on every full collection (with it, parsing and answering a 10,000-item
    # bulk request took 0.13-0.19 s instead of 0.03 s), and let it run less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep the handlers of logs.configure
        access_log=False,
    )
