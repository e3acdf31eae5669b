"""Explanations that cannot mask: each names exactly one finding and is pinned to the content of
the declarations that finding concerns.

A finding's fingerprint is a hash of its key and of every declaration it names (rules, fee rules
with their amounts, goals, facts, ... as declared, without where they are written). An explanation
written for one fingerprint explains only that: change a rule it rests on and the finding is shown
again as unexplained, with the old reason beside it, until someone reads it and writes the
explanation anew (or fixes the rule). A new defect under an old key therefore never passes unseen.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from engine.rules.model import AuditNote, KnowledgeBase, declaration_fields

# how a declaration is placed, not what it says: moving a rule to another file or line keeps its fingerprint
_PLACEMENT = {"file", "line", "lines", "where", "audit"}


def _plain(value: Any) -> Any:
    names = declaration_fields(value)
    if names is not None:
        return {"_": type(value).__name__, **{n: _plain(getattr(value, n)) for n in names if n not in _PLACEMENT}}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, date):
        return value.isoformat()
    return value


def declarations(kb: KnowledgeBase, name: str) -> list[Any]:
    """Every declaration called `name` (a rule, fee rule with its amount, goal, fact, ...)."""
    out: list[Any] = []
    for table in (kb.rules, kb.fee_ranges, kb.disagreements, kb.goals, kb.facts, kb.quantities, kb.forms):
        if name in table:
            out.append(table[name])
    if name in kb.fee_rules:
        fee = kb.fee_rules[name]
        out += [fee, kb.parameters.get(fee.parameter)]
    if name in kb.parameters:
        out.append(kb.parameters[name])
    for rid in kb.rules_for.get(name, ()):  # a conclusion: the rules that conclude it
        out.append(kb.rules[rid])
    return out


def fingerprint(kb: KnowledgeBase, key: str, rule_ids: list[str]) -> str:
    """16 hex digits over the key and the content of every declaration the finding names (by id
    or as a part of its key)."""
    names = sorted(set(rule_ids) | set(key.split("/")[1:]))
    content = {n: _plain(declarations(kb, n)) for n in names}
    text = json.dumps({"key": key, "declarations": content}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def notes_in_force(kb: KnowledgeBase, peildatum: date) -> list[AuditNote]:
    notes = [r.audit for r in kb.rules.values() if r.audit] + [f.audit for f in kb.fee_rules.values() if f.audit]
    notes += kb.audit_notes
    # an explanation for some peildata only (a rule that has ended): at others it is not in force
    return [n for n in notes if n.covers(peildatum)]


def apply(kb: KnowledgeBase, peildatum: date, findings: list[Any], make: Any) -> list[Any]:
    """Mark the findings an explanation in force explains (same key, same fingerprint); give a
    finding whose explanation no longer fits that explanation as `stale`. Returns the findings
    about the explanations themselves: two for one key, or one that finds nothing."""
    notes = notes_in_force(kb, peildatum)
    by_key: dict[str, list[AuditNote]] = {}
    for note in notes:
        by_key.setdefault(note.key, []).append(note)
    out = []
    for key, same in sorted(by_key.items()):
        if len(same) > 1:
            out.append(
                make(
                    "verklaring_zonder_bevinding",
                    f"verklaring_zonder_bevinding/dubbel/{key}",
                    f"twee verklaringen voor {key}",
                    f"{' en '.join(n.where for n in same)} verklaren dezelfde bevinding; houd er één.",
                    [],
                )
            )
    used: set[str] = set()
    for finding in findings:
        finding.fingerprint = fingerprint(kb, finding.key, [r["id"] for r in finding.rules])
        candidates = by_key.get(finding.key)
        if not candidates:
            continue
        note = candidates[0]
        used.add(finding.key)
        where = note.where + (f", {note.dates()}" if note.dates() else "")
        if note.fingerprint == finding.fingerprint:
            finding.explained = note.reason
            finding.explained_where = where
            continue
        finding.stale = {
            "reason": note.reason,
            "where": where,
            "date": note.written.isoformat() if note.written else None,
            "fingerprint": note.fingerprint or None,
            "now": finding.fingerprint,
        }
    for key, same in sorted(by_key.items()):
        if key in used:
            continue
        note = same[0]
        out.append(
            make(
                "verklaring_zonder_bevinding",
                f"verklaring_zonder_bevinding/{key}",
                f"verklaring zonder bevinding: {key}",
                f"{note.where} verklaart '{key}', maar de audit vindt die bevinding niet (meer). Verwijder de "
                "verklaring of pas de sleutel aan.",
                [],
            )
        )
    return out
