"""The bytes of an answer, as `engine.answer.payloads.dumps` writes them, by orjson's C encoder.

`json.dumps(..., indent=2)` never uses CPython's C encoder (it has no indentation), so its
pure-Python encoder was the largest single cost of an API answer (0.9 ms of a one-goal assessment
whose evaluation takes 0.5 ms). orjson writes the same text with `OPT_INDENT_2` in a fiftieth of
that, except where it writes a value otherwise, and each of those is caught here and handed to
`payloads.dumps` whole:

- a float under 10⁻⁴ (orjson writes `0.00001` or `1e-9`, Python `1e-05` and `1e-09`): found in
  the text, where such a number always has `0.0000` or a digit before `e-` (a text that holds them
  is only slower);
- NaN and infinity (orjson writes `null`, Python `NaN` and `Infinity`): the text read back is not
  equal to the payload, as are tuples (arrays when read back) and any other value orjson turns
  into something else;
- what orjson refuses (a key that is no string, an integer beyond 64 bits, a subclass, a date, a
  dataclass, a lone surrogate, nesting past 254): json.dumps says what it makes of those.

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


def _small_float(text: bytes) -> bool:
    """Whether the text may hold a float under 10⁻⁴ as orjson writes it. Substring searches, not a
    pattern: they run at memory speed, where a pattern over 45 kB took 0.4 ms."""
    if b"0.0000" in text:
        return True
    at = text.find(b"e-")
    while at > 0:
        if 48 <= text[at - 1] <= 57:  # a digit before it: an exponent
            return True
        at = text.find(b"e-", at + 2)
    return False


def _fast(payload: Any) -> bytes | None:
    """orjson's text of the payload with a final newline, or None where it could differ."""
    try:
        text = orjson.dumps(payload, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return None
    if not _small_float(text) and orjson.loads(text) == payload:
        return text
    return None


def encoded(payload: Any) -> bytes:
    """`payloads.dumps(payload)` with its final newline, as UTF-8: the body of an answer."""
    text = _fast(payload)
    return text if text is not None else (reference_dumps(payload) + "\n").encode("utf-8")


def dumps(payload: Any) -> str:
    """`payloads.dumps(payload)`: indented by two spaces, without a final newline."""
    text = _fast(payload)
    return text[:-1].decode("utf-8") if text is not None else reference_dumps(payload)
