"""The notary's exception tree: every error the library raises derives from NotaryError.

    NotaryError
    ├── ValidationError (ValueError)        bad input from a user or a file
    │   ├── PayloadTooLargeError            an upload over the configured limit
    │   ├── JsonInputError                  refused JSON text, `code` says why (core.jsontext)
    │   ├── SelfShareError                  an organization sharing evidence with itself
    │   ├── UnknownOrganizationError        no such organization (that can receive a share)
    │   ├── WebhookUrlError                 a webhook endpoint URL that cannot be used
    │   ├── WebhookVerificationError        a webhook message whose signature does not hold
    │   ├── MetadataError                   deposit metadata refused; `field` names it
    │   ├── DepositorSignatureError         a deposit's depositor signature refused; `field`
    │   │   ├── MalformedSignatureError     not 65 bytes r ‖ s ‖ v with v 27/28 and low s
    │   │   ├── SignatureRequiredError      the organization requires one and none was given
    │   │   └── UnregisteredSignerError     recovers to no registered key of the organization
    │   ├── ImageRefusedError               a capture that is no usable image; `status` says why
    │   ├── InvalidFingerprintError         a perceptual fingerprint that cannot be used
    │   └── CertificateFormatError          certificate JSON that does not match the schema
    │       └── UnsupportedVersionError     a certificate of a version this code cannot read
    ├── NotFoundError (LookupError)         something asked for does not exist
    ├── PermissionDeniedError (PermissionError)  the caller may not do this (catch both below)
    │   ├── AuthenticationError             no, bad or revoked credentials (HTTP 401)
    │   │   └── KeyExpiredError             a known key past its expiry (401 key_expired)
    │   └── ForbiddenError                  known caller, not allowed to do this (HTTP 403)
    ├── ConflictError                       the request contradicts stored state
    │   ├── Sm3MismatchError                a known SHA-256 with another SM3
    │   └── DepositorKeyTakenError          a key registered for another organization
    ├── RateLimitedError                    over the organization's request rate (retry_after)
    ├── ConfigError                         settings, keys or deployment record missing/unsafe
    │                                        (HTTP 503 not_configured: the operator's to fix)
    ├── StorageError (OSError)              the data directory cannot be read or written
    │   ├── IntegrityError                  stored bytes no longer match the anchored hash
    │   ├── InsufficientStorageError        the disk (or database) is full
    │   └── SchemaVersionError              the database's schema is not this release's
    ├── DevnetError                         the local devnet cannot be started or reached
    ├── ServiceUnavailableError (ConnectionError)  the notary API did not answer (client side)
    ├── IpfsError                           talking to the IPFS node failed
    │   └── IpfsUnavailableError (ConnectionError)  the node cannot be reached
    └── ChainError                          talking to the chain failed
        ├── ChainUnavailableError (ConnectionError)  RPC endpoint unreachable
        ├── AlreadyKnownError               the node already holds the transaction sent
        └── TransactionFailedError          a transaction reverted or was dropped
            ├── AlreadyAnchoredError        EvidenceRegistry__AlreadyAnchored(root)
            └── MissingRoleError            AccessControlUnauthorizedAccount(account, role)

Third-party errors (web3, requests, solcx) are translated where the adapter meets the
library, with ``raise ... from exc``; nothing above the adapters sees them.
"""

from __future__ import annotations


class NotaryError(Exception):
    """Root of every error the notary raises."""


class ValidationError(NotaryError, ValueError):
    """Input that cannot be accepted as it is."""


class MetadataError(ValidationError):
    """Deposit metadata that cannot be accepted; `field` names the offending part, e.g.
    `metadata.sku`, `items.3.metadata.tags`, or `metadata` for the whole object."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class DepositorSignatureError(ValidationError):
    """A deposit's depositor signature that cannot be accepted; `field` names it
    (`signature`, `items.3.signature`). Nothing of the request is recorded."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class MalformedSignatureError(DepositorSignatureError):
    """Not a signature in the one accepted form (65 bytes r ‖ s ‖ v, v 27/28, low s)."""


class SignatureRequiredError(DepositorSignatureError):
    """The organization requires a depositor signature on every deposit."""


class UnregisteredSignerError(DepositorSignatureError):
    """The signature recovers to an address that is no registered depositor key of the
    organization: another key, or a signature of other content, metadata or registry."""


class ImageRefusedError(ValidationError):
    """A capture (notary.monitor) that cannot be matched: not an image, an ignored format,
    corrupt, or too large to decode (a decompression bomb). `status` is the fingerprinter's
    (notary.monitor.fingerprint.ImageStatus value); nothing is recorded."""

    def __init__(self, message: str, status: str = "not_image") -> None:
        super().__init__(message)
        self.status = status


class PayloadTooLargeError(ValidationError):
    """An upload larger than the configured limit."""


