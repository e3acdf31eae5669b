"""Counterfactual repairs: the smallest changes that would make an applicant eligible.

Candidates are the changeable facts (`wijzigbaar: true` in the vocabulary) that occur in the
why-not proof, each with the values it does not have now. Sets are tried smallest first; a set
is kept only if re-assessing the changed applicant gives *eligible* and no set already kept is
part of it, so every repair is verified and minimal. Waiting is a repair too: where the changes
alone do not suffice, future peildata are scanned (month by month, then day by day) for the first
date on which they do, and the answer names the conditions that time fulfils.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from engine.assess import ELIGIBLE, Assessment
from engine.facts import Applicant
from engine.tijd import add_months

MAX_CHANGES = 3
HORIZON_MONTHS = 12 * 12


@dataclass(frozen=True)
class Change:
    fact: str
    value: Any  # the new value
    old: Any  # the value now (None: unknown)


@dataclass
class Repair:
    changes: tuple[Change, ...]
    from_date: date | None = None  # waiting until this date is part of the repair
    fulfilled_by_time: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [{"fact": c.fact, "value": c.value, "old": c.old} for c in self.changes],
            "from_date": self.from_date.isoformat() if self.from_date else None,
            "fulfilled_by_time": self.fulfilled_by_time,
        }


@dataclass
class RepairAnswer:
    repairs: list[Repair]
    candidates: list[str]  # changeable facts that were tried
    searched_up_to: int  # largest set size tried
    exhaustive: bool  # every set up to that size was tried


def _candidates(engine: Any, result: Assessment) -> list[tuple[str, list[Any]]]:
    kb = engine.kb
    seen: dict[str, None] = {}
    for root in filter(None, (result.proof, result.scope)):
        for node in root.walk():
            if node.kind == "fact" and node.node in kb.facts and kb.facts[node.node].changeable:
                seen[node.node] = None
    out = []
    for name in seen:
        fact = kb.facts[name]
        current = result.facts.get(name)
        if fact.type == "bool":
            values = [v for v in (True, False) if v is not current]
        elif fact.type == "keuze":
            values = [v for v in fact.values if v != current]
        else:
            continue  # dates, amounts and permit histories are not tried: there is no finite set of values
        out.append((name, values))
    return out


def _with(applicant: Applicant, changes: tuple[Change, ...]) -> Applicant:
    values = dict(applicant.values)
    for change in changes:
        values[change.fact] = change.value
    return Applicant(values)


def _eligible(engine: Any, applicant: Applicant, goal: str, peildatum: date) -> bool:
    return engine.assess(applicant, goal, peildatum).outcome == ELIGIBLE


def _minimal_sets(engine: Any, applicant: Applicant, goal: str, peildatum: date,
                  options: list[Change], limit: int) -> list[tuple[Change, ...]]:
    found: list[tuple[Change, ...]] = []
    for size in range(1, limit + 1):
        for combo in itertools.combinations(options, size):
            if len({c.fact for c in combo}) < size:
                continue  # two values for one fact
            if any(set(f) <= set(combo) for f in found):
                continue  # a smaller repair is already part of this set
            if _eligible(engine, _with(applicant, combo), goal, peildatum):
                found.append(combo)
    return found


def _first_date(engine: Any, applicant: Applicant, goal: str, start: date) -> date | None:
    """First date after `start` on which the applicant is eligible, within the horizon."""
    previous = start
    for months in range(1, HORIZON_MONTHS + 1):
        try:
            day = add_months(start, months)
        except OverflowError:  # the calendar ends at 9999-12-31 before the horizon does
            day = date.max
        if _eligible(engine, applicant, goal, day):
            low, high = previous, day  # eligible at high, not at low
            while (high - low).days > 1:
                middle = low + timedelta(days=(high - low).days // 2)
                if _eligible(engine, applicant, goal, middle):
                    high = middle
                else:
                    low = middle
            return high
        if day == date.max:
            break
        previous = day
    return None


def _fulfilled_by_time(engine: Any, applicant: Applicant, goal: str, before: date, after: date) -> list[dict[str, str]]:
    """The deepest rules that hold on `after` but not on `before`: what waiting fulfils."""
    program = engine.program
    old = engine.evaluate(applicant, goal, before)
    new = engine.evaluate(applicant, goal, after)
    root = engine.kb.goals[goal].conclusion
    flipped = [
        n for n in program.reachable([root])
        if program.nodes[n].kind in ("rule", "consensus") and old.value(n) is not True and new.value(n) is True
    ]
    deepest = [n for n in flipped if not any(m != n and m in program.reachable([n]) for m in flipped)]
    return [{"rule_id": program.nodes[n].rule_id, "label": program.nodes[n].label} for n in deepest]


def _score(engine: Any, applicant: Applicant, goal: str, day: date) -> tuple[bool, int]:
    result = engine.assess(applicant, goal, day)
    return result.outcome == ELIGIBLE, sum(1 for n in result.proof.walk() if n.rule_id and n.value is True)


def find_repairs(engine: Any, applicant: Applicant, goal: str, peildatum: date,
                 max_changes: int = MAX_CHANGES) -> RepairAnswer:
    result = engine.assess(applicant, goal, peildatum)
    if result.outcome == ELIGIBLE:
        return RepairAnswer([], [], 0, True)
    candidates = _candidates(engine, result)
    options = [Change(name, v, result.facts.get(name)) for name, values in candidates for v in values]
    limit = min(max_changes, len(candidates))
    sets = _minimal_sets(engine, applicant, goal, peildatum, options, limit)
    repairs = [Repair(s) for s in sets]
    if not repairs:
        # Perhaps time has to pass. Give every candidate fact the value that helps most, find
        # the first date on which that applicant is eligible, and search the minimal sets there.
        try:
            horizon = add_months(peildatum, HORIZON_MONTHS)
        except OverflowError:
            horizon = date.max
        helpful = tuple(
            max((Change(name, v, result.facts.get(name)) for v in values),
                key=lambda c: _score(engine, _with(applicant, (c,)), goal, horizon))
            for name, values in candidates
        )
        day = _first_date(engine, _with(applicant, helpful), goal, peildatum)
        if day is not None:
            sets = [()] if _eligible(engine, applicant, goal, day) else _minimal_sets(
                engine, applicant, goal, day, options, limit)
            for combo in sets:
                changed = _with(applicant, combo)
                first = _first_date(engine, changed, goal, peildatum) or day
                repairs.append(Repair(combo, first, _fulfilled_by_time(engine, changed, goal, peildatum, first)))
    repairs.sort(key=lambda r: (len(r.changes), r.from_date or date.min, [(c.fact, str(c.value)) for c in r.changes]))
    return RepairAnswer(repairs, [name for name, _ in candidates], limit, limit == len(candidates))
