"""Map domain errors to HTTP: one JSON shape, `{"error": {"code": ..., "message": ...}}`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorOut
from notary import errors as e
from notary.core.jsontext import JsonInputError

log = logging.getLogger("notary.api")

# most specific first: the first matching class decides
STATUS: list[tuple[type[e.NotaryError], int, str]] = [
    (e.PayloadTooLargeError, 413, "payload_too_large"),
    (JsonInputError, 422, "invalid_json"),  # the code is the error's own: _code
    (e.UnsupportedVersionError, 422, "unsupported_certificate_version"),
    (e.CertificateFormatError, 422, "invalid_certificate"),
    (e.SelfShareError, 422, "cannot_share_with_self"),
    (e.UnknownOrganizationError, 422, "unknown_organization"),
    (e.WebhookUrlError, 422, "invalid_webhook_url"),
    (e.MetadataError, 422, "invalid_metadata"),  # with `field`: see error_body
    (e.MalformedSignatureError, 422, "malformed_signature"),  # with `field`, likewise
    (e.SignatureRequiredError, 422, "signature_required"),
    (e.UnregisteredSignerError, 422, "signer_not_registered"),
    (e.ImageRefusedError, 422, "image_refused"),  # the code is the status's: _code
    (e.InvalidFingerprintError, 422, "invalid_fingerprint"),
    (e.ValidationError, 422, "invalid_input"),
    (e.KeyExpiredError, 401, "key_expired"),
    (e.AuthenticationError, 401, "unauthorized"),
    (e.PermissionDeniedError, 403, "forbidden"),  # ForbiddenError, and any other refusal
    (e.NotFoundError, 404, "not_found"),
    (e.Sm3MismatchError, 409, "sm3_mismatch"),
    (e.DepositorKeyTakenError, 409, "depositor_key_taken"),
    (e.ConflictError, 409, "conflict"),
    (e.RateLimitedError, 429, "rate_limited"),
    (e.ChainUnavailableError, 503, "chain_unavailable"),
    (e.IpfsUnavailableError, 503, "ipfs_unavailable"),
    (e.IpfsError, 502, "ipfs_error"),
    (e.ChainError, 502, "chain_error"),
    (e.InsufficientStorageError, 507, "insufficient_storage"),
    (e.StorageError, 503, "storage_unavailable"),
    (e.ConfigError, 503, "not_configured"),
]


def _code(exc: e.NotaryError, status: int, code: str) -> tuple[int, str]:
    """Status and code of a mapped error: JSON refused before parsing says why in its own
    code (too_deep, duplicate_key, invalid_json), and a too large one is a 413 like every
    other body over its limit."""
    if isinstance(exc, JsonInputError):
        return (413, "payload_too_large") if exc.code == "too_large" else (422, exc.code)
    if isinstance(exc, e.ImageRefusedError):
        return status, IMAGE_CODES.get(exc.status, code)
    return status, code


IMAGE_CODES: dict[str, str] = {
    "not_image": "not_an_image",
    "unsupported": "unsupported_image",
    "corrupt": "corrupt_image",
    "too_large": "image_too_large",
}
"""The code of a refused capture, by the fingerprinter's status."""


_MEANINGS: dict[int, str] = {
    400: "A multipart body that cannot be parsed (bad_request).",
    401: "No API key, or an unknown or revoked one (unauthorized), or one past its expiry "
    "(key_expired).",
    403: "The key's organization may not do this (forbidden).",
    404: "No such thing for this organization (not_found).",
    409: "Contradicts what is stored (conflict, sm3_mismatch, depositor_key_taken; a "
    "certificate before anchoring).",
    413: "The body is over this route's limit (payload_too_large).",
    422: "Invalid input: invalid_request, invalid_input, invalid_json, too_deep, "
    "duplicate_key, invalid_certificate, invalid_metadata (with `field`), "
    "cannot_share_with_self, unknown_organization, invalid_webhook_url, not_an_image, "
    "unsupported_image, corrupt_image, image_too_large, invalid_fingerprint, "
    "malformed_signature, signature_required, signer_not_registered (with `field`) ...",
    429: "Over the organization's request rate; see Retry-After (rate_limited).",
    502: "The chain or the IPFS node answered with an error (chain_error, ipfs_error).",
    503: "The database, the chain or the IPFS node cannot be reached (storage_unavailable, "
    "chain_unavailable, ipfs_unavailable), or the service lacks a setting the request "
    "needs (not_configured); retry later.",
    507: "No space left to store the deposit; nothing was recorded (insufficient_storage).",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for these error statuses, each with the one error body."""
    return {status: {"model": ErrorOut, "description": _MEANINGS[status]} for status in statuses}


KEYED: tuple[int, ...] = (401, 403, 429)
"""The errors of every route that checks an API key."""


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    """The app's API routes, in matching order (FastAPI wraps included routers)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from _routes(included.routes)


def _allowed(request: Request) -> list[str]:
    """The methods of the path the request named, as the OpenAPI document lists them: GET
    and POST on /v1/organizations are two routes (Starlette's own Allow named one), while
    GET /v1/evidence/hash is another path's route (/v1/evidence/{evidence_id})."""
    path = request.scope["path"]
    matching = [r for r in _routes(request.app.routes) if r.path_regex.fullmatch(path)]
    if not matching:
        return []
    template = matching[0].path  # the route Starlette matched first
    return sorted({m for r in matching if r.path == template for m in r.methods or ()})


def error_body(code: str, message: str, field: str | None = None) -> dict[str, dict[str, str]]:
    """The one error shape; `field` (metadata errors) names the part of the input refused."""
    detail = {"code": code, "message": message}
    if field is not None:
        detail["field"] = field
    return {"error": detail}


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(e.NotaryError)
    async def notary_error(_: Request, exc: e.NotaryError) -> JSONResponse:
        for cls, mapped, named in STATUS:
            if isinstance(exc, cls):
                status, code = _code(exc, mapped, named)
                headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
                if isinstance(exc, e.RateLimitedError):
                    headers = {"Retry-After": str(exc.retry_after)}
                field = (
                    exc.field
                    if isinstance(exc, e.MetadataError | e.DepositorSignatureError)
                    else None
                )
                return JSONResponse(error_body(code, str(exc), field), status, headers=headers)
        log.error("unmapped notary error: %s", type(exc).__name__)
        return JSONResponse(error_body("internal", "internal error"), 500)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
        return JSONResponse(error_body("invalid_request", message), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
        }.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only one route's
            headers["Allow"] = ", ".join(_allowed(request))
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_body("internal", "internal error"), 500)
