"""Counterfactual repairs: the smallest changes that would make an applicant eligible.

Candidates are every changeable fact (`wijzigbaar: true` in the vocabulary) with a finite set of
values that the goal's conclusion or its out-of-scope predicate can reach in the compiled
program, whatever the applicant's proof happens to show. A choice fact's values are tried one
per class of values the rules cannot tell apart (A2 … C2 where every rule asks "at least A2"),
and reported for every value of the class.

Sets of changes are tried smallest first, all variants of one size in one set-at-a-time run
(`engine.answer.probe`). A set is a *sure* repair if the changed applicant is eligible and no smaller
sure repair is part of it; a *conditional* repair if the outcome becomes undetermined while the
applicant now, and every smaller set, gives "not eligible" (or "elsewhere"): then the unknown
facts that still decide it are named, with the values under which eligibility stays possible.
Sure repairs come first. Every reported repair is verified by re-assessing the changed applicant
with `Engine.assess`.

Waiting is a repair too. Future peildata are scanned month by month up to twelve years ahead;
the outcome of any set of changes can only differ between two dates where a date threshold of
the goal's rules (an age, a term, a rule's period) flips, so the search is repeated only there,
and a set found there gets the first day (by bisection) on which it works. A repair (changes,
date) is kept only if no kept repair needs a part of its changes and no later date. The answer
says whether it is exhaustive: every set of every size was looked at (beyond `max_changes` only
to know whether larger repairs exist), every changeable fact had a finite set of values, and no
budget ran out. Only then does "nothing you can change helps" get said.

A referral that is still open (the applicant did not say whether they hold an asylum permit, are
an EU citizen …) takes no part in the search: repairs are searched as for a person the sources do
not send elsewhere, and the answer names the referrals it assumed not to apply
(`assumed_in_scope`). "Sure" then means eligible unless one of those applies; a person who is
eligible unless one applies needs no change (`needs_no_change`), which is not "nothing helps".
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from engine.answer.assess import ELIGIBLE, Assessment, decide
from engine.answer.probe import LEVEL, NO, POSSIBLE, SURE, Probe
from engine.answer.proof import CONFLICT, unknown_facts
from engine.applicant.facts import Applicant
from engine.evaluate import holds
from engine.rules.compiler import Cmp
from engine.tijd import add_months

WHY_NOT_FORMAT = "verblijfsregels/why-not"
WHY_NOT_VERSION = (
    4  # 4: kb_version; 2: conditional repairs (certain, unknown_facts), exhaustive over the goal's rule graph;
)
# 3: assumed_in_scope and needs_no_change, the assessment of version 2;
# the schema is engine/answer/why_not.schema.json (`verblijfsregels schema --kind why-not`)

MAX_CHANGES = 3
HORIZON_MONTHS = 12 * 12
BUDGET = 20_000  # variants per date spent on sets larger than max_changes (only to know whether any help)
ENUMERABLE = ("bool", "keuze")


class WorkLimitReached(Exception):
    """The search ran past the deadline its caller gave (the web server's limit per request); the
    command line gives none."""


def _in_time(deadline: float | None) -> None:
    """Checked between steps of the search: a step itself (one batch of variants) is not cut short."""
    if deadline is not None and time.monotonic() >= deadline:
        raise WorkLimitReached


@dataclass(frozen=True)
class Change:
    fact: str
    value: Any  # the new value
    old: Any  # the value now (None: unknown)


@dataclass(frozen=True)
class Condition:
    """An unknown fact that still decides a conditional repair."""

    fact: str
    needed: tuple[Any, ...] | None  # the values that keep eligibility possible; None: each may


@dataclass
class Repair:
    changes: tuple[Change, ...]
    from_date: date | None = None  # waiting until this date is part of the repair
    fulfilled_by_time: list[dict[str, str]] = field(default_factory=list)
    certain: bool = True  # False: the outcome becomes undetermined, decided by `conditions`
    conditions: tuple[Condition, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [{"fact": c.fact, "value": c.value, "old": c.old} for c in self.changes],
            "from_date": self.from_date.isoformat() if self.from_date else None,
            "fulfilled_by_time": self.fulfilled_by_time,
            "certain": self.certain,
            "unknown_facts": [
                {"fact": c.fact, "needed": None if c.needed is None else list(c.needed)} for c in self.conditions
            ],
        }


@dataclass
class RepairAnswer:
    repairs: list[Repair]
    candidates: list[str]  # changeable facts with finite values the goal can reach: all were tried
    searched_up_to: int  # largest set of changes reported (max_changes)
    exhaustive: bool  # the repairs are every minimal repair there is, up to the horizon
    not_tried: list[str] = field(default_factory=list)  # changeable facts without finite values
    larger_exist: bool = False  # some minimal repair needs more than `searched_up_to` changes
    horizon: date | None = None  # the last peildatum waited for
    assumed_in_scope: list[str] = field(default_factory=list)  # open referrals (rule ids) taken not to apply
    needs_no_change: bool = False  # eligible already (unless an assumed referral applies)

    @property
    def nothing_helps(self) -> bool:
        """Proven: no change the applicant can make, and no waiting, makes them (possibly) eligible
        (as a person in scope, if referrals were assumed not to apply); never said of someone who
        needs no change."""
        return not self.repairs and self.exhaustive and not self.needs_no_change

    def to_json(self) -> dict[str, Any]:
        return {
            "repairs": [r.to_json() for r in self.repairs],
            "candidates": self.candidates,
            "not_tried": self.not_tried,
            "max_changes": self.searched_up_to,
            "exhaustive": self.exhaustive,
            "larger_exist": self.larger_exist,
            "nothing_helps": self.nothing_helps,
            "horizon": self.horizon.isoformat() if self.horizon else None,
            "assumed_in_scope": self.assumed_in_scope,
            "needs_no_change": self.needs_no_change,
        }


def changeable_facts(engine: Any, goal: str) -> tuple[list[str], list[str]]:
    """The changeable facts the goal's conclusion and scope reach in the compiled program: those
    with a finite set of values, and the others (dates, amounts, permits; not tried)."""
    kb, program = engine.kb, engine.program
    spec = kb.goals[goal]
    roots = [spec.conclusion] + ([spec.out_of_scope] if spec.out_of_scope else [])
    reached = [
        n
        for n in program.reachable(roots)
        if program.nodes[n].kind == "fact" and n in kb.facts and kb.facts[n].changeable
    ]
    finite = [n for n in reached if kb.facts[n].type in ENUMERABLE]
    return finite, [n for n in reached if n not in finite]


def value_classes(engine: Any, name: str) -> list[tuple[Any, ...]]:
    """A fact's values grouped by what every comparison in the program says of them: values of
    one class are indistinguishable to the rules. Yes/no facts: one class per value."""
    fact = engine.kb.facts[name]
    if fact.type == "bool":
        return [(True,), (False,)]
    cache = engine.program.__dict__.setdefault("_value_classes", {})  # a cache, not a field
    if name not in cache:
        comparisons = list(
            {
                repr(c): c
                for clause in engine.program.clauses
                for c in clause.body
                if isinstance(c, Cmp) and c.predicate == name
            }.values()
        )
        groups: dict[tuple[bool, ...], list[Any]] = {}
        for value in fact.values:
            signature = tuple(holds(c.operator, value, c.constant) for c in comparisons)
            groups.setdefault(signature, []).append(value)
        cache[name] = [tuple(g) for g in groups.values()]
    return cache[name]


Combo = frozenset  # of (fact, representative value)


@dataclass
class _Search:
    """Minimal sets found so far, over every date searched (a later date's sets must not contain
    an earlier one's: waiting longer for more changes is never minimal)."""

    sure: list[Combo] = field(default_factory=list)
    possible: list[Combo] = field(default_factory=list)
    found: list[tuple[Combo, str, date]] = field(default_factory=list)  # reported, in order found
    complete: bool = True
    larger: bool = False
    deadline: float | None = None  # time.monotonic() past which the search stops (WorkLimitReached)


def _options(engine: Any, facts: list[str], values: dict[str, Any]) -> dict[str, dict[Any, tuple[Any, ...]]]:
    """Per fact: representative -> the values it stands for, leaving out the class of the value now."""
    out = {}
    for name in facts:
        current = values.get(name)
        out[name] = {cls[0]: cls for cls in value_classes(engine, name) if current not in cls}
    return out


def _search_at(
    probe: Probe, facts: list[str], options: dict[str, dict[Any, tuple]], day: date, limit: int, state: _Search
) -> None:
    """Every minimal set of changes at `day` not containing one found earlier; sets larger than
    `limit` are only looked at to know whether one exists."""
    base = probe.level({}, day)
    empty: Combo = frozenset()
    if base == SURE:
        if not any(s <= empty for s in state.sure):
            state.sure.append(empty)
            state.found.append((empty, SURE, day))
        return
    if base == POSSIBLE and not any(s <= empty for s in state.sure + state.possible):
        state.possible.append(empty)
        state.found.append((empty, POSSIBLE, day))
    if probe.level({name: None for name in facts}, day) == NO:
        return  # with every changeable fact unknown the goal already fails: no value of them helps
    spent = 0
    for size in range(1, len(facts) + 1):
        batch: list[Combo] = []
        for names in itertools.combinations(facts, size):
            for reps in itertools.product(*(options[n] for n in names)):
                combo = frozenset(zip(names, reps))
                if not any(s <= combo for s in state.sure):
                    batch.append(combo)
        if not batch:
            return  # every larger set contains a sure repair too
        if size > limit and spent + len(batch) > BUDGET:
            state.complete = False
            return
        _in_time(state.deadline)
        levels = probe.levels([(dict(combo), day) for combo in batch])
        if size > limit:
            spent += len(batch)
        sure_before, possible_before = list(state.sure), list(state.possible)
        new = False
        for combo, level in zip(batch, levels):
            if level == SURE:
                state.sure.append(combo)
                new = True
            elif level == POSSIBLE and not any(s <= combo for s in possible_before + sure_before):
                state.possible.append(combo)
                new = True
            else:
                continue
            if size <= limit:
                state.found.append((combo, level, day))
        if size > limit and new:
            state.larger = True  # a minimal repair needs more changes than asked for
            return


def _scan_dates(peildatum: date) -> list[date]:
    dates = []
    for months in range(1, HORIZON_MONTHS + 1):
        try:
            day = add_months(peildatum, months)
        except OverflowError:  # the calendar ends at 9999-12-31 before the horizon does
            day = date.max
        if day > peildatum and (not dates or day > dates[-1]):
            dates.append(day)
        if day == date.max:
            break
    return dates


def _signatures(probe: Probe, facts: list[str], days: list[date]) -> list[tuple[tuple, str]]:
    """Per day: the values of the comparisons on date-dependent quantities (the outcome of any
    set of changes can differ only between days where these differ) and the outcome's level with
    every changeable fact unknown."""
    program = probe.engine.program
    roots = [n for n in probe.roots[0] if n]
    quantities = probe.kb.quantities
    # what the rules read of a quantity: comparisons with a threshold, or a yes/no quantity itself
    read = [
        n
        for n in program.reachable(roots)
        if (program.nodes[n].kind == "compare" and program.nodes[n].detail["name"] in quantities)
        or (program.nodes[n].kind == "quantity" and quantities[n].type == "bool")
    ]
    free = {name: None for name in facts}
    # a changeable fact a quantity reads would make the quantities differ per set of changes:
    # then every day is searched
    per_day = any(name in probe.quantity_inputs for name in facts)
    out = []
    for builder, day in zip(probe.builders([(free, d) for d in days], read), days):
        signature = tuple(builder.value(n) for n in read) + ((day,) if per_day else ())
        out.append((signature, LEVEL[probe.outcome(builder, *probe.roots[0])]))
    return out


def _first_day(probe: Probe, changes: dict[str, Any], level: str, low: date, high: date) -> date:
    """The first day after `low` (where `changes` do not reach `level`) on which they do, up to `high`."""

    def reaches(day: date) -> bool:
        got = probe.level(changes, day)
        return got == SURE if level == SURE else got != NO

    while (high - low).days > 1:
        middle = low + timedelta(days=(high - low).days // 2)
        if reaches(middle):
            high = middle
        else:
            low = middle
    return high


def _fulfilled_by_time(engine: Any, applicant: Applicant, goal: str, before: date, after: date) -> list[dict[str, str]]:
    """The deepest rules that hold on `after` but not on `before`: what waiting fulfils."""
    program = engine.program
    old = engine.evaluate(applicant, goal, before)
    new = engine.evaluate(applicant, goal, after)
    root = engine.kb.goals[goal].conclusion
    flipped = [
        n
        for n in program.reachable([root])
        if program.nodes[n].kind in ("rule", "consensus") and old.value(n) is not True and new.value(n) is True
    ]
    deepest = [n for n in flipped if not any(m != n and m in program.reachable([n]) for m in flipped)]
    return [{"rule_id": program.nodes[n].rule_id, "label": program.nodes[n].label} for n in deepest]


def _conditions(
    engine: Any, probe: Probe, changes: dict[str, Any], day: date, unknown: list[str]
) -> tuple[Condition, ...] | None:
    """The unknown facts that decide a conditional repair, each with the values that keep
    eligibility possible; None if some fact has no such value (then it is not possible after all)."""
    kb = engine.kb
    out = []
    for name in unknown:
        fact = kb.facts[name]
        if fact.type not in ENUMERABLE:
            out.append(Condition(name, None))
            continue
        values = [True, False] if fact.type == "bool" else list(fact.values)
        levels = probe.levels([({**changes, name: v}, day) for v in values])
        needed = tuple(v for v, level in zip(values, levels) if level != NO)
        if not needed:
            return None
        out.append(Condition(name, None if len(needed) == len(values) else needed))
    return tuple(out)


def _level(assessment: Assessment, in_scope: bool) -> str:
    """SURE, POSSIBLE or NO for an assessment, an open scope taken as not applying if `in_scope`."""
    scope = assessment.scope.value if assessment.scope is not None else False
    return LEVEL[decide(assessment.proof.value, False if in_scope and scope is None else scope)]


def _route_unknowns(assessment: Assessment) -> list[str]:
    """The unknown facts that decide the routes (not the referrals) of an assessment."""
    proof = assessment.proof
    route = set(unknown_facts(proof)) if proof.value is None or proof.value == CONFLICT else set()
    return [n for n in assessment.unknown_facts if n in route]


def _with(applicant: Applicant, changes: tuple[Change, ...]) -> Applicant:
    values = dict(applicant.values)
    for change in changes:
        values[change.fact] = change.value
    return Applicant(values)


def find_repairs(
    engine: Any,
    applicant: Applicant,
    goal: str,
    peildatum: date,
    max_changes: int = MAX_CHANGES,
    deadline: float | None = None,
) -> RepairAnswer:
    """The repairs; past `deadline` (a time.monotonic() value) raises WorkLimitReached."""
    facts, not_tried = changeable_facts(engine, goal)
    result = engine.assess(applicant, goal, peildatum)
    if result.outcome == ELIGIBLE:
        return RepairAnswer([], facts, max_changes, True, not_tried, needs_no_change=True)
    # an open referral takes no part: search as for a person the sources do not send elsewhere
    assumed = [r["rule_id"] for r in result.elsewhere_if]
    in_scope = bool(assumed)
    if in_scope and _level(result, in_scope) == SURE:  # eligible unless a referral applies
        return RepairAnswer([], facts, max_changes, True, not_tried, assumed_in_scope=assumed, needs_no_change=True)
    probe = Probe(engine, applicant, goal, in_scope=in_scope)
    options = _options(engine, facts, applicant.values)
    state = _Search(deadline=deadline)
    _search_at(probe, facts, options, peildatum, max_changes, state)

    # waiting: search again wherever a date threshold flips
    days = _scan_dates(peildatum)
    signatures = _signatures(probe, facts, [peildatum, *days])
    seen = {signatures[0][0]}
    previous = peildatum
    for day, (signature, free_level) in zip(days, signatures[1:]):
        _in_time(deadline)
        if signature not in seen:
            seen.add(signature)
            if free_level != NO:
                before = len(state.found)
                _search_at(probe, facts, options, day, max_changes, state)
                for i in range(before, len(state.found)):
                    combo, level, _ = state.found[i]
                    state.found[i] = (combo, level, _first_day(probe, dict(combo), level, previous, day))
        previous = day

    repairs = []
    for combo, level, day in state.found:
        if day == peildatum and not combo:
            continue  # undetermined now: that is the why-not itself, not a repair
        names = sorted(name for name, _ in combo)
        reps = dict(combo)
        for chosen in itertools.product(*(options[name][reps[name]] for name in names)):
            _in_time(deadline)
            changes = tuple(Change(name, value, applicant.values.get(name)) for name, value in zip(names, chosen))
            changed = _with(applicant, changes)
            again = engine.assess(changed, goal, day)  # verified with the reference evaluator
            if _level(again, in_scope) != level:
                continue
            conditions: tuple[Condition, ...] = ()
            if level == POSSIBLE:
                deciding = _route_unknowns(again) if in_scope else again.unknown_facts
                found = _conditions(engine, probe, {c.fact: c.value for c in changes}, day, deciding)
                if found is None:
                    continue
                conditions = found
            waited = day if day != peildatum else None
            repairs.append(
                Repair(
                    changes,
                    waited,
                    _fulfilled_by_time(engine, changed, goal, peildatum, day) if waited else [],
                    level == SURE,
                    conditions,
                )
            )
    repairs.sort(
        key=lambda r: (
            not r.certain,
            len(r.changes),
            r.from_date or date.min,
            [(c.fact, str(c.value)) for c in r.changes],
        )
    )
    exhaustive = state.complete and not state.larger and not not_tried
    return RepairAnswer(
        repairs,
        facts,
        max_changes,
        exhaustive,
        not_tried,
        state.larger,
        days[-1] if days else peildatum,
        assumed,
    )
