"""Applicant files: reading, validating against the vocabulary, and turning into engine facts.

The JSON Schema is generated from kb/feiten.yaml, so the vocabulary is declared once. A value
the user gave is never rewritten: validation works on a copy, and a bad value stops the run
with the field named.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Collection

import yaml

from engine import tijd
from engine.applicant.constraints import check_constraints
from engine.errors import InputError, escaped, is_name, visible
from engine.rules.cache import cached_code
from engine.rules.declarations import PEILDATUM, KnowledgeBase, date_order, period_messages, period_not_before

SCHEMA_ID = "https://verblijfsregels.nl/schema/aanvrager-1.json"

# Limits on an applicant file. A real one is a few kilobytes with three levels (facts, permit
# periods, their fields); the limits are far above that and far below what hurts: a file is
# refused before it is read, a number before it is converted, nesting before it is built.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 10
TOO_DEEP = f"te diep genest; een aanvragersbestand heeft hoogstens {MAX_DEPTH} niveaus"
MAX_YAML_VALUES = 20_000  # building a YAML value costs a hundred times what reading JSON does
MAX_DIGITS = 100  # Python refuses to convert more than 4300 decimal digits; no amount needs 17
MAX_AMOUNT = 2**53 - 1  # the largest whole number every JSON reader keeps exact
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TYPE_WORDS = {
    "boolean": "ja of nee (true/false)",
    "string": "tekst",
    "integer": "een geheel getal",
    "array": "een lijst",
    "object": "een mapping (naam: waarde)",
    "null": "leeg",
}


def _fact_schema(kb: KnowledgeBase, name: str) -> dict[str, Any]:
    fact = kb.facts[name]
    meta = {"title": fact.label, "description": fact.question, "x-wijzigbaar": fact.changeable}
    if fact.open_norm:
        meta["x-open-norm"] = True
    if fact.not_before:
        meta["x-niet-voor"] = list(fact.not_before)
    if fact.type == "bool":
        return {**meta, "type": ["boolean", "null"]}
    if fact.type == "datum":
        return {**meta, "type": ["string", "null"], "format": "date", "pattern": DATE_PATTERN}
    if fact.type == "tekst":
        return {**meta, "type": ["string", "null"], "minLength": 1}
    if fact.type == "keuze":
        return {**meta, "enum": [*fact.values, None]}
    if fact.type == "bedrag":
        return {**meta, "type": ["integer", "null"], "minimum": 0, "maximum": MAX_AMOUNT, "x-eenheid": "eurocent"}
    assert fact.type == "vergunningen"
    period: dict[str, Any] = {}
    for field, spec in kb.period_fields.items():
        kind = spec["type"]
        entry: dict[str, Any] = {"title": spec["label"]}
        if kind == "datum":
            entry.update(type="string", format="date", pattern=DATE_PATTERN)
        elif kind == "keuze":
            entry.update(enum=list(spec["waarden"]))
        elif kind == "bool":
            entry.update(type="boolean")
        else:
            entry.update(type="string", minLength=1)
        if field == "tot":
            entry["type"] = [entry["type"], "null"]
        period[field] = entry
    return {
        **meta,
        "type": ["array", "null"],
        "items": {"type": "object", "properties": period, "required": ["van"], "additionalProperties": False},
    }


def json_schema(kb: KnowledgeBase) -> dict[str, Any]:
    """The JSON Schema of an applicant file."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Aanvrager",
        "description": (
            "Feiten over één aanvrager. Een feit dat ontbreekt of leeg (null) is, is onbekend; "
            "datums zijn ISO-datums (JJJJ-MM-DD); bedragen zijn gehele eurocenten."
        ),
        "type": "object",
        "properties": {name: _fact_schema(kb, name) for name in sorted(kb.facts)},
        "additionalProperties": False,
    }


