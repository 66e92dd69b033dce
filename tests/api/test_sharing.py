"""Sharing evidence with a court for a case, over real HTTP: what the grantee reads, what it
must not reach, revocation, expiry, the access log; and the keyless lookup by id + hash.

One server for the module (real uvicorn, real anvil, real IPFS node, SQLite), with a studio
that owns the evidence, a court and a regulator that receive shares, another studio, and an
admin.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from notary.store.db import database_url, make_engine, make_sessionmaker
from notary.store.models import Role
from notary.store.orgs import create_key, create_organization
from tests.api.conftest import Server, start_server
from tests.api.test_retrieval import deposit_pinned

pytestmark = pytest.mark.devnet

ORGS = (
    ("owner", Role.DEPOSITOR),
    ("judge", Role.COURT),
    ("samr", Role.REGULATOR),
    ("rival", Role.DEPOSITOR),
    ("ops", Role.ADMIN),
)
LOOKUP_BURST = 8
CASE = "(2026)浙0103民初1234号"


@pytest.fixture(scope="module")
def srv(chain, tmp_path_factory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("sharing")
    factory = make_sessionmaker(make_engine(database_url(data_dir, None)))
    keys = {}
    for slug, role in ORGS:
        create_organization(factory, slug, f"{slug} 组织", role)
        keys[slug] = create_key(factory, slug).secret
    running, server, thread = start_server(
        chain,
        data_dir,
        batcher=True,
        public_lookup_burst=LOOKUP_BURST,
        public_lookup_per_second=0.01,
    )
    running.keys.update(keys)
    yield running
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def evidence(srv: Server) -> dict[str, dict]:
    """Two anchored, pinned files of the owner: `shared` (to be shared) and `private`."""
    with srv.client("owner") as c:
        shared_data, private_data = os.urandom(50_000), os.urandom(40_000)
        shared = anchored(c, deposit_pinned(c, "小熊连衣裙.png", shared_data)["id"])
        private = anchored(c, deposit_pinned(c, "未公开.png", private_data)["id"])
    return {
        "shared": {**shared, "data": shared_data},
        "private": {**private, "data": private_data},
    }


def anchored(c: httpx.Client, evidence_id: str) -> dict:
    deadline = time.monotonic() + 60
    while (ev := c.get(f"/v1/evidence/{evidence_id}").json())["status"] != "anchored":
        assert time.monotonic() < deadline, ev
        time.sleep(0.1)
    return ev


def prefix(key: str) -> str:
    return key.split("_")[1]


def share(c: httpx.Client, evidence_id: str, grantee: str, **extra: object) -> httpx.Response:
    return c.post(
        f"/v1/evidence/{evidence_id}/shares", json={"grantee": grantee, "case_ref": CASE, **extra}
    )


def not_found_alike(r: httpx.Response, unknown: httpx.Response) -> None:
    """`r` is the 404 of an id that does not exist (apart from the id in the message)."""
    assert r.status_code == unknown.status_code == 404
    assert r.json()["error"]["code"] == unknown.json()["error"]["code"] == "not_found"


def test_a_court_reads_what_was_shared_with_it_and_every_access_is_logged(srv, evidence) -> None:
    ev = evidence["shared"]
    with srv.client("owner") as owner, srv.client("judge") as court:
        assert court.get(f"/v1/evidence/{ev['id']}").status_code == 404  # not shared yet
        made = share(owner, ev["id"], "judge")
        assert made.status_code == 201, made.text
        sh = made.json()
        assert sh["id"].startswith("sh_") and sh["grantee"] == "judge" and sh["owner"] == "owner"
        assert sh["case_ref"] == CASE and sh["active"] and sh["expires_at"] is None
        assert sh["created_by"] == prefix(srv.keys["owner"])

        listed = court.get("/v1/shared").json()["items"]
        assert [(i["share"]["id"], i["evidence"]["id"]) for i in listed] == [(sh["id"], ev["id"])]
        assert listed[0]["evidence"]["sha256"] == ev["sha256"]

        assert court.get(f"/v1/evidence/{ev['id']}").json()["sha256"] == ev["sha256"]
        cert = court.get(f"/v1/evidence/{ev['id']}/certificate")
        assert cert.status_code == 200
        assert cert.content == owner.get(f"/v1/evidence/{ev['id']}/certificate").content
        through_proxy = {"X-Forwarded-For": "203.0.113.7"}  # uvicorn trusts 127.0.0.1
        file = court.get(f"/v1/evidence/{ev['id']}/file", headers=through_proxy)
        assert file.status_code == 200 and file.content == ev["data"]
        bundle = court.get(f"/v1/evidence/{ev['id']}/bundle")
        assert bundle.status_code == 200
        with zipfile.ZipFile(io.BytesIO(bundle.content)) as z:
            assert z.read("小熊连衣裙.png") == ev["data"]
            in_bundle = json.loads(z.read("access-log.json"))
            assert z.getinfo("access-log.json").external_attr >> 16 & 0o777 == 0o644

        log = owner.get(f"/v1/evidence/{ev['id']}/access-log").json()
        by_court = [e for e in log if e["organization"] == "judge"]
        assert [e["action"] for e in by_court] == ["list", "view", "certificate", "file", "bundle"]
        assert {e["key_prefix"] for e in by_court} == {prefix(srv.keys["judge"])}
        assert {e["share"] for e in by_court} == {sh["id"]}
        assert {e["case_ref"] for e in by_court} == {CASE}
        assert [e["remote"] for e in by_court] == ["127.0.0.1"] * 3 + ["203.0.113.7", "127.0.0.1"]
        # the owner's own reads since the evidence was shared are on record too
        by_owner = [e for e in log if e["organization"] == "owner"]
        assert [e["action"] for e in by_owner] == ["certificate"]
        assert by_owner[0]["share"] is None
        times = [datetime.fromisoformat(e["at"]) for e in log]
        assert times == sorted(times) and times[-1] <= datetime.now(UTC)
        # the bundle carries the log up to its own download, as the court sees it
        assert in_bundle["evidence"] == ev["id"]
        assert in_bundle["entries"] == log and log[-1]["action"] == "bundle"
        assert court.get(f"/v1/evidence/{ev['id']}/access-log").json() == log


def test_a_grantee_reaches_nothing_else(srv, evidence) -> None:
    ev, private = evidence["shared"], evidence["private"]
    with (
        srv.client("owner") as owner,
        srv.client("judge") as court,
        srv.client("rival") as rival,
        srv.client("samr") as regulator,
    ):
        assert share(owner, ev["id"], "rival").status_code == 201
        assert share(owner, ev["id"], "samr", case_ref="市监处罚 2026-17").status_code == 201
        unknown = court.get("/v1/evidence/ev_" + "0" * 24)
        for who in (court, rival, regulator):
            assert who.get(f"/v1/evidence/{ev['id']}").status_code == 200
            # the owner's other evidence stays invisible, on every read route
            for suffix in ("", "/certificate", "/certificates", "/file", "/bundle", "/access-log"):
                not_found_alike(who.get(f"/v1/evidence/{private['id']}{suffix}"), unknown)
            # no sharing onward, no revoking, no list of the owner's shares
            assert share(who, ev["id"], "ops").status_code in (403, 404)
            assert who.get(f"/v1/evidence/{ev['id']}/shares").status_code in (403, 404)
        # a court or regulator cannot deposit at all, nor list evidence as a depositor
        for who in (court, regulator):
            r = who.post("/v1/evidence/hash", json={"sha256": ev["sha256"]})
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
            assert who.get("/v1/evidence").status_code == 403
        # a studio grantee's deposit lands in its own organization, never the owner's
        mine = rival.post("/v1/evidence/hash", json={"sha256": ev["sha256"]})
        assert mine.status_code == 201 and mine.json()["id"] != ev["id"]
        assert [e["id"] for e in rival.get("/v1/evidence").json()["items"]] == [mine.json()["id"]]
        owner_ids = {e["id"] for e in owner.get("/v1/evidence").json()["items"]}
        assert owner_ids == {ev["id"], private["id"]}
        assert share(rival, ev["id"], "judge").status_code == 404  # share onward
        shares = owner.get(f"/v1/evidence/{ev['id']}/shares").json()
        for sh in shares:
            assert rival.delete(f"/v1/shares/{sh['id']}").status_code == 404
            assert court.delete(f"/v1/shares/{sh['id']}").status_code == 403  # court role
        assert all(s["active"] for s in owner.get(f"/v1/evidence/{ev['id']}/shares").json())
        # grantees do not see each other's accesses (another case's), the owner sees all
        rival_log = rival.get(f"/v1/evidence/{ev['id']}/access-log").json()
        assert {e["organization"] for e in rival_log} == {"owner", "rival"}
        owner_log = owner.get(f"/v1/evidence/{ev['id']}/access-log").json()
        assert {e["organization"] for e in owner_log} == {"owner", "rival", "judge", "samr"}


def test_share_requests_that_cannot_be_granted(srv, evidence) -> None:
    ev = evidence["shared"]
    with srv.client("owner") as owner:
        before = owner.get(f"/v1/evidence/{ev['id']}/shares").json()
        cases = [
            ({"grantee": "owner"}, 422, "cannot_share_with_self"),
            ({"grantee": "no-such-org"}, 422, "unknown_organization"),
            ({"grantee": "ops"}, 422, "unknown_organization"),  # an admin receives none
            ({"grantee": "judge", "expires_at": "2020-01-01T00:00:00Z"}, 422, "invalid_input"),
            ({"grantee": "judge", "expires_at": "2030-01-01T00:00:00"}, 422, "invalid_request"),
            ({"grantee": "judge", "case_ref": " "}, 422, "invalid_input"),
            ({"grantee": "judge", "case_ref": "x" * 257}, 422, "invalid_request"),
            ({"grantee": "judge", "extra": 1}, 422, "invalid_request"),
        ]
        for body, status, code in cases:
            r = owner.post(f"/v1/evidence/{ev['id']}/shares", json={"case_ref": CASE, **body})
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), body
        # the same grantee and case again while the first share is active
        again = share(owner, ev["id"], "judge")
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        assert share(owner, "ev_" + "0" * 24, "judge").status_code == 404
        assert owner.get(f"/v1/evidence/{ev['id']}/shares").json() == before


def test_revocation_ends_access_at_once(srv, evidence) -> None:
    ev = evidence["shared"]
    with srv.client("owner") as owner, srv.client("judge") as court:
        (sh,) = [
            s
            for s in owner.get(f"/v1/evidence/{ev['id']}/shares").json()
            if s["grantee"] == "judge"
        ]
        assert court.get(f"/v1/evidence/{ev['id']}/certificate").status_code == 200
        assert owner.delete(f"/v1/shares/{sh['id']}").status_code == 204
        unknown = court.get("/v1/evidence/ev_" + "0" * 24)
        for suffix in ("", "/certificate", "/file", "/bundle", "/access-log"):
            not_found_alike(court.get(f"/v1/evidence/{ev['id']}{suffix}"), unknown)
        assert court.get("/v1/shared").json()["items"] == []
        assert owner.delete(f"/v1/shares/{sh['id']}").status_code == 204  # again: no change
        (after,) = [
            s for s in owner.get(f"/v1/evidence/{ev['id']}/shares").json() if s["id"] == sh["id"]
        ]
        assert after["revoked_at"] is not None and not after["active"]
        # refused reads leave no entry; the owner's log still holds the court's past reads
        log = owner.get(f"/v1/evidence/{ev['id']}/access-log").json()
        assert [e["action"] for e in log if e["organization"] == "judge"][-1] == "certificate"
        # shared again for the case: readable again, under a new share
        again = share(owner, ev["id"], "judge").json()
        assert again["id"] != sh["id"]
        assert court.get(f"/v1/evidence/{ev['id']}").status_code == 200
        assert owner.delete(f"/v1/shares/{again['id']}").status_code == 204


def test_an_expired_share_gives_nothing(srv, evidence) -> None:
    ev = evidence["shared"]
    with srv.client("owner") as owner, srv.client("judge") as court:
        until = datetime.now(UTC) + timedelta(seconds=3)
        sh = share(owner, ev["id"], "judge", case_ref="短期", expires_at=until.isoformat())
        assert sh.status_code == 201, sh.text
        assert datetime.fromisoformat(sh.json()["expires_at"]) == until
        assert court.get(f"/v1/evidence/{ev['id']}/file").status_code == 200
        assert [i["share"]["id"] for i in court.get("/v1/shared").json()["items"]] == [
            sh.json()["id"]
        ]
        deadline = time.monotonic() + 20
        while court.get(f"/v1/evidence/{ev['id']}").status_code == 200:
            assert time.monotonic() < deadline, "the share did not expire"
            time.sleep(0.2)
        assert datetime.now(UTC) >= until
        assert court.get(f"/v1/evidence/{ev['id']}/file").status_code == 404
        assert court.get("/v1/shared").json()["items"] == []
        (listed,) = [
            s
            for s in owner.get(f"/v1/evidence/{ev['id']}/shares").json()
            if s["id"] == sh.json()["id"]
        ]
        assert not listed["active"] and listed["revoked_at"] is None


def test_courts_and_regulators_read_the_audit(srv) -> None:
    for who in ("judge", "samr"):
        with srv.client(who) as c:
            assert c.get("/v1/audit/anchors?first=1&count=1").status_code == 200
    with srv.client("ops") as admin:
        made = admin.post(
            "/v1/organizations", json={"slug": "a-court", "name": "某法院", "role": "court"}
        )
        assert made.status_code == 201 and made.json()["role"] == "court"


@pytest.fixture(scope="module")
def anyone(srv: Server) -> Iterator[httpx.Client]:
    """A client with no key (one for the module: making an httpx client takes time)."""
    with srv.client(None) as client:
        yield client


def lookup(anyone: httpx.Client, path: str, address: str) -> httpx.Response:
    return anyone.get(path, headers={"X-Forwarded-For": address})


def test_public_lookup_needs_the_id_and_the_hash(srv, anyone, evidence, api_paused) -> None:
    ev, other = evidence["shared"], evidence["private"]
    address = "198.51.100.1"
    with srv.client("owner") as owner:
        certificate = owner.get(f"/v1/evidence/{ev['id']}/certificate").content
        hit = lookup(anyone, f"/v1/public/certificates/{ev['id']}?sha256={ev['sha256']}", address)
        assert hit.status_code == 200
        assert hit.headers["content-type"] == "application/json"
        assert hit.content == certificate
        log = owner.get(f"/v1/evidence/{ev['id']}/access-log").json()
    assert (log[-1]["action"], log[-1]["organization"], log[-1]["remote"]) == (
        "public-certificate",
        None,
        address,
    )
    misses = [
        f"/v1/public/certificates/{ev['id']}?sha256={other['sha256']}",  # another file
        f"/v1/public/certificates/{other['id']}?sha256={ev['sha256']}",  # another id
        f"/v1/public/certificates/ev_{'0' * 24}?sha256={ev['sha256']}",  # no such id
        f"/v1/public/certificates/{ev['id']}?sha256={ev['sha256'][:-1]}",  # malformed
        f"/v1/public/certificates/{ev['id']}?sha256=zz{ev['sha256'][2:]}",
        f"/v1/public/certificates/{ev['id']}",  # no hash
    ]
    bodies = set()
    for path in misses:
        r = lookup(anyone, path, address)
        assert r.status_code == 404, path
        bodies.add(r.content)
    assert len(bodies) == 1  # no hint which part was wrong
    # deposited, not anchored (a server whose batcher does not run): the same answer
    with api_paused.client() as c:
        pending = c.post("/v1/evidence/hash", json={"sha256": "ab" * 32}).json()
    assert pending["status"] == "pending"
    r = httpx.get(f"{api_paused.url}/v1/public/certificates/{pending['id']}?sha256={'ab' * 32}")
    assert r.status_code == 404 and r.content in bodies


def test_public_lookup_is_rate_limited_per_client_address(anyone, evidence) -> None:
    ev = evidence["shared"]
    path = f"/v1/public/certificates/{ev['id']}?sha256={ev['sha256']}"
    statuses = [lookup(anyone, path, "192.0.2.9").status_code for _ in range(LOOKUP_BURST)]
    assert statuses == [200] * LOOKUP_BURST
    over = lookup(anyone, path, "192.0.2.9")
    assert over.status_code == 429 and over.json()["error"]["code"] == "rate_limited"
    assert int(over.headers["retry-after"]) >= 1
    # misses count too, and other addresses keep their own allowance
    assert lookup(anyone, "/v1/public/certificates/ev_1?sha256=00", "192.0.2.9").status_code == 429
    assert lookup(anyone, path, "192.0.2.10").status_code == 200


def test_the_owner_is_told_of_reads_by_others_through_webhooks(srv, anyone, evidence) -> None:
    """share.accessed: a message to the owner for each read through a share and each keyless
    lookup, signed like every message, none for the owner's own reads or a grantee's list."""
    from notary.client import verify_webhook
    from tests.api.receiver import Receiver

    ev = evidence["private"]  # shared by no other test
    receiver = Receiver().start()
    try:
        with srv.client("owner") as owner, srv.client("samr") as regulator:
            hook = owner.post(
                "/v1/webhooks",
                json={"url": receiver.url + "/owner", "events": ["share.accessed"]},
            ).json()
            sh = share(owner, ev["id"], "samr", case_ref="市监 2026-31").json()
            assert regulator.get(f"/v1/evidence/{ev['id']}").status_code == 200
            assert regulator.get(f"/v1/evidence/{ev['id']}/file").content == ev["data"]
            assert regulator.get("/v1/shared").status_code == 200  # a list: no message
            assert owner.get(f"/v1/evidence/{ev['id']}").status_code == 200  # own: none
            path = f"/v1/public/certificates/{ev['id']}?sha256={ev['sha256']}"
            assert lookup(anyone, path, "203.0.113.77").status_code == 200
            log = owner.get(f"/v1/evidence/{ev['id']}/access-log").json()
            deadline = time.monotonic() + 60
            while len(receiver.messages("/owner")) < 3:
                assert time.monotonic() < deadline, receiver.messages("/owner")
                time.sleep(0.1)
            time.sleep(1)  # a fourth message, if one were wrongly sent, has time to arrive
            messages = [
                verify_webhook(hook["secret"], m["headers"], m["body"])
                for m in receiver.messages("/owner")
            ]
            assert owner.delete(f"/v1/webhooks/{hook['id']}").status_code == 204
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert {m["type"] for m in messages} == {"share.accessed"}
    data = sorted((m["data"] for m in messages), key=lambda d: d["at"] + d["action"])
    by_regulator = [d for d in data if d["by"] is not None]
    assert sorted(d["action"] for d in by_regulator) == ["file", "view"]
    for d in by_regulator:
        assert d["by"] == {"organization": "samr", "name": "samr 组织"}
        assert (d["share_id"], d["case_ref"]) == (sh["id"], "市监 2026-31")
    (public,) = [d for d in data if d["by"] is None]
    assert (public["action"], public["share_id"], public["case_ref"]) == (
        "public-certificate",
        None,
        None,
    )
    assert {d["evidence_id"] for d in data} == {ev["id"]}
    assert {d["sha256"] for d in data} == {ev["sha256"]}
    # each message matches an entry of the owner's access log, to the second
    logged = {(e["action"], e["at"][:19]) for e in log}
    assert {(d["action"], d["at"][:19]) for d in data} <= logged