class SelfShareError(ValidationError):
    """An organization named itself as the grantee of a share."""


class UnknownOrganizationError(ValidationError):
    """A named organization does not exist, or cannot take the part asked (an admin
    receiving a share)."""


class WebhookUrlError(ValidationError):
    """A webhook endpoint URL that messages cannot be sent to (scheme, host, credentials)."""


class WebhookVerificationError(ValidationError):
    """A received webhook message whose signature or timestamp does not check out
    (notary.client.verify_webhook): do not act on it."""


# --- early warning (notary.monitor.fingerprint) ---


class InvalidFingerprintError(ValidationError):
    """A perceptual fingerprint sent by a client (hash-only deposits) that cannot be used:
    an unknown kind, or not 64 hex digits (256 bits)."""


class CertificateFormatError(ValidationError):
    """A certificate that is not well-formed JSON or does not match the schema."""


class UnsupportedVersionError(CertificateFormatError):
    """A certificate whose format version this code does not know."""


class NotFoundError(NotaryError, LookupError):
    """Something asked for does not exist."""


class PermissionDeniedError(NotaryError, PermissionError):
    """The caller may not do this: not authenticated, or not allowed."""


class AuthenticationError(PermissionDeniedError):
    """The caller presented no valid credentials (no, a malformed, unknown or revoked key)."""


class KeyExpiredError(AuthenticationError):
    """A known API key presented after its expiry (set at creation, or by a rotation)."""


class ForbiddenError(PermissionDeniedError):
    """The caller is known but its role does not allow this."""


class ConflictError(NotaryError):
    """The request contradicts what is stored (e.g. an idempotency key reused for other data)."""


class Sm3MismatchError(ConflictError):
    """Content whose SHA-256 is known (stored, or earlier in the same request) declared
    with another SM3: one of the two values is wrong, and only one can be recorded."""

    def __init__(self, sha256: bytes, recorded: bytes, given: bytes) -> None:
        super().__init__(
            f"sha256 {sha256.hex()} was deposited with sm3 {recorded.hex()}; "
            f"this request declares sm3 {given.hex()}"
        )
        self.sha256 = sha256
        self.recorded = recorded
        self.given = given


class DepositorKeyTakenError(ConflictError):
    """A depositor key registered (or being registered) for another organization, or one
    already registered: an address speaks for one organization only."""


class RateLimitedError(NotaryError):
    """The caller sent more requests than its rate limit allows."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        """Whole seconds to wait before the next request is accepted."""


class ConfigError(NotaryError):
    """Settings, keys or the deployment record are missing, invalid or unsafe."""


class StorageError(NotaryError, OSError):
    """The data directory cannot be read or written."""


class IntegrityError(StorageError):
    """Stored or retrieved bytes do not match the hash that was deposited and anchored."""


class InsufficientStorageError(StorageError):
    """No space left to store something (an upload, a database row): nothing was kept, and
    the same request succeeds once space is freed."""


class SchemaVersionError(StorageError):
    """The database's schema revision is behind (or ahead of) this code's."""


class DevnetError(NotaryError):
    """The local devnet cannot be started, stopped or reached."""


class ServiceUnavailableError(NotaryError, ConnectionError):
    """The notary HTTP API could not be reached or kept failing (client side)."""


class IpfsError(NotaryError):
    """The IPFS node refused or failed a request."""


class IpfsUnavailableError(IpfsError, ConnectionError):
    """The IPFS node cannot be reached."""


class ChainError(NotaryError):
    """Talking to the chain failed."""


class ChainUnavailableError(ChainError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached."""


class AlreadyKnownError(ChainError):
    """The node already holds the very transaction sent (its answer: "already known").

    Not a failure: the same signed bytes were sent before (a stored transaction sent again
    after a crash), so the transaction is pending or mined; wait for its receipt.
    """


class TransactionFailedError(ChainError):
    """A transaction reverted, ran out of gas or was dropped."""


class StuckTransactionError(ChainError):
    """Waiting for a transaction cannot help: the node no longer holds it (dropped from its
    pool, or the node restarted without it), or holds it behind a gap in the sender's
    nonces (an earlier transaction was lost). The sender signs it anew."""


class AlreadyAnchoredError(TransactionFailedError):
    """The registry already holds this root (it is write-once)."""

    def __init__(self, root: bytes) -> None:
        super().__init__(f"root 0x{root.hex()} is already anchored")
        self.root = root


class MissingRoleError(TransactionFailedError):
    """The sending account lacks the registry role the call needs (the contract reverted
    with AccessControlUnauthorizedAccount)."""

    def __init__(self, account: str, role: bytes) -> None:
        super().__init__(f"account {account} lacks role 0x{role.hex()}")
        self.account = account
        self.role = role
