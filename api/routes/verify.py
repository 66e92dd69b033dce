"""Verification as a service: /v1/verify gives the same verdict as `notary verify`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool

from api.deps import Service
from api.errors import documented
from api.schemas import CheckOut, VerdictOut
from api.strict import StrictRoute
from notary.core.certificate import MAX_CERTIFICATE_BYTES
from notary.errors import PayloadTooLargeError

router = APIRouter(
    prefix="/v1", tags=["verify"], route_class=StrictRoute, responses=documented(400, 413, 422)
)


@router.post("/verify", response_model=VerdictOut, summary="Verify a certificate (and a file)")
async def verify_upload(
    service: Service,
    certificate: Annotated[UploadFile, File(description="The certificate JSON.")],
    file: Annotated[UploadFile | None, File(description="The file to check.")] = None,
) -> VerdictOut:
    """Anyone may call it (no key): it reads only the chain, like `notary verify`."""
    text = await certificate.read(MAX_CERTIFICATE_BYTES + 1)
    if len(text) > MAX_CERTIFICATE_BYTES:
        raise PayloadTooLargeError("certificate is too large")
    handle = file.file if file is not None else None
    verdict = await run_in_threadpool(service.verify, text, handle)
    return VerdictOut(
        outcome=verdict.outcome.value,
        reason=verdict.reason,
        checks=[CheckOut(name=c.name, passed=c.passed, detail=c.detail) for c in verdict.checks],
        proven=list(verdict.proven),
        not_proven=list(verdict.not_proven),
        facts=verdict.facts,
    )
