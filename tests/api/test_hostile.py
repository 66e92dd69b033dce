"""Hostile input over real HTTP: a clear 4xx, nothing changed, no 5xx, no crash.

Most tests here talk to `notary serve` in a process of its own (the `served` fixture): on
the old code a 100,000-deep JSON array killed the server with a segmentation fault, which
would have taken the test run down with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import httpx
import pytest

from tests.api.test_api import assert_error, h

pytestmark = pytest.mark.devnet

DEEP = "[" * 100_000 + "]" * 100_000
"""A JSON text nested 100,000 deep: overflowed the C stack of the JSON parser."""
UTC_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def json_post(client: httpx.Client, path: str, text: str) -> httpx.Response:
    return client.post(path, content=text.encode(), headers={"content-type": "application/json"})


# -- JSON bodies: bounded before parsing, duplicate keys refused -----------------------


def test_a_deeply_nested_certificate_is_refused_and_the_server_lives(served) -> None:
    with served.client(None) as anyone:
        r = anyone.post("/v1/verify", files={"certificate": ("c.json", DEEP.encode())})
        assert_error(r, 422, "too_deep")
        # unbalanced, so not JSON at all: refused or judged invalid, but never a crash
        r = anyone.post("/v1/verify", files={"certificate": ("c.json", b"[" * 100_000)})
        assert r.status_code in {200, 422}, r.text
        assert r.status_code == 422 or r.json()["outcome"] == "invalid"
    served.assert_alive()


JSON_ROUTES = [
    ("studio", "/v1/evidence/hash"),
    ("studio", "/v1/evidence/hashes"),
    ("operator", "/v1/organizations"),
    ("operator", "/v1/organizations/studio-org/keys"),
]


@pytest.mark.parametrize(("who", "path"), JSON_ROUTES)
def test_deep_json_bodies_get_422_too_deep(served, who, path) -> None:
    with served.client(who) as c:
        assert_error(json_post(c, path, "[" * 30_000 + "]" * 30_000), 422, "too_deep")
        assert_error(json_post(c, path, "[" * 60_000), 422, "invalid_json")
        # just past the limit, inside an otherwise fine body
        nested = "[" * 65 + "]" * 65
        body = '{"sha256": "SHA", "metadata": {"title": DEEP}}'.replace("SHA", h("deep"))
        body = body.replace("DEEP", nested)
        assert_error(json_post(c, path, body), 422, "too_deep")
    served.assert_alive()


@pytest.mark.parametrize(
    ("who", "path", "text"),
    [
        ("studio", "/v1/evidence/hash", f'{{"sha256": "{h("d1")}", "sha256": "{h("d2")}"}}'),
        (
            "studio",
            "/v1/evidence/hash",
            f'{{"sha256": "{h("d3")}", "metadata": {{"title": "a", "title": "b"}}}}',
        ),
        (
            "studio",
            "/v1/evidence/hashes",
            f'{{"items": [{{"sha256": "{h("d4")}", "sm3": null, "sm3": null}}]}}',
        ),
        ("studio", "/v1/evidence/hashes", f'{{"items": [], "items": [{{"sha256": "{h("d5")}"}}]}}'),
        (
            "operator",
            "/v1/organizations",
            '{"slug": "dup-org", "name": "a", "role": "auditor", "role": "admin"}',
        ),
        ("operator", "/v1/organizations/studio-org/keys", '{"label": "a", "label": "b"}'),
    ],
)
def test_duplicate_keys_get_422_and_change_nothing(served, who, path, text) -> None:
    with served.client(who) as c:
        assert_error(json_post(c, path, text), 422, "duplicate_key")
    with served.client("studio") as c:
        for seed in ("d1", "d2", "d3", "d4", "d5"):
            assert c.get("/v1/evidence", params={"sha256": h(seed)}).json()["items"] == []
    with served.client("operator") as admin:
        assert "dup-org" not in [o["slug"] for o in admin.get("/v1/organizations").json()]


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ('{"title": "a", "title": "b"}', "duplicate_key"),
        ('{"title": %s}' % ("[" * 65 + "]" * 65), "too_deep"),
        ("[" * 30_000 + "]" * 30_000, "too_deep"),
        ("[" * 60_000, "invalid_json"),
        ('{"title": NaN}', "invalid_json"),
        ("{oops", "invalid_json"),
    ],
)
def test_bad_metadata_parts_get_422(served, metadata, code) -> None:
    data = b"metadata part " + code.encode() + os.urandom(8)
    with served.client() as c:
        files = {"file": ("a.bin", data), "metadata": (None, metadata)}
        assert_error(c.post("/v1/evidence", files=files), 422, code)
        sha = hashlib.sha256(data).hexdigest()
        assert c.get("/v1/evidence", params={"sha256": sha}).json()["items"] == []
    served.assert_alive()


def test_json_bodies_that_are_not_json_get_422_invalid_json(served) -> None:
    with served.client() as c:
        for text in ("{not json", '{"sha256": NaN}', '{"sha256": Infinity}'):
            assert_error(json_post(c, "/v1/evidence/hash", text), 422, "invalid_json")
        r = c.post(
            "/v1/evidence/hash",
            content=b'{"sha256": "\xff"}',
            headers={"content-type": "application/json"},
        )
        assert_error(r, 422, "invalid_json")


# -- the key before the body: no parsing for a caller without one ---------------------


def hostile_bodies(path: str) -> list[tuple[str, bytes]]:
    """Bodies each refused 422 (or 413) when parsed: they must never get that far without
    a key the route accepts."""
    from api.main import MAX_OTHER_BODY_BYTES
    from api.routes.evidence import MAX_BULK_BODY_BYTES, MAX_HASH_BODY_BYTES

    limit = {"/v1/evidence/hash": MAX_HASH_BODY_BYTES, "/v1/evidence/hashes": MAX_BULK_BODY_BYTES}
    return [
        ("duplicate_key", b'{"a": 1, "a": 2}'),
        ("too_deep", ("[" * 30_000 + "]" * 30_000).encode()),
        ("invalid_json", b"{not json"),
        ("payload_too_large", b" " * (limit.get(path, MAX_OTHER_BODY_BYTES) + 1)),
    ]


def chunks(body: bytes):  # no Content-Length: the body is read as it streams
    yield from (body[start : start + 65536] for start in range(0, len(body), 65536))


def keyed_post(served, who: str | None, path: str, body: bytes, *, chunked: bool = False):
    with served.client(who) as c:
        return c.post(
            path,
            content=chunks(body) if chunked else body,
            headers={"content-type": "application/json"},
        )


@pytest.mark.parametrize("path", [path for _, path in JSON_ROUTES])
def test_without_a_key_a_body_is_never_parsed(served, path) -> None:
    """401, not 422 or 413: a caller without a key learns nothing of the body and costs
    no parsing (a hostile 32 MiB body costs seconds of CPU)."""
    for what, body in hostile_bodies(path):
        for chunked in (False, True):
            r = keyed_post(served, None, path, body, chunked=chunked)
            assert r.status_code == 401, (what, chunked, r.text)
            assert_error(r, 401, "unauthorized")
        with served.client(None) as c:  # a bad key is no key
            wrong = {"content-type": "application/json", "authorization": "Bearer nk_garbage"}
            assert_error(c.post(path, content=body, headers=wrong), 401, "unauthorized")
    with served.client(None) as c:  # an unknown query parameter: the key comes first too
        r = c.post(path + "?untill=1", content=b'{"a": 1, "a": 2}')
        assert_error(r, 401, "unauthorized")
    served.assert_alive()


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("court", "/v1/evidence/hash"),
        ("court", "/v1/evidence/hashes"),
        ("operator", "/v1/evidence/hash"),
        ("studio", "/v1/organizations"),
        ("studio", "/v1/organizations/studio-org/keys"),
        ("court", "/v1/organizations/studio-org/keys"),
    ],
)
def test_a_key_of_another_role_gets_403_before_the_body_is_parsed(served, who, path) -> None:
    for what, body in hostile_bodies(path):
        r = keyed_post(served, who, path, body)
        assert r.status_code == 403, (what, r.text)
        assert_error(r, 403, "forbidden")


def test_a_file_deposit_without_a_key_is_401_before_its_parts(served) -> None:
    """The streamed deposit checked the key first already; kept so it stays so."""
    with served.client(None) as anyone:
        for metadata in ('{"title": "a", "title": "b"}', "[" * 30_000, "{oops"):
            files = {"file": ("a.bin", b"data"), "metadata": (None, metadata)}
            assert_error(anyone.post("/v1/evidence", files=files), 401, "unauthorized")
    with served.client("court") as auditor:
        files = {"file": ("a.bin", b"data"), "metadata": (None, "{oops")}
        assert_error(auditor.post("/v1/evidence", files=files), 403, "forbidden")


# -- query parameters ------------------------------------------------------------------


@pytest.mark.parametrize("cursor", ["²", "١٢٣", "-1", "1e5", "0x10", " 1", "1 ", "9" * 19, ""])
def test_garbage_cursors_get_422(served, cursor) -> None:
    with served.client() as c:
        assert_error(c.get("/v1/evidence", params={"cursor": cursor}), 422, "invalid_request")
        assert_error(c.get(f"/v1/evidence?cursor={cursor}"), 422, "invalid_request")


NAIVE_OR_BAD_TIMES = [
    "0001-01-01T00:00:00",  # no time zone: refused, whatever the server's own zone is
    "2024-05-01T12:00:00",
    "10000-01-01T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "99999999999999999999",
    "yesterday",
]
EXTREME_TIMES = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "0001-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59",  # after year 9999 in UTC
    "9999-12-31T23:59:59+23:59",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
]


@pytest.mark.parametrize("param", ["since", "until"])
@pytest.mark.parametrize("value", NAIVE_OR_BAD_TIMES)
def test_times_without_a_zone_or_out_of_range_get_422(served, param, value) -> None:
    with served.client("court") as auditor:
        r = auditor.get("/v1/audit/anchors", params={param: value})
        assert_error(r, 422, "invalid_request")
    with served.client() as c:
        assert_error(c.get("/v1/evidence", params={param: value}), 422, "invalid_request")


@pytest.mark.parametrize("param", ["since", "until"])
@pytest.mark.parametrize("value", EXTREME_TIMES)
def test_extreme_times_are_answered(served, param, value) -> None:
    with served.client("court") as auditor:
        r = auditor.get("/v1/audit/anchors", params={param: value})
        if r.status_code != 200:  # an empty range (until before every block) is refused
            assert_error(r, 422, "invalid_input")
    with served.client() as c:
        r = c.get("/v1/evidence", params={param: value})
        assert r.status_code == 200, r.text
        assert isinstance(r.json()["items"], list)


def test_times_with_an_offset_mean_the_same_instant(served) -> None:
    with served.client() as c:
        ev = c.post("/v1/evidence/hash", json={"sha256": h("offset-instant")}).json()
        beijing = datetime.fromisoformat(ev["received_at"]).astimezone(timezone(timedelta(hours=8)))
        query = {"sha256": h("offset-instant"), "since": beijing.isoformat()}
        assert [i["id"] for i in c.get("/v1/evidence", params=query).json()["items"]] == [ev["id"]]
        query["since"] = (beijing + timedelta(seconds=1)).isoformat()
        assert c.get("/v1/evidence", params=query).json()["items"] == []


# -- concurrency -----------------------------------------------------------------------


def test_concurrent_organizations_with_one_slug_get_one_201_and_409s(served) -> None:
    for attempt in range(4):
        statuses = race_to_create(served, f"race-{attempt}-org")
        codes = sorted(r.status_code for r in statuses)
        assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in statuses]
        for r in statuses:
            if r.status_code == 409:
                assert_error(r, 409, "conflict")


def race_to_create(served, slug: str, clients: int = 6) -> list[httpx.Response]:
    start = threading.Barrier(clients)
    statuses: list[httpx.Response] = []

    def create() -> None:
        with served.client("operator") as admin:
            start.wait()
            org = {"slug": slug, "name": "race", "role": "depositor"}
            statuses.append(admin.post("/v1/organizations", json=org))

    threads = [threading.Thread(target=create) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


# -- sha256 deposited again with another sm3 -------------------------------------------


def test_same_sha256_with_another_sm3_is_409_naming_both(served) -> None:
    sha, sm3_a, sm3_b = h("sm3-clash"), "aa" * 32, "bb" * 32
    with served.client() as c:
        first = c.post("/v1/evidence/hash", json={"sha256": sha, "sm3": sm3_a})
        assert first.status_code == 201
        clash = c.post("/v1/evidence/hash", json={"sha256": sha, "sm3": sm3_b})
        body = assert_error(clash, 409, "sm3_mismatch")
        assert sm3_a in body["error"]["message"] and sm3_b in body["error"]["message"]
        for same in ({"sha256": sha, "sm3": sm3_a}, {"sha256": sha}, {"sha256": "0x" + sha}):
            again = c.post("/v1/evidence/hash", json=same)
            assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
            assert again.json()["sm3"] == sm3_a
        keyed = c.post(
            "/v1/evidence/hash",
            json={"sha256": sha, "sm3": sm3_b},
            headers={"Idempotency-Key": "sm3-clash"},
        )
        assert_error(keyed, 409, "sm3_mismatch")
        # another organization's deposit of the same content is its own
        with served.client("copycat") as other:
            assert (
                other.post("/v1/evidence/hash", json={"sha256": sha, "sm3": sm3_b}).status_code
                == 201
            )
        (stored,) = c.get("/v1/evidence", params={"sha256": sha}).json()["items"]
        assert stored["sm3"] == sm3_a


def test_bulk_sm3_clashes_refuse_the_whole_request(served) -> None:
    stored, fresh = h("bulk-sm3-stored"), h("bulk-sm3-fresh")
    with served.client() as c:
        assert (
            c.post("/v1/evidence/hash", json={"sha256": stored, "sm3": "11" * 32}).status_code
            == 201
        )
        within = [
            {"sha256": fresh, "sm3": "22" * 32},
            {"sha256": fresh, "sm3": "33" * 32},
        ]
        body = assert_error(
            c.post("/v1/evidence/hashes", json={"items": within}), 409, "sm3_mismatch"
        )
        assert "22" * 32 in body["error"]["message"] and "33" * 32 in body["error"]["message"]
        against = [{"sha256": fresh}, {"sha256": stored, "sm3": "44" * 32}]
        assert_error(c.post("/v1/evidence/hashes", json={"items": against}), 409, "sm3_mismatch")
        assert c.get("/v1/evidence", params={"sha256": fresh}).json()["items"] == []
        fine = [{"sha256": fresh, "sm3": "22" * 32}, {"sha256": fresh}, {"sha256": stored}]
        r = c.post("/v1/evidence/hashes", json={"items": fine})
        assert r.status_code == 201 and r.json()["created"] == 1, r.text


def test_concurrent_sm3_clashes_fail_alone(served) -> None:
    """Requests recorded in one group commit: the clashing one fails, the others stand."""
    sha = h("group-sm3")
    results: list[httpx.Response] = []
    start = threading.Barrier(8)

    def deposit(n: int) -> None:
        with served.client() as c:
            start.wait()
            results.append(
                c.post("/v1/evidence/hash", json={"sha256": sha, "sm3": f"{n % 2}5" * 32})
            )
            results.append(c.post("/v1/evidence/hash", json={"sha256": h(f"group-sm3-{n}")}))

    threads = [threading.Thread(target=deposit, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(201) == 9 and statuses.count(409) == 4, [r.text for r in results]
    assert statuses.count(200) == 3


def test_file_uploads_check_the_sm3_too(served) -> None:
    data = b"file with a known sm3 " + os.urandom(16)
    sha, sm3 = hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest()
    with served.client() as c:
        assert (
            c.post("/v1/evidence/hash", json={"sha256": sha, "sm3": "ee" * 32}).status_code == 201
        )
        body = assert_error(
            c.post("/v1/evidence", files={"file": ("a.bin", data)}), 409, "sm3_mismatch"
        )
        assert sm3 in body["error"]["message"] and "ee" * 32 in body["error"]["message"]
        other = b"file deposited first " + os.urandom(16)
        r = c.post("/v1/evidence", files={"file": ("b.bin", other)})
        assert r.status_code == 201
        clash = {"sha256": hashlib.sha256(other).hexdigest(), "sm3": "ef" * 32}
        assert_error(c.post("/v1/evidence/hash", json=clash), 409, "sm3_mismatch")
        right = {
            "sha256": hashlib.sha256(other).hexdigest(),
            "sm3": hashlib.new("sm3", other).hexdigest(),
        }
        assert c.post("/v1/evidence/hash", json=right).status_code == 200


# -- timestamps --------------------------------------------------------------------------


def test_every_timestamp_is_utc_with_z(served) -> None:
    with served.client() as c:
        ev = c.post("/v1/evidence/hash?wait=30", json={"sha256": h("utc-z")}).json()
        assert ev["status"] == "anchored"
        assert UTC_TEXT.match(ev["received_at"]), ev["received_at"]
        full = c.get(f"/v1/evidence/{ev['id']}").json()
        assert full["history"], full
        for event in full["history"]:
            assert UTC_TEXT.match(event["at"]), event
        assert UTC_TEXT.match(full["received_at"])
        assert UTC_TEXT.match(full["anchor"]["block_time_utc"])
        listed = c.get("/v1/evidence", params={"sha256": h("utc-z")}).json()["items"][0]
        assert UTC_TEXT.match(listed["received_at"])
        doc = c.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    times = [
        (name, field, prop)
        for name, schema in schemas.items()
        for field, prop in schema.get("properties", {}).items()
        if field in {"at", "received_at", "created_at", "anchored_at"}
    ]
    assert {(n, f) for n, f, _ in times} >= {("EventOut", "at"), ("EvidenceOut", "received_at")}
    for name, field, prop in times:
        assert prop.get("format") == "date-time", (name, field, prop)


# -- download names ----------------------------------------------------------------------

HOSTILE_NAMES = [
    "line\nbreak.png",
    'quote"d.png',
    "semi;colon; filename=evil.exe",
    "back\\slash.png",
    "tab\there.png",
    "小熊-连衣裙 🧸.png",
    "%41%0D%0A percent.png",
    "../../etc/passwd",
    "\u2028separator\u2029.png",
    "ü" * 4096,
    "x" * 4096,
]


DISPOSITION = re.compile(
    r'attachment; filename="([ !#$&-+\--:<-\[\]-~]*)"; '
    r"filename\*=UTF-8''((?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+)"
)
"""RFC 6266 with an RFC 8187 ext-value, and a quoted fallback without `"`, `\\`, `%`,
`;` or `,`."""


def parse_disposition(header: str) -> str:
    """The file name a client following RFC 6266 saves a download under."""
    match = DISPOSITION.fullmatch(header)
    assert match is not None, header
    return unquote(match.group(2), errors="strict")


def test_every_allowed_name_can_be_downloaded(served) -> None:
    """Certificate, file and bundle, for names the metadata spec allows."""
    from api.disposition import download_name

    deposited = []
    with served.client() as c:
        for n, name in enumerate(HOSTILE_NAMES):
            data = f"download name {n} ".encode() + os.urandom(16)
            meta = json.dumps({"name": name})
            r = c.post("/v1/evidence", files={"file": ("x.bin", data), "metadata": (None, meta)})
            assert r.status_code == 201, r.text
            deposited.append((name, data, r.json()["id"]))
        for name, data, evidence_id in deposited:
            anchored = c.get(f"/v1/evidence/{evidence_id}?")
            deadline = time.monotonic() + 60
            while (
                anchored.json()["status"] != "anchored"
                or anchored.json()["ipfs"]["pin_state"] != "pinned"
            ):
                assert time.monotonic() < deadline, anchored.text
                time.sleep(0.1)
                anchored = c.get(f"/v1/evidence/{evidence_id}")
            for path, suffix in (
                ("certificate", ".cert.json"),
                ("file", ""),
                ("bundle", ".evidence.zip"),
            ):
                r = c.get(f"/v1/evidence/{evidence_id}/{path}")
                assert r.status_code == 200, (name, path, r.text)
                header = r.headers["content-disposition"]
                assert header.isascii() and header.isprintable(), header
                decoded = parse_disposition(header)
                assert decoded.endswith(suffix), (header, decoded)
                assert not any(ch in decoded for ch in "/\\\n\r\t\0"), decoded
                assert decoded == download_name(name, suffix)
                if name in ("semi;colon; filename=evil.exe", "%41%0D%0A percent.png"):
                    assert decoded == name + suffix  # nothing changed that did not need to
                if path == "file":
                    assert r.content == data


def test_unknown_query_parameters_are_refused(served) -> None:
    with served.client() as c:
        refused = c.get("/v1/evidence", params={"untill": "2024-01-01T00:00:00Z"})
        assert_error(refused, 422, "invalid_input")
        assert "untill" in refused.json()["error"]["message"]
        bulk = c.post("/v1/evidence/hashes?wait=0&x=1", json={"items": [{"sha256": h("q")}]})
        assert_error(bulk, 422, "invalid_input")
        assert c.get("/v1/evidence", params={"sha256": h("q")}).json()["items"] == []
        assert c.post("/v1/evidence/hashes?wait=0", json={"items": [{"sha256": h("q")}]}).is_success


def test_a_query_parameter_given_twice_is_refused(served) -> None:
    """Which of two values would count is the server's guess: none is taken."""
    with served.client() as c:
        twice = c.get("/v1/evidence?limit=1&limit=2")
        assert_error(twice, 422, "invalid_input")
        assert "'limit' is given more than once" in twice.json()["error"]["message"]
        body = {"items": [{"sha256": h("twice")}]}
        assert_error(c.post("/v1/evidence/hashes?wait=0&wait=5", json=body), 422, "invalid_input")
        assert c.get("/v1/evidence", params={"sha256": h("twice")}).json()["items"] == []
        assert c.get("/v1/evidence?limit=1").is_success


