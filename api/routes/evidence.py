"""Deposits, evidence, certificates: /v1/evidence."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from api.deps import Depositor, Reader, Service, Where, checks_key, depositor, service_of
from api.disposition import attachment
from api.errors import KEYED, documented
from api.schemas import (
    BulkDepositIn,
    BulkOut,
    EvidenceOut,
    HashDepositIn,
    IssuedCertificateOut,
    PageOut,
    ZonedDateTime,
)
from api.strict import StrictRoute
from api.upload import receive, signature_bytes
from notary.core import certificate as cert_format
from notary.core.leaf import parse_hex32
from notary.deposit.request import MAX_IDEMPOTENCY_KEY_LENGTH, DepositOutcome, DepositRequest
from notary.errors import ValidationError
from notary.issue.search import ListStatus
from notary.issue.search import Query as SearchQuery
from notary.issue.views import EvidenceView
from notary.service import MAX_WAIT_SECONDS, NotaryService
from notary.store.orgs import OrgView

router = APIRouter(
    prefix="/v1/evidence",
    tags=["evidence"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 413, 422, 503),
)
_DEPOSIT_ERRORS = documented(409, 507)

MAX_HASH_BODY_BYTES: Final = 256 * 1024
"""Largest JSON body of a hash deposit: 16 KiB of metadata, even written as \\u escapes,
fits many times over. Larger bodies get 413 before they are parsed (api.limits)."""
MAX_BULK_BODY_BYTES: Final = 32 * 1024 * 1024
"""Largest JSON body of a bulk deposit: 10,000 hashes with about 3 KB of metadata each (bare
hashes take 0.8 MB)."""

# The deposit routes are the hot path. They take only their body from FastAPI and read the
# API key, `wait` and Idempotency-Key from the request themselves (_inputs), which saved
# 35-70 us a request (see api.deps). `checks_key` has api.strict check the key before the
# body is read (_inputs then finds the organization in the request's scope) and api.main
# list the key in the OpenAPI document; the parameters are listed from here.
_DEPOSIT_DOCS: dict[str, Any] = {
    "parameters": [
        {
            "name": "wait",
            "in": "query",
            "required": False,
            "schema": {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS, "default": 0},
            "description": "Seconds to block until anchored (0: answer at once).",
        },
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH},
            "description": "Retries with the same key get the same evidence; the same key "
            "with other content is refused (409).",
        },
    ],
}
_BULK_DOCS: dict[str, Any] = {**_DEPOSIT_DOCS, "parameters": _DEPOSIT_DOCS["parameters"][:1]}
_FILE_DOCS: dict[str, Any] = {
    **_DEPOSIT_DOCS,
    "requestBody": {  # read from the stream by api.upload, so FastAPI cannot list it
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "minLength": 1},
                        "metadata": {"$ref": "#/components/schemas/MetadataIn"},
                        "signature": {
                            "type": "string",
                            "pattern": "^(0x)?[0-9a-fA-F]{130}$",
                            "description": "The depositor's EIP-712 signature (see "
                            "HashDepositIn.signature): its metadataDigest covers the metadata "
                            "as recorded, with name, media_type, size, cid and cid_profile "
                            "(notary.deposit.content.file_metadata; the Python client "
                            "computes it).",
                        },
                    },
                },
                "encoding": {"metadata": {"contentType": "application/json"}},
            }
        },
    },
}


async def _inputs(request: Request) -> tuple[OrgView, NotaryService, float]:
    """The depositor, the service and `wait` of a deposit route (each checked)."""
    return await depositor(request), service_of(request), _wait(request)


def _wait(request: Request) -> float:
    given = request.query_params.get("wait")
    if given is None:
        return 0.0
    try:
        wait = float(given)
    except ValueError:
        wait = -1.0
    if not 0 <= wait <= MAX_WAIT_SECONDS:  # also refuses nan
        raise ValidationError(f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}")
    return wait


def _hex32(checked: str) -> bytes:
    """32 bytes from 64 hex digits that the request model's pattern has already checked."""
    return bytes.fromhex(checked[2:] if checked.startswith("0x") else checked)


def _request(
    item: HashDepositIn,
    service: NotaryService,
    key: str | None = None,
    where: str = "signature",
) -> DepositRequest:
    hook = (
        service.deposit_hook([(f.kind, f.hex) for f in item.fingerprints])
        if item.fingerprints
        else None
    )
    return DepositRequest(
        sha256=_hex32(item.sha256),
        sm3=_hex32(item.sm3) if item.sm3 else None,
        metadata=item.metadata.as_metadata() if item.metadata.model_fields_set else {},
        kind="hash",
        idempotency_key=key,
        signature=signature_bytes(item.signature, where) if item.signature is not None else None,
        on_created=hook,
    )


