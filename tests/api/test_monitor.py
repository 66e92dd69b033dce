"""Early warning end to end over real HTTP, a real anvil and the real IPFS node: studio A
and studio B deposit designs, a third organization posts a transformed copy of an A design
as a capture; A gets the alert (API and webhook) with two certificates that both verify
with `notary verify`, B learns nothing; bad captures get a 4xx and record nothing.

One server for the module (the tests share its designs, in file order).
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw, ImageOps

from notary.store.models import Role
from tests.api.conftest import Server, start_server, wait_for
from tests.api.receiver import Receiver

pytestmark = pytest.mark.devnet
NOTARY = str(Path(sys.executable).parent / "notary")


def design(seed: int, size: int = 480) -> Image.Image:
    """Garment-like flat-colour artwork: a ground, stripes, dots and a character blob."""
    rng = random.Random(seed)
    colour = lambda: tuple(rng.randrange(256) for _ in range(3))  # noqa: E731
    image = Image.new("RGB", (size, size), colour())
    draw = ImageDraw.Draw(image)
    step = rng.randrange(30, 70)
    for y in range(0, size, step * 2):
        draw.rectangle((0, y, size, y + step), fill=colour())
    for _ in range(rng.randrange(6, 14)):
        x, y, r = rng.randrange(size), rng.randrange(size), rng.randrange(15, 70)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour(), outline=colour(), width=4)
    cx, cy = rng.randrange(120, size - 120), rng.randrange(120, size - 120)
    draw.polygon(
        [(cx + rng.randrange(-110, 110), cy + rng.randrange(-110, 110)) for _ in range(7)],
        fill=colour(),
    )
    draw.text((rng.randrange(size // 2), rng.randrange(size - 20)), f"BEAR {seed}", fill=colour())
    return image


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def copied(image: Image.Image) -> bytes:
    """What a copycat's shop shows: mirrored, cropped 2 %, resized, JPEG at quality 50 (the
    robustness of matching itself is measured in bench/, not here)."""
    w, h = image.size
    shot = ImageOps.mirror(image).crop((w // 100, h // 100, w - w // 100, h - h // 100))
    shot = shot.resize((w * 2 // 3, h * 2 // 3))
    out = io.BytesIO()
    shot.save(out, "JPEG", quality=50)
    return out.getvalue()


def _unix(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    served = Receiver().start()
    yield served
    served.shutdown()
    served.server_close()


@pytest.fixture(scope="module")
def world(chain, tmp_path_factory, receiver) -> Iterator[dict[str, Any]]:
    """The server, a finder organization, and the two studios' designs deposited."""
    running, server, thread = start_server(
        chain, tmp_path_factory.mktemp("monitor"), batcher=True, webhook_timeout_seconds=2.0
    )
    running.service.create_organization("finder-org", "维权巡查", Role.DEPOSITOR)
    try:
        yield _deposit_designs(running, receiver)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _client(api: Server, key: str) -> httpx.Client:
    return httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _deposit_designs(api: Server, receiver: Receiver) -> dict[str, Any]:
    finder_key = api.service.create_key("finder-org", "ci").secret
    images = {seed: design(seed) for seed in range(6)}
    ids: dict[int, str] = {}
    with api.client("studio") as a, api.client("copycat") as b:
        for who, hook in ((a, "/a"), (b, "/b")):
            made = who.post(
                "/v1/webhooks", json={"url": receiver.url + hook, "events": ["alert.created"]}
            )
            assert made.status_code == 201, made.text
        for seed in (0, 1, 2):
            r = a.post("/v1/evidence", files={"file": (f"a{seed}.png", png(images[seed]))})
            assert r.status_code == 201, r.text
            ids[seed] = r.json()["id"]
        for seed in (3, 4):
            r = b.post("/v1/evidence", files={"file": (f"b{seed}.png", png(images[seed]))})
            assert r.status_code == 201, r.text
            ids[seed] = r.json()["id"]
    return {"api": api, "finder": finder_key, "images": images, "ids": ids}


def _capture(client: httpx.Client, data: bytes, url: str, name: str = "shot.jpg") -> httpx.Response:
    meta = {
        "source_url": url,
        "shop": "某宝童装店",
        "price": "59.90 CNY",
        "captured_at": "2026-11-22T03:00:00Z",
    }
    return client.post(
        "/v1/monitor/captures",
        files={"file": (name, data, "image/jpeg"), "metadata": (None, json.dumps(meta))},
    )


