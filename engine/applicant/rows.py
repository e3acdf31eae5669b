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


def value_check(fragment: dict[str, Any], pattern: str) -> Check | None:
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
    fields = {name: value_check(f, pattern) for name, f in fragment["properties"].items()}
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
        check = value_check(fragment, pattern)
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
