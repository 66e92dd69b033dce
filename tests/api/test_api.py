"""Every endpoint and every error, over real HTTP, against the real devnet."""

from __future__ import annotations

import hashlib
import json
import os
import time

import httpx
import pytest
from sqlalchemy import select

from notary.core.cid import raw_cid
from notary.store.models import Evidence
from notary.verify.certificate import Outcome, verify
from tests.api.conftest import UPLOAD_LIMIT, start_server
from tests.conftest import free_port

pytestmark = pytest.mark.devnet


def h(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body


# -- hash deposits -----------------------------------------------------------------------


def test_hash_deposit_and_idempotency(api) -> None:
    with api.client() as c:
        body = {"sha256": h("idem"), "metadata": {"title": "小熊连衣裙", "tags": ["spring"]}}
        first = c.post("/v1/evidence/hash", json=body)
        assert first.status_code == 201, first.text
        ev = first.json()
        assert ev["created"] is True and ev["status"] in {"pending", "batched", "anchored"}
        assert ev["sha256"] == h("idem") and ev["metadata"]["title"] == "小熊连衣裙"
        assert ev["certificate_url"] == f"/v1/evidence/{ev['id']}/certificate"
        again = c.post("/v1/evidence/hash", json=body)
        assert again.status_code == 200 and again.json()["id"] == ev["id"]
        assert again.json()["created"] is False
        keyed = {"sha256": h("keyed")}
        one = c.post("/v1/evidence/hash", json=keyed, headers={"Idempotency-Key": "k-1"})
        two = c.post("/v1/evidence/hash", json=keyed, headers={"Idempotency-Key": "k-1"})
        assert one.status_code == 201 and two.status_code == 200
        assert one.json()["id"] == two.json()["id"]
        clash = c.post(
            "/v1/evidence/hash", json={"sha256": h("other")}, headers={"Idempotency-Key": "k-1"}
        )
        assert_error(clash, 409, "conflict")


@pytest.mark.parametrize("wait", ["-1", "61", "nan", "inf", "soon", ""])
def test_bad_wait_and_idempotency_keys_are_refused_and_change_nothing(api_paused, wait) -> None:
    with api_paused.client() as c:
        content = h("bad-wait-" + wait)
        for path, body in (
            ("/v1/evidence/hash", {"sha256": content}),
            ("/v1/evidence/hashes", {"items": [{"sha256": content}]}),
        ):
            assert_error(c.post(path, params={"wait": wait}, json=body), 422, "invalid_input")
        files = {"file": ("w.txt", b"bad wait " + wait.encode(), "text/plain")}
        assert_error(
            c.post("/v1/evidence", params={"wait": wait}, files=files), 422, "invalid_input"
        )
        for key in ("k" * 129, "tab\there"):
            refused = c.post(
                "/v1/evidence/hash", json={"sha256": content}, headers={"Idempotency-Key": key}
            )
            assert_error(refused, 422, "invalid_input")
        assert c.get("/v1/evidence", params={"sha256": content}).json()["items"] == []


def test_oversized_bodies_get_413_before_they_are_parsed(api_paused) -> None:
    from api.main import MAX_OTHER_BODY_BYTES
    from api.routes.evidence import MAX_BULK_BODY_BYTES, MAX_HASH_BODY_BYTES
    from notary.core.certificate import MAX_CERTIFICATE_BYTES

    content = h("oversized")
    padding = "x" * MAX_HASH_BODY_BYTES
    body = json.dumps({"sha256": content, "metadata": {"description": padding}}).encode()

    def chunked():  # no Content-Length: the limit must hold while reading too
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    headers = {"Content-Type": "application/json"}
    with api_paused.client() as c:
        for sent in (body, chunked()):
            refused = c.post("/v1/evidence/hash", content=sent, headers=headers)
            assert_error(refused, 413, "payload_too_large")
        bulk = b'{"items": [' + b" " * MAX_BULK_BODY_BYTES + b"]}"
        refused = c.post("/v1/evidence/hashes", content=bulk, headers=headers)
        assert_error(refused, 413, "payload_too_large")
        assert c.get("/v1/evidence", params={"sha256": content}).json()["items"] == []
        # small bodies still pass: the limit is not a blanket refusal
        assert c.post("/v1/evidence/hash", json={"sha256": content}).status_code == 201
    with api_paused.client("operator") as admin:
        org = {"slug": "big-org", "name": "x" * (MAX_OTHER_BODY_BYTES + 1), "role": "depositor"}
        assert_error(admin.post("/v1/organizations", json=org), 413, "payload_too_large")
        label = {"label": "x" * (MAX_OTHER_BODY_BYTES + 1)}
        refused = admin.post("/v1/organizations/studio-org/keys", json=label)
        assert_error(refused, 413, "payload_too_large")
    with api_paused.client(None) as anyone:  # /v1/verify needs no key: its limit matters most
        oversized = b"x" * (UPLOAD_LIMIT + MAX_CERTIFICATE_BYTES + 70_000)
        files = {"certificate": ("c.json", b"{}"), "file": ("f.bin", oversized)}
        assert_error(anyone.post("/v1/verify", files=files), 413, "payload_too_large")


def test_openapi_documents_keys_and_deposit_parameters(api) -> None:
    with api.client(None) as c:
        doc = c.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    single = doc["paths"]["/v1/evidence/hash"]["post"]
    assert single["security"] == [{"apiKey": []}]
    assert {p["name"] for p in single["parameters"]} == {"wait", "Idempotency-Key"}
    assert {p["name"] for p in doc["paths"]["/v1/evidence/hashes"]["post"]["parameters"]} == {
        "wait"
    }
    assert doc["paths"]["/v1/evidence/{evidence_id}"]["get"]["security"] == [{"apiKey": []}]
    assert doc["paths"]["/v1/audit/anchors"]["get"]["security"] == [{"apiKey": []}]
    assert "security" not in doc["paths"]["/v1/verify"]["post"]
    assert "security" not in doc["paths"]["/v1/health"]["get"]


def test_many_waiting_requests_do_not_starve_the_others(api_paused) -> None:
    """Sixty deposits waiting (nothing gets anchored: the batcher is paused) must not hold
    the 40 worker threads that other requests run on: a read answers while they wait."""
    import asyncio

    headers = {"Authorization": f"Bearer {api_paused.keys['studio']}"}
    known = httpx.post(
        f"{api_paused.url}/v1/evidence/hash", json={"sha256": h("starve-known")}, headers=headers
    ).json()["id"]
    finished: list[str] = []

    async def main() -> None:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(
            base_url=api_paused.url, headers=headers, timeout=60, limits=limits
        ) as c:

            async def waiting(i: int) -> None:
                r = await c.post(
                    "/v1/evidence/hash", params={"wait": 5}, json={"sha256": h(f"starve-{i}")}
                )
                assert r.status_code == 201 and r.json()["status"] == "pending"
                finished.append("wait")

            async def read() -> None:
                await asyncio.sleep(1)  # the sixty are waiting by now
                r = await c.get(f"/v1/evidence/{known}")  # a `def` route: a worker thread
                assert r.status_code == 200
                finished.append("read")

            await asyncio.gather(read(), *(waiting(i) for i in range(60)))

    asyncio.run(main())
    assert finished[0] == "read", finished[:3]
    assert finished.count("wait") == 60


def test_wait_returns_anchored_evidence_and_a_certificate_that_verifies(api, chain) -> None:
    with api.client() as c:
        r = c.post("/v1/evidence/hash?wait=30", json={"sha256": h("wait"), "sm3": h("sm3")})
        assert r.status_code == 201
        ev = r.json()
        assert ev["status"] == "anchored" and ev["anchor"]["block_number"] > 0
        cert = c.get(ev["certificate_url"])
        assert cert.status_code == 200 and "attachment" in cert.headers["content-disposition"]
        verdict = verify(cert.content, chain.rpc_url)
        assert verdict.outcome is Outcome.VALID, verdict
        detail = c.get(f"/v1/evidence/{ev['id']}").json()
        assert [e["kind"] for e in detail["history"]] == ["received", "batched", "anchored"]


def test_bulk_deposit(api) -> None:
    with api.client() as c:
        items = [
            {"sha256": h(f"bulk-{i}"), "metadata": {"name": f"设计-{i}.png"}} for i in range(500)
        ]
        r = c.post("/v1/evidence/hashes?wait=30", json={"items": items})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["created"] == 500 and body["existing"] == 0
        assert {i["status"] for i in body["items"]} == {"anchored"}
        again = c.post("/v1/evidence/hashes", json={"items": [*items[:10], {"sha256": h("new")}]})
        assert again.json()["existing"] == 10 and again.json()["created"] == 1


def test_bulk_with_one_bad_item_changes_nothing(api) -> None:
    with api.client() as c:
        before = c.get(f"/v1/evidence?sha256={h('atomic-0')}").json()["items"]
        items = [{"sha256": h("atomic-0")}, {"sha256": "zz" * 32}]
        assert_error(c.post("/v1/evidence/hashes", json={"items": items}), 422, "invalid_request")
        assert c.get(f"/v1/evidence?sha256={h('atomic-0')}").json()["items"] == before == []
        too_many = [{"sha256": h(f"m{i}")} for i in range(10_001)]
        assert_error(
            c.post("/v1/evidence/hashes", json={"items": too_many}), 422, "invalid_request"
        )
        assert_error(c.post("/v1/evidence/hashes", json={"items": []}), 422, "invalid_request")


@pytest.mark.parametrize(
    "body",
    [
        {"sha256": "ab" * 31},  # wrong length
        {"sha256": "g" * 64},  # not hex
        {"sha256": h("x"), "sm3": "12"},  # bad sm3
        {"sha256": h("x"), "unknown": 1},  # unknown field
        {"sha256": h("x"), "metadata": {"colour": "red"}},  # unknown metadata field
        {"sha256": h("x"), "metadata": {"description": "d" * 4097}},
        {"sha256": h("x"), "metadata": {"tags": ["t"] * 65}},
        {"sha256": h("x"), "metadata": {"size": -1}},
        {"metadata": {}},  # no hash
    ],
)
def test_bad_hash_deposits_get_422_and_change_nothing(api, body) -> None:
    with api.client() as c:
        assert_error(c.post("/v1/evidence/hash", json=body), 422, "invalid_request")
        assert c.get(f"/v1/evidence?sha256={h('x')}").json()["items"] == []


def test_malformed_json_and_control_characters(api) -> None:
    with api.client() as c:
        r = c.post(
            "/v1/evidence/hash", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert_error(r, 422, "invalid_json")
        r = c.post("/v1/evidence/hash", json={"sha256": h("ctl"), "metadata": {"title": "a\x07"}})
        assert_error(r, 422, "invalid_input")


# -- file uploads ------------------------------------------------------------------------


def test_file_upload_streams_hashes_and_verifies(api, chain, tmp_path) -> None:
    data = os.urandom(300_000)
    path = tmp_path / "童装-春季-001.png"
    path.write_bytes(data)
    meta = json.dumps({"title": "Bear dress", "tags": ["spring", "童装"]})
    with api.client() as c:
        r = c.post(
            "/v1/evidence?wait=30",
            files={"file": (path.name, data, "image/png"), "metadata": (None, meta)},
        )
        assert r.status_code == 201, r.text
        ev = r.json()
        assert ev["sha256"] == hashlib.sha256(data).hexdigest()
        assert ev["sm3"] == hashlib.new("sm3", data).hexdigest()
        expected_cid = raw_cid(hashlib.sha256(data).digest())  # one chunk: derived, not asked
        assert ev["metadata"] == {
            "name": path.name,
            "media_type": "image/png",
            "size": len(data),
            "title": "Bear dress",
            "tags": ["spring", "童装"],
            "cid": expected_cid,
            "cid_profile": "unixfs-v1-2025",
        }
        assert ev["ipfs"]["cid"] == expected_cid
        assert ev["status"] == "anchored" and ev["kind"] == "file"
        cert = c.get(ev["certificate_url"]).content
        tagged = c.get("/v1/evidence?tag=童装").json()["items"]
        assert [i["id"] for i in tagged] == [ev["id"]]
    with path.open("rb") as fh:
        assert verify(cert, chain.rpc_url, fh).outcome is Outcome.VALID


def test_upload_over_the_limit_is_413_and_records_nothing(api) -> None:
    big = os.urandom(UPLOAD_LIMIT + 1)
    with api.client() as c:
        r = c.post("/v1/evidence", files={"file": ("big.bin", big, "application/octet-stream")})
        assert_error(r, 413, "payload_too_large")
        assert c.get(f"/v1/evidence?sha256={hashlib.sha256(big).hexdigest()}").json()["items"] == []


def test_upload_over_the_limit_without_content_length_is_413(api) -> None:
    """Chunked upload: the limit is enforced while streaming, not from a header."""
    boundary = "xyzBOUNDARY"

    def body():
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
        ).encode()
        for _ in range(UPLOAD_LIMIT // 65536 + 2):
            yield os.urandom(65536)
        yield f"\r\n--{boundary}--\r\n".encode()

    with api.client() as c:
        r = c.post(
            "/v1/evidence",
            content=body(),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
        assert_error(r, 413, "payload_too_large")


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"file": ("empty.png", b"", "image/png")}, "invalid_input"),  # empty upload
        ({"metadata": (None, "{}")}, "invalid_input"),  # no file part
        ({"file": ("a.png", b"x", "image/png"), "metadata": (None, "{oops")}, "invalid_json"),
        (
            {"file": ("a.png", b"x", "image/png"), "metadata": (None, '{"colour": 1}')},
            "invalid_input",
        ),
        ({"file": ("a.png", b"x", "image/png"), "extra": (None, "1")}, "invalid_input"),
        (
            {"file": ("a.png", b"x", "image/png"), "metadata": (None, '{"size": 99}')},
            "invalid_input",
        ),
    ],
)
def test_bad_uploads_get_422(api, files, code) -> None:
    with api.client() as c:
        assert_error(c.post("/v1/evidence", files=files), 422, code)