async def _current(
    service: NotaryService, org: OrgView, outcomes: list[DepositOutcome], wait: float
) -> list[EvidenceView]:
    """The evidence to answer with: as recorded, or once anchored if asked to wait."""
    if not wait:
        return [o.view for o in outcomes]
    ids = [o.public_id for o in outcomes]
    return await service.wait_anchored(org, ids, wait)


def _answer(outcomes: list[DepositOutcome], current: list[EvidenceView]) -> list[EvidenceOut]:
    return [EvidenceOut.of(v, created=o.created) for v, o in zip(current, outcomes, strict=True)]


def _status(outcomes: list[DepositOutcome]) -> int:
    return 201 if any(o.created for o in outcomes) else 200


def _json(model: BaseModel, status: int) -> Response:
    """A response serialized by pydantic directly: the model was built from our own data,
    so FastAPI's second validation against response_model (which still documents the
    shape) would only cost time: 29 ms for a 10,000-item bulk answer."""
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


async def _deposit(
    service: NotaryService, org: OrgView, requests: list[DepositRequest]
) -> list[DepositOutcome]:
    """Hand the deposits to the service's writer; resume once they are committed."""
    return await service.deposit(org, requests)


@router.post(
    "/hash",
    response_model=EvidenceOut,
    status_code=201,
    summary="Deposit a hash (the file never leaves you)",
    responses={
        200: {"model": EvidenceOut, "description": "Already deposited: the existing"},
        **_DEPOSIT_ERRORS,
    },
    openapi_extra=_DEPOSIT_DOCS,
)
@checks_key(depositor)
async def deposit_hash(body: HashDepositIn, request: Request) -> Response:
    org, service, wait = await _inputs(request)
    key = request.headers.get("idempotency-key")
    outcomes = await _deposit(service, org, [_request(body, service, key=key)])
    if body.fingerprints and outcomes[0].created:
        await run_in_threadpool(service.designs_changed)
    current = await _current(service, org, outcomes, wait)
    given = bool(body.fingerprints)
    answer = await service.with_fingerprint(org, outcomes[0], current[0], given)
    return _json(_answer(outcomes, [answer])[0], _status(outcomes))


@router.post(
    "/hashes",
    response_model=BulkOut,
    status_code=201,
    summary="Deposit up to 10,000 hashes in one request (all or nothing)",
    responses={
        200: {"model": BulkOut, "description": "All were deposited already"},
        **_DEPOSIT_ERRORS,
    },
    openapi_extra=_BULK_DOCS,
)
@checks_key(depositor)
async def deposit_hashes(body: BulkDepositIn, request: Request) -> Response:
    org, service, wait = await _inputs(request)
    many = len(body.items) > 1
    requests = await run_in_threadpool(
        lambda: [
            _request(item, service, where=f"items.{n}.signature" if many else "signature")
            for n, item in enumerate(body.items)
        ]
    )
    outcomes = await _deposit(service, org, requests)
    if any(r.on_created is not None for r in requests):
        await run_in_threadpool(service.designs_changed)
    current = await _current(service, org, outcomes, wait)

    def render() -> Response:  # 10,000 items: off the event loop
        created = sum(o.created for o in outcomes)
        bulk = BulkOut.model_construct(
            items=_answer(outcomes, current), created=created, existing=len(outcomes) - created
        )
        return _json(bulk, _status(outcomes))

    return await run_in_threadpool(render)


@router.post(
    "",
    response_model=EvidenceOut,
    status_code=201,
    summary="Deposit a file (multipart: `file`, optional JSON `metadata`), streamed",
    responses={
        200: {"model": EvidenceOut, "description": "Already deposited: the existing"},
        **_DEPOSIT_ERRORS,
    },
    openapi_extra=_FILE_DOCS,
)
@checks_key(depositor)
async def deposit_file(request: Request) -> Response:
    org, service, wait = await _inputs(request)
    idempotency_key = request.headers.get("idempotency-key")
    upload = await receive(
        request.headers.get("content-type"),
        request.headers.get("content-length"),
        request.stream(),
        service.max_upload_bytes,
        spool_dir=service.upload_spool,
        keep_bytes=service.fingerprint_bytes,
    )
    outcomes = [
        await service.deposit_file(org, upload.file, upload.declared, idempotency_key, upload.data)
    ]
    current = await _current(service, org, outcomes, wait)
    answer = await service.with_fingerprint(org, outcomes[0], current[0])
    return _json(_answer(outcomes, [answer])[0], _status(outcomes))


RECEIVED_FROM: Final = "Received at or after (RFC 3339, with Z or an offset)."
RECEIVED_TO: Final = "Received before (RFC 3339, with Z or an offset)."
FIELD: Final = (
    "Exact value of this metadata field (or of an item of its list; an integer in decimal)."
)