def schema_digest(schema: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()[:32]


ANNOTATIONS = ("$schema", "$id", "title", "description")


def validation_schema(kb: KnowledgeBase) -> dict[str, Any]:
    """The applicant schema without its annotations (titles, questions, `x-` keys).

    Validation never reads them, and fastjsonschema copies the schema into every error it can
    raise: without them the generated validator is a fifth of the size and a cold start does
    not pay for compiling the questions.
    """

    def strip(node: Any) -> Any:
        if isinstance(node, list):
            return [strip(v) for v in node]
        if not isinstance(node, dict):
            return node
        return {
            k: ({n: strip(v) for n, v in node[k].items()} if k == "properties" else strip(node[k]))
            for k in node
            if k not in ANNOTATIONS and not k.startswith("x-")
        }

    return strip(json_schema(kb))


def generate_validator(schema: dict[str, Any]) -> str:
    """Source of the validator fastjsonschema generates for the (validation) applicant schema; it
    defines `validate`."""
    import fastjsonschema

    code = fastjsonschema.compile_to_code(schema, formats={"date": DATE_PATTERN})
    return code + f"\nvalidate = {code.split('def ', 1)[1].split('(', 1)[0]}\n"


def _validator(kb: KnowledgeBase):
    """The applicant validator generated from the vocabulary, built once per knowledge base.

    The generated code is kept compiled in the per-user cache (engine.rules.cache.cached_code),
    keyed by the validation schema and the fastjsonschema version, so a warm start neither
    generates nor compiles it; without a cache it is generated in memory.
    """
    validator = getattr(kb, "_validator", None)  # on the KB itself: an id() can be reused
    if validator is None:
        import fastjsonschema  # the generated code imports it too

        schema = validation_schema(kb)
        key = schema_digest({"schema": schema, "fastjsonschema": fastjsonschema.VERSION, "date": DATE_PATTERN})
        code = cached_code(f"aanvrager-{key}", lambda: generate_validator(schema), "<aanvrager-validator>")
        namespace: dict[str, Any] = {"__name__": "aanvrager_validator"}  # generated, no module of its own
        exec(code, namespace)  # noqa: S102 - fastjsonschema's code, generated from the vocabulary
        validator = namespace["validate"]
        object.__setattr__(kb, "_validator", validator)
    return validator


def _plain_checker(kb: KnowledgeBase):
    """`engine.applicant.rows.plain_checker` for this knowledge base, built once and kept on it."""
    checker = getattr(kb, "_plain_checker", None)
    if checker is None:
        from engine.applicant.rows import plain_checker

        checker = plain_checker(validation_schema(kb), DATE_PATTERN)
        object.__setattr__(kb, "_plain_checker", checker)
    return checker


_iso = tijd.iso_date


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """A copy with date objects written as ISO text where the vocabulary puts dates: a fact's value
    and the fields of a permit period, for schema validation.

    Only those two levels are copied, so a large or deeply nested value costs nothing here (a
    date object anywhere else is the wrong type, and validation says so). Data read from a file
    never needs this: the loaders keep dates as text.
    """
    out: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, (list, tuple)):
            value = [{k: _iso(v) for k, v in p.items()} if isinstance(p, dict) else p for p in value]
        out[name] = _iso(value)
    return out


@dataclass(frozen=True)
class HugeNumber:
    """A whole number written with more than MAX_DIGITS digits, left unconverted.

    Converting it would cost time quadratic in its length (Python refuses beyond 4300 digits);
    kept as this marker it fails validation like any other wrong value, naming its field.
    """

    digits: int


def _json_int(text: str) -> int | HugeNumber:
    return int(text) if len(text) <= MAX_DIGITS else HugeNumber(len(text))


def kind_of(value: Any) -> str:
    """The sort of value given, in words: an error names it instead of repeating the value."""
    if value is None:
        return "een lege waarde"
    if isinstance(value, bool):
        return "ja of nee"
    if isinstance(value, HugeNumber):
        return f"een getal van {value.digits} cijfers"
    if isinstance(value, int):
        return "een geheel getal"
    if isinstance(value, float):
        return "een kommagetal"
    if isinstance(value, str):
        return "een tekst"
    if isinstance(value, date):
        return "een datum"
    if isinstance(value, (list, tuple)):
        return "een lijst"
    if isinstance(value, dict):
        return "een mapping"
    return "een waarde van een ander soort"


def _field_path(path: list[Any]) -> str:
    out = ""
    for part in path[1:]:  # path[0] is "data"; list positions come as text ("0")
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _explain(kb: KnowledgeBase, exc: Any, data: dict[str, Any]) -> InputError:
    path = list(exc.path)
    field = _field_path(path)
    rule = exc.rule
    definition = exc.definition or {}
    got = kind_of(exc.value)
    if rule == "additionalProperties":
        return _unknown_key(exc, data, path, sorted(definition.get("properties", {})))
    if rule == "required":
        return InputError(field, f"verplicht veld ontbreekt: {', '.join(definition.get('required', []))}")
    if rule == "enum":
        enum = definition.get("enum", [])
        allowed = ", ".join(str(v) for v in enum if v is not None) + (" (of leeg)" if None in enum else "")
        what = "een tekst die er niet bij staat" if isinstance(exc.value, str) else got
        return InputError(field, f"kreeg {what}; toegestaan: {allowed}")
    if rule in ("pattern", "format"):
        return InputError(field, "kreeg een tekst die geen datum is; verwacht een datum als JJJJ-MM-DD")
    if rule == "type":
        kinds = definition.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if definition.get("format") == "date":
            wanted = "een datum als JJJJ-MM-DD"
        else:
            wanted = " of ".join(TYPE_WORDS.get(k, k) for k in kinds)
        return InputError(field, f"kreeg {got}; verwacht {wanted}")
    if rule == "minimum":
        return InputError(field, f"kreeg een te klein getal; moet minstens {definition.get('minimum')} zijn")
    if rule == "maximum":
        return InputError(field, f"kreeg een te groot getal; moet hoogstens {definition.get('maximum')} zijn")
    if rule == "minLength":
        return InputError(field, "mag niet leeg zijn")
    # fastjsonschema's own message can quote the value, so only the rule is named
    return InputError(field, f"voldoet niet aan de regel '{rule}' van het schema (zie: verblijfsregels schema)")


# More allowed names than this are not listed in an error (there are some 150 facts): the error
# suggests the closest and points to the schema instead.
LISTED_NAMES = 10


def allowed_names(allowed: list[str], schema_words: str = "alle feiten") -> str:
    """What an error about an unknown name says is allowed."""
    if len(allowed) <= LISTED_NAMES:
        return f"toegestaan: {', '.join(allowed)}"
    return f"{schema_words}: verblijfsregels schema"