def test_upload_that_is_not_multipart(api) -> None:
    with api.client() as c:
        r = c.post("/v1/evidence", content=b"raw", headers={"content-type": "text/plain"})
        assert_error(r, 422, "invalid_input")


# -- reading -------------------------------------------------------------------------------


def test_list_search_and_pagination(api) -> None:
    with api.client() as c:
        for i in range(5):
            c.post(
                "/v1/evidence/hash",
                json={"sha256": h(f"page-{i}"), "metadata": {"tags": ["paged"]}},
            )
        seen, cursor = [], None
        while True:
            params = {"tag": "paged", "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = c.get("/v1/evidence", params=params).json()
            seen += [i["sha256"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [h(f"page-{i}") for i in reversed(range(5))]
        one = c.get("/v1/evidence", params={"sha256": h("page-3")}).json()["items"]
        assert [i["sha256"] for i in one] == [h("page-3")]
        assert_error(c.get("/v1/evidence", params={"cursor": "abc"}), 422, "invalid_request")
        assert_error(c.get("/v1/evidence", params={"limit": 0}), 422, "invalid_request")
        assert_error(c.get("/v1/evidence", params={"status": "lost"}), 422, "invalid_request")


def test_certificate_is_409_until_anchored(api_paused) -> None:
    with api_paused.client() as c:
        ev = c.post("/v1/evidence/hash", json={"sha256": h("paused")}).json()
        assert ev["status"] == "pending" and ev["anchor"] is None
        assert_error(c.get(ev["certificate_url"]), 409, "conflict")
        assert_error(c.get("/v1/evidence/ev_doesnotexist"), 404, "not_found")


# -- tenants, keys and roles ---------------------------------------------------------------


def test_another_organization_gets_404(api) -> None:
    with api.client("studio") as mine, api.client("copycat") as theirs:
        ev = mine.post("/v1/evidence/hash", json={"sha256": h("private")}).json()
        assert_error(theirs.get(f"/v1/evidence/{ev['id']}"), 404, "not_found")
        assert_error(theirs.get(ev["certificate_url"]), 404, "not_found")
        assert theirs.get(f"/v1/evidence?sha256={h('private')}").json()["items"] == []


def test_authentication_errors(api) -> None:
    with api.client(None) as anonymous:
        r = anonymous.post("/v1/evidence/hash", json={"sha256": h("anon")})
        assert_error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
        for header in (
            "Bearer nk_garbage",
            "Basic abc",
            "Bearer " + "nk_" + "a" * 12 + "_" + "b" * 43,
        ):
            assert_error(
                anonymous.get("/v1/evidence", headers={"Authorization": header}),
                401,
                "unauthorized",
            )
    secret = api.keys["studio"]
    with api.client(None) as c:
        altered = secret[:-1] + ("x" if secret[-1] != "x" else "y")
        wrong = c.get("/v1/evidence", headers={"Authorization": "Bearer " + altered})
    assert_error(wrong, 401, "unauthorized")
    assert secret[3:] not in wrong.text  # the presented key is never echoed


def test_roles(api) -> None:
    with (
        api.client("court") as auditor,
        api.client("studio") as depositor,
        api.client("operator") as admin,
    ):
        assert_error(
            auditor.post("/v1/evidence/hash", json={"sha256": h("role")}), 403, "forbidden"
        )
        assert_error(depositor.get("/v1/audit/anchors"), 403, "forbidden")
        assert_error(depositor.get("/v1/organizations"), 403, "forbidden")
        assert_error(admin.post("/v1/evidence/hash", json={"sha256": h("role")}), 403, "forbidden")
        assert auditor.get("/v1/audit/anchors").status_code == 200


def test_admin_manages_organizations_and_keys(api) -> None:
    with api.client("operator") as admin:
        r = admin.post(
            "/v1/organizations",
            json={"slug": "new-studio", "name": "新工作室", "role": "depositor"},
        )
        assert r.status_code == 201
        assert_error(
            admin.post(
                "/v1/organizations", json={"slug": "new-studio", "name": "dup", "role": "depositor"}
            ),
            409,
            "conflict",
        )
        assert_error(
            admin.post(
                "/v1/organizations", json={"slug": "Bad Slug", "name": "x", "role": "depositor"}
            ),
            422,
            "invalid_request",
        )
        key = admin.post("/v1/organizations/new-studio/keys", json={"label": "ci"}).json()
        assert key["api_key"].startswith("nk_") and key["organization"] == "new-studio"
        assert_error(admin.post("/v1/organizations/nobody/keys", json={}), 404, "not_found")
        assert "new-studio" in [o["slug"] for o in admin.get("/v1/organizations").json()]
    new = {"Authorization": f"Bearer {key['api_key']}"}
    with api.client(None) as c:
        assert (
            c.post("/v1/evidence/hash", json={"sha256": h("new-org")}, headers=new).status_code
            == 201
        )
        with api.client("operator") as admin:
            assert admin.delete(f"/v1/keys/{key['prefix']}").status_code == 204
            assert_error(admin.delete("/v1/keys/nope"), 404, "not_found")
        assert_error(c.get("/v1/evidence", headers=new), 401, "unauthorized")


def test_a_key_revoked_by_another_process_stops_working_within_the_cache_time(api) -> None:
    from notary.store.orgs import revoke_key

    with api.client("operator") as admin:
        key = admin.post("/v1/organizations/studio-org/keys", json={"label": "cli"}).json()
    headers = {"Authorization": f"Bearer {key['api_key']}"}
    ttl = api.service.settings.key_cache_seconds
    assert ttl > 0
    with api.client(None) as c:
        assert c.get("/v1/evidence", headers=headers).status_code == 200  # now cached
        revoke_key(api.service.factory, key["prefix"])  # what `notary admin revoke-key` does
        revoked_at = time.monotonic()
        while time.monotonic() - revoked_at < ttl + 5:
            r = c.get("/v1/evidence", headers=headers)
            if r.status_code == 401:
                break
            assert r.status_code == 200
            time.sleep(0.1)
        assert_error(r, 401, "unauthorized")
        assert time.monotonic() - revoked_at <= ttl + 1


# -- verification, audit, health -------------------------------------------------------------


def test_verify_endpoint(api, tmp_path) -> None:
    data = b"verify me " * 100
    with api.client() as c:
        ev = c.post("/v1/evidence?wait=30", files={"file": ("v.txt", data, "text/plain")}).json()
        cert = c.get(ev["certificate_url"]).content
    with api.client(None) as anyone:
        ok = anyone.post(
            "/v1/verify", files={"certificate": ("c.json", cert), "file": ("v.txt", data)}
        ).json()
        assert ok["outcome"] == "valid" and ok["facts"]["file_checked"] is True
        bad = anyone.post(
            "/v1/verify", files={"certificate": ("c.json", cert), "file": ("v.txt", data + b"!")}
        ).json()
        assert bad["outcome"] == "invalid"
        junk = anyone.post("/v1/verify", files={"certificate": ("c.json", b"{junk")}).json()
        assert junk["outcome"] == "invalid"
        assert_error(
            anyone.post("/v1/verify", files={"file": ("v.txt", data)}), 422, "invalid_request"
        )


def test_audit_reads_the_chain(api) -> None:
    with api.client() as c:
        ev = c.post("/v1/evidence/hash?wait=30", json={"sha256": h("audit")}).json()
    root = ev["anchor"]["root"]
    with api.client("court") as auditor:
        one = auditor.get(f"/v1/audit/anchors/{root}").json()
        assert one["root"] == root and one["block_number"] == ev["anchor"]["block_number"]
        listed = auditor.get(
            "/v1/audit/anchors", params={"first": one["sequence"], "count": 1}
        ).json()
        assert [a["root"] for a in listed] == [root]
        assert_error(auditor.get(f"/v1/audit/anchors/0x{'00' * 32}"), 404, "not_found")
        assert_error(auditor.get("/v1/audit/anchors/0x1234"), 422, "invalid_request")


def test_health_ready_and_unknown_routes(api) -> None:
    with api.client(None) as c:
        assert c.get("/v1/health").json() == {"status": "ok"}
        ready = c.get("/v1/ready")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        assert_error(c.get("/v1/nothing-here"), 404, "not_found")
        assert_error(c.put("/v1/health"), 405, "method_not_allowed")
        assert "/v1/evidence/hash" in c.get("/openapi.json").json()["paths"]


def test_the_whole_service_on_postgresql(chain, tmp_path, postgres) -> None:
    """NOTARY_DATABASE_URL pointing at PostgreSQL: deposits of every kind, anchoring,
    certificates that verify, search, idempotency."""
    from tests.postgres import fresh_database

    running, server, thread = start_server(
        chain, tmp_path, batcher=True, database=fresh_database(postgres)
    )
    try:
        assert running.service.engine.dialect.name == "postgresql"
        with running.client() as c:
            single = c.post(
                "/v1/evidence/hash?wait=30",
                json={"sha256": h("pg-one"), "metadata": {"title": "夏装", "tags": ["pg"]}},
            )
            assert single.status_code == 201 and single.json()["status"] == "anchored"
            again = c.post("/v1/evidence/hash", json={"sha256": h("pg-one")})
            assert again.status_code == 200 and again.json()["id"] == single.json()["id"]
            items = [{"sha256": h(f"pg-bulk-{i}")} for i in range(300)]
            bulk = c.post("/v1/evidence/hashes?wait=30", json={"items": items}).json()
            assert bulk["created"] == 300
            assert {i["status"] for i in bulk["items"]} == {"anchored"}
            data = os.urandom(3000)
            file = c.post("/v1/evidence?wait=30", files={"file": ("童装.bin", data)}).json()
            assert file["status"] == "anchored" and file["metadata"]["name"] == "童装.bin"
            keyed = {"Idempotency-Key": "pg-key"}
            assert (
                c.post("/v1/evidence/hash", json={"sha256": h("pg-k")}, headers=keyed).status_code
                == 201
            )
            clash = c.post("/v1/evidence/hash", json={"sha256": h("pg-x")}, headers=keyed)
            assert_error(clash, 409, "conflict")
            assert [
                e["id"] for e in c.get("/v1/evidence", params={"tag": "pg"}).json()["items"]
            ] == [single.json()["id"]]
            for evidence_id in (single.json()["id"], bulk["items"][7]["id"], file["id"]):
                cert = c.get(f"/v1/evidence/{evidence_id}/certificate").content
                assert verify(cert, chain.rpc_url).outcome is Outcome.VALID
            assert c.get(f"/v1/evidence/{file['id']}/file").content == data
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_rate_limit_per_organization(chain, tmp_path) -> None:
    from notary.client import NotaryClient

    running, server, thread = start_server(
        chain, tmp_path, batcher=False, rate_limit_per_second=2, rate_limit_burst=3
    )
    try:
        with running.client() as c:
            for i in range(3):
                assert c.post("/v1/evidence/hash", json={"sha256": h(f"rl-{i}")}).status_code == 201
            refused = c.post("/v1/evidence/hash", json={"sha256": h("rl-refused")})
            assert_error(refused, 429, "rate_limited")
            assert int(refused.headers["Retry-After"]) >= 1
            assert_error(c.get("/v1/evidence"), 429, "rate_limited")  # reads count too
        with running.client("copycat") as other:  # its own bucket
            assert other.get("/v1/evidence").status_code == 200
        # the client waits as told and gets through; nothing was recorded for the refusal
        with running.client() as c:  # empty again: a slow machine refills it in the meantime
            while c.get("/v1/evidence").status_code != 429:
                pass
            started = time.monotonic()
        client = NotaryClient(running.url, running.keys["studio"], retries=3, backoff=0.01)
        done = client.deposit_hash(h("rl-after"))
        assert done["created"] is True and time.monotonic() - started >= 0.4
        client.close()
        with running.service.factory() as session:
            shas = set(session.scalars(select(Evidence.sha256)).all())
        assert bytes.fromhex(h("rl-after")) in shas
        assert bytes.fromhex(h("rl-refused")) not in shas
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_deposits_are_accepted_while_the_chain_is_down(chain, tmp_path) -> None:
    running, server, thread = start_server(
        chain, tmp_path, batcher=True, rpc_url=f"http://127.0.0.1:{free_port()}"
    )
    try:
        with running.client() as c:
            ready = c.get("/v1/ready")
            assert ready.status_code == 503 and ready.json()["chain"] is False
            r = c.post("/v1/evidence/hash", json={"sha256": h("offline")})
            assert r.status_code == 201 and r.json()["status"] == "pending"
            assert_error(c.get(r.json()["certificate_url"]), 409, "conflict")
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_audit_by_time_range(api) -> None:
    from datetime import UTC, datetime

    with api.client() as c:
        ev = c.post("/v1/evidence/hash?wait=30", json={"sha256": h("audit-time")}).json()
    t = ev["anchor"]["block_time"]
    since = datetime.fromtimestamp(t, UTC).isoformat()
    until = datetime.fromtimestamp(t + 1, UTC).isoformat()
    with api.client("court") as auditor:
        found = auditor.get("/v1/audit/anchors", params={"since": since, "until": until}).json()
        assert ev["anchor"]["root"] in [a["root"] for a in found]
        assert all(t <= a["block_time"] < t + 1 for a in found)
        assert_error(
            auditor.get("/v1/audit/anchors", params={"since": until, "until": since}),
            422,
            "invalid_input",
        )
