"""Logging of both processes of `notary serve`: plain text or one JSON object per line.

`configure` is called once at each entry point (the API process in api.serve, the anchoring
process in notary.anchoring.process), with the same settings, so both write the same format
to their standard error. A JSON line carries `time` (UTC, ISO 8601), `level`, `logger`,
`message`, the `request_id` of the HTTP request being served when there is one, and any
field given as `extra=` (e.g. `status`, `seconds`, `batch`): a log shipper indexes them
without parsing the message.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Final, TextIO

REQUEST_ID: ContextVar[str | None] = ContextVar("notary_request_id", default=None)
"""Id of the HTTP request the current task or thread is serving (set by the API's
request middleware; copied into worker threads with the context)."""

REQUEST_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
"""An incoming X-Request-ID is kept only if it matches: nothing a log line could be forged
with (no spaces, quotes or newlines), and short."""

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s %(message)s"

_STANDARD: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colour codes
}
"""Attributes every LogRecord has (and uvicorn's colour copy of the message): anything else
on a record came in through `extra=`."""


def fields(record: logging.LogRecord) -> dict[str, object]:
    """The event fields a record was logged with (`extra=`), JSON-ready."""
    return {
        k: v if isinstance(v, str | int | float | bool | None) else str(v)
        for k, v in record.__dict__.items()
        if k not in _STANDARD and not k.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the traceback, if any, is a field, never extra lines."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        line.update(fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The plain format, with the request id and event fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = fields(record)
        request_id = REQUEST_ID.get()
        if request_id is not None:
            extra = {"request_id": request_id, **extra}
        if not extra:
            return text
        head, newline, rest = text.partition("\n")  # after the message, before a traceback
        pairs = " ".join(f"{k}={v}" for k, v in extra.items())
        return f"{head} [{pairs}]{newline}{rest}"


def configure(log_format: str = "text", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every logger's records to `stream` (standard error) in `log_format` ("text" or
    "json") from `level` up, replacing handlers set before (uvicorn's own included)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in QUIET:  # their INFO is about their own work, not the service's
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


QUIET: Final = ("fontTools", "alembic.runtime.migration")
"""Libraries that log at INFO what no operator needs: fontTools about 40 lines for each PDF
it subsets, Alembic its database dialect at every start."""


def request_id(incoming: str | None, new: str) -> str:
    """The id of a request: the caller's X-Request-ID when it is sane, else `new`."""
    if incoming is not None and REQUEST_ID_PATTERN.fullmatch(incoming):
        return incoming
    return new
