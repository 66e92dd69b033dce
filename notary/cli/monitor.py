"""`notary monitor scan` and `notary alerts`: early warning from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from notary.cli.common import JsonFlag, app, emit, err, fail, load_settings, out
from notary.errors import NotaryError

if TYPE_CHECKING:
    from notary.client import NotaryClient

monitor_app = typer.Typer(help="Early warning: submit captures of suspect listings.")
alerts_app = typer.Typer(help="Your alerts: captures that matched your watched designs.")
app.add_typer(monitor_app, name="monitor")
app.add_typer(alerts_app, name="alerts")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
SIDECAR_FIELDS = ("source_url", "shop", "price", "captured_at")


def _client(url: str | None) -> NotaryClient:
    from notary.client import NotaryClient

    settings = load_settings()
    if not settings.api_key:
        fail("set NOTARY_API_KEY to your organization's API key")
    return NotaryClient(url or settings.api_url, settings.api_key)


def _sidecar(image: Path) -> dict[str, Any]:
    """The sidecar of shop1.jpg: shop1.jpg.json, else shop1.json (the first names one image
    only, when shop1.jpg and shop1.png lie side by side): source_url, shop, price,
    captured_at."""
    for candidate in (image.with_name(image.name + ".json"), image.with_suffix(".json")):
        if candidate.is_file():
            data = json.loads(candidate.read_text("utf-8"))
            if not isinstance(data, dict):
                raise ValueError(f"{candidate.name}: must hold a JSON object")
            return {k: data[k] for k in SIDECAR_FIELDS if k in data}
    return {}


@monitor_app.command("scan")
def scan(
    folder: Annotated[Path, typer.Argument(help="A folder of captured listing images.")],
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Submit every image of FOLDER as a capture (each with its sidecar JSON object of
    source_url, shop, price, captured_at: shop1.jpg.json, else shop1.json); prints, per
    file, the deposited evidence id and the status (captured, captured before, or why it
    was refused). Exit code 1 when some file was refused."""
    if not folder.is_dir():
        fail(f"{folder} is not a folder")
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        fail("no images (.png, .jpg, .jpeg, .webp, .gif) in the folder")
    results: list[dict[str, Any]] = []
    with _client(url) as client:
        for image in images:
            try:
                answer = client.capture(image, **_sidecar(image))
                status = "captured" if answer.get("created") else "captured before"
                if answer.get("matched"):
                    status += ", matched"
                results.append({"file": image.name, "id": answer["evidence_id"], "status": status})
            except (NotaryError, ValueError, OSError) as exc:
                results.append({"file": image.name, "id": None, "status": f"refused: {exc}"})
    if as_json:
        emit({"captures": results})
    else:
        for r in results:
            out.print(f"{r['file']}\t{r['id'] or '-'}\t{r['status']}", highlight=False)
    if any(r["id"] is None for r in results):
        raise typer.Exit(1)


@alerts_app.command("list")
def list_alerts(
    status: Annotated[str | None, typer.Option(help="new, acknowledged or dismissed")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first.")] = 50,
    every: Annotated[bool, typer.Option("--all", help="Every alert, page after page.")] = False,
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Your alerts, newest first: alert id, status, design, distance, where the copy was.

    The newest 50 unless --limit or --all says otherwise."""
    try:
        with _client(url) as client:
            items = client.alerts(status, limit, every_page=every)
    except NotaryError as exc:
        fail(str(exc))
    if as_json:
        emit({"alerts": items})
        return
    if not items:  # said on stderr: a script reading stdout's lines reads none
        err.print(f"no {status + ' ' if status else ''}alerts", highlight=False)
    for a in items:
        out.print(
            f"{a['id']}\t{a['status']}\t{a['design']['evidence_id']}\t{a['kind']}:"
            f"{a['distance']}\t{a['capture']['source_url']}",
            highlight=False,
        )


def _act(alert_id: str, action: str, url: str | None) -> None:
    try:
        with _client(url) as client:
            alert = client.alert_action(alert_id, action)
    except NotaryError as exc:
        fail(str(exc))
    out.print(f"{alert['id']}\t{alert['status']}", highlight=False)


@alerts_app.command("ack")
def ack(alert_id: str, url: Annotated[str | None, typer.Option(help="API URL.")] = None) -> None:
    """Acknowledge an alert (seen, being handled)."""
    _act(alert_id, "acknowledge", url)


@alerts_app.command("dismiss")
def dismiss(
    alert_id: str, url: Annotated[str | None, typer.Option(help="API URL.")] = None
) -> None:
    """Dismiss an alert."""
    _act(alert_id, "dismiss", url)
