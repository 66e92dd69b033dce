"""`notary serve|deposit|admin`: the HTTP service, its client, organizations and keys."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from notary.cli.common import JsonFlag, admin_app, app, emit, err, fail, load_settings, out
from notary.errors import NotaryError

GC_THRESHOLD = 10_000
"""Allocations between young-generation collections in `notary serve` (Python's default: 700)."""

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


EXIT_SKIPPED = 1
"""`notary deposit` exit code when some files found in a folder were skipped (the others
were deposited and their certificates written)."""


DEPOSIT_HELP = (
    "Deposit files through the notary API (key from NOTARY_API_KEY), with a progress bar.\n\n"
    "Everything is checked before anything is sent. A file named directly that cannot be "
    'deposited (an empty one: "the file is empty") stops the run. Files found in a folder '
    "that cannot be (empty, a link leading out of the folder, a name that is not UTF-8, "
    "unreadable) are skipped with a warning, the others deposited, and the exit code is 1. "
    "Running the command again deposits nothing twice and rewrites the same certificates."
)


@app.command(help=DEPOSIT_HELP)
def deposit(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to deposit.")],
    hash_only: Annotated[
        bool, typer.Option("--hash-only", help="Send only hashes; files stay here.")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Wait for anchoring and write certificates here, mirroring the folders "
            "(DIR/a/x.png -> OUT/a/x.png.cert.json).",
        ),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for anchoring with --out.")] = 300,
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Deposit files through the notary API (key from NOTARY_API_KEY), with a progress bar."""
    from rich.markup import escape

    from notary.client import NotaryClient, certificate_targets, display, plan

    settings = load_settings()
    if not settings.api_key:
        fail("set NOTARY_API_KEY to your organization's API key")
    try:
        planned = plan(paths)
        targets = certificate_targets(planned.entries, out_dir) if out_dir is not None else []
    except NotaryError as exc:
        fail(str(exc))
    for skipped in planned.skipped:
        err.print(
            f"[yellow]skipped:[/] {escape(display(skipped.path))}: {escape(skipped.reason)}",
            highlight=False,
            soft_wrap=True,
        )
    entries = planned.entries
    if not entries:
        fail("no files to deposit")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with (
            NotaryClient(url or settings.api_url, settings.api_key) as client,
            Progress(*columns, console=err, disable=as_json or len(entries) < 2) as bar,
        ):
            task = bar.add_task("depositing", total=len(entries))
            results = client.deposit_entries(
                entries, hash_only=hash_only, progress=lambda n: bar.advance(task, n)
            )
            written: list[str] = []
            if out_dir is not None:
                client.wait_anchored([r["id"] for r in results], timeout=wait)
                for result, target in zip(results, targets, strict=True):
                    written.append(display(client.save_certificate(result["id"], target)))
    except (NotaryError, TimeoutError) as exc:
        fail(str(exc))
    if as_json:
        emit(
            {
                "evidence": [
                    {
                        "file": display(e.path),
                        "path": e.relative,
                        "id": r["id"],
                        "status": r["status"],
                        "created": r.get("created"),
                    }
                    for e, r in zip(entries, results, strict=True)
                ],
                "certificates": written,
                "skipped": [{"file": display(s.path), "reason": s.reason} for s in planned.skipped],
            }
        )
    else:
        created = sum(1 for r in results if r.get("created"))
        out.print(
            f"deposited {len(results)} file(s): {created} new, {len(results) - created} "
            "already deposited",
            highlight=False,
        )
        if out_dir is not None and written:
            out.print(f"certificates written to {escape(display(out_dir))}", highlight=False)
    if planned.skipped:
        err.print(
            f"[yellow]{len(planned.skipped)} file(s) skipped[/] (listed above); "
            "the others were deposited",
            highlight=False,
        )
        raise typer.Exit(EXIT_SKIPPED)


@app.command("export")
def export_bundle(
    evidence_id: Annotated[str, typer.Argument(help="Evidence id (ev_...).")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Zip to write (default EVIDENCE_ID.evidence.zip).")
    ] = None,
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
) -> None:
    """Write the court bundle of EVIDENCE: file, certificate, CAR and a README (zh/en)."""
    from notary.client import NotaryClient

    settings = load_settings()
    if not settings.api_key:
        fail("set NOTARY_API_KEY to your organization's API key")
    target = out_file or Path(f"{evidence_id}.evidence.zip")
    try:
        with NotaryClient(url or settings.api_url, settings.api_key) as client:
            client.download(evidence_id, "bundle", target)
    except NotaryError as exc:
        target.unlink(missing_ok=True)
        fail(str(exc))
    out.print(f"wrote {target}", highlight=False)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (NOTARY_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (NOTARY_API_PORT).")] = None,
) -> None:
    """Serve the HTTP API (deposits, certificates, verification, audit) with the batcher."""
    need_server()
    import gc
    import logging

    import uvicorn

    from api.main import create_app
    from notary.store.db import database_url, make_engine

    settings = load_settings()
    bind_host, bind_port = host or settings.api_host, port or settings.api_port
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        # the schema is checked before anything starts: a database behind this release is
        # refused with the command that upgrades it, not with a traceback at startup
        make_engine(database_url(settings.data_dir, settings.database_url)).dispose()
        application = create_app(settings)
    except NotaryError as exc:
        fail(str(exc))
    err.print(f"API on http://{bind_host}:{bind_port} (interactive docs: /docs)", highlight=False)
    # The ~150,000 objects of the loaded libraries never die: keep the cyclic collector from
    # walking them on every full collection (with it, parsing and answering a 10,000-item
    # bulk request took 0.13-0.19 s instead of 0.03 s), and let it run less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    uvicorn.run(application, host=bind_host, port=bind_port, log_level="info")


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
    role: Annotated[str, typer.Option(help="depositor, auditor or admin.")] = "depositor",
) -> None:
    """Create an organization."""
    need_server()
    from notary.store.models import Role
    from notary.store.orgs import create_organization

    if role not in {r.value for r in Role}:
        fail("role must be depositor, auditor or admin")
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