def name_kind(key: Any) -> str:
    """What a name that may not be quoted is, in words."""
    if key == "":
        return "lege naam"
    return "geen naam" if isinstance(key, str) else kind_of(key)


def unknown_name(name: str, allowed: list[str], what: str, schema_words: str = "alle feiten") -> str:
    """The message for a name that is a name (is_name) but not one of `allowed`."""
    from difflib import get_close_matches  # only for a refusal: not on the way of a good file

    close = get_close_matches(name, allowed, n=1)
    hint = f"bedoelt u '{close[0]}'? " if close else ""
    return f"onbekend {what}; {hint}{allowed_names(allowed, schema_words)}"


def _unknown_key(exc: Any, data: dict[str, Any], path: list[Any], allowed: list[str]) -> InputError:
    container = data
    for part in path[1:]:
        container = container[int(part)] if isinstance(container, (list, tuple)) else container[part]
    keys = list(container)
    extra = min((k for k in keys if k not in allowed), key=str)
    parts: list[Any] = [int(p) if isinstance(p, int) or p.isdigit() else Key(p, 0) for p in path[1:]]
    parts.append(Key(extra, keys.index(extra) + 1))
    top = len(path) == 1
    if is_name(extra):
        return error_at(parts, unknown_name(extra, allowed, "feit" if top else "veld"))
    what = "feit uit de woordenlijst" if top else "veld van een vergunningsperiode"
    return error_at(parts, f"is geen {what} ({name_kind(extra)}); {allowed_names(allowed)}")


@dataclass(frozen=True)
class Key:
    """A key of a mapping in the input, with its place among that mapping's keys (from 1).

    An error names the field at a key by its name when the name may be quoted (`is_name`), and
    otherwise by its place (`sleutel 3`): a key like `1937-06-17` or `Jansen` may be applicant data.
    """

    name: Any
    position: int


def where(parts: list[Any]) -> tuple[str, bool]:
    """The field at `parts` (Keys and list indexes) as an error names it: (text, by position)."""
    out = ""
    for part in parts:
        if isinstance(part, Key) and not is_name(part.name):
            place = f"sleutel {part.position}"
            return (f"veld '{out}', {place}" if out else place), True
        out += f"[{part}]" if not isinstance(part, Key) else ("." if out else "") + part.name
    return out, False


def error_at(parts: list[Any], message: str) -> InputError:
    field, by_position = where(parts)
    return InputError(field, message, by_position=by_position)


@dataclass(frozen=True)
class Applicant:
    """Validated facts of one applicant; absent names are unknown."""

    values: dict[str, Any]

    def known(self) -> list[str]:
        return sorted(self.values)


def _parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:  # the pattern held, so the day does not exist (2020-02-30, 0000-00-00)
        raise InputError(field, "geen bestaande datum; verwacht een datum als JJJJ-MM-DD") from None


def parse_applicant(kb: KnowledgeBase, data: Any, json_values: bool = False, *, quick: bool = False) -> Applicant:
    """Validate raw data (as read from YAML or JSON) and convert dates; raises InputError.

    `json_values`: the data holds only JSON values (no date objects), so no validation copy is
    needed; the data is still never changed. `quick` (batch, with `json_values`): data that
    `engine.applicant.rows` finds plainly valid skips the schema validator, which accepts it too.
    """
    # plainly valid (every key a fact's name, every value of its fact's kind): nothing below can refuse it
    plainly = quick and json_values and type(data) is dict and _plain_checker(kb)(data)
    if not plainly and not isinstance(data, dict):
        if data is None:
            raise InputError("", "een aanvragersbestand is een mapping van feitnamen naar waarden; dit is leeg")
        raise InputError("", f"een aanvragersbestand is een mapping van feitnamen naar waarden; kreeg {kind_of(data)}")
    for position, key in enumerate(() if plainly else data, start=1):
        if not isinstance(key, str):
            raise error_at([Key(key, position)], f"feitnamen zijn tekst; kreeg {kind_of(key)}")
    plain = data if json_values else _plain(data)
    if not plainly:
        try:
            _validator(kb)(plain)
        except Exception as exc:  # fastjsonschema.JsonSchemaValueException, imported lazily
            if not hasattr(exc, "rule"):
                raise
            raise _explain(kb, exc, plain) from None
    values = {name: value for name, value in plain.items() if value is not None}
    # only dates and permit periods are converted; each keeps its place in the mapping
    date_names, period_names = _converted_names(kb)
    for name in date_names:
        if name in values:
            values[name] = _parse_date(values[name], name)
    for name in period_names:
        if name in values:
            periods = []
            for i, raw in enumerate(values[name]):
                period = dict(raw)
                for key in ("van", "tot"):
                    if period.get(key) is not None:
                        period[key] = _parse_date(period[key], f"{name}[{i}].{key}")
                if period.get("tot") is not None and period["tot"] < period["van"]:
                    raise InputError(f"{name}[{i}].tot", "de einddatum ligt voor de begindatum")
                periods.append(period)
            values[name] = tuple(sorted(periods, key=_period_order))
    _check_date_order(kb, values)
    # the vocabulary's constraints that need no peildatum; the others: check_against_peildatum
    check_constraints(kb, values)
    return Applicant(values)


