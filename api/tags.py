"""Descriptions of the OpenAPI document's tags: what /docs shows above each group of routes.

Only where a group needs more than its routes' own words: signing deposits takes a key, a
typed-data message and a digest that no single route describes.
"""

from __future__ import annotations

from typing import Any, Final

DEPOSITOR_KEYS: Final = """\
Sign your organization's deposits, so that a court sees **who deposited** from a signature
rather than from the notary operator's word (consortium mode only; certificate version 2).

**1. A key.** Any secp256k1 private key, hex, in a file only you can read (`chmod 600`).
`notary depositor-keys add --key-file studio.key` registers it (the command signs the key's
consent for you); over HTTP, `POST /v1/depositor-keys` with `address` and `proof`, the key's
EIP-712 signature of `DepositorKey(address account, string depositor)`. On the devnet it is
`active` at once; elsewhere it is `pending` until the consortium's endorsers approve it.

**2. Sign each deposit.** The easy ways:

    notary deposit --key-file studio.key designs/        # files, or --hash-only

    from pathlib import Path
    from notary.client import NotaryClient
    from notary.ops.keys import load_depositor_key
    client = NotaryClient(url, api_key, signer=load_depositor_key(Path("studio.key")))
    client.deposit_hash(sha256_hex, title="spring dress")   # signed

By hand (any EIP-712 library: ethers `signTypedData`, eth_account
`sign_typed_data`): sign this typed data with the key, and send the 65-byte signature as
0x-hex in the deposit's `signature` field (JSON) or `signature` part (multipart):

    domain:  {name: "NotaryConsortium", version: "1",
              chainId: <chain_id>, verifyingContract: <registry>}
    types:   Deposit(bytes32 sha256, bytes32 sm3, bytes32 metadataDigest, string depositor)
    message: {sha256: <the content's SHA-256>,
              sm3: <its SM3, or 32 zero bytes when you send none>,
              metadataDigest: <SHA-256 of the canonical JSON of the metadata the notary
                               records>,
              depositor: <depositor>}

`chain_id`, `registry` and `depositor` are in `GET /v1/depositor-keys`. The canonical JSON
is docs/certificate.md's (section 3: keys sorted by code point, no whitespace, UTF-8 with
no `\\u` escapes: Python's `json.dumps(m, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`). For a hash deposit the recorded metadata is what you send; for a
file upload the notary adds `name` and `media_type` (unless given), `size`, `cid` and
`cid_profile`, so sign those too (the client and `notary deposit` do).
A signature that does not recover to an active key of your organization is refused (422
`signer_not_registered`, `malformed_signature`); nothing is recorded.
`PUT /v1/depositor-signatures` makes a signature required for every deposit.
"""

TAGS: Final[list[dict[str, Any]]] = [
    {"name": "depositor keys", "description": DEPOSITOR_KEYS},
]
