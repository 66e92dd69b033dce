"""Alerts of early warning: /v1/alerts (the design owner's only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from api.deps import Depositor, Service
from api.disposition import attachment
from api.errors import KEYED, documented
from api.monitor_schemas import AlertOut, AlertPageOut
from api.schemas import ZonedDateTime
from api.strict import StrictRoute
from notary.core import certificate as cert_format
from notary.store.models import AlertStatus

router = APIRouter(
    prefix="/v1/alerts",
    tags=["early warning"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 422),
)


@router.get("", response_model=AlertPageOut, summary="Your alerts, newest first")
def list_alerts(
    org: Depositor,
    service: Service,
    status: AlertStatus | None = None,
    design_id: Annotated[
        str | None, Query(pattern=r"^ev_[0-9a-f]{1,37}$", description="A design's evidence id")
    ] = None,
    since: Annotated[
        ZonedDateTime | None, Query(description="Created at or after (RFC 3339)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> AlertPageOut:
    page = service.alerts(
        org,
        status=status.value if status is not None else None,
        design_id=design_id,
        since=since,
        limit=limit,
        cursor=cursor,
    )
    return AlertPageOut(items=[AlertOut.of(a) for a in page.items], next_cursor=page.next_cursor)


@router.get("/{alert_id}", response_model=AlertOut, summary="One alert", responses=documented(404))
def get_alert(alert_id: str, org: Depositor, service: Service) -> AlertOut:
    return AlertOut.of(service.alert(org, alert_id))


@router.post(
    "/{alert_id}/acknowledge",
    response_model=AlertOut,
    summary="Mark an alert as seen and being handled",
    responses=documented(404, 409),
)
def acknowledge_alert(alert_id: str, org: Depositor, service: Service) -> AlertOut:
    return AlertOut.of(service.acknowledge_alert(org, alert_id))


@router.post(
    "/{alert_id}/dismiss",
    response_model=AlertOut,
    summary="Dismiss an alert (not a copy, or nothing to do)",
    responses=documented(404),
)
def dismiss_alert(alert_id: str, org: Depositor, service: Service) -> AlertOut:
    return AlertOut.of(service.dismiss_alert(org, alert_id))


@router.get(
    "/{alert_id}/thumbnails/{side}",
    summary="A small PNG of the design or the capture",
    responses={200: {"content": {"image/png": {}}}, **documented(404, 409, 502)},
)
def get_thumbnail(
    alert_id: str, side: Literal["design", "capture"], org: Depositor, service: Service
) -> Response:
    """Made from the stored or pinned file (404 for a hash-only design: no file)."""
    png = service.alert_thumbnail(org, alert_id, side)
    return Response(png, media_type="image/png")


@router.get(
    "/{alert_id}/capture/certificate",
    summary="The capture's certificate (409 until anchored)",
    responses={200: {"content": {"application/json": {}}}, **documented(404, 409)},
)
def get_capture_certificate(alert_id: str, org: Depositor, service: Service) -> Response:
    """The capture is the finder's evidence; the alert's owner may read its certificate
    through the alert, and nobody else."""
    cert = service.alert_capture_certificate(org, alert_id)
    return Response(
        cert_format.dumps(cert),
        media_type="application/json",
        headers={"Content-Disposition": attachment(alert_id + "-capture", ".cert.json")},
    )


@router.get(
    "/{alert_id}/report",
    summary="The match report: both certificates' times and what they prove",
    responses={200: {"content": {"application/json": {}}}, **documented(404)},
)
def get_report(alert_id: str, org: Depositor, service: Service) -> dict[str, Any]:
    """Plain statements (Chinese and English): the design existed no later than T1, the
    capture was preserved no later than T2, which came first; the distance is a similarity
    measure, not a legal finding."""
    return service.alert_report(org, alert_id)


@router.get(
    "/{alert_id}/report.pdf",
    summary="The match report to print (PDF, with both thumbnails)",
    responses={200: {"content": {"application/pdf": {}}}, **documented(404, 503)},
)
def get_report_pdf(alert_id: str, org: Depositor, service: Service) -> Response:
    pdf = service.alert_report_pdf(org, alert_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": attachment(alert_id, ".report.pdf")},
    )
