"""Applicant files: reading, validating against the vocabulary, and turning into engine facts.

The JSON Schema is generated from kb/feiten.yaml, so the vocabulary is declared once. A value
the user gave is never rewritten: validation works on a copy, and a bad value stops the run
with the field named.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from engine import tijd
from engine.errors import InputError
from engine.model import KnowledgeBase

SCHEMA_ID = "https://verblijfsregels.nl/schema/aanvrager-1.json"
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
    if fact.type == "bool":
        return {**meta, "type": ["boolean", "null"]}
    if fact.type == "datum":
        return {**meta, "type": ["string", "null"], "format": "date", "pattern": DATE_PATTERN}
    if fact.type == "tekst":
        return {**meta, "type": ["string", "null"], "minLength": 1}
    if fact.type == "keuze":
        return {**meta, "enum": [*fact.values, None]}
    if fact.type == "bedrag":
        return {**meta, "type": ["integer", "null"], "minimum": 0, "x-eenheid": "eurocent"}
    assert fact.type == "vergunningen"
    period: dict[str, Any] = {}
    for field, spec in kb.period_fields.items():
        kind = spec["type"]
        entry: dict[str, Any] = {"title": spec["label"]}
        if kind == "datum":
            entry.update(type="string", format="date", pattern=DATE_PATTERN)
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


_validators: dict[int, Any] = {}


def _validator(kb: KnowledgeBase):
    validator = _validators.get(id(kb))
    if validator is None:
        import fastjsonschema  # compiled once per knowledge base, only when a file is read

        validator = _validators[id(kb)] = fastjsonschema.compile(
            json_schema(kb), formats={"date": DATE_PATTERN}
        )
    return validator


def _plain(value: Any) -> Any:
    """A copy with YAML's date objects written back as ISO text, for schema validation."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def _field_path(path: list[Any]) -> str:
    out = ""
    for part in path[1:]:  # path[0] is "data"
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _explain(kb: KnowledgeBase, exc: Any, data: dict[str, Any]) -> InputError:
    path = list(exc.path)
    field = _field_path(path)
    rule = exc.rule
    definition = exc.definition or {}
    if rule == "additionalProperties":
        allowed = sorted(definition.get("properties", {}))
        container = data
        for part in path[1:]:
            container = container[part]
        extra = sorted(k for k in container if k not in allowed)
        name = (field + "." if field else "") + str(extra[0])
        close = difflib.get_close_matches(str(extra[0]), allowed, n=1)
        hint = f"bedoelt u '{close[0]}'? " if close else ""
        where = "feit" if not field else "veld"
        return InputError(name, f"onbekend {where}; {hint}toegestaan: {', '.join(allowed)}")
    if rule == "required":
        return InputError(field, f"verplicht veld ontbreekt: {', '.join(definition.get('required', []))}")
    if rule == "enum":
        allowed = [v for v in definition.get("enum", []) if v is not None]
        return InputError(field, f"kreeg {exc.value!r}; toegestaan: {', '.join(map(str, allowed))} (of leeg)")
    if rule in ("pattern", "format"):
        return InputError(field, f"kreeg {exc.value!r}; verwacht een datum als JJJJ-MM-DD")
    if rule == "type":
        kinds = definition.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if definition.get("format") == "date":
            wanted = "een datum als JJJJ-MM-DD"
        else:
            wanted = " of ".join(TYPE_WORDS.get(k, k) for k in kinds)
        return InputError(field, f"kreeg {exc.value!r}; verwacht {wanted}")
    if rule == "minimum":
        return InputError(field, f"kreeg {exc.value!r}; moet minstens {definition.get('minimum')} zijn")
    if rule == "minLength":
        return InputError(field, "mag niet leeg zijn")
    return InputError(field, str(exc.message))


@dataclass(frozen=True)
class Applicant:
    """Validated facts of one applicant; absent names are unknown."""

    values: dict[str, Any]

    def known(self) -> list[str]:
        return sorted(self.values)


def _parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(field, f"kreeg {value!r}; dat is geen bestaande datum (JJJJ-MM-DD)") from None