def test_designs_are_fingerprinted_and_non_images_say_so(world) -> None:
    api = world["api"]
    with api.client("studio") as a:
        view = a.get(f"/v1/evidence/{world['ids'][0]}").json()
        assert view["fingerprint"]["status"] == "ok"
        text = a.post("/v1/evidence", files={"file": ("notes.txt", b"not a picture at all")})
        assert text.status_code == 201
        other = a.get(f"/v1/evidence/{text.json()['id']}").json()
        assert other["fingerprint"]["status"] == "not_image"
        bare = a.post("/v1/evidence/hash", json={"sha256": "ab" * 32}).json()
        assert a.get(f"/v1/evidence/{bare['id']}").json()["fingerprint"]["status"] == (
            "not_fingerprinted"
        )
        # fingerprints are not evidence: not in the metadata (so not in the leaf)
        assert "fingerprint" not in json.dumps(view["metadata"])


def test_capture_of_a_copy_alerts_the_owner_only(world, receiver, chain, tmp_path) -> None:
    api, ids = world["api"], world["ids"]
    with (
        _client(api, world["finder"]) as finder,
        api.client("studio") as a,
        api.client("copycat") as b,
    ):
        shot = copied(world["images"][0])
        r = _capture(finder, shot, "https://shop.example/item/1")
        assert r.status_code == 201, r.text
        answer = r.json()
        assert answer["matched"] is None  # A does not disclose: the finder learns nothing
        assert ids[0] not in r.text and "a0.png" not in r.text
        again = _capture(finder, shot, "https://shop.example/item/1")
        assert again.status_code == 200 and again.json()["capture_id"] == answer["capture_id"]

        alerts = a.get("/v1/alerts").json()["items"]
        assert [x["design"]["evidence_id"] for x in alerts] == [ids[0]]
        alert = alerts[0]
        assert alert["status"] == "new" and alert["kind"]
        assert alert["capture"]["source_url"] == "https://shop.example/item/1"
        assert alert["capture"]["capture_id"] == answer["capture_id"]
        assert alert["capture"]["evidence_id"] == answer["evidence_id"]
        assert b.get("/v1/alerts").json()["items"] == []
        for outsider in (b, finder):
            assert outsider.get(f"/v1/alerts/{alert['id']}").status_code == 404
            thumb = outsider.get(f"/v1/alerts/{alert['id']}/thumbnails/design")
            assert thumb.status_code == 404
        assert finder.get(f"/v1/evidence/{ids[0]}").status_code == 404

        for side in ("design", "capture"):
            thumb = a.get(f"/v1/alerts/{alert['id']}/thumbnails/{side}")
            assert thumb.status_code == 200, thumb.text
            small = Image.open(io.BytesIO(thumb.content))
            assert small.format == "PNG" and max(small.size) <= 256

        hooked = wait_for(lambda: receiver.messages("/a"), "alert.created for A")
        body = json.loads(hooked[0]["body"])
        assert body["type"] == "alert.created" and body["data"]["alert_id"] == alert["id"]
        assert receiver.messages("/b") == []

        anchored = wait_for(
            lambda: (
                (v := a.get(f"/v1/alerts/{alert['id']}").json())["design"]["anchored_at"]
                and v["capture"]["anchored_at"]
                and v
            ),
            "both anchored",
        )
        assert anchored["design"]["anchored_at"] <= anchored["capture"]["anchored_at"]
        design_cert = a.get(anchored["design"]["certificate_url"])
        capture_cert = a.get(anchored["capture"]["certificate_url"])
        assert design_cert.status_code == 200 and capture_cert.status_code == 200
        assert b.get(f"/v1/alerts/{alert['id']}/capture/certificate").status_code == 404
        (tmp_path / "a0.png").write_bytes(png(world["images"][0]))
        (tmp_path / "a0.png.cert.json").write_bytes(design_cert.content)
        (tmp_path / "shot.jpg").write_bytes(shot)
        (tmp_path / "shot.jpg.cert.json").write_bytes(capture_cert.content)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
        for name in ("a0.png", "shot.jpg"):
            done = subprocess.run(
                [NOTARY, "verify", name, "--rpc", chain.rpc_url],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert done.stdout.startswith("VALID")

        report = a.get(f"/v1/alerts/{alert['id']}/report").json()
        t1 = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(_unix(anchored["design"]["anchored_at"]))
        )
        assert report["design"]["existed_no_later_than"] == t1
        assert report["order"] in {"design_first", "same_block_time"}
        assert report["capture"]["source_url"] == "https://shop.example/item/1"
        said = " ".join(s["en"] for s in report["statements"])
        assert "not a legal finding" in said and t1 in said
        assert b.get(f"/v1/alerts/{alert['id']}/report").status_code == 404
        printed = a.get(f"/v1/alerts/{alert['id']}/report.pdf")
        assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
        assert printed.headers["content-type"] == "application/pdf"

        acked = a.post(f"/v1/alerts/{alert['id']}/acknowledge").json()
        assert acked["status"] == "acknowledged"
        assert a.get("/v1/alerts", params={"status": "new"}).json()["items"] == []
        listed = a.get("/v1/alerts", params={"status": "acknowledged", "design_id": ids[0]})
        assert [x["id"] for x in listed.json()["items"]] == [alert["id"]]
        assert a.post(f"/v1/alerts/{alert['id']}/dismiss").json()["status"] == "dismissed"
        assert a.post(f"/v1/alerts/{alert['id']}/acknowledge").status_code == 409


