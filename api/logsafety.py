"""A logging filter that keeps client text from shaping the service's log.

The service's own lines never log what a client sent (the access log names route templates,
:mod:`api.middleware`), but a library may: uvicorn, Starlette or a parser can put a header, a path
or a field into a warning or an exception message. A control character there (a newline, a
carriage return, an escape sequence) would start a forged line or rewrite the terminal. This
filter, on every handler the service configures (:func:`api.app.log_config`), makes each record
one line whatever its arguments hold:

- in the message, every control character (C0, DEL, C1 and the Unicode line and paragraph
  separators) is written as its Python escape (``\\n``, ``\\x1b``, ``\\u2028``);
- in a traceback or stack, which is several lines by nature, the same characters but the line
  breaks are escaped, and every line is indented: a line that starts in the first column is
  always the start of a record.
"""

from __future__ import annotations

import logging
import re
from typing import Final

__all__ = ["ControlCharacterFilter", "escape_controls"]

_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE: Final = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_FORMATTER: Final = logging.Formatter()


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def escape_controls(text: str) -> str:
    """``text`` with each control character replaced by its escape: one printable line."""
    return _CONTROL.sub(_escaped, text)


def _escape_block(text: str) -> str:
    # A formatter writes the block on lines of its own, after the message's.
    lines = _CONTROL_BUT_NEWLINE.sub(_escaped, text).split("\n")
    return "\n".join(line if line.startswith(" ") else " " + line for line in lines)


class ControlCharacterFilter(logging.Filter):
    """Escapes control characters in each record (module docstring); filters nothing out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _CONTROL.search(message):
            record.msg = escape_controls(message)
            record.args = None
            # uvicorn's coloured variant of the message would be formatted from the raw args.
            record.__dict__.pop("color_message", None)
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _escape_block(record.exc_text)
        if record.stack_info:
            record.stack_info = _escape_block(record.stack_info)
        return True