def parse_applicant(kb: KnowledgeBase, data: Any) -> Applicant:
    """Validate raw data (as read from YAML or JSON) and convert dates; raises InputError."""
    if not isinstance(data, dict):
        kind = "leeg" if data is None else type(data).__name__
        raise InputError("", f"een aanvragersbestand is een mapping van feitnamen naar waarden, geen {kind}")
    for key in data:
        if not isinstance(key, str):
            raise InputError(str(key), "feitnamen zijn tekst")
    plain = _plain(data)
    try:
        _validator(kb)(plain)
    except Exception as exc:  # fastjsonschema.JsonSchemaValueException, imported lazily
        if not hasattr(exc, "rule"):
            raise
        raise _explain(kb, exc, plain) from None
    values: dict[str, Any] = {}
    for name, value in plain.items():
        if value is None:
            continue
        fact = kb.facts[name]
        if fact.type == "datum":
            value = _parse_date(value, name)
        elif fact.type == "vergunningen":
            periods = []
            for i, raw in enumerate(value):
                period = dict(raw)
                for key in ("van", "tot"):
                    if period.get(key) is not None:
                        period[key] = _parse_date(period[key], f"{name}[{i}].{key}")
                if period.get("tot") is not None and period["tot"] < period["van"]:
                    raise InputError(f"{name}[{i}].tot", f"einddatum {period['tot']} ligt voor begindatum {period['van']}")
                periods.append(period)
            value = tuple(sorted(periods, key=lambda p: (p["van"], p.get("tot") or date.max, json.dumps(p, default=str, sort_keys=True))))
        values[name] = value
    _check_consistency(values)
    return Applicant(values)


def _check_consistency(values: dict[str, Any]) -> None:
    born = values.get("geboortedatum")
    arrived = values.get("datum_aankomst_nederland")
    if born and arrived and arrived < born:
        raise InputError("datum_aankomst_nederland", f"{arrived} ligt voor de geboortedatum {born}")
    if born:
        for i, period in enumerate(values.get("verblijfsvergunningen", ())):
            if period["van"] < born:
                raise InputError(f"verblijfsvergunningen[{i}].van", f"{period['van']} ligt voor de geboortedatum {born}")


def check_against_peildatum(applicant: Applicant, peildatum: date) -> None:
    """Dates that cannot lie after the peildatum."""
    for name in ("geboortedatum", "datum_aankomst_nederland"):
        value = applicant.values.get(name)
        if value and value > peildatum:
            raise InputError(name, f"{value} ligt na de peildatum {peildatum}")


def read_applicant_file(kb: KnowledgeBase, path: Path) -> Applicant:
    """Read a YAML or JSON applicant file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("", f"bestand niet gevonden: {path}") from None
    except IsADirectoryError:
        raise InputError("", f"{path} is een map, geen bestand") from None
    except UnicodeDecodeError:
        raise InputError("", f"{path} is geen UTF-8-tekst") from None
    except OSError as exc:
        raise InputError("", f"kan {path} niet lezen: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except json.JSONDecodeError as exc:
        raise InputError("", f"{path.name} is geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}: {exc.msg})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (regel {mark.line + 1}, kolom {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "syntaxfout"
        raise InputError("", f"{path.name} is geen geldige YAML{where}: {problem}") from None
    return parse_applicant(kb, data)


def quantity_values(kb: KnowledgeBase, applicant: Applicant, peildatum: date) -> dict[str, Any]:
    """Every quantity whose inputs are known, computed at the peildatum."""
    out: dict[str, Any] = {}
    for name in sorted(kb.quantities):
        q = kb.quantities[name]
        if any(i not in applicant.values for i in q.inputs):
            continue
        function = tijd.FUNCTIONS[q.function]
        value = function(peildatum, *(applicant.values[i] for i in q.inputs), **dict(q.parameters))
        if value is not None:
            out[name] = value
    return out


def engine_facts(kb: KnowledgeBase, applicant: Applicant, quantities: dict[str, Any]) -> list[tuple[str, Any]]:
    """(predicate, value) pairs to assert: scalar facts as given, plus computed quantities."""
    facts = [
        (name, value)
        for name, value in sorted(applicant.values.items())
        if kb.facts[name].type in ("bool", "keuze", "tekst", "bedrag")
    ]
    facts.extend(sorted(quantities.items()))
    return facts