@router.get("", response_model=PageOut, summary="List and search your evidence, newest first")
def list_evidence(
    org: Depositor,
    service: Service,
    sha256: Annotated[str | None, Query(pattern=r"^(0x)?[0-9a-fA-F]{64}$")] = None,
    since: Annotated[ZonedDateTime | None, Query(description=RECEIVED_FROM)] = None,
    until: Annotated[ZonedDateTime | None, Query(description=RECEIVED_TO)] = None,
    tag: Annotated[str | None, Query(max_length=128)] = None,
    designer: Annotated[str | None, Query(max_length=256, description=FIELD)] = None,
    season: Annotated[str | None, Query(max_length=256, description=FIELD)] = None,
    sku: Annotated[str | None, Query(max_length=256, description=FIELD)] = None,
    collection: Annotated[str | None, Query(max_length=256, description=FIELD)] = None,
    status: ListStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> PageOut:
    given = {"designer": designer, "season": season, "sku": sku, "collection": collection}
    page = service.search(
        org,
        SearchQuery(
            sha256=parse_hex32("sha256", sha256) if sha256 else None,
            since=since,
            until=until,
            tag=tag,
            fields=tuple((k, v) for k, v in given.items() if v is not None),
            status=status.value if status is not None else None,
            limit=limit,
            cursor=cursor,
        ),
    )
    return PageOut(items=[EvidenceOut.of(v) for v in page.items], next_cursor=page.next_cursor)


@router.get(
    "/{evidence_id}",
    response_model=EvidenceOut,
    summary="One piece of evidence",
    responses=documented(404),
)
def get_evidence(evidence_id: str, org: Reader, service: Service, where: Where) -> EvidenceOut:
    return EvidenceOut.of(service.view(org, evidence_id, where), with_history=True)


@router.get(
    "/{evidence_id}/certificate",
    summary="The certificate (409 until anchored)",
    responses={200: {"content": {"application/json": {}}}, **documented(404, 409)},
)
def get_certificate(evidence_id: str, org: Reader, service: Service, where: Where) -> Response:
    cert = service.certificate(org, evidence_id, where)
    name = str(cert.evidence.metadata.get("name", evidence_id))
    return Response(
        cert_format.dumps(cert),
        media_type="application/json",
        headers={"Content-Disposition": attachment(name, ".cert.json")},
    )


@router.get(
    "/{evidence_id}/certificate.pdf",
    summary="The certificate to print (存证证书, PDF; 409 until anchored)",
    responses={200: {"content": {"application/pdf": {}}}, **documented(404, 409)},
)
def get_certificate_pdf(evidence_id: str, org: Reader, service: Service, where: Where) -> Response:
    """Chinese and English, with a QR code that opens the web verifier for this evidence
    (NOTARY_PUBLIC_URL/verify). Made from the certificate alone: `notary certificate pdf
    CERT.json` prints the same."""
    pdf, name = service.certificate_pdf(org, evidence_id, where)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": attachment(name, ".cert.pdf")},
    )


@router.get(
    "/{evidence_id}/certificates",
    response_model=list[IssuedCertificateOut],
    summary="Every certificate issued for the evidence: superseded ones first, the current last",
    responses=documented(404),
)
def list_certificates(
    evidence_id: str, org: Reader, service: Service, where: Where
) -> list[IssuedCertificateOut]:
    """A certificate is superseded when its anchor vanished from the chain (a
    reorganization, a node restored from backup) and the evidence was anchored again; the
    old one no longer verifies. Empty until the evidence is anchored in a final block."""
    issued = service.certificates(org, evidence_id, where)
    return [IssuedCertificateOut.of(one) for one in issued]


@router.get(
    "/{evidence_id}/file",
    summary="The deposited file, checked against its hash",
    responses=documented(404, 409, 502),
)
def get_file(evidence_id: str, org: Reader, service: Service, where: Where) -> StreamingResponse:
    """Streams the file back (from the spool or IPFS). If the bytes do not hash to the
    deposited SHA-256 the transfer is cut short instead of completing."""
    file = service.content(org, evidence_id, where)
    return StreamingResponse(
        file.chunks,
        media_type=file.media_type,
        headers={
            "Content-Disposition": attachment(file.name),
            "Content-Length": str(file.size),
            "X-Content-SHA256": file.sha256.hex(),
        },
    )


@router.get(
    "/{evidence_id}/bundle",
    summary="A zip for a court: file, certificate (JSON, PDF), CAR, specification, README, "
    "verify.html",
    responses=documented(404, 409, 502),
)
def get_bundle(evidence_id: str, org: Reader, service: Service, where: Where) -> FileResponse:
    target, file = service.bundle(org, evidence_id, where)
    return FileResponse(
        target,
        media_type="application/zip",
        headers={"Content-Disposition": attachment(file.name, ".evidence.zip")},
        background=BackgroundTask(target.unlink, missing_ok=True),
    )
