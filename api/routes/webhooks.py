"""Webhook endpoints of the caller's organization: /v1/webhooks (notary.hooks).

The request and response models live here, beside their only routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import Depositor, Service
from api.errors import KEYED, documented
from api.schemas import Strict
from api.strict import StrictRoute
from notary.hooks.endpoints import (
    MAX_DELIVERIES_LISTED,
    MAX_DESCRIPTION,
    DeliveryView,
    WebhookView,
)
from notary.hooks.events import EVENT_TYPES

router = APIRouter(
    prefix="/v1/webhooks",
    tags=["webhooks"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 413, 422, 503),
)

WebhookId = Annotated[str, Path(max_length=40, description="The endpoint's id (wh_...).")]


class WebhookIn(Strict):
    url: str = Field(
        max_length=4096,
        description="http(s) URL that receives the messages (POST, JSON body); no "
        "credentials, no fragment, at most 2048 characters.",
        examples=["https://studio.example/notary-hooks"],
    )
    events: list[str] | None = Field(
        default=None,
        max_length=len(EVENT_TYPES),
        description=f"Event types to send: any of {', '.join(EVENT_TYPES)}; all when absent.",
    )
    description: str = Field(default="", max_length=MAX_DESCRIPTION)


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    created_at: datetime


class NewWebhookOut(WebhookOut):
    secret: str = Field(
        description="The signing secret (whsec_...): shown here once, never again. Verify "
        "each message with it (notary.client.verify_webhook; README, Webhooks)."
    )


class AttemptOut(BaseModel):
    number: int
    at: datetime
    status_code: int | None = Field(description="The endpoint's answer; null when none came.")
    error: str = Field(description="Why the attempt failed; empty when it succeeded.")
    duration_ms: int
    next_attempt_at: datetime | None = Field(
        description="When the next attempt was scheduled after this one failed."
    )


class DeliveryOut(BaseModel):
    id: str = Field(description="The message id (the webhook-id header).")
    type: str
    status: Literal["pending", "delivered", "failed"]
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None
    attempts: list[AttemptOut]


def _out(view: WebhookView) -> WebhookOut:
    return WebhookOut(
        id=view.id,
        url=view.url,
        events=view.events,
        description=view.description,
        created_at=view.created_at,
    )


def _delivery(view: DeliveryView) -> DeliveryOut:
    return DeliveryOut(
        id=view.id,
        type=view.type,
        status=view.status,  # type: ignore[arg-type]
        created_at=view.created_at,
        next_attempt_at=view.next_attempt_at,
        finished_at=view.finished_at,
        attempts=[
            AttemptOut(
                number=a.number,
                at=a.at,
                status_code=a.status_code,
                error=a.error,
                duration_ms=a.duration_ms,
                next_attempt_at=a.next_attempt_at,
            )
            for a in view.attempts
        ],
    )


@router.post(
    "",
    response_model=NewWebhookOut,
    status_code=201,
    summary="Register an endpoint; the answer holds its signing secret, shown once",
)
def register(body: WebhookIn, org: Depositor, service: Service) -> NewWebhookOut:
    created = service.create_webhook(org, body.url, body.events, body.description)
    return NewWebhookOut(**_out(created.endpoint).model_dump(), secret=created.secret)


@router.get("", response_model=list[WebhookOut], summary="The organization's endpoints")
def listing(org: Depositor, service: Service) -> list[WebhookOut]:
    return [_out(v) for v in service.webhooks(org)]


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses=documented(404),
    summary="Delete an endpoint; its undelivered messages are given up",
)
def delete(webhook_id: WebhookId, org: Depositor, service: Service) -> Response:
    service.delete_webhook(org, webhook_id)
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[DeliveryOut],
    responses=documented(404),
    summary="The endpoint's newest messages, each with every delivery attempt",
)
def deliveries(
    webhook_id: WebhookId,
    org: Depositor,
    service: Service,
    limit: Annotated[int, Query(ge=1, le=MAX_DELIVERIES_LISTED)] = 50,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
) -> list[DeliveryOut]:
    return [_delivery(v) for v in service.webhook_deliveries(org, webhook_id, limit, status)]


@router.post(
    "/{webhook_id}/test",
    response_model=DeliveryOut,
    status_code=202,
    responses=documented(404),
    summary="Queue a webhook.ping message to the endpoint",
)
def test(webhook_id: WebhookId, org: Depositor, service: Service) -> DeliveryOut:
    return _delivery(service.test_webhook(org, webhook_id))
