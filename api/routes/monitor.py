"""Early warning: watch lists and captures, /v1/monitor."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import Depositor, Service, checks_key, depositor, service_of
from api.errors import KEYED, documented
from api.monitor_schemas import CaptureOut, WatchIn, WatchOut
from api.strict import StrictRoute
from api.upload import receive

router = APIRouter(
    prefix="/v1/monitor",
    tags=["early warning"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 422),
)


@router.get("/watch", response_model=WatchOut, summary="Which of your designs are watched")
def get_watch(org: Depositor, service: Service) -> WatchOut:
    return WatchOut.of(service.watch_list(org))


@router.put("/watch", response_model=WatchOut, summary="Choose which designs are watched")
def put_watch(body: WatchIn, org: Depositor, service: Service) -> WatchOut:
    """All designs (the default) or those with any of `tags`; whether finders may learn
    that their capture matched one of your designs (never which)."""
    return WatchOut.of(service.set_watch_list(org, body.settings()))


_CAPTURE_DOCS: dict[str, Any] = {
    "requestBody": {  # read from the stream by api.upload, so FastAPI cannot list it
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "metadata"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "minLength": 1},
                        "metadata": {
                            "type": "object",
                            "required": ["source_url"],
                            "properties": {
                                "source_url": {"type": "string", "format": "uri"},
                                "shop": {"type": "string", "maxLength": 256},
                                "price": {"type": "string", "maxLength": 64},
                                "captured_at": {"type": "string", "format": "date-time"},
                            },
                            "additionalProperties": True,
                        },
                    },
                },
                "encoding": {"metadata": {"contentType": "application/json"}},
            }
        },
    },
}


@router.post(
    "/captures",
    response_model=CaptureOut,
    status_code=201,
    summary="Submit a suspect image found elsewhere: deposited as your evidence, matched "
    "against every watched design",
    responses={
        200: {"model": CaptureOut, "description": "Captured before: the earlier capture"},
        **documented(409, 413, 503, 507),
    },
    openapi_extra=_CAPTURE_DOCS,
)
@checks_key(depositor)
async def post_capture(request: Request) -> Response:
    """Multipart: the image (`file`) and JSON `metadata` with `source_url` (required),
    `shop`, `price`, `captured_at`. Each match becomes an alert for the design's owner;
    the answer tells you at most `matched: true`, and only if every owner allows it. An
    image that cannot be matched (not_an_image, unsupported_image, corrupt_image,
    image_too_large) gets 422 and nothing is recorded."""
    org, service = await depositor(request), service_of(request)
    upload = await receive(
        request.headers.get("content-type"),
        request.headers.get("content-length"),
        request.stream(),
        service.max_upload_bytes,
        spool_dir=service.upload_spool,
        keep_bytes=service.fingerprint_bytes,
    )
    view = await service.capture(org, upload.file, upload.declared, upload.data)
    out = CaptureOut.of(view)
    return Response(
        out.model_dump_json(),
        status_code=201 if view.created else 200,
        media_type="application/json",
    )
