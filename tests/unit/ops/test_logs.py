"""The service's log formats: extras appended, uvicorn's colour copy of a message left out."""

from __future__ import annotations

import json
import logging

from notary.ops.logs import JsonFormatter, TextFormatter


def record(**extra: object) -> logging.LogRecord:
    """A record as `logger.info("Started server process [%d]", 42, extra=extra)` makes it."""
    message = "Started server process [%d]"
    made = logging.LogRecord("uvicorn.error", logging.INFO, "x.py", 1, message, (42,), None)
    made.__dict__.update(extra)
    return made


def test_uvicorns_colour_copy_is_not_appended_and_real_extras_are() -> None:
    colour = {"color_message": "Started server process [\x1b[36m%d\x1b[0m]"}
    text = TextFormatter().format(record(**colour))
    assert text.endswith("Started server process [42]"), text  # nothing appended
    assert "\x1b" not in text and "color_message" not in text
    line = json.loads(JsonFormatter().format(record(**colour)))
    assert "color_message" not in line and line["message"] == "Started server process [42]"

    text = TextFormatter().format(record(**colour, batch_id=7))
    assert text.endswith("Started server process [42] [batch_id=7]"), text
    assert json.loads(JsonFormatter().format(record(batch_id=7)))["batch_id"] == 7


def test_library_chatter_is_left_out_at_info_but_not_their_warnings() -> None:
    import io

    from notary.ops.logs import configure

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        configure("text", "INFO", stream)
        logging.getLogger("fontTools.subset").info("Glyph names: ['uni4E00', ...]")
        logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
        logging.getLogger("notary.anchoring").info("batch 7 anchored")
        logging.getLogger("fontTools.subset").warning("a glyph is missing")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = stream.getvalue().splitlines()
    assert [line.split(" ", 3)[-1] for line in lines] == [
        "notary.anchoring batch 7 anchored",
        "fontTools.subset a glyph is missing",
    ], lines
