"""`notary serve|admin`: the HTTP service (served by api.serve) and the administration of
its database: schema migrations, organizations and API keys. Needs the `[server]` extra."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from notary.cli.common import JsonFlag, admin_app, app, emit, err, fail, load_settings, out
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


def shown_url(url: str) -> str:
    """A database URL fit to print: its password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.partition(":")[0] + ":***"


def admin_database(*, create: bool = False) -> str:
    """The database URL `notary admin` uses, said on stderr with the data directory.

    An SQLite file that does not exist is created only inside the data directory (a first
    run) or by `notary admin migrate` (`create`): elsewhere a missing file means a wrong
    NOTARY_DATABASE_URL or working directory, and the command would otherwise create an
    empty database, report success, and leave the real one untouched.
    """
    from notary.store.db import database_url

    settings = load_settings()
    url = database_url(settings.data_dir, settings.database_url)
    data_dir = settings.data_dir.resolve()
    err.print(
        f"data directory {data_dir}, database {shown_url(url)}", highlight=False, soft_wrap=True
    )
    if url.startswith("sqlite:///"):
        file = Path(url.removeprefix("sqlite:///")).resolve()
        if not file.exists() and not create:
            if not file.is_relative_to(data_dir):
                fail(
                    f"no database at {file}, which is outside the data directory {data_dir}: "
                    "check NOTARY_DATABASE_URL and NOTARY_DATA_DIR (or create it on purpose "
                    "with `notary admin migrate`)"
                )
            err.print("(a new, empty database: nothing was found there)", highlight=False)
    return url


def _factory() -> sessionmaker[Session]:
    need_server()
    from notary.store.db import make_engine, make_sessionmaker

    url = admin_database()
    try:
        engine = make_engine(url)
    except NotaryError as exc:
        fail(str(exc))
    return make_sessionmaker(engine)


_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """Seconds from `90`, `45s`, `30m`, `12h` or `90d`."""
    text = text.strip().lower()
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    try:
        value = float(number)
    except ValueError:
        fail(f"{text!r} is not a duration: use e.g. 90d, 12h, 30m, 45s or seconds")
    if not value >= 0 or value == float("inf"):
        fail(f"{text!r} is not a duration: use e.g. 90d, 12h, 30m, 45s or seconds")
    return value * _UNITS[unit]


@admin_app.command("migrate")
def admin_migrate() -> None:
    """Upgrade the database's schema to this release's (back the database up first)."""
    need_server()
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from notary.store import schema
    from notary.store.db import make_engine

    url = admin_database(create=True)
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
    expires_in: Annotated[
        str | None, typer.Option(help="Lifetime, e.g. 90d, 12h, 30m (default: no expiry).")
    ] = None,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    need_server()
    from notary.store.orgs import create_key, expiry

    try:
        ends = expiry(None, duration(expires_in) if expires_in is not None else None)
        key = create_key(_factory(), slug, label, ends)
    except NotaryError as exc:
        fail(str(exc))
    until = f", expires {key.expires_at:%Y-%m-%dT%H:%M:%SZ}" if key.expires_at else ""
    err.print(f"API key for {key.organization.slug}{until} (shown once, store it now):")
    sys.stdout.write(key.secret + "\n")


@admin_app.command("rotate-key")
def admin_rotate_key(
    prefix: Annotated[str, typer.Argument(help="The old key's prefix.")],
    grace: Annotated[
        str, typer.Option(help="How long the old key keeps working, e.g. 24h, 7d, 0.")
    ] = "24h",
    expires_in: Annotated[
        str | None, typer.Option(help="The new key's lifetime (default: no expiry).")
    ] = None,
) -> None:
    """Replace a key: print a new one (once); the old one works for --grace only."""
    need_server()
    from datetime import timedelta

    from notary.store.orgs import expiry, rotate_key

    try:
        ends = expiry(None, duration(expires_in) if expires_in is not None else None)
        key = rotate_key(_factory(), prefix, timedelta(seconds=duration(grace)), None, ends)
    except NotaryError as exc:
        fail(str(exc))
    err.print(f"{prefix} keeps working for {grace}; its successor (shown once, store it now):")
    sys.stdout.write(key.secret + "\n")


@admin_app.command("list-keys")
def admin_list_keys(
    slug: Annotated[str, typer.Argument(help="Organization slug.")], as_json: JsonFlag = False
) -> None:
    """List an organization's keys: prefix, state, created, last used, expiry (no secrets)."""
    need_server()
    from notary.store.orgs import list_keys

    try:
        keys = list_keys(_factory(), slug)
    except NotaryError as exc:
        fail(str(exc))

    def when(at: datetime | None) -> str | None:
        return None if at is None else at.strftime("%Y-%m-%dT%H:%M:%SZ")

    rows = [
        {
            "prefix": k.prefix,
            "state": k.state(),
            "label": k.label,
            "created_at": when(k.created_at),
            "last_used_at": when(k.last_used_at),
            "expires_at": when(k.expires_at),
            "revoked_at": when(k.revoked_at),
        }
        for k in keys
    ]
    if as_json:
        emit({"organization": slug, "keys": rows})
        return
    lines = ["prefix\tstate\tcreated\tlast used\texpires\tlabel"]
    for r in rows:
        fields = (r["created_at"], r["last_used_at"] or "never", r["expires_at"] or "never")
        lines.append(
            f"{r['prefix']}\t{r['state']}\t" + "\t".join(map(str, fields)) + f"\t{r['label']}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


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
