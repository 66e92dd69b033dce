"""The interactive docs work offline: /docs and /redoc load their files from the server.

The pages need no chain, database or key, so the app runs here without its lifespan (which
builds the NotaryService) and without a devnet: create_app's app on a real uvicorn server.
The browser test renders both pages in headless Chromium (Debian's; scripts/test installs
it) with every other host unreachable.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import uvicorn

from api import docs
from api.main import create_app
from notary.config import Settings
from tests.conftest import free_port

PAGES = ("/docs", "/redoc")
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


def serve(data_dir: Path, **config: object) -> tuple[str, uvicorn.Server, threading.Thread]:
    app = create_app(Settings(data_dir=data_dir), start_batcher=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **config
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> Iterator[str]:
    base, server, thread = serve(tmp_path_factory.mktemp("docs"))
    yield base
    server.should_exit = True
    thread.join(timeout=30)


class _Refs(HTMLParser):
    """The URLs a page makes the browser load: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag in ("script", "img") and named.get("src"):
            self.found.append((tag, str(named["src"])))
        if tag == "link" and named.get("href"):
            self.found.append((str(named.get("rel")), str(named["href"])))


def refs(html: str) -> list[tuple[str, str]]:
    parser = _Refs()
    parser.feed(html)
    return parser.found


def test_root_redirects_to_the_docs(url) -> None:
    answer = httpx.get(url + "/", follow_redirects=False)
    assert answer.status_code in (307, 308)
    assert answer.headers["location"] == "/docs"


@pytest.mark.parametrize("page", PAGES)
def test_pages_name_no_other_host(url, page) -> None:
    answer = httpx.get(url + page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    foreign = [u for u in re.findall(r"\w+://[^\s\"'<>)]+", answer.text) if not u.startswith(url)]
    assert foreign == [], f"{page} names other hosts: {foreign}"
    # and the browser may load nothing from another host, whatever the bundles hold
    assert answer.headers["content-security-policy"] == docs.THIS_ORIGIN_ONLY
    assert "://" not in docs.THIS_ORIGIN_ONLY and "*" not in docs.THIS_ORIGIN_ONLY


@pytest.mark.parametrize("page", PAGES)
def test_every_file_a_page_loads_is_served(url, page) -> None:
    found = refs(httpx.get(url + page).text)
    kinds = {kind for kind, _ in found}
    assert "script" in kinds and "shortcut icon" in kinds, found
    if page == "/docs":
        assert "stylesheet" in kinds, found
    for kind, ref in found:
        assert ref.startswith(docs.ASSETS_URL + "/"), (kind, ref)
        answer = httpx.get(url + ref)
        assert answer.status_code == 200, ref
        allowed = CONTENT_TYPES[Path(ref).suffix]
        assert answer.headers["content-type"].split(";")[0] in allowed, (ref, answer.headers)
        assert len(answer.content) > 4096, ref  # a real bundle, not a stub


def test_only_the_named_files_are_served(url) -> None:
    assert httpx.get(url + docs.ASSETS_URL + "/nothing.js").status_code == 404
    escape = httpx.get(url + docs.ASSETS_URL + "/%2e%2e/__init__.py")
    assert escape.status_code == 404


def test_the_openapi_document_lists_only_the_api(url) -> None:
    paths = httpx.get(url + "/openapi.json").json()["paths"]
    assert paths and all(path.startswith("/v1/") for path in paths), sorted(paths)


def test_served_under_a_root_path(tmp_path) -> None:
    """Behind a proxy that strips /notary (uvicorn --root-path), the pages name their files
    and the document under /notary, where the browser finds them."""
    base, server, thread = serve(tmp_path, root_path="/notary")
    try:
        page = httpx.get(base + "/docs").text
        assert [ref for _, ref in refs(page)] == [
            "/notary/docs/assets/swagger-ui.css",
            "/notary/docs/assets/favicon.png",
            "/notary/docs/assets/swagger-ui-bundle.js",
        ]
        assert "url: '/notary/openapi.json'" in page
        assert httpx.get(base + "/", follow_redirects=False).headers["location"] == "/notary/docs"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_without_the_files_the_pages_say_what_is_missing(tmp_path, monkeypatch) -> None:
    assert docs.assets_dir("no_such_package_for_docs") is None
    monkeypatch.setattr(docs, "assets_dir", lambda: None)
    base, server, thread = serve(tmp_path)
    try:
        for page in PAGES:
            answer = httpx.get(base + page)
            assert answer.status_code == 503, page
            error = answer.json()["error"]
            assert error["code"] == "not_configured"
            assert "fastapi-offline" in error["message"]
        assert httpx.get(base + docs.ASSETS_URL + "/swagger-ui.css").status_code == 404
        assert httpx.get(base + "/openapi.json").status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def render(url: str, profile: Path) -> str:
    """The DOM of the page at `url` once headless Chromium has run its scripts, with every
    host but this machine's unreachable: names resolve to nothing, and other addresses go
    through a proxy that is not there (loopback bypasses proxies)."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed (scripts/test installs it)"
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # as root, as in CI
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--proxy-server=http://127.0.0.1:{free_port()}",
            "--virtual-time-budget=15000",  # run until the page's loads are done
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_both_pages_render_the_operations_offline(url, tmp_path) -> None:
    document = httpx.get(url + "/openapi.json").json()
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}

    swagger = render(url + "/docs", tmp_path / "profile")
    assert set(re.findall(r'href="#/[^/"]+/([^"]+)"', swagger)) == operations
    assert 'class="btn authorize' in swagger  # the API key scheme's Authorize button

    redoc = render(url + "/redoc", tmp_path / "profile")
    assert set(re.findall(r'id="tag/[^/"]+/operation/([^"]+)"', redoc)) == operations


def test_the_docs_show_how_to_sign_a_deposit_with_the_typed_data_the_notary_checks(url) -> None:
    """The 'depositor keys' group explains signing; the typed data it shows is the one the
    service recovers signatures with (notary.chain.eip712), not a copy that drifted."""
    from notary.chain import eip712

    tags = {
        t["name"]: t.get("description", "") for t in httpx.get(url + "/openapi.json").json()["tags"]
    }
    text = tags["depositor keys"]
    fields = ", ".join(f"{f['type']} {f['name']}" for f in eip712.DEPOSIT_FIELDS)
    assert f"Deposit({fields})" in text
    assert f'name: "{eip712.DOMAIN_NAME}", version: "{eip712.DOMAIN_VERSION}"' in text
    for words in (
        "notary deposit --key-file",
        "NotaryClient(",
        "signer=",
        "GET /v1/depositor-keys",
    ):
        assert words in text, words
