"""The bytes of an answer, as `engine.answer.payloads.dumps` writes them, by orjson's C encoder.

`json.dumps(..., indent=2)` never uses CPython's C encoder (it has no indentation), so its
pure-Python encoder was the largest single cost of an API answer (0.9 ms of a one-goal assessment
whose evaluation takes 0.5 ms). orjson writes the same text with `OPT_INDENT_2` in a fiftieth of
that, except where it writes a value otherwise, and each of those is caught here and handed to
`payloads.dumps` whole:

- a float under 10⁻⁴ (orjson writes `0.00001` or `1e-9`, Python `1e-05` and `1e-09`), NaN and
  infinity (orjson writes `null`, Python `NaN` and `Infinity`);
- a value of a type orjson writes and json.dumps refuses or writes otherwise (an enum, a UUID);
- what orjson refuses (a key that is no string, an integer beyond 64 bits, a subclass, a date, a
  dataclass, a lone surrogate, nesting past 254): json.dumps says what it makes of those.

The first two are found by one walk over the payload (`_plain`), not by reading the text back:
reading it back and comparing, and searching it for small floats, took more than twice as long.
So the text is always what the command line prints (tests/test_web_api.py compares both for every
scenario applicant, and a property test compares them on arbitrary JSON values).
"""

from __future__ import annotations

from typing import Any

import orjson

from engine.answer.payloads import dumps as reference_dumps

_OPTIONS = (
    orjson.OPT_INDENT_2
    | orjson.OPT_APPEND_NEWLINE
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


_LEAVES = frozenset((str, int, bool, type(None)))  # written alike (orjson refuses an integer past 64 bits)
_NESTED = frozenset((dict, list, tuple))  # orjson refuses a key that is no str, json.dumps writes a tuple as a list
_INFINITY = float("inf")


def _plain(payload: Any) -> bool:
    """Whether orjson and json.dumps write every value in the payload alike: only the types above,
    and floats from 10⁻⁴ up, finite (NaN fails both comparisons). Called once orjson has written
    the payload, so the keys are text and the integers fit in 64 bits."""
    stack = [payload]
    pop, push = stack.pop, stack.append
    while stack:
        value = pop()
        for item in value.values() if type(value) is dict else value:
            kind = type(item)
            if kind in _LEAVES:
                continue
            if kind in _NESTED:
                push(item)
            elif kind is not float or not (item == 0.0 or 1e-4 <= abs(item) < _INFINITY):
                return False
    return True


def _fast(payload: Any) -> bytes | None:
    """orjson's text of the payload with a final newline, or None where it could differ."""
    try:
        text = orjson.dumps(payload, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return None
    if type(payload) in _NESTED:
        return text if _plain(payload) else None
    return text if _plain([payload]) else None


def encoded(payload: Any) -> bytes:
    """`payloads.dumps(payload)` with its final newline, as UTF-8: the body of an answer."""
    text = _fast(payload)
    return text if text is not None else (reference_dumps(payload) + "\n").encode("utf-8")


def dumps(payload: Any) -> str:
    """`payloads.dumps(payload)`: indented by two spaces, without a final newline."""
    text = _fast(payload)
    return text[:-1].decode("utf-8") if text is not None else reference_dumps(payload)
