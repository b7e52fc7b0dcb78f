"""No client text can shape the service's log (issue 13, item 3): the filter on every handler
of ``ledger serve`` makes each record one line, whatever its arguments or exception hold."""

from __future__ import annotations

import io
import logging
import sys

from api.app import log_config
from api.logsafety import ControlCharacterFilter, escape_controls

FORGED = "/v1/x\n2026-01-01 00:00:00,000 INFO api.access: forged\r\x1b[2J\u2028\x85"


def emitted(record: logging.LogRecord) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ControlCharacterFilter())
    handler.handle(record)
    return stream.getvalue()


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = sys.exc_info() if exc else None
    return logging.LogRecord("uvicorn.error", logging.WARNING, __file__, 1, message, args, info)


def test_a_message_with_control_characters_is_one_escaped_line() -> None:
    line = emitted(record("a client sent %s", FORGED))
    assert line.count("\n") == 1  # the record's own line end
    assert "\r" not in line
    assert "\x1b" not in line
    assert "\u2028" not in line
    assert "\x85" not in line
    assert "\\n2026-01-01" in line
    assert "\\x1b[2J" in line


def test_an_exception_keeps_its_lines_but_none_starts_a_record() -> None:
    try:
        raise ValueError(FORGED)
    except ValueError:
        text = emitted(record("failed", exc=True))
    first, *rest = text.rstrip("\n").split("\n")
    assert first.endswith("failed")
    assert rest  # the traceback is still there, one line per frame
    assert all(line.startswith(" ") for line in rest), rest
    assert "\x1b" not in text
    assert "\r" not in text


def test_uvicorns_coloured_message_is_not_formatted_from_raw_arguments() -> None:
    colored = record("%s", FORGED)
    colored.__dict__["color_message"] = "%s"
    ControlCharacterFilter().filter(colored)
    assert "color_message" not in colored.__dict__
    assert colored.getMessage() == escape_controls(FORGED)


def test_a_message_without_control_characters_is_left_alone() -> None:
    plain = record("Uvicorn running on %s", "http://127.0.0.1:8000")
    plain.__dict__["color_message"] = "Uvicorn running on %s"
    ControlCharacterFilter().filter(plain)
    assert plain.args == ("http://127.0.0.1:8000",)
    assert "color_message" in plain.__dict__


def test_every_handler_of_the_service_filters() -> None:
    config = log_config()
    assert config["root"]["handlers"] == ["service"]
    for name, handler in config["handlers"].items():
        assert handler["filters"] == ["controls"], name
