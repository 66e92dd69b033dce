"""GET /metrics: Prometheus's text format (notary.ops.metrics lists the series).

Open by default, as /v1/health and /v1/ready are: it names no organization and no evidence,
only counts and health. With NOTARY_METRICS_TOKEN set it asks for `Authorization: Bearer
<token>` (Prometheus's `authorization` scrape setting sends it), for a port reachable beyond
the operator's network. Not in the OpenAPI document, which describes the API depositors,
courts and auditors use (tests/api/test_docs.py); the README lists the series. A plain
`def` route: the reads (a few indexed queries, the chain and IPFS nodes) run in a worker
thread, never on the event loop.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Service
from notary.errors import AuthenticationError
from notary.ops.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics(service: Service, request: Request) -> Response:
    """Deposits, what waits, batch sizes and anchor latencies, health of every part (401
    without the token when NOTARY_METRICS_TOKEN is set; 404 when NOTARY_METRICS is off)."""
    token = service.metrics_token()
    if token is not None:
        presented = request.headers.get("authorization", "")
        if not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
            raise AuthenticationError("GET /metrics needs the metrics token (Bearer)")
    return Response(service.metrics_text(), media_type=CONTENT_TYPE)
