"""What a request to the HTTP API carries, read and checked before any work is done.

A body is JSON: the applicant (in the published applicant schema) plus the fields the command line
takes as options (`goal`, `form`, `peildatum`, `voorrang`, `max_changes`). Every refusal is an
`InputError` naming the field, worded as the command line words it; no value the user gave is
quoted back unless it is a name (engine.errors.is_name).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.applicant.facts import MAX_FILE_BYTES, DuplicateKey, decode_json, json_key_error, json_problem
from engine.errors import InputError, is_name, visible

MAX_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024  # an applicant file's limit, and room for the other fields
MAX_CHANGES = 5  # as `why-not --max-changes`; the repair search keeps its own budget beyond that


class BodyTooLarge(Exception):
    """The body is over MAX_BODY_BYTES: answered with 413 before it is read to the end."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "applicant", "goal", "form", "date", "sources", "names", "changes"
    required: bool = False


def refuse_declared_too_large(content_length: str | None) -> None:
    """A body whose declared length is over MAX_BODY_BYTES is refused before any of it is read."""
    if content_length is not None and content_length.isdigit() and int(content_length) > MAX_BODY_BYTES:
        raise BodyTooLarge


DEFAULTS = {"date": date.today, "sources": list, "names": list, "changes": lambda: 3}


def decode_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body; raises InputError."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("", f"de body is geen UTF-8-tekst (byte {exc.start + 1} past niet)") from None
    try:
        data = decode_json(text)
    except (DuplicateKey, RecursionError) as exc:
        raise json_key_error(text, exc, "de body") or InputError("", "de body is te diep genest") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            "", f"de body is geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}: {json_problem(exc)})"
        ) from None
    if not isinstance(data, dict):
        raise InputError("", "de body is een JSON-object met de velden van het verzoek")
    return data


def fields_of(data: dict[str, Any], fields: tuple[Field, ...]) -> dict[str, Any]:
    """The fields of a request, checked: unknown ones refused, required ones present, each of its kind.

    The applicant stays as given (parse_applicant checks it, and it is never changed)."""
    allowed = {f.name: f for f in fields}
    for position, key in enumerate(data, start=1):
        if key not in allowed:
            named = f"veld '{visible(key)}'" if is_name(key) else f"veld {position}"
            raise InputError("", f"{named}: onbekend; toegestaan: {', '.join(sorted(allowed))}")
    out: dict[str, Any] = {}
    for f in fields:
        value = data.get(f.name)
        if value is None:
            if f.required:
                raise InputError(
                    f.name, "ontbreekt" + (" (een mapping van feitnamen naar waarden)" if f.kind == "applicant" else "")
                )
            out[f.name] = DEFAULTS[f.kind]() if f.kind in DEFAULTS else None
            continue
        out[f.name] = _checked(f, value)
    return out


def _checked(f: Field, value: Any) -> Any:
    if f.kind == "applicant":
        return value  # parse_applicant names what is wrong inside it
    if f.kind in ("goal", "form"):
        if not isinstance(value, str):
            raise InputError(f.name, "verwacht een naam als tekst")
        return value
    if f.kind == "date":
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise InputError(f.name, "verwacht een datum als JJJJ-MM-DD")
    if f.kind == "sources":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f.name, 'verwacht een lijst van bronnen, zoals ["002", "001"]')
        return [v.strip() for v in value if v.strip()]
    if f.kind == "names":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f.name, "verwacht een lijst van feitnamen")
        return value
    if f.kind == "changes":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CHANGES:
            raise InputError(f.name, f"verwacht een geheel getal van 0 tot en met {MAX_CHANGES}")
        return value
    raise AssertionError(f.kind)
