"""A small Chrome DevTools Protocol client driving Debian's headless chromium.

Enough for the web verifier's tests: open a page, run JavaScript in it, give files to an
`<input type=file>` (what a clerk's drop or file picker does), and record every request the
page makes. Playwright would need its own browser build, which cannot be downloaded here;
the protocol over a websocket needs nothing but chromium and `websockets`.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

START_TIMEOUT_SECONDS = 30.0


class Chromium:
    """One headless chromium with one page, for a whole test module."""

    def __init__(self, profile: Path, *, proxy_port: int) -> None:
        binary = shutil.which("chromium")
        assert binary, "Debian's chromium is not installed (scripts/test installs it)"
        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",  # as root, as in CI
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                # every host but this machine unreachable: names resolve to nothing, other
                # addresses go through a proxy that is not there (loopback bypasses proxies)
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--proxy-server=http://127.0.0.1:{proxy_port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ids = itertools.count(1)
        self.requests: list[str] = []
        try:
            self.ws: ClientConnection = connect(
                self._devtools_url(profile), max_size=None, open_timeout=30
            ).__enter__()  # held for the browser's life, closed by close()
        except BaseException:
            self.process.kill()
            self.process.wait(30)
            raise
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Network", "DOM"):
            self.send(f"{domain}.enable", session=True)

    def _devtools_url(self, profile: Path) -> str:
        """Chromium writes its port and path to DevToolsActivePort once it listens."""
        written = profile / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            lines = written.read_text().split() if written.exists() else []
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            assert self.process.poll() is None, "chromium exited"
            assert time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.05)  # polling with a deadline

    def close(self) -> None:
        self.ws.close()
        self.process.terminate()
        self.process.wait(30)

    def send(self, method: str, *, session: bool = False, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer, noting the events that come first."""
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            answer = json.loads(self.ws.recv(timeout=120))
            if answer.get("method") == "Network.requestWillBeSent":
                self.requests.append(answer["params"]["request"]["url"])
            if answer.get("id") == number:
                assert "error" not in answer, (method, answer["error"])
                result: dict[str, Any] = answer["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        done = self.send(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        assert "exceptionDetails" not in done, done["exceptionDetails"]
        return done["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0) -> Any:
        """Poll until the expression is truthy (with a deadline); its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            time.sleep(0.02)

    def open(self, url: str) -> None:
        """Load `url` and wait until its scripts have run."""
        self.send("Page.navigate", session=True, url=url)
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")

    def set_files(self, selector: str, *paths: Path) -> None:
        """Give files to an <input type=file>, as the clerk's file picker does."""
        root = self.send("DOM.getDocument", session=True)["root"]["nodeId"]
        node = self.send("DOM.querySelector", session=True, nodeId=root, selector=selector)
        self.send(
            "DOM.setFileInputFiles",
            session=True,
            nodeId=node["nodeId"],
            files=[str(p) for p in paths],
        )
