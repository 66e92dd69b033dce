"""Over real HTTP: metadata in the studio's own words (free keys, limits, the field named
in errors, search by tag and by the searchable fields), key management (list, expiry,
rotation with a grace period, revocation) and readiness reporting the IPFS node."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable

import httpx
import pytest

from notary.ops import devnet
from tests.api.conftest import Server, start_server
from tests.conftest import free_port

pytestmark = pytest.mark.devnet


def _sha() -> str:
    return hashlib.sha256(secrets.token_bytes(16)).hexdigest()


def _error(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    error: dict[str, str] = response.json()["error"]
    assert error["code"] == "invalid_metadata", error
    return error


def _until(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.2)


def test_any_key_the_format_allows_is_recorded_and_searchable(api_paused: Server) -> None:
    sku = "SKU-" + secrets.token_hex(4)
    metadata = {
        "designer": "林小雨",
        "season": "2026 秋冬",
        "sku": sku,
        "collection": ["little-fox", "autumn"],
        "fabric_gsm": 180,
        "tags": ["dress"],
    }
    with api_paused.client() as http:
        made = http.post("/v1/evidence/hash", json={"sha256": _sha(), "metadata": metadata})
        assert made.status_code == 201, made.text
        assert made.json()["metadata"] == metadata
        other = http.post(
            "/v1/evidence/hash",
            json={"sha256": _sha(), "metadata": {"sku": sku + "-b", "collection": "autumn"}},
        )
        assert other.status_code == 201, other.text
        as_file = http.post(
            "/v1/evidence",
            files={
                "file": ("fox.svg", b"<svg>" + secrets.token_bytes(8), "image/svg+xml"),
                "metadata": (None, json.dumps({"sku": sku, "pattern_no": "P-7"})),
            },
        )
        assert as_file.status_code == 201, as_file.text
        assert as_file.json()["metadata"]["pattern_no"] == "P-7"

        def ids(**query: str) -> set[str]:
            answer = http.get("/v1/evidence", params=query)
            assert answer.status_code == 200, answer.text
            return {item["id"] for item in answer.json()["items"]}

        mine = {made.json()["id"], as_file.json()["id"]}
        assert ids(sku=sku) == mine
        assert ids(collection="autumn") >= {made.json()["id"], other.json()["id"]}
        assert made.json()["id"] in ids(collection="little-fox", designer="林小雨")
        assert ids(sku=sku, season="2025 春夏") == set()
        assert made.json()["id"] in ids(tag="dress")
    with api_paused.client("copycat") as http:  # another tenant finds none of it
        answer = http.get("/v1/evidence", params={"sku": sku})
        assert answer.status_code == 200
        assert answer.json()["items"] == []


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({"SKU": "x"}, "metadata.SKU"),
        ({"sku": "x" * 257}, "metadata.sku"),
        ({"note": "x" * 4097}, "metadata.note"),
        ({"size": "12"}, "metadata.size"),
        ({"tags": "dress"}, "metadata.tags"),
        ({"season": True}, "metadata.season"),
        ({"cid": "bafy"}, "metadata.cid"),
        ({f"k{n}": "x" * 4000 for n in range(5)}, "metadata"),
    ],
)
def test_refused_metadata_names_the_field(api_paused: Server, metadata, field) -> None:
    sha = _sha()
    with api_paused.client() as http:
        error = _error(http.post("/v1/evidence/hash", json={"sha256": sha, "metadata": metadata}))
        assert error["field"] == field
        assert http.get("/v1/evidence", params={"sha256": sha}).json()["items"] == []


def test_bulk_and_file_errors_name_the_field(api_paused: Server) -> None:
    items = [{"sha256": _sha()}, {"sha256": _sha(), "metadata": {"designer": ["a", 3]}}]
    with api_paused.client() as http:
        error = _error(http.post("/v1/evidence/hashes", json={"items": items}))
        assert error["field"] == "items.1.metadata.designer"
        assert (
            http.get("/v1/evidence", params={"sha256": items[0]["sha256"]}).json()["items"] == []
        )  # all or nothing
        upload = http.post(
            "/v1/evidence",
            files={"file": ("a.txt", b"abc" + secrets.token_bytes(8)), "metadata": (None, "[1]")},
        )
        assert _error(upload)["field"] == "metadata"
        upload = http.post(
            "/v1/evidence",
            files={
                "file": ("a.txt", b"abcd" + secrets.token_bytes(8)),
                "metadata": (None, '{"size": 3}'),
            },
        )
        assert _error(upload)["field"] == "metadata.size"


def test_search_by_an_unoffered_field_is_refused(api_paused: Server) -> None:
    with api_paused.client() as http:
        answer = http.get("/v1/evidence", params={"fabric_gsm": "180"})
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "invalid_input"


def _org(api: Server, admin: httpx.Client, role: str = "depositor") -> str:
    slug = "keys-" + secrets.token_hex(4)
    made = admin.post("/v1/organizations", json={"slug": slug, "name": slug, "role": role})
    assert made.status_code == 201, made.text
    return slug


def _works(api: Server, key: str) -> int:
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {key}"}) as http:
        return http.get("/v1/evidence", params={"limit": 1}).status_code


def _code(api: Server, key: str) -> str:
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {key}"}) as http:
        answer = http.get("/v1/evidence", params={"limit": 1})
        assert answer.status_code == 401, answer.text
        code: str = answer.json()["error"]["code"]
        return code


def test_keys_are_listed_expire_rotate_and_are_revoked(api_paused: Server) -> None:
    with api_paused.client("operator") as admin:
        slug = _org(api_paused, admin)
        lasting = admin.post(f"/v1/organizations/{slug}/keys", json={"label": "ci"}).json()
        brief = admin.post(f"/v1/organizations/{slug}/keys", json={"expires_in": 2})
        assert brief.status_code == 201, brief.text
        assert brief.json()["expires_at"].endswith("Z")
        assert _works(api_paused, brief.json()["api_key"]) == 200
        _until(lambda: _works(api_paused, brief.json()["api_key"]) == 401)
        assert _code(api_paused, brief.json()["api_key"]) == "key_expired"
        assert _works(api_paused, lasting["api_key"]) == 200

        past = admin.post(
            f"/v1/organizations/{slug}/keys", json={"expires_at": "2020-01-01T00:00:00Z"}
        )
        assert past.status_code == 422
        both = admin.post(
            f"/v1/organizations/{slug}/keys",
            json={"expires_in": 60, "expires_at": "2099-01-01T00:00:00Z"},
        )
        assert both.status_code == 422

        rotated = admin.post(f"/v1/keys/{lasting['prefix']}/rotate", json={"grace_seconds": 3})
        assert rotated.status_code == 201, rotated.text
        successor = rotated.json()["api_key"]
        assert rotated.json()["prefix"] != lasting["prefix"]
        assert _works(api_paused, lasting["api_key"]) == 200  # within the grace period
        assert _works(api_paused, successor) == 200
        _until(lambda: _works(api_paused, lasting["api_key"]) == 401)
        assert _code(api_paused, lasting["api_key"]) == "key_expired"
        assert _works(api_paused, successor) == 200

        listed = admin.get(f"/v1/organizations/{slug}/keys")
        assert listed.status_code == 200, listed.text
        rows = {row["prefix"]: row for row in listed.json()}
        assert "api_key" not in listed.text and successor not in listed.text
        assert rows[lasting["prefix"]]["state"] == "expired"
        assert rows[lasting["prefix"]]["last_used_at"] is not None
        assert rows[lasting["prefix"]]["label"] == "ci"
        new_prefix = rotated.json()["prefix"]
        assert rows[new_prefix]["state"] == "active"
        assert rows[new_prefix]["label"] == "ci"  # the successor keeps the label
        assert rows[brief.json()["prefix"]]["state"] == "expired"

        assert admin.delete(f"/v1/keys/{new_prefix}").status_code == 204
        assert _code(api_paused, successor) == "unauthorized"
        assert admin.post(f"/v1/keys/{new_prefix}/rotate").status_code == 409
        assert admin.post("/v1/keys/000000000000/rotate").status_code == 404
        states = {
            r["prefix"]: r["state"] for r in admin.get(f"/v1/organizations/{slug}/keys").json()
        }
        assert states[new_prefix] == "revoked"


def test_an_organization_lists_its_own_keys_only(api_paused: Server) -> None:
    with api_paused.client("operator") as admin:
        slug = _org(api_paused, admin)
        key = admin.post(f"/v1/organizations/{slug}/keys", json={}).json()
    own = {"Authorization": f"Bearer {key['api_key']}"}
    with httpx.Client(base_url=api_paused.url, headers=own) as http:
        listed = http.get(f"/v1/organizations/{slug}/keys")
        assert listed.status_code == 200, listed.text
        assert [row["prefix"] for row in listed.json()] == [key["prefix"]]
        assert http.get("/v1/organizations/studio-org/keys").status_code == 403
        assert http.post(f"/v1/keys/{key['prefix']}/rotate").status_code == 403
        assert http.delete(f"/v1/keys/{key['prefix']}").status_code == 403


def test_readiness_reports_the_ipfs_node(api_paused: Server, chain, tmp_path) -> None:
    expected = httpx.post(devnet.status(chain.settings).ipfs_api + "/api/v0/id").json()["ID"]
    body = httpx.get(api_paused.url + "/v1/ready").json()
    assert body["ipfs"] is True
    assert body["detail"]["ipfs_peer_id"] == expected

    nowhere = f"http://127.0.0.1:{free_port()}"
    down, server, thread = start_server(chain, tmp_path, batcher=False, ipfs_api=nowhere)
    try:
        answer = httpx.get(down.url + "/v1/ready", timeout=60)
        body = answer.json()
        assert body["ipfs"] is False
        assert "unreachable" in body["detail"]["ipfs"]
        assert answer.status_code == 200  # file deposits wait in the spool meanwhile
        assert body["ready"] is True
    finally:
        server.should_exit = True
        thread.join(timeout=30)
