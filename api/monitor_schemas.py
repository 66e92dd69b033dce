"""Request and response models of early warning: watch lists, captures, alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer, StrictBool, WithJsonSchema

from api.schemas import Strict, UtcDateTime, utc_text
from notary.monitor.alerts import AlertView, Side
from notary.monitor.captures import CaptureView
from notary.monitor.watch import MAX_WATCH_TAGS, WatchSettings


def _maybe_utc_text(at: datetime | None) -> str | None:
    return None if at is None else utc_text(at)


MaybeUtcDateTime = Annotated[
    datetime | None,
    PlainSerializer(_maybe_utc_text, return_type=str | None, when_used="json"),
    WithJsonSchema({"type": ["string", "null"], "format": "date-time"}),
]
"""A time that may not exist yet (null), else as UtcDateTime."""


class WatchIn(Strict):
    mode: Literal["all", "tags"] = Field(
        default="all", description="all: every fingerprinted design; tags: those with a tag"
    )
    tags: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=128)]], Field(max_length=MAX_WATCH_TAGS)
    ] = Field(default_factory=list)
    disclose_to_finders: StrictBool = Field(
        default=False,
        description="Let a finder whose capture matches one of your designs learn that it "
        "matched (`matched: true`); never which design, nor anything about it.",
    )

    def settings(self) -> WatchSettings:
        return WatchSettings(self.mode, tuple(self.tags), self.disclose_to_finders)


class WatchOut(BaseModel):
    mode: str
    tags: list[str]
    disclose_to_finders: bool

    @classmethod
    def of(cls, s: WatchSettings) -> WatchOut:
        return cls(mode=s.mode, tags=list(s.tags), disclose_to_finders=s.disclose_to_finders)


class CaptureOut(BaseModel):
    capture_id: str
    evidence_id: str = Field(
        description="The capture's own evidence (yours): anchored and certified like any deposit"
    )
    created: bool = Field(
        description="False: these bytes were captured before; the earlier "
        "capture is returned and nothing new is matched"
    )
    source_url: str
    shop: str
    price: str
    captured_at: UtcDateTime
    matched: bool | None = Field(
        description="true when the capture matched watched designs and every owner allows "
        "finders to know; null otherwise (no match, or an owner keeps matches private: the "
        "two are deliberately indistinguishable, so false is never given)"
    )
    evidence_url: str

    @classmethod
    def of(cls, v: CaptureView) -> CaptureOut:
        return cls(
            capture_id=v.capture_id,
            evidence_id=v.evidence_id,
            created=v.created,
            source_url=v.source_url,
            shop=v.shop,
            price=v.price,
            captured_at=v.captured_at,
            matched=v.matched,
            evidence_url=f"/v1/evidence/{v.evidence_id}",
        )


def _time(unix: int | None) -> datetime | None:
    return datetime.fromtimestamp(unix, UTC) if unix is not None else None


class AlertSideOut(BaseModel):
    evidence_id: str
    sha256: str
    received_at: UtcDateTime
    anchored_at: MaybeUtcDateTime = Field(
        description="Block time of its final anchor: it existed no later than this"
    )
    block_number: int | None
    certificate_url: str | None = Field(description="null until anchored")
    thumbnail_url: str


class AlertCaptureOut(AlertSideOut):
    capture_id: str
    source_url: str
    shop: str
    price: str
    captured_at: UtcDateTime


class AlertOut(BaseModel):
    id: str
    status: str = Field(description="new, acknowledged or dismissed")
    created_at: UtcDateTime
    status_at: MaybeUtcDateTime
    kind: str = Field(description="The fingerprint kind that matched, e.g. pdq")
    distance: int = Field(
        description="Hamming distance of the fingerprints (0..256): a "
        "similarity measure, not a legal finding"
    )
    design_name: str
    design: AlertSideOut
    capture: AlertCaptureOut
    report_url: str

    @classmethod
    def of(cls, v: AlertView) -> AlertOut:
        base = f"/v1/alerts/{v.public_id}"

        def side(s: Side, certificate: str) -> dict[str, object]:
            return {
                "evidence_id": s.evidence_id,
                "sha256": s.sha256.hex(),
                "received_at": s.received_at,
                "anchored_at": _time(s.anchored_at),
                "block_number": s.block_number,
                "certificate_url": certificate if s.anchored_at is not None else None,
            }

        return cls(
            id=v.public_id,
            status=v.status,
            created_at=v.created_at,
            status_at=v.status_at,
            kind=v.kind,
            distance=v.distance,
            design_name=v.design_name,
            design=AlertSideOut(
                **side(v.design, f"/v1/evidence/{v.design.evidence_id}/certificate"),  # type: ignore[arg-type]
                thumbnail_url=f"{base}/thumbnails/design",
            ),
            capture=AlertCaptureOut(
                **side(v.capture, f"{base}/capture/certificate"),  # type: ignore[arg-type]
                thumbnail_url=f"{base}/thumbnails/capture",
                capture_id=v.capture_id,
                source_url=v.source_url,
                shop=v.shop,
                price=v.price,
                captured_at=v.captured_at,
            ),
            report_url=f"{base}/report",
        )


class AlertPageOut(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None
