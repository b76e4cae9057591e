"""JSON request bodies: UTF-8 text, nested at most ``MAX_JSON_DEPTH`` levels, standard JSON only.

Python's parser recurses once per nesting level (a few thousand ``[`` exhaust the stack) and
refuses integers longer than 4300 digits with a bare ``ValueError``; both are answered here as
a malformed body before they can become a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from itertools import accumulate
from typing import Any, NoReturn

MAX_JSON_DEPTH = 64

# A string literal, or an unterminated one running to the end: matching always succeeds at a
# quote, so removing strings is one linear pass whatever the input.
_STRING_LITERAL = re.compile(r'"(?:[^"\\]+|\\.)*"?', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# What ``surrogateescape`` makes of bytes that are not UTF-8 (see ``decode_transport``).
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class MalformedBodyError(Exception):
    """The body is not JSON we read (400). ``detail`` says why without quoting the body."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def decode_transport(event: dict[str, Any]) -> None:
    """API Gateway base64-encodes a body that is not UTF-8 text. For a JSON body, turn it back
    into text losslessly (bytes that are not UTF-8 become lone surrogates, which
    :func:`parse_json` refuses), so that a UTF-16 or Latin-1 body is a 400, not a crash."""
    body = event.get("body")
    if not event.get("isBase64Encoded") or not isinstance(body, str):
        return
    try:
        raw = base64.b64decode(body, validate=True)
    except binascii.Error:
        return  # API Gateway never sends this; the resolver's catch-all answers it
    event["body"] = raw.decode("utf-8", errors="surrogateescape")
    event["isBase64Encoded"] = False


def parse_json(text: str) -> Any:
    """The resolver's JSON body deserializer: refuses what is not UTF-8, too deep, or not JSON."""
    if _UNDECODABLE.search(text):
        raise MalformedBodyError("The request body is not UTF-8 text.")
    if nesting_depth(text) > MAX_JSON_DEPTH:
        raise MalformedBodyError(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise MalformedBodyError(
            f"The request body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    except ValueError:  # an integer literal longer than Python converts
        raise MalformedBodyError("The request body holds a number too long to read.") from None


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON ``text`` (brackets inside strings do not count).
    Linear and without recursion, so it is safe on any input."""
    brackets = _NOT_A_BRACKET.sub("", _STRING_LITERAL.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _refuse_constant(name: str) -> NoReturn:
    raise MalformedBodyError(f"The request body is not valid JSON: {name} is not a JSON value.")
