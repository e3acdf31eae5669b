"""A quick check that decoded JSON is plainly a valid applicant, built from the vocabulary.

The applicant schema's validator (fastjsonschema, `engine.applicant.facts._validator`) visits
every fact of the vocabulary for every applicant, given or not; a caseload row names a third of
them. `plain_checker` answers the one question batch runs ask a hundred thousand times: does the
schema accept this data? It looks only at the facts given, and says yes only for values whose
schema fragment it recognises and which that fragment plainly accepts (a stricter test than the
schema's: exact types, a date as ten ASCII characters). Anything else, unknown shapes of schema
included, gets no: the schema's validator then runs as before and gives its own message, so a
bad row's error is the same whichever path it took, and a good row's applicant is the same.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch  # no trailing newline, unlike `$`


def _types(fragment: dict[str, Any]) -> set[str]:
    kind = fragment.get("type")
    return set(kind) if isinstance(kind, list) else {kind}


def _value_check(fragment: dict[str, Any], pattern: str) -> Check | None:
    """A check that accepts a value only where `fragment` does, or None for a fragment of a shape
    not recognised here."""
    keys = set(fragment)
    types = _types(fragment)
    nullable = "null" in types
    if keys == {"enum"}:
        allowed = frozenset(v for v in fragment["enum"] if type(v) is str)
        if len(allowed) + fragment["enum"].count(None) != len(fragment["enum"]):
            return None
        with_null = None in fragment["enum"]
        return lambda v: (type(v) is str and v in allowed) or (with_null and v is None)
    if keys == {"type"} and types - {"null"} == {"boolean"}:
        return lambda v: v is True or v is False or (nullable and v is None)
    if keys == {"type", "format", "pattern"} and types - {"null"} == {"string"} and fragment["pattern"] == pattern:
        return lambda v: (type(v) is str and _DATE(v) is not None) or (nullable and v is None)
    if keys == {"type", "minLength"} and types - {"null"} == {"string"} and fragment["minLength"] == 1:
        return lambda v: (type(v) is str and v != "") or (nullable and v is None)
    if keys == {"type", "minimum", "maximum"} and types - {"null"} == {"integer"}:
        low, high = fragment["minimum"], fragment["maximum"]
        return lambda v: (type(v) is int and low <= v <= high) or (nullable and v is None)
    if keys == {"type", "items"} and types - {"null"} == {"array"}:
        item = _object_check(fragment["items"], pattern)
        if item is None:
            return None
        return lambda v: (type(v) is list and all(item(p) for p in v)) or (nullable and v is None)
    return None


def _object_check(fragment: dict[str, Any], pattern: str) -> Check | None:
    if set(fragment) != {"type", "properties", "required", "additionalProperties"}:
        return None
    if fragment["type"] != "object" or fragment["additionalProperties"] is not False:
        return None
    fields = {name: _value_check(f, pattern) for name, f in fragment["properties"].items()}
    if any(check is None for check in fields.values()):
        return None
    required = tuple(fragment["required"])

    def check(value: Any) -> bool:
        if type(value) is not dict or any(r not in value for r in required):
            return False
        for name, field in value.items():
            test = fields.get(name)
            if test is None or not test(field):
                return False
        return True

    return check


def plain_checker(schema: dict[str, Any], pattern: str) -> Callable[[dict[str, Any]], bool]:
    """From the validation schema of an applicant (`facts.validation_schema`) and its date
    pattern: a function saying True only for a mapping (text keys) the schema accepts."""
    # a constraint across facts (allOf, if/then, dependentRequired, ...) is not checked here: then
    # the schema's validator decides every row
    if set(schema) != {"type", "properties", "additionalProperties"}:
        return lambda data: False
    if schema["type"] != "object" or schema["additionalProperties"] is not False:
        return lambda data: False
    checks: dict[str, Check] = {}
    for name, fragment in schema["properties"].items():
        check = _value_check(fragment, pattern)
        if check is not None:
            checks[name] = check
    get = checks.get
    # most facts are yes/no: tested here without a call
    yes_no = frozenset(
        name for name, fragment in schema["properties"].items() if fragment == {"type": ["boolean", "null"]}
    )

    def plainly_valid(data: dict[str, Any]) -> bool:
        for name, value in data.items():
            if value is None or value is True or value is False:
                # null is an unknown fact for every kind of fact (checked below)
                if value is None and name in checks or name in yes_no:
                    continue
            test = get(name)
            if test is None or not test(value):
                return False
        return True

    # every fact accepts null: only then is the short cut above right
    if not all(check(None) for check in checks.values()):
        return lambda data: False
    return plainly_valid


# -- one pass: validate, convert and check a batch row --------------------------------------------

_FAIL = object()  # a value the reader does not take: the full path decides (and names the error)
Reader = Callable[[dict[str, Any], Any, Any], "tuple[dict[str, Any], dict[str, Any]] | None"]


def _date_converter(fragment: dict[str, Any], pattern: str) -> Callable[[Any], Any] | None:
    check = _value_check(fragment, pattern)
    if check is None or not check(None):  # null (unknown) is taken before a converter is called
        return None
    from datetime import date

    from_iso = date.fromisoformat

    def convert(value: Any) -> Any:
        if value is None or not check(value):
            return _FAIL
        try:
            return from_iso(value)
        except ValueError:  # no such day: parse_applicant names it
            return _FAIL

    return convert


def _periods_converter(fragment: dict[str, Any], pattern: str, order: Callable[[dict], Any]) -> Callable | None:
    """Permit periods as parse_applicant keeps them: each a copy with `van` and `tot` as dates,
    sorted by `order`; _FAIL for anything parse_applicant would refuse or that is not plainly valid."""
    check = _value_check(fragment, pattern)
    if check is None or not check(None):  # null (unknown) is taken before a converter is called
        return None
    from datetime import date

    from_iso = date.fromisoformat

    def convert(value: Any) -> Any:
        if value is None or not check(value):
            return _FAIL
        periods = []
        try:
            for raw in value:
                period = dict(raw)
                start = period["van"] = from_iso(period["van"])
                end = period.get("tot")
                if end is not None:
                    end = period["tot"] = from_iso(end)
                    if end < start:
                        return _FAIL
                periods.append(period)
        except ValueError:
            return _FAIL
        return tuple(sorted(periods, key=order))

    return convert


def row_reader(kb: Any) -> Reader | None:
    """One pass per batch row: `read(data, peildatum, quantities)` gives the applicant's values
    and its inputs at the peildatum (`engine.applicant.pipeline.evaluator_inputs` with `quick`)
    for a row that is plainly valid and passes every check, and None for any other row, which
    then takes the full path: so a bad row's error comes from the one place that words it.

    Built from the vocabulary (the validation schema and the facts' kinds), once per knowledge
    base; None when the vocabulary has a shape the reader does not know (then every row takes
    the full path). It computes the same functions in the same way; only its order of work and
    its short cuts differ, and any exception sends the row to the full path too."""
    from engine.applicant import constraints, facts

    schema = facts.validation_schema(kb)
    if set(schema) != {"type", "properties", "additionalProperties"} or schema["additionalProperties"] is not False:
        return None
    kinds = facts._fact_kinds(kb)
    pattern = facts.DATE_PATTERN
    converters: dict[str, Callable[[Any], Any]] = {}
    plain: dict[str, Check] = {}
    for name, fragment in schema["properties"].items():
        kind = kinds.get(name)
        if kind == "datum":
            converter = _date_converter(fragment, pattern)
        elif kind == "vergunningen":
            converter = _periods_converter(fragment, pattern, facts._period_order)
        else:
            check = _value_check(fragment, pattern)
            if check is None or not check(None):
                return None
            plain[name] = check
            continue
        if converter is None:
            return None
        converters[name] = converter
    date_names, period_names = facts._converted_names(kb)
    if set(date_names) | set(period_names) != set(converters):
        return None
    nullable = frozenset(plain) | frozenset(converters)
    yes_no = frozenset(n for n, f in schema["properties"].items() if f == {"type": ["boolean", "null"]})
    own, period_own, generic, period_generic = facts._date_checks(kb)
    fact_order = tuple((name, other) for name, other, _ in own + generic)
    period_order = tuple((name, field, other) for name, field, other, _ in period_own + period_generic)
    not_after = facts._not_after_peildatum(kb)
    quantity_values = facts.quantity_values
    Applicant = facts.Applicant
    fail = _FAIL

    def read(data: dict[str, Any], peildatum: Any, quantities: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        values: dict[str, Any] = {}
        for name, value in data.items():
            if value is True or value is False:
                if name in yes_no:
                    values[name] = value
                    continue
            elif value is None:
                if name in nullable:
                    continue
                return None
            check = plain.get(name)
            if check is not None:
                if not check(value):
                    return None
                values[name] = value
                continue
            converter = converters.get(name)
            if converter is None:
                return None
            value = converter(value)
            if value is fail:
                return None
            values[name] = value
        get = values.get
        for name, other in fact_order:
            later = get(name)
            if later is not None:
                earlier = get(other)
                if earlier is not None and later < earlier:
                    return None
        for name, field, other in period_order:
            earliest = get(other)
            if earliest is not None:
                for period in get(name, ()):
                    day = period.get(field)
                    if day is not None and day < earliest:
                        return None
        for name in not_after:
            value = get(name)
            if value is not None and value > peildatum:
                return None
        if constraints.any_broken(kb, values, peildatum):
            return None
        return values, {**values, **quantity_values(kb, Applicant(values), peildatum, only=quantities)}

    def guarded(data: dict[str, Any], peildatum: Any, quantities: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        try:
            return read(data, peildatum, quantities)
        except Exception:  # noqa: BLE001 - whatever it is, the full path meets it again and says so
            return None

    return guarded
