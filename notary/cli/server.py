"""`notary serve|admin`: the HTTP service (served by api.serve) and the administration of
its database: schema migrations, organizations and API keys. Needs the `[server]` extra."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from notary.cli.common import admin_app, app, err, fail, load_settings, out
from notary.errors import NotaryError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (NOTARY_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (NOTARY_API_PORT).")] = None,
) -> None:
    """Serve the HTTP API (deposits, certificates, verification, audit) with the batcher."""
    need_server()
    from api.serve import prepare, run

    settings = load_settings()
    bind_host, bind_port = host or settings.api_host, port or settings.api_port
    try:
        application = prepare(settings)
    except NotaryError as exc:
        fail(str(exc))
    err.print(f"API on http://{bind_host}:{bind_port} (interactive docs: /docs)", highlight=False)
    run(application, bind_host, bind_port, settings)


SERVER_MISSING = (
    "this command needs the notary server, which is not installed: "
    "pip install 'evidence-notary[server]' (verify, audit and deposit work without it)"
)


def need_server() -> None:
    """Fail with one clear line when the server extra (database, HTTP) is not installed."""
    try:
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:
        fail(SERVER_MISSING)


def _factory() -> sessionmaker[Session]:
    need_server()
    from notary.store.db import database_url, make_engine, make_sessionmaker

    settings = load_settings()
    try:
        engine = make_engine(database_url(settings.data_dir, settings.database_url))
    except NotaryError as exc:
        fail(str(exc))
    return make_sessionmaker(engine)


@admin_app.command("migrate")
def admin_migrate() -> None:
    """Upgrade the database's schema to this release's (back the database up first)."""
    need_server()
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from notary.store import schema
    from notary.store.db import database_url, make_engine

    settings = load_settings()
    url = database_url(settings.data_dir, settings.database_url)
    before: str | None = None
    if not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).exists():
        probe = create_engine(url)
        try:
            with probe.connect() as connection:
                before = schema.current(connection)
        except SQLAlchemyError as exc:
            fail(f"cannot open the database: {type(exc).__name__}")
        finally:
            probe.dispose()
    try:
        make_engine(url, upgrade=True).dispose()
    except NotaryError as exc:
        fail(str(exc))
    if before == schema.head():
        out.print(f"the database is already at schema revision {before}", highlight=False)
    elif before is None:
        out.print(f"created the database at schema revision {schema.head()}", highlight=False)
    else:
        out.print(f"database schema upgraded: {before} -> {schema.head()}", highlight=False)


@admin_app.command("create-org")
def admin_create_org(
    slug: Annotated[str, typer.Argument(help="Short id, e.g. hz-kids-studio.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[
        str, typer.Option(help="depositor, court, regulator, auditor or admin.")
    ] = "depositor",
) -> None:
    """Create an organization."""
    need_server()
    from notary.store.models import Role
    from notary.store.orgs import create_organization

    if role not in {r.value for r in Role}:
        fail("role must be depositor, court, regulator, auditor or admin")
    try:
        org = create_organization(_factory(), slug, name, Role(role))
    except NotaryError as exc:
        fail(str(exc))
    out.print(f"created organization {org.slug} ({org.role.value})", highlight=False)


@admin_app.command("create-key")
def admin_create_key(
    slug: Annotated[str, typer.Argument(help="Organization slug.")],
    label: Annotated[str, typer.Option(help="A note to recognize the key by.")] = "",
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    need_server()
    from notary.store.orgs import create_key

    try:
        key = create_key(_factory(), slug, label)
    except NotaryError as exc:
        fail(str(exc))
    err.print(f"API key for {key.organization.slug} (shown once, store it now):")
    sys.stdout.write(key.secret + "\n")


@admin_app.command("revoke-key")
def admin_revoke_key(prefix: Annotated[str, typer.Argument(help="The key's prefix.")]) -> None:
    """Revoke an API key by its prefix (the part after `nk_`)."""
    need_server()
    from notary.store.orgs import revoke_key

    try:
        revoke_key(_factory(), prefix)
    except NotaryError as exc:
        fail(str(exc))
    out.print(f"revoked {prefix}")


@admin_app.command("list-orgs")
def admin_list_orgs() -> None:
    """List organizations."""
    need_server()
    from notary.store.orgs import list_organizations

    for org in list_organizations(_factory()):
        out.print(f"{org.slug}\t{org.role.value}\t{org.name}", highlight=False)
