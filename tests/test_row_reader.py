"""The one-pass batch row reader (engine.applicant.reader.row_reader) against the full path.

For generated rows, valid ones and rows spoilt in the ways a caseload spoils them, the reader
either declines (None: the row takes the full path, which words its error) or gives exactly what
the full path gives, values and inputs in the same order. And JSON decoded without hooks is used
only where the hooks would have given the same data.
"""

from __future__ import annotations

import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import tijd
from engine.applicant import facts as F
from engine.applicant.pipeline import _row_reader, evaluator_inputs
from engine.checks.strategies import aanvragers
from engine.errors import InputError
from engine.rules.model import load_knowledge_base

KB = load_knowledge_base()
PEILDATUM = date(2026, 11, 23)
NAMES = sorted(KB.facts)
BAD_VALUES = [
    "2020-02-30",
    "2020-1-01",
    "2020-01-01\n",
    "",
    "x",
    0,
    -1,
    2**60,
    1.5,
    True,
    None,
    [],
    {},
    [{"van": "2020-01-01"}],
    [{"van": "2020-05-01", "tot": "2020-01-01"}],
    [{"van": "2020-05-01", "tot": "2020-05-01"}],
    [{"tot": "2020-01-01"}],
    [{"van": "2020-01-01", "onbekend": 1}],
    "2999-01-01",
    "1800-01-01",
]


@st.composite
def rows(draw):
    data = tijd.iso_text(draw(aanvragers(PEILDATUM, KB)))
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["set", "drop", "unknown", "swap"]))
        if action == "set":
            data[draw(st.sampled_from(NAMES))] = draw(st.sampled_from(BAD_VALUES))
        elif action == "drop" and data:
            data.pop(draw(st.sampled_from(sorted(data))))
        elif action == "unknown":
            data[draw(st.sampled_from(["onbekend_feit", "Geboortedatum", "1"]))] = True
        elif action == "swap" and data.get("verblijfsvergunningen"):
            period = dict(data["verblijfsvergunningen"][0])
            period["van"], period["tot"] = period.get("tot") or "1900-01-01", period["van"]
            data["verblijfsvergunningen"] = [period, *data["verblijfsvergunningen"][1:]]
    return data


def full_path(data, quantities):
    try:
        applicant, inputs = evaluator_inputs(KB, data, PEILDATUM, json_values=True, quantities=quantities)
    except InputError as exc:
        return str(exc)
    return applicant.values, inputs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows(), st.sampled_from([frozenset(), None, frozenset(KB.quantities)]))
def test_reader_agrees_with_the_full_path(data, quantities):
    text = json.dumps(data)
    decoded = F.decode_json(text)
    assert decoded == F._DECODER.decode(text)
    read = _row_reader(KB)
    assert read is not None
    got = read(decoded, PEILDATUM, quantities)
    expected = full_path(decoded, quantities)
    if got is not None:
        assert not isinstance(expected, str), expected
        assert list(got[0].items()) == list(expected[0].items())
        assert list(got[1].items()) == list(expected[1].items())
    # through the pipeline as batch calls it: the same applicant, or the same error
    try:
        applicant, inputs = evaluator_inputs(
            KB, decoded, PEILDATUM, json_values=True, quantities=quantities, quick=True
        )
        quick = (applicant.values, inputs)
    except InputError as exc:
        quick = str(exc)
    assert quick == expected


def test_reader_takes_valid_rows():
    """The reader is not a check that cannot fail: plainly valid rows take it."""
    data = {"geboortedatum": "1990-03-01", "verblijfsvergunningen": [{"van": "2020-01-01"}], "is_in_nederland": True}
    assert _row_reader(KB)(data, PEILDATUM, None) is not None
    assert _row_reader(KB)({**data, "geboortedatum": "1990-02-30"}, PEILDATUM, None) is None


def test_decoding_without_hooks_keeps_what_the_hooks_find():
    for text in [
        '{"a": 1, "a": 2}',
        '{"verblijfsvergunningen": [{"van": "x", "van": "y"}]}',
        '{"a": "b:c", "a": 1}',
        '{"bedrag": ' + "9" * 150 + "}",
        '{"a": {"b": 1, "b": 2}}',
    ]:
        try:
            expected = ("ok", F._DECODER.decode(text))
        except F.DuplicateKey:
            expected = ("twice",)
        try:
            got = ("ok", F.decode_json(text))
        except F.DuplicateKey:
            got = ("twice",)
        assert got == expected


# Keys and texts that try the colon count: quotes, colons, escapes (also \u0022, a quote written
# as an escape), and keys that differ only in how they are written.
_TRICKY = st.sampled_from(["a", "b", ":", '":"', '\\"', '"', "a:b", "\\u0022", "{", "}", ",", " ", "van", "tot"])
_KEYS = st.one_of(_TRICKY, st.text(max_size=4))


def _scalars():
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**5), 10**5),
        st.integers(10 ** (F.MAX_DIGITS - 2), 10 ** (F.MAX_DIGITS + 2)),
        st.floats(allow_nan=False, allow_infinity=False),
        _KEYS,
    )


def _json_text(value, escape):
    """JSON text of `value`, where a mapping is a list of (key, value) pairs (so a key may come
    twice), each string written plainly or with every character as a \\u escape."""
    if isinstance(value, tuple) and value and value[0] == "pairs":
        return "{" + ", ".join(f"{_json_string(k, escape)}: {_json_text(v, escape)}" for k, v in value[1]) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json_text(v, escape) for v in value) + "]"
    if isinstance(value, str):
        return _json_string(value, escape)
    return json.dumps(value)


def _json_string(text, escape):
    if escape:
        return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1] for c in text) + '"'
    return json.dumps(text)


def _mappings(values):
    pairs = st.lists(st.tuples(_KEYS, values), max_size=6)
    return pairs.map(lambda p: ("pairs", p))


_NESTED = st.recursive(
    _scalars(), lambda inner: st.one_of(st.lists(inner, max_size=4), _mappings(inner)), max_leaves=12
)
# rows shaped like a caseload's: a mapping of scalars and lists of mappings of scalars, often with a
# key twice somewhere, and sometimes deeper nesting
_ROWS = _mappings(st.one_of(_scalars(), st.lists(st.one_of(_mappings(_scalars()), _scalars()), max_size=3), _NESTED))


@settings(max_examples=500, deadline=None)
@given(_ROWS.flatmap(lambda row: st.tuples(st.just(row), st.booleans(), st.booleans())))
def test_fast_decoding_agrees_with_the_hooks(drawn):
    """decode_json (the C decoder and a check that no key came twice) against the decoder with
    hooks on the same text: the same data, or DuplicateKey both ways, or the same other error."""
    row, escape, repeat = drawn
    if repeat and row[1]:
        row = ("pairs", [*row[1], row[1][0]])  # a key surely twice
    text = _json_text(row, escape)

    def outcome(decode):
        try:
            return ("ok", decode(text))
        except F.DuplicateKey as exc:
            return ("twice", exc.args)
        except (ValueError, RecursionError) as exc:
            return ("error", type(exc), str(exc))

    got, expected = outcome(F.decode_json), outcome(F._DECODER.decode)
    assert got == expected
    if got[0] == "ok":
        assert _shape(got[1]) == _shape(expected[1])  # the same order of keys, the same types


def _shape(value):
    if isinstance(value, dict):
        return [(k, _shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return (type(value), value)
