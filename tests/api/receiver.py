"""A webhook receiver over real HTTP: records every POST (path, headers, body) it answers.

In a thread (`Receiver`, for tests/api/test_webhooks.py) or as a process of its own
(`python tests/api/receiver.py PORT LOG`, for tests/e2e/test_webhooks_kill.py), where
every message is appended to LOG and fsynced *before* the 2xx answer, so that every
message the notary saw acknowledged is on disk even if the receiver is killed -9 after.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, log: str | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.received: list[dict[str, Any]] = []
        self.failures: dict[str, int] = {}
        """Path -> how many more requests to it answer 500 (a flaky endpoint)."""
        self.lock = threading.Lock()
        self.log = open(log, "ab") if log else None  # noqa: SIM115 (closed with the process)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> Receiver:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def messages(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.received if path is None or m["path"] == path]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        if len(body) < length:  # the sender died mid-body: nothing was delivered
            self.close_connection = True
            return
        record = {"path": self.path, "headers": dict(self.headers.items()), "body": body}
        with self.server.lock:
            failing = self.server.failures.get(self.path, 0)
            if failing:
                self.server.failures[self.path] = failing - 1
            record["answered"] = 500 if failing else 200
            self.server.received.append(record)
            if self.server.log is not None and not failing:
                line = {**record, "body": base64.b64encode(body).decode()}
                self.server.log.write(json.dumps(line).encode() + b"\n")
                self.server.log.flush()
                os.fsync(self.server.log.fileno())
        self.send_response(int(record["answered"]))
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def read_log(path: str) -> list[dict[str, Any]]:
    """The messages a receiver process logged (a line cut by a kill -9 is skipped)."""
    found = []
    with open(path, "rb") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            record["body"] = base64.b64decode(record["body"])
            found.append(record)
    return found


if __name__ == "__main__":
    Receiver(int(sys.argv[1]), sys.argv[2]).serve_forever()
