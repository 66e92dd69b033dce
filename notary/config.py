"""Settings: one pydantic-settings object (prefix NOTARY_), built at the entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVNET_CHAIN_ID = 31337
"""Chain id of the local devnet (anvil's and Hardhat's customary local id)."""

DEVNET_PORT = 8545


class Settings(BaseSettings):
    """Everything configurable, from NOTARY_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="NOTARY_", extra="ignore")

    data_dir: Path = Field(default=Path(".notary"), description="All state lives here.")
    mode: Literal["dev", "production"] = Field(
        default="dev", description="production refuses the public devnet keys."
    )
    rpc_url: str | None = Field(
        default=None, description="Chain RPC URL; defaults to the devnet's from the data dir."
    )
    registry: str | None = Field(
        default=None, description="Registry address; defaults to the deployment record."
    )
    notary_key_file: Path | None = Field(
        default=None, description="Hex private key of the anchoring account (keys/notary.key)."
    )
    admin_key_file: Path | None = Field(
        default=None, description="Hex private key of the registry admin (keys/admin.key)."
    )
    depositor: str | None = Field(
        default=None, description="Depositor identity written into leaves by `notary stamp`."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to SQLite at <data>/notary.sqlite3."
    )
    api_host: str = Field(default="127.0.0.1", description="Address `notary serve` binds.")
    api_port: int = Field(default=8000, ge=1, le=65535)
    max_upload_bytes: int = Field(
        default=1024**3, ge=1, description="Largest file accepted by upload (413 beyond)."
    )
    key_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="How long a checked API key is trusted without reading the database "
        "again: a key revoked by `notary admin revoke-key` stops working within this time "
        "(at once when revoked through the admin API). 0 reads the database every request.",
    )
    rate_limit_per_second: float = Field(
        default=0,
        ge=0,
        description="Requests a second each organization may make on average (429 beyond, "
        "with Retry-After); 0 turns the limit off.",
    )
    rate_limit_burst: int = Field(
        default=100, ge=1, description="Requests an organization may make at once."
    )
    public_lookup_per_second: float = Field(
        default=1.0,
        gt=0,
        description="Keyless certificate lookups (/v1/public/certificates) a second each "
        "client address may make on average (429 beyond, with Retry-After).",
    )
    public_lookup_burst: int = Field(
        default=10,
        ge=1,
        description="Keyless certificate lookups a client address may make at once.",
    )
    consortium_requests_per_second: float = Field(
        default=20.0,
        gt=0,
        description="Requests to the keyless endorser routes (/v1/consortium/...) a second "
        "each client address may make on average (429 beyond, with Retry-After). A devnet's "
        "endorsers share one address and poll about once a second each.",
    )
    consortium_requests_burst: int = Field(
        default=100,
        ge=1,
        description="Requests to the keyless endorser routes a client address may make at once.",
    )
    finality: Literal["auto", "finalized", "confirmations"] = Field(
        default="auto",
        description="When an anchor's block is final, so that certificates are issued: "
        "'finalized' = the node's finalized block tag has reached it; 'confirmations' = "
        "NOTARY_CONFIRMATIONS blocks are on top of it; 'auto' = the tag where the node has "
        "it, otherwise confirmations (notary.chain.finality).",
    )
    confirmations: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="Blocks on top of an anchor before it is final, when the finality rule "
        "is confirmations: 0 for the devnet and for chains with immediate finality (Besu "
        "QBFT/IBFT 2.0); more for chains that can reorganize (e.g. 12).",
    )
    batch_max_leaves: int = Field(default=10_000, ge=1, le=2**32 - 1)
    batch_interval_seconds: float = Field(default=2.0, ge=0)
    api_url: str = Field(
        default="http://127.0.0.1:8000", description="Notary API used by `notary deposit`."
    )
    api_key: str | None = Field(default=None, description="API key for `notary deposit`.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where the public reaches this notary: the QR code of a PDF certificate "
        "opens <public_url>/verify (the web verifier) for its evidence, and absolute links "
        "in webhook messages (certificate_url) start with it.",
    )
    consortium_endorsers: int = Field(
        default=3,
        ge=0,
        le=64,
        description="The number of ENDORSER members `notary deploy` / `notary devnet up` give a "
        "new registry: n > 0 (3 by default: an internet court, a market regulator and an "
        "industry association on the devnet) deploys a ConsortiumRegistry with the notary "
        "account and n endorsers (fresh keys in <data>/keys/endorser-<i>.key, one "
        "`notary endorser run` process each on the devnet), whose anchors need "
        "NOTARY_CONSORTIUM_THRESHOLD endorsements (version 2 certificates); 0 deploys the "
        "single-operator EvidenceRegistry (version 1 certificates). The service itself "
        "follows the registry it is given, whichever it is.",
    )
    consortium_threshold: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Consortium mode: k, the endorsements each anchor needs (genesis policy; "
        "on chain it changes only by a quorum of endorsers).",
    )
    consortium_proposal_seconds: float = Field(
        default=3000,
        gt=0,
        le=3540,
        description="Consortium mode: a batch proposed this long ago without k endorsements is "
        "proposed again with a fresh batch time (the registry refuses batch times over 3600 s "
        "old at the anchoring block).",
    )
    devnet_key_approval: bool = Field(
        default=True,
        description="Dev mode: approve a depositor key change at once with the devnet "
        "endorsers' keys in the data directory (notary.ops.depositors). false: ask the "
        "endorser nodes, as outside dev mode (GET /v1/consortium/key-changes; the anchoring "
        "process relays a change once k of them approved it).",
    )
    endorser_api_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port of the notary API the devnet's endorser processes poll; defaults "
        "to NOTARY_API_PORT.",
    )
    devnet_port: int = Field(default=DEVNET_PORT, ge=1, le=65535)
    ipfs_port: int = Field(default=5001, ge=1, le=65535, description="Devnet IPFS RPC port.")
    ipfs_api: str | None = Field(
        default=None, description="Kubo-RPC endpoint (URL); defaults to the devnet's IPFS node."
    )
    ipfs_token: str | None = Field(
        default=None, description="Bearer token for the IPFS RPC endpoint, if it wants one."
    )
    devnet_chain_id: int = Field(default=DEVNET_CHAIN_ID, ge=1)
    metrics: bool = Field(
        default=True, description="Serve GET /metrics (Prometheus); false answers it 404."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token GET /metrics asks for; none: /metrics is open, like "
        "/v1/health (set one when the API port is reachable beyond the operator's network).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines of both processes: text, or one JSON object per line.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO")
    access_log: Literal["summary", "all", "off"] = Field(
        default="summary",
        description="summary: a line per failed or slow request and a count a minute; "
        "all: a line per request; off: none (api/observe.py).",
    )
    slow_request_seconds: float = Field(
        default=1.0, ge=0, description="A request slower than this is logged in summary mode."
    )

    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long one webhook attempt may take."
    )
    webhook_retry_base_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Webhook retries: after the n-th failed attempt the next one comes after "
        "a random pause between 0 and min(NOTARY_WEBHOOK_RETRY_MAX_SECONDS, this * 2^(n-1)) "
        "(exponential backoff, full jitter).",
    )
    webhook_retry_max_seconds: float = Field(
        default=3600.0, gt=0, description="Longest pause between two webhook attempts."
    )
    webhook_give_up_seconds: float = Field(
        default=3 * 24 * 3600.0,
        gt=0,
        description="A webhook message not delivered (2xx) this long after it was created is "
        "marked failed and no longer sent (3 days).",
    )

    @field_validator("data_dir", "notary_key_file", "admin_key_file")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        """Resolve once at the entry point: child processes and records get absolute paths."""
        return path.expanduser().absolute() if path is not None else None

    @property
    def consortium(self) -> bool:
        """Whether batches are anchored on a ConsortiumRegistry with k endorsements."""
        return self.consortium_endorsers > 0

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def notary_key_path(self) -> Path:
        return self.notary_key_file or self.keys_dir / "notary.key"

    @property
    def admin_key_path(self) -> Path:
        return self.admin_key_file or self.keys_dir / "admin.key"