def _period_order(period: dict[str, Any]) -> tuple:
    # by start, then end; the remaining fields only break ties, so that any order in the file
    # gives the same tuple (output is byte-identical whatever the order of facts)
    return (period["van"], period.get("tot") or date.max, sorted((k, repr(v)) for k, v in period.items()))


def _date_checks(
    kb: KnowledgeBase,
) -> tuple[
    list[tuple[str, str, str]],
    list[tuple[str, str, str, str]],
    list[tuple[str, str, str]],
    list[tuple[str, str, str, str]],
]:
    """The vocabulary's order of dates as checks, in the order they are made: first the orders with
    their own `melding` (facts, then permit-period fields), then the others (`niet_voor` followed
    through, engine.rules.declarations.date_order, nearest declared dates first).

    Facts: (date, earlier date, message); periods: (permit fact, field, earlier date, message).
    Built once per knowledge base and kept on it, like _sorted_quantities.
    """
    checks = getattr(kb, "_date_checks", None)
    if checks is None:
        own: list[tuple[str, str, str]] = []
        generic: list[tuple[str, str, str]] = []
        order = date_order(kb)
        for name, earlier in order.items():
            messages = dict(kb.facts[name].messages)
            for other in earlier:
                if other in messages:
                    own.append((name, other, messages[other]))
                else:
                    generic.append((name, other, _before(other)))
        period_own: list[tuple[str, str, str, str]] = []
        period_generic: list[tuple[str, str, str, str]] = []
        permits = sorted(n for n, f in kb.facts.items() if f.type == "vergunningen")
        for name in permits:
            for field, spec in kb.period_fields.items():
                messages = period_messages(spec)
                declared = period_not_before(spec)
                for other in declared:
                    if other in messages:
                        period_own.append((name, field, other, messages[other]))
                followed = [o for d in declared for o in (d, *order.get(d, ())) if o not in messages]
                for other in dict.fromkeys(followed):
                    period_generic.append((name, field, other, _before(other)))
        checks = (own, period_own, generic, period_generic)
        object.__setattr__(kb, "_date_checks", checks)
    return checks


def _before(other: str) -> str:
    return f"ligt voor {other}; dat kan niet"


def _check_date_order(kb: KnowledgeBase, values: dict[str, Any]) -> None:
    # the messages name the two fields, not their dates: an error line may end up in a log
    own, period_own, generic, period_generic = _date_checks(kb)
    for facts, periods in ((own, period_own), (generic, period_generic)):
        for name, other, message in facts:
            if values.get(name) is not None and values.get(other) is not None and values[name] < values[other]:
                raise InputError(name, message)
        for name, field, other, message in periods:
            earliest = values.get(other)
            if earliest is None:
                continue
            for i, period in enumerate(values.get(name, ())):
                if period.get(field) is not None and period[field] < earliest:
                    raise InputError(f"{name}[{i}].{field}", message)


def _not_after_peildatum(kb: KnowledgeBase) -> tuple[str, ...]:
    """The date facts declared `niet_na: peildatum`, in the order of dates (date_order)."""
    names = getattr(kb, "_not_after_peildatum", None)
    if names is None:  # kept on the knowledge base, like _sorted_quantities
        names = tuple(n for n in date_order(kb) if PEILDATUM in kb.facts[n].not_after)
        object.__setattr__(kb, "_not_after_peildatum", names)
    return names


def check_against_peildatum(kb: KnowledgeBase, applicant: Applicant, peildatum: date) -> None:
    """Dates that cannot lie after the peildatum (the vocabulary's `niet_na: peildatum`; the
    peildatum is no applicant data: it is named), and the constraints that read a quantity at it."""
    for name in _not_after_peildatum(kb):
        value = applicant.values.get(name)
        if value is not None and value > peildatum:
            raise InputError(name, f"ligt na de peildatum {peildatum}")
    check_constraints(kb, applicant.values, peildatum, quantities_only=True)