def test_a_wrong_method_names_every_allowed_one(served) -> None:
    with served.client("operator") as admin:
        r = admin.request("PATCH", "/v1/organizations")
        assert_error(r, 405, "method_not_allowed")
        assert r.headers["allow"] == "GET, POST"


def test_unknown_form_parts_are_refused(served) -> None:
    with served.client(None) as anyone:
        files = {"certificate": ("c.json", b"{}"), "extra": (None, "1")}
        assert_error(anyone.post("/v1/verify", files=files), 422, "invalid_input")


def test_the_hashes_of_zero_bytes_are_refused(served) -> None:
    """One rule everywhere: empty content proves nothing (every empty file has these)."""
    from notary.core.hashing import EMPTY

    with served.client("studio") as c:
        for body in (
            {"sha256": EMPTY.sha256.hex()},
            {"sha256": hashlib.sha256(b"not empty").hexdigest(), "sm3": EMPTY.sm3.hex()},
        ):
            answer = c.post("/v1/evidence/hash", json=body)
            assert_error(answer, 422, "invalid_input")
            assert "the file is empty" in answer.json()["error"]["message"]
        bulk = c.post("/v1/evidence/hashes", json={"items": [{"sha256": EMPTY.sha256.hex()}]})
        assert_error(bulk, 422, "invalid_input")
        upload = c.post("/v1/evidence", files={"file": ("empty.png", b"", "image/png")})
        assert_error(upload, 422, "invalid_input")
        assert "the file is empty" in upload.text