def test_watch_list_decides_disclosure_and_what_is_watched(world) -> None:
    api, ids = world["api"], world["ids"]
    with _client(api, world["finder"]) as finder, api.client("studio") as a:
        assert a.get("/v1/monitor/watch").json() == {
            "mode": "all",
            "tags": [],
            "disclose_to_finders": False,
        }
        put = a.put("/v1/monitor/watch", json={"mode": "all", "disclose_to_finders": True})
        assert put.status_code == 200 and put.json()["disclose_to_finders"] is True
        r = _capture(finder, copied(world["images"][1]), "https://shop.example/item/2")
        assert r.status_code == 201 and r.json()["matched"] is True
        a.put("/v1/monitor/watch", json={"mode": "tags", "tags": ["summer"]})
        r = _capture(finder, copied(world["images"][2]), "https://shop.example/item/3")
        assert r.status_code == 201 and r.json()["matched"] is None
        designs = {x["design"]["evidence_id"] for x in a.get("/v1/alerts").json()["items"]}
        assert designs == {ids[0], ids[1]}
        a.put("/v1/monitor/watch", json={"mode": "all"})
        bad = a.put("/v1/monitor/watch", json={"mode": "tags", "tags": []})
        assert bad.status_code == 422


def _bomb() -> bytes:
    """A PNG that says 30,000 x 30,000 pixels (2.7 GB decoded) in a few hundred bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 200_000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _gif() -> bytes:
    frames = [design(7).convert("P"), design(8).convert("P")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def _cmyk() -> bytes:
    out = io.BytesIO()
    design(9).convert("CMYK").save(out, "JPEG", quality=85)
    return out.getvalue()


def test_bad_captures_get_a_4xx_and_record_nothing(world) -> None:
    api = world["api"]
    jpeg = copied(design(10))
    refused = {
        "not_an_image": b"%PDF-1.4 not an image at all",
        "corrupt_image": jpeg[: len(jpeg) // 2],
        "image_too_large": _bomb(),
    }
    with _client(api, world["finder"]) as finder:
        before = len(finder.get("/v1/evidence", params={"limit": 500}).json()["items"])
        for code, data in refused.items():
            r = _capture(finder, data, "https://shop.example/bad")
            assert r.status_code == 422, (code, r.text)
            assert r.json()["error"]["code"] == code
        no_url = finder.post("/v1/monitor/captures", files={"file": ("x.jpg", jpeg, "image/jpeg")})
        assert (
            no_url.status_code == 422 and no_url.json()["error"]["field"] == "metadata.source_url"
        )
        after = len(finder.get("/v1/evidence", params={"limit": 500}).json()["items"])
        assert after == before
        for data in (_gif(), _cmyk()):  # decodable: first frame, converted colours
            r = _capture(finder, data, "https://shop.example/odd")
            assert r.status_code in {201, 422}, r.text
            if r.status_code == 422:
                assert r.json()["error"]["code"] in {"unsupported_image", "corrupt_image"}


def test_a_single_deposit_answers_the_fingerprint_status_its_view_shows(world) -> None:
    """POST answers what GET /v1/evidence/{id} will say, new or repeated, file or hash (the
    answer once said null for a file that its view called not_image)."""
    import hashlib

    from notary.monitor.fingerprint import fingerprint_design

    api = world["api"]
    picture = png(design(41))
    truncated = png(design(42))[:400]
    given = [
        {"kind": f.kind, "hex": f.bits.hex()}
        for f in fingerprint_design(png(design(43))).fingerprints
    ]
    deposits: list[tuple[str, dict[str, Any], str]] = [
        ("file", {"files": {"file": ("d.png", picture)}}, "ok"),
        ("file", {"files": {"file": ("n.txt", b"plain text, not a picture")}}, "not_image"),
        ("file", {"files": {"file": ("t.png", truncated)}}, "corrupt"),
        ("hash", {"json": {"sha256": "5e" * 32}}, "not_fingerprinted"),
        (
            "hash",
            {"json": {"sha256": hashlib.sha256(b"x43").hexdigest(), "fingerprints": given}},
            "ok",
        ),
    ]
    with api.client("studio") as a:
        for kind, body, expected in deposits:
            path = "/v1/evidence" if kind == "file" else "/v1/evidence/hash"
            for round_, code in ((1, 201), (2, 200)):  # new, then the same again
                answer = a.post(path, **body)
                assert answer.status_code == code, (kind, expected, answer.text)
                shown = a.get(f"/v1/evidence/{answer.json()['id']}").json()["fingerprint"]
                assert shown["status"] == expected, (kind, round_, shown)
                assert answer.json()["fingerprint"] == shown, (kind, expected, round_)
        listed = a.get("/v1/evidence", params={"limit": 3}).json()["items"]
        assert all(item["fingerprint"] is None for item in listed)  # lists: not read


def test_hash_deposit_with_client_fingerprints_is_watched(world) -> None:
    """The studio keeps the file: it sends the hash and the fingerprint its client made."""
    import hashlib

    from notary.monitor.fingerprint import fingerprint_design

    api = world["api"]
    data = png(world["images"][5])
    made = fingerprint_design(data)
    given = [{"kind": f.kind, "hex": f.bits.hex()} for f in made.fingerprints]
    with _client(api, world["finder"]) as finder, api.client("studio") as a:
        bad = a.post(
            "/v1/evidence/hash",
            json={"sha256": "cd" * 32, "fingerprints": [{"kind": "pdq", "hex": "zz" * 32}]},
        )
        assert bad.status_code == 422
        unknown = a.post(
            "/v1/evidence/hash",
            json={"sha256": "cd" * 32, "fingerprints": [{"kind": "md5", "hex": "ab" * 32}]},
        )
        assert unknown.status_code == 422, unknown.text  # documented, like every bad input
        assert unknown.json()["error"]["code"] == "invalid_fingerprint"
        r = a.post(
            "/v1/evidence/hash",
            json={"sha256": hashlib.sha256(data).hexdigest(), "fingerprints": given},
        )
        assert r.status_code == 201, r.text
        design_id = r.json()["id"]
        assert a.get(f"/v1/evidence/{design_id}").json()["fingerprint"]["status"] == "ok"
        shot = _capture(finder, copied(world["images"][5]), "https://shop.example/item/5")
        assert shot.status_code == 201, shot.text
        found = a.get("/v1/alerts", params={"design_id": design_id}).json()["items"]
        assert len(found) == 1
        no_file = a.get(f"/v1/alerts/{found[0]['id']}/thumbnails/design")
        assert no_file.status_code == 404  # a hash deposit: the file never came
        assert a.get(f"/v1/alerts/{found[0]['id']}/thumbnails/capture").status_code == 200


def test_cli_scans_a_folder_and_lists_alerts(world, tmp_path) -> None:
    """`notary monitor scan DIR` with sidecars, then `notary alerts list|ack` as the owner."""
    api = world["api"]
    folder = tmp_path / "listings"
    folder.mkdir()
    shot = io.BytesIO()
    ImageOps.mirror(world["images"][0]).resize((400, 400)).save(shot, "JPEG", quality=70)
    (folder / "shop1.jpg").write_bytes(shot.getvalue())  # not the bytes captured before
    (folder / "shop1.json").write_text(
        json.dumps({"source_url": "https://cli.example/1", "shop": "小店", "price": "39"}),
        "utf-8",
    )
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    other = io.BytesIO()
    world["images"][1].resize((300, 300)).save(other, "WEBP")
    (folder / "shop1.webp").write_bytes(other.getvalue())  # shop1.json would name it too
    (folder / "shop1.webp.json").write_text(json.dumps({"source_url": "https://cli.example/w"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}

    def notary(key: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [NOTARY, *args],
            env={**env, "NOTARY_API_URL": api.url, "NOTARY_API_KEY": key},
            capture_output=True,
            text=True,
            check=False,
        )

    scanned = notary(world["finder"], "monitor", "scan", str(folder), "--json")
    assert scanned.returncode == 1, scanned.stdout + scanned.stderr  # one file refused
    rows = {r["file"]: r for r in json.loads(scanned.stdout)["captures"]}
    assert rows["shop1.jpg"]["id"].startswith("ev_") and rows["shop1.jpg"]["status"] == "captured"
    assert rows["broken.png"]["id"] is None and "refused" in rows["broken.png"]["status"]
    with _client(api, world["finder"]) as finder:
        jpeg = finder.get(f"/v1/evidence/{rows['shop1.jpg']['id']}").json()["metadata"]
        webp = finder.get(f"/v1/evidence/{rows['shop1.webp']['id']}").json()["metadata"]
    assert (jpeg["media_type"], jpeg["source_url"]) == ("image/jpeg", "https://cli.example/1")
    assert (webp["media_type"], webp["source_url"]) == ("image/webp", "https://cli.example/w")
    none = notary(world["finder"], "alerts", "list")  # the finder owns no design
    assert none.returncode == 0 and none.stdout == "" and "no alerts" in none.stderr
    listed = notary(api.keys["studio"], "alerts", "list", "--status", "new", "--json")
    assert listed.returncode == 0, listed.stderr
    alerts = json.loads(listed.stdout)["alerts"]
    mine = [a for a in alerts if a["capture"]["source_url"] == "https://cli.example/1"]
    assert len(mine) == 1 and mine[0]["design"]["evidence_id"] == world["ids"][0]
    with api.client("studio") as a:
        everything = a.get("/v1/alerts", params={"limit": 500}).json()["items"]
        bad = a.get("/v1/alerts", params={"design_id": "'; drop table alerts"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    assert len(everything) >= 1
    one = notary(api.keys["studio"], "alerts", "list", "--limit", "1", "--json")
    assert [a["id"] for a in json.loads(one.stdout)["alerts"]] == [everything[0]["id"]]
    paged = notary(api.keys["studio"], "alerts", "list", "--all", "--limit", "1", "--json")
    assert paged.returncode == 0, paged.stderr  # every alert, one request per alert
    assert [a["id"] for a in json.loads(paged.stdout)["alerts"]] == [a["id"] for a in everything]
    acked = notary(api.keys["studio"], "alerts", "ack", mine[0]["id"])
    assert acked.returncode == 0 and "acknowledged" in acked.stdout
    assert notary(api.keys["copycat"], "alerts", "ack", mine[0]["id"]).returncode != 0


def test_cli_hash_only_deposit_sends_local_fingerprints(world, tmp_path) -> None:
    """`notary deposit --hash-only` fingerprints images locally: the design is watched
    though its file never left the studio."""
    api = world["api"]
    image = design(11)
    (tmp_path / "secret-design.png").write_bytes(png(image))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    env.update(NOTARY_API_URL=api.url, NOTARY_API_KEY=api.keys["studio"])
    done = subprocess.run(
        [NOTARY, "deposit", "--hash-only", "--json", str(tmp_path / "secret-design.png")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (deposited,) = json.loads(done.stdout)["evidence"]
    with _client(api, world["finder"]) as finder, api.client("studio") as a:
        view = a.get(f"/v1/evidence/{deposited['id']}").json()
        assert view["kind"] == "hash" and view["fingerprint"]["status"] == "ok"
        r = _capture(finder, copied(image), "https://shop.example/item/11")
        assert r.status_code == 201, r.text
        found = a.get("/v1/alerts", params={"design_id": deposited["id"]}).json()["items"]
        assert len(found) == 1