class _ApplicantLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML that keeps dates as text and refuses a key given twice.

    Keeping dates as text lets the applicant validation name the field of an impossible date
    (PyYAML would fail on 2020-02-30 without saying where); a repeated key would otherwise make
    the last value silently win over the first.
    """


class _PurePythonApplicantLoader(yaml.SafeLoader):
    """The same loader on PyYAML's own parser, for a second look at what libyaml refuses.

    libyaml (PyYAML 6.0.4 and later) refuses flow collections nested about a thousand deep
    while it scans ahead, before it hands out the first event of the outer value; the pure
    Python parser has no such limit, so walking its events finds the field that nests too deep.
    """


_WITHOUT_TIMESTAMPS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ApplicantLoader.yaml_implicit_resolvers = _WITHOUT_TIMESTAMPS
_PurePythonApplicantLoader.yaml_implicit_resolvers = _WITHOUT_TIMESTAMPS


class DuplicateKey(Exception):
    def __init__(self, key: Any, line: int | None):
        self.key, self.line = key, line


TWICE = "staat twee keer in {}; geef elke naam één keer"


def _mapping_without_duplicates(loader: Any, node: Any, deep: bool = False) -> dict:
    seen: dict[Any, None] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise DuplicateKey(key, key_node.start_mark.line + 1)
        seen[key] = None
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_ApplicantLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
_PurePythonApplicantLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) == len(pairs):  # no key twice: the common case, without a loop in Python
        return out
    out = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key, None)
        out[key] = value
    return out


def decode_json(text: str) -> Any:
    """JSON as an applicant file or a batch row holds it: a key twice raises DuplicateKey, a
    number too long to convert becomes a HugeNumber, nesting deeper than the parser's recursion
    allows raises RecursionError."""
    if type(text) is str and not text.startswith("\ufeff"):
        try:
            data = _PLAIN_DECODER.decode(text)
        except (ValueError, RecursionError):
            pass  # the decoder below meets it again and raises its own error
        else:
            if _plainly_decoded(data, text):
                return data
        return _DECODER.decode(text)  # what json.loads does, without building a decoder per call
    return json.loads(text, object_pairs_hook=_json_pairs, parse_int=_json_int)  # its own messages


_DECODER = json.JSONDecoder(object_pairs_hook=_json_pairs, parse_int=_json_int)
_PLAIN_DECODER = json.JSONDecoder()  # the C decoder's own dicts and ints: a third faster
_SHORT_INT = 10 ** (MAX_DIGITS - 1)  # fewer than MAX_DIGITS characters, a minus sign included


def _plainly_decoded(data: Any, text: str) -> bool:
    """Whether `data`, decoded without hooks, is what the hooks give: no key twice and no number
    of more than MAX_DIGITS digits. Only a mapping of plain values and lists of mappings of
    plain values is looked at (a batch row, an applicant file); anything else says no.

    Each key of the text is followed by one colon outside any string, and colons only follow
    keys there: so when the text holds no more colons than the data has keys, no key was given
    twice (a repeated key leaves one key in the data for two in the text).

    The values' types are gathered by `set(map(type, ...))` and the lists picked out by
    `filter(list.__instancecheck__, ...)`, both loops in C: a row's seventy values are not
    visited one by one in Python. The decoder without hooks builds only dict, list, str, int,
    float, bool and None (exact types), so an instance check of list is a test of `type is list`."""
    if type(data) is not dict:
        return False
    values = data.values()
    kinds = set(map(type, values))
    if dict in kinds or (int in kinds and not _short_ints(values)):
        return False
    keys = len(data)
    if list in kinds:
        for value in filter(_is_list, values):
            if set(map(type, value)) - _DICT:
                return False  # an item that is no mapping: the long way decides
            for item in value:
                keys += len(item)
                fields = item.values()
                inner = set(map(type, fields))
                if dict in inner or list in inner or (int in inner and not _short_ints(fields)):
                    return False
    return text.count(":") == keys


_is_list = list.__instancecheck__
_DICT = frozenset((dict,))


def _short_ints(values: Any) -> bool:
    """Whether every int among `values` (bools excluded) has fewer than MAX_DIGITS characters."""
    return all(-_SHORT_INT < v < _SHORT_INT for v in values if type(v) is int)


# The few messages Python's JSON parser gives, in Dutch; an unknown one is shown as it is.
JSON_PROBLEMS = {
    "Expecting value": "hier hoort een waarde",
    "Expecting ',' delimiter": "hier hoort een komma",
    "Expecting ':' delimiter": "hier hoort een dubbele punt",
    "Expecting property name enclosed in double quotes": "hier hoort een naam tussen dubbele aanhalingstekens",
    "Unterminated string starting at": "een tekst zonder afsluitend aanhalingsteken",
    "Invalid control character at": "een stuurteken in een tekst",
    "Invalid \\escape": "een ongeldige \\-code in een tekst",
    "Invalid \\uXXXX escape": "een ongeldige \\u-code in een tekst",
    "Extra data": "er staat nog iets na het einde",
}


def json_problem(exc: json.JSONDecodeError) -> str:
    return JSON_PROBLEMS.get(exc.msg, visible(exc.msg))


_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset((None, "!", _YAML_TAG_PREFIX + "str", _YAML_TAG_PREFIX + "seq", _YAML_TAG_PREFIX + "map"))


class _Open:
    """A collection open in a walk over YAML events or JSON text: where in it the walk is."""

    __slots__ = ("is_mapping", "key", "at_key", "count", "seen")

    def __init__(self, is_mapping: bool):
        self.is_mapping = is_mapping
        self.key: Any = -1  # a mapping: the current key; a list: the current index
        self.at_key = is_mapping  # a mapping: the next node is a key
        self.count = 0  # a mapping: keys so far
        self.seen: set[Any] = set()  # a mapping: its keys so far

    def take_key(self, key: Any, identity: Any = None) -> bool:
        """The next key of this mapping; False when the mapping had it already."""
        self.key, self.at_key = key, False
        self.count += 1
        identity = key if identity is None else identity
        if identity in self.seen:
            return False
        self.seen.add(identity)
        return True


def _parts(stack: list[_Open]) -> list[Any]:
    """The path (Keys and list indexes) to the node the walk is at."""
    parts: list[Any] = []
    for entry in stack:
        if entry.is_mapping and entry.at_key:
            break  # the node is a key of this mapping: it stands where the mapping stands
        parts.append(Key(entry.key, entry.count) if entry.is_mapping else entry.key)
    return parts


def _tag_words(tag: str) -> str:
    """A YAML tag as an error names it: a tag of YAML's own with a plain name as written
    ('!!int'); any other tag by its kind, since a tag can be any text (applicant data too)."""
    if tag.startswith(_YAML_TAG_PREFIX):
        short = tag[len(_YAML_TAG_PREFIX) :]
        if is_name(short):
            return f"de YAML-tag '!!{short}'"
        if short.startswith("python/"):
            return "een YAML-tag voor Python-objecten (!!python/…)"
    elif tag.startswith("!"):
        return "een eigen YAML-tag (!…)"
    return "een YAML-tag"


def _check_yaml_shape(loader: Any, name: str) -> None:
    """Walk the YAML events once, before anything is built, and refuse what no applicant file
    needs and what would make building it explode or fail without naming the field.

    - anchors and aliases: an alias repeats a value without copying it, so ten lines can stand
      for a billion values ("billion laughs") that building and validating would copy;
    - tags (!!int, !!timestamp, !!binary, ...): their constructors fail in their own ways on a
      bad value and produce types no fact has;
    - a list or mapping as a key, and the merge key `<<`;
    - a key given twice in one mapping (named with its whole path, which building cannot do);
    - nesting deeper than MAX_DEPTH, which building would recurse into, and more than
      MAX_YAML_VALUES values, which building would take seconds and hundreds of megabytes for;
    - a plain number of more than MAX_DIGITS digits, which converting would choke on.

    The parser hands out one event at a time, so walking costs no nesting and no expansion.
    """
    stack: list[_Open] = []
    values = 0
    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            if stack and stack[-1].is_mapping:
                stack[-1].at_key = True  # a value completed: a key comes next
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue  # stream and document boundaries
        top = stack[-1] if stack else None
        if top is not None and not top.is_mapping:
            top.key += 1
        at_key = top is not None and top.is_mapping and top.at_key

        def refuse(message: str) -> InputError:
            parts = _parts(stack)
            return error_at(parts, message) if parts else InputError("", f"{visible(name)}: {message}")

        values += 1
        if values > MAX_YAML_VALUES:
            raise refuse(f"te veel waarden; een aanvragersbestand heeft er hoogstens {MAX_YAML_VALUES}")
        if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
            raise refuse("YAML-ankers en -verwijzingen (&naam, *naam) zijn niet toegestaan; schrijf de waarde uit")
        tag = getattr(event, "tag", None)
        if tag not in _ALLOWED_TAGS:
            raise refuse(f"{_tag_words(tag)} is niet toegestaan; laat de tag weg")
        if isinstance(event, yaml.ScalarEvent):
            plain = event.implicit[0] and tag in (None, "!")
            if plain and at_key and event.value == "<<":
                raise refuse("de YAML-samenvoegsleutel '<<' is niet toegestaan; schrijf de feiten uit")
            long = len(event.value) > MAX_DIGITS
            resolved = (
                loader.resolve(yaml.ScalarNode, event.value, event.implicit) if plain and (at_key or long) else None
            )
            if long and resolved == _YAML_TAG_PREFIX + "int":
                raise refuse(f"kreeg {kind_of(HugeNumber(len(event.value)))}; hier past hoogstens {MAX_DIGITS}")
            if at_key:
                # a key is its text and what it resolves to: `1` and '1' are different keys
                if not top.take_key(event.value, (event.value, resolved)):
                    raise refuse(TWICE.format(f"{visible(name)} (regel {event.start_mark.line + 1})"))
            elif top is not None and top.is_mapping:
                top.at_key = True
            continue
        if at_key:
            raise refuse("een sleutel is een naam (tekst), geen lijst of mapping")
        if len(stack) >= MAX_DEPTH:
            raise refuse(TOO_DEEP)
        stack.append(_Open(isinstance(event, yaml.MappingStartEvent)))


def json_place(text: str, find: str) -> list[Any] | None:
    """Where a JSON text nests deeper than MAX_DEPTH (`find` "deep"; [] when it is the top) or
    first gives a key twice in one object ("twice"): the path, or None when it does not.

    Only called once the parser has given up, so a plain walk over the characters costs nothing
    in the common case.
    """
    stack: list[_Open] = []
    i, end = 0, len(text)
    while i < end:
        c = text[i]
        if c == '"':
            close = i + 1
            while close < end and text[close] != '"':
                close += 2 if text[close] == "\\" else 1
            top = stack[-1] if stack else None
            if top is not None and top.is_mapping and top.at_key:
                try:
                    key = json.loads(text[i : close + 1])
                except ValueError:
                    key = text[i + 1 : close]
                if not top.take_key(key) and find == "twice":
                    return _parts(stack)
            i = close + 1
            continue
        if c in "[{":
            if len(stack) >= MAX_DEPTH and find == "deep":
                return _parts(stack)
            stack.append(_Open(c == "{"))
            if c == "[":
                stack[-1].key = 0
        elif c in "]}" and stack:
            stack.pop()
        elif c == ":" and stack:
            stack[-1].at_key = False
        elif c == "," and stack:
            if stack[-1].is_mapping:
                stack[-1].at_key = True
            else:
                stack[-1].key += 1
        i += 1
    return None


def json_key_error(text: str, exc: DuplicateKey | RecursionError, whole: str) -> InputError | None:
    """The error for a key given twice, or nesting too deep, in a JSON text, at the field where it
    is; None for nesting too deep outside any field (the text as a whole is too deep). `whole`
    names the text ("aanvrager.json", "de rij")."""
    if isinstance(exc, DuplicateKey):
        parts = json_place(text, "twice")
        if parts:
            return error_at(parts, TWICE.format(whole))
        return InputError("", f"{whole}: een naam {TWICE.format('één mapping')}")
    parts = json_place(text, "deep")
    if parts and isinstance(parts[0], Key):
        return error_at(parts, TOO_DEEP)
    return None


def _walk_yaml(loader_class: type, text: str, name: str) -> None:
    loader = loader_class(text)
    try:
        _check_yaml_shape(loader, name)
    finally:
        loader.dispose()


def _load_yaml(text: str, name: str) -> Any:
    try:
        _walk_yaml(_ApplicantLoader, text, name)
    except yaml.YAMLError:
        # Whatever limit the C parser has, the project's own refusal names the field; a text
        # the pure parser also finds nothing against keeps the C parser's own message.
        try:
            _walk_yaml(_PurePythonApplicantLoader, text, name)
        except yaml.YAMLError:
            pass
        raise
    return yaml.load(text, Loader=_ApplicantLoader)  # noqa: S506 - a safe loader


def load_applicant_file(path: Path) -> Any:
    """The data of a YAML or JSON applicant file as written (dates as text); raises InputError.

    The file is only read, never written, and refused unread when larger than MAX_FILE_BYTES.
    """
    shown = escaped(str(path))
    too_large = (
        f"{shown} is groter dan {MAX_FILE_BYTES // 1024 // 1024} MiB; een aanvragersbestand is "
        f"hoogstens {MAX_FILE_BYTES} bytes"
    )
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_FILE_BYTES:
                raise InputError("", too_large)
            raw = handle.read(MAX_FILE_BYTES + 1)  # a pipe or device does not know its size
    except FileNotFoundError:
        raise InputError("", f"bestand niet gevonden: {shown}") from None
    except IsADirectoryError:
        raise InputError("", f"{shown} is een map, geen bestand") from None
    except OSError as exc:
        raise InputError("", f"kan {shown} niet lezen: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError("", too_large)
    return load_applicant_bytes(raw, path.name, shown)


def load_applicant_bytes(raw: bytes, name: str, shown: str | None = None) -> Any:
    """The data of a YAML or JSON applicant file's bytes (`name` says which, by its suffix, and
    names it in messages; `shown`: how the whole file is named); raises InputError. An upload is
    read from memory, never stored."""
    shown = shown or visible(name)
    if len(raw) > MAX_FILE_BYTES:
        raise InputError("", f"{visible(name)} is groter dan {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")  # a byte order mark, as some editors write, is no content
    except UnicodeDecodeError as exc:
        raise InputError("", f"{shown} is geen UTF-8-tekst (byte {exc.start + 1} past niet)") from None
    is_json = name.lower().endswith(".json")
    try:
        data = decode_json(text) if is_json else _load_yaml(text, name)
    except (DuplicateKey, RecursionError) as exc:  # RecursionError: only JSON (the YAML walk refuses depth)
        if is_json:
            raise json_key_error(text, exc, visible(name)) or InputError("", f"{visible(name)} is {TOO_DEEP}") from None
        # the walk finds a key given twice unless the keys only resolve alike (1 and 01: not names)
        raise InputError(
            "", f"{visible(name)}: een sleutel {TWICE.format(f'dezelfde mapping (regel {exc.line})')}"
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            "", f"{visible(name)} is geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}: {json_problem(exc)})"
        ) from None
    except yaml.reader.ReaderError as exc:
        character = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
        raise InputError(
            "",
            f"{visible(name)} is geen geldige YAML: het teken U+{character:04X} (positie "
            f"{exc.position + 1}) is in YAML niet toegestaan",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (regel {mark.line + 1}, kolom {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "syntaxfout"
        raise InputError("", f"{visible(name)} is geen geldige YAML{where}: {visible(problem, 200)}") from None
    if not isinstance(data, dict):
        got = "is leeg" if data is None else f"is {kind_of(data)}"
        raise InputError("", f"{visible(name)} {got}; een aanvragersbestand is een mapping van feitnamen naar waarden")
    return data


def read_applicant_file(kb: KnowledgeBase, path: Path) -> Applicant:
    """Read and validate a YAML or JSON applicant file."""
    # Both loaders give JSON values only (dates as text, tags refused), so no validation copy; a
    # plainly valid file skips the schema validator (and importing fastjsonschema), as a batch row does.
    return parse_applicant(kb, load_applicant_file(path), json_values=True, quick=True)


def _sorted_quantities(kb: KnowledgeBase) -> list:
    """(name, function, inputs, parameters) per quantity, by name; built once per knowledge base."""
    order = getattr(kb, "_sorted_quantities", None)
    if order is None:  # kept on the knowledge base itself: an id() could be reused by another one
        order = [
            (name, tijd.FUNCTIONS[q.function], tuple(q.inputs), dict(q.parameters))
            for name, q in sorted(kb.quantities.items())
        ]
        object.__setattr__(kb, "_sorted_quantities", order)
    return order


def quantity_function(kb: KnowledgeBase, only: frozenset[str] | None) -> Callable[[dict[str, Any], date], dict]:
    """`quantity_values` for this knowledge base and these quantities (all with None), as one
    function of (known values, peildatum), generated from kb/grootheden.yaml once per set of
    names and kept on the knowledge base: per quantity, by name, whether its inputs are known and
    its function called with them and its parameters, as the reference does; but a quantity of
    permit periods gets its function of `tijd.Permits` in place of the periods (its first input),
    one per list of periods, made when first read: so each applicant's periods are gone through
    once for all the quantities read from them."""
    made = getattr(kb, "_quantity_functions", None)
    if made is None:
        made = {}
        object.__setattr__(kb, "_quantity_functions", made)
    function = made.get(only)
    if function is not None:
        return function
    kinds = _fact_kinds(kb)
    namespace: dict[str, Any] = {"Permits": tijd.Permits}
    lines = ["def quantities(known, peildatum):", "    out = {}"]
    views: dict[str, str] = {}  # permit-period fact -> its variable
    for n, (name, reference, inputs, parameters) in enumerate(_sorted_quantities(kb)):
        if only is not None and name not in only:
            continue
        # the parameters by position, as the function's signature orders them after its inputs
        bound = inspect.signature(reference).bind(None, *inputs, **parameters)
        if bound.kwargs or list(bound.args[1 : 1 + len(inputs)]) != list(inputs):
            raise AssertionError(f"{name}: parameters not after the inputs")  # the model checks the names
        args = [f"known[{i!r}]" for i in inputs]
        for k, value in enumerate(bound.args[1 + len(inputs) :]):
            namespace[f"p{n}_{k}"] = value
            args.append(f"p{n}_{k}")
        function = reference
        of_permits = tijd.OF_PERMITS.get(reference.__name__)
        if of_permits is not None and kinds.get(inputs[0]) == "vergunningen":
            function = of_permits
            view = views.setdefault(inputs[0], f"v{len(views)}")
            args[0] = view
        namespace[f"f{n}"] = function
        condition = " and ".join(f"{i!r} in known" for i in inputs) or "True"
        lines.append(f"    if {condition}:")
        if function is not reference:
            lines += [
                f"        if {view} is None:",
                f"            {view} = Permits(known[{inputs[0]!r}], peildatum)",
            ]
        lines += [
            f"        value = f{n}(peildatum, {', '.join(args)})",
            "        if value is not None:",
            f"            out[{name!r}] = value",
        ]
    lines[2:2] = [f"    {view} = None" for view in views.values()]
    lines.append("    return out")
    exec(compile("\n".join(lines), f"<quantities of {kb.version or 'kb'}>", "exec"), namespace)  # noqa: S102
    made[only] = function = namespace["quantities"]
    return function


def quantity_values(
    kb: KnowledgeBase, applicant: Applicant, peildatum: date, only: Collection[str] | None = None
) -> dict[str, Any]:
    """Every quantity whose inputs are known (of those named in `only`, if given), computed at the
    peildatum: what `reference_quantity_values` gives, in the same order, with each list of
    permit periods gone through once for all the quantities read from it (`quantity_function`)."""
    key = None if only is None else only if type(only) is frozenset else frozenset(only)
    return quantity_function(kb, key)(applicant.values, peildatum)


def reference_quantity_values(
    kb: KnowledgeBase, applicant: Applicant, peildatum: date, only: Collection[str] | None = None
) -> dict[str, Any]:
    """`quantity_values` one quantity at a time, each by its function in kb/grootheden.yaml (the
    reference for the tests)."""
    out: dict[str, Any] = {}
    known = applicant.values
    order = _sorted_quantities(kb)
    if only is not None:
        order = [q for q in order if q[0] in only]
    for name, function, inputs, parameters in order:
        if all(i in known for i in inputs):
            value = function(peildatum, *[known[i] for i in inputs], **parameters)
            if value is not None:
                out[name] = value
    return out


def _converted_names(kb: KnowledgeBase) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The date facts and the permit-period facts, each sorted by name: of two bad dates the first
    by name is reported, whatever the order of the facts in the file."""
    names = getattr(kb, "_converted_names", None)
    if names is None:  # kept on the knowledge base, like _sorted_quantities
        kinds = _fact_kinds(kb)
        names = (
            tuple(sorted(n for n, k in kinds.items() if k == "datum")),
            tuple(sorted(n for n, k in kinds.items() if k == "vergunningen")),
        )
        object.__setattr__(kb, "_converted_names", names)
    return names


def _fact_kinds(kb: KnowledgeBase) -> dict[str, str]:
    kinds = getattr(kb, "_fact_kinds", None)
    if kinds is None:  # kept on the knowledge base, like _sorted_quantities
        kinds = {name: fact.type for name, fact in kb.facts.items()}
        object.__setattr__(kb, "_fact_kinds", kinds)
    return kinds


_SCALAR_KINDS = frozenset(("bool", "keuze", "tekst", "bedrag"))


def engine_input_names(kb: KnowledgeBase) -> frozenset[str]:
    """The names the evaluators assert when known (`engine.evaluate.engine_facts_of`): scalar and
    date facts, and every quantity."""
    return frozenset(
        [name for name, kind in _fact_kinds(kb).items() if kind in _SCALAR_KINDS or kind == "datum"]
        + list(kb.quantities)
    )
