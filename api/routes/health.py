"""Liveness and readiness: /v1/health, /v1/ready."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Service
from api.schemas import ReadyOut
from api.strict import StrictRoute

router = APIRouter(prefix="/v1", tags=["health"], route_class=StrictRoute)


@router.get("/health")
def health() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut, "description": "Not ready: see which part and why"}},
)
def ready(service: Service) -> JSONResponse:
    """Database, chain and registry all usable (503 otherwise); the IPFS node reported."""
    r = service.readiness()
    body = {
        "ready": r.ready,
        "database": r.database,
        "chain": r.chain,
        "registry": r.registry,
        "ipfs": r.ipfs,
        "detail": r.detail,
    }
    return JSONResponse(body, status_code=200 if r.ready else 503)
