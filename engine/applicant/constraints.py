"""The vocabulary's constraints (`beperkingen`, kb/beperkingen.yaml) over one applicant's values.

A constraint says which situations cannot exist, never who is eligible. Read as the rules are
(Kleene's logic): an unknown fact never breaks one, so leaving a fact out is always possible.
Every reader of applicant data calls `check_constraints` on the parsed values (the applicant
files, batch rows, the API and pages through engine.applicant.pipeline; a reader of its own, like
a faster batch row reader, calls it the same way); the strategies, the caseload generator, the
interview and the audit read `broken_constraints` and `forced_values`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable, Iterable

from engine import tijd
from engine.errors import InputError
from engine.evaluate.base import engine_value, holds
from engine.rules.compiler import comparisons_of
from engine.rules.declarations import All, Any_, Atom, Compare, Constraint, Expr, KnowledgeBase, Not, expr_names


def kleene(expr: Expr, values: dict[str, Any]) -> bool | None:
    """The truth value of an expression over known values (facts and quantities): None when unknown."""
    if isinstance(expr, Atom):
        value = values.get(expr.name)
        return value if isinstance(value, bool) else None
    if isinstance(expr, Compare):
        value = values.get(expr.name)
        if value is None:
            return None
        positive, _ = comparisons_of(expr)
        return holds(positive.operator, engine_value(value), positive.constant)
    if isinstance(expr, Not):
        got = kleene(expr.operand, values)
        return None if got is None else not got
    parts = [kleene(op, values) for op in expr.operands]
    if isinstance(expr, All):
        return False if False in parts else (None if None in parts else True)
    assert isinstance(expr, Any_)
    return True if True in parts else (None if None in parts else False)


def _why(expr: Expr, values: dict[str, Any], value: bool) -> list[str]:
    """The names whose values give `expr` the truth value `value` (which it has): every operand
    of an `alle` made true, only the true ones of an `een_van`, and so on."""
    if isinstance(expr, (Atom, Compare)):
        return [expr.name]
    if isinstance(expr, Not):
        return _why(expr.operand, values, not value)
    every = isinstance(expr, All) == value  # alle true or een_van false: each operand counts
    out: list[str] = []
    for op in expr.operands:
        if every or kleene(op, values) is value:
            out += [n for n in _why(op, values, value) if n not in out]
            if not every:
                break  # one operand is reason enough
    return out


def names_of(constraint: Constraint) -> list[str]:
    """The facts and quantities a constraint reads, in the order it names them."""
    if constraint.impossible is None:
        return []
    return list(dict.fromkeys(name for name, _ in expr_names(constraint.impossible)))


def reads_quantities(kb: KnowledgeBase, constraint: Constraint) -> bool:
    return any(n in kb.quantities for n in names_of(constraint))


def _quantities(kb: KnowledgeBase, values: dict[str, Any], peildatum: date, names: Iterable[str]) -> dict[str, Any]:
    """The named quantities whose inputs are known, at the peildatum (as engine.applicant.facts
    computes them: the same function of engine.tijd)."""
    out: dict[str, Any] = {}
    for name in dict.fromkeys(names):
        q = kb.quantities[name]
        if all(i in values for i in q.inputs):
            value = tijd.FUNCTIONS[q.function](peildatum, *(values[i] for i in q.inputs), **dict(q.parameters))
            if value is not None:
                out[name] = value
    return out


def _compiled(expr: Expr) -> Callable[[dict[str, Any]], bool | None]:
    """`kleene(expr, values)` as a function of the values, built once per constraint: every
    applicant a reader parses is checked against every constraint."""
    if isinstance(expr, Atom):
        name = expr.name

        def atom(values: dict[str, Any]) -> bool | None:
            value = values.get(name)
            return value if value is True or value is False else None

        return atom
    if isinstance(expr, Compare):
        name = expr.name
        positive, _ = comparisons_of(expr)
        operator, constant = positive.operator, positive.constant

        def compare(values: dict[str, Any]) -> bool | None:
            value = values.get(name)
            return None if value is None else holds(operator, engine_value(value), constant)

        return compare
    if isinstance(expr, Not):
        operand = _compiled(expr.operand)

        def negated(values: dict[str, Any]) -> bool | None:
            got = operand(values)
            return None if got is None else not got

        return negated
    operands = tuple(_compiled(op) for op in expr.operands)
    # each operand gives True, False or None only, so the first deciding one settles it
    decides = False if isinstance(expr, All) else True
    assert isinstance(expr, (All, Any_))

    def combined(values: dict[str, Any]) -> bool | None:
        unknown = False
        for operand in operands:
            got = operand(values)
            if got is decides:
                return decides
            if got is None:
                unknown = True
        return None if unknown else not decides

    return combined


def _plan(kb: KnowledgeBase) -> tuple[tuple[tuple[Constraint, bool, Any], ...], list[str], tuple[str, ...]]:
    """Per constraint (in declaration order) whether it reads a quantity and its compiled test;
    the quantities the constraints read; the permit-period facts. Built once per knowledge base
    and kept on it (as engine.applicant.facts keeps its own)."""
    plan = getattr(kb, "_constraint_plan", None)
    if plan is None:
        entries = tuple(
            (c, reads_quantities(kb, c), None if c.impossible is None else _compiled(c.impossible))
            for c in kb.constraints.values()
        )
        wanted = [n for c in kb.constraints.values() for n in names_of(c) if n in kb.quantities]
        permits = tuple(name for name, fact in kb.facts.items() if fact.type == "vergunningen")
        plan = (entries, wanted, permits)
        object.__setattr__(kb, "_constraint_plan", plan)
    return plan


def constraint_quantities(kb: KnowledgeBase) -> frozenset[str]:
    """The quantities the constraints read."""
    return frozenset(_plan(kb)[1])


def broken_constraints(
    kb: KnowledgeBase, values: dict[str, Any], peildatum: date | None = None, quantities_only: bool = False
) -> list[tuple[Constraint, str, list[str]]]:
    """The constraints the parsed values (dates as dates, periods as mappings) break:
    (constraint, field, the facts it names). Without a peildatum only those that read no
    quantity are checked (a quantity is computed at a peildatum); with one, all of them, or with
    `quantities_only` only those that read a quantity (the others were checked at parsing)."""
    out: list[tuple[Constraint, str, list[str]]] = []
    entries, wanted, permits = _plan(kb)
    extra = _quantities(kb, values, peildatum, wanted) if peildatum is not None and wanted else {}
    known = {**values, **extra} if extra else values
    for c, with_quantities, impossible in entries:
        if quantities_only and (c.period is not None or not with_quantities):
            continue
        if c.period is not None:
            later, earlier = c.period
            for name in permits:
                for i, period in enumerate(values.get(name) or ()):
                    first, second = period.get(later), period.get(earlier)
                    if first is not None and second is not None and not first > second:
                        out.append((c, f"{name}[{i}].{later}", [f"{name}[{i}].{earlier}", f"{name}[{i}].{later}"]))
            continue
        if peildatum is None and with_quantities:
            continue
        if impossible(known) is True:
            # the facts that make it true; a quantity by the facts it is computed from
            facts: list[str] = []
            for n in _why(c.impossible, known, True):
                for i in kb.quantities[n].inputs if n in kb.quantities else (n,):
                    if i in values and i not in facts:
                        facts.append(i)
            out.append((c, facts[0] if facts else "", facts))
    return out


def any_broken(kb: KnowledgeBase, values: dict[str, Any], peildatum: date, known: dict[str, Any] | None = None) -> bool:
    """Whether the parsed values break a constraint: what `check_constraints(kb, values)` and then
    `check_constraints(kb, values, peildatum, quantities_only=True)` refuse, without naming it
    (a fast reader sends such a row to the full path, which does). `known`: the values with the
    quantities at the peildatum, if worked out already (at least those in `constraint_quantities`)."""
    if known is None:
        entries, wanted, permits = _plan(kb)
        extra = _quantities(kb, values, peildatum, wanted) if wanted else {}
        known = {**values, **extra} if extra else values
    return _broken_test(kb)(values, known)


def _definitely(expr: Expr, truth: bool, where: str, namespace: dict[str, Any]) -> str:
    """Python source that is True exactly when `kleene(expr, <where>)` is `truth` (an `alle` is
    true when every operand is, false when one is; and so on)."""
    if isinstance(expr, Atom):
        return f"{where}.get({expr.name!r}) is {truth}"
    if isinstance(expr, Compare):
        test = f"_compare{len(namespace)}"
        namespace[test] = _compiled(expr)
        return f"{test}({where}) is {truth}"
    if isinstance(expr, Not):
        return _definitely(expr.operand, not truth, where, namespace)
    assert isinstance(expr, (All, Any_))
    every = isinstance(expr, All) == truth  # alle true or een_van false: every operand must be so
    parts = [_definitely(op, truth, where, namespace) for op in expr.operands]
    if not parts:
        return str(every)
    return "(" + (" and " if every else " or ").join(parts) + ")"


def _broken_test(kb: KnowledgeBase) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    """`any_broken` as one function of (values, values with the quantities), generated from the
    constraints once per knowledge base and kept on it: each constraint's `onmogelijk` as one
    Python expression that is true when it certainly holds (Kleene's logic, as `kleene`)."""
    test = getattr(kb, "_broken_test", None)
    if test is not None:
        return test
    entries, _, permits = _plan(kb)
    namespace: dict[str, Any] = {}
    tests: list[str] = []
    periods: list[tuple[str, str]] = []
    for c, with_quantities, _ in entries:
        if c.period is not None:
            periods.append(c.period)
        elif c.impossible is not None:
            tests.append(_definitely(c.impossible, True, "known" if with_quantities else "values", namespace))
    lines = ["def broken(values, known):"]
    if periods and permits:
        lines.append(f"    for name in {permits!r}:")
        lines.append("        for period in values.get(name) or ():")
        for later, earlier in periods:
            lines += [
                f"            first, second = period.get({later!r}), period.get({earlier!r})",
                "            if first is not None and second is not None and not first > second:",
                "                return True",
            ]
    lines.append(f"    return {' or '.join(tests) or 'False'}")
    exec(compile("\n".join(lines), "<constraints>", "exec"), namespace)
    test = namespace["broken"]
    object.__setattr__(kb, "_broken_test", test)
    return test


def message(kb: KnowledgeBase, constraint: Constraint, facts: list[str]) -> str:
    """The refusal: the facts (by name, never their values) and the constraint with its reason."""
    return (
        f"deze feiten kunnen niet samen: {', '.join(facts)} (beperking {constraint.id}: "
        f"{constraint.label}; {constraint.reason})"
    )


def check_constraints(
    kb: KnowledgeBase, values: dict[str, Any], peildatum: date | None = None, quantities_only: bool = False
) -> None:
    """Raise InputError for the first constraint (in declaration order) the parsed values break;
    without a peildatum only those that read no quantity (see `broken_constraints`)."""
    broken = broken_constraints(kb, values, peildatum, quantities_only)
    if broken:
        constraint, field, facts = broken[0]
        raise InputError(field, message(kb, constraint, facts))


def possible(kb: KnowledgeBase, values: dict[str, Any], peildatum: date | None = None) -> bool:
    return not broken_constraints(kb, values, peildatum)


def forced_values(kb: KnowledgeBase, values: dict[str, Any], peildatum: date | None = None) -> dict[str, Any]:
    """Unknown yes/no and choice facts that the constraints settle given `values`: every other
    answer would break one. Followed through (a settled fact can settle another), in name order."""
    known = dict(values)
    forced: dict[str, Any] = {}
    if not kb.constraints:
        return forced
    candidates = sorted({n for c in kb.constraints.values() for n in names_of(c) if n in kb.facts})
    changed = True
    while changed:
        changed = False
        for name in candidates:
            fact = kb.facts[name]
            if name in known or fact.type not in ("bool", "keuze"):
                continue
            answers: list[Any] = [True, False] if fact.type == "bool" else list(fact.values)
            left = [a for a in answers if possible(kb, {**known, name: a}, peildatum)]
            if len(left) == 1:
                known[name] = forced[name] = left[0]
                changed = True
    return forced


def _as_values(kb: KnowledgeBase, data: dict[str, Any]) -> dict[str, Any]:
    """Applicant data (dates as dates or ISO text) as the parsed values the checks read."""

    def day(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
        return value

    out: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue
        kind = kb.facts[name].type if name in kb.facts else None
        if kind == "datum":
            value = day(value)
        elif kind == "vergunningen" and isinstance(value, (list, tuple)):
            value = [{k: day(v) if k in ("van", "tot") else v for k, v in dict(p).items()} for p in value]
        out[name] = value
    return out


def repaired(
    kb: KnowledgeBase, data: dict[str, Any], peildatum: date | None = None, keep: Iterable[str] = ()
) -> dict[str, Any]:
    """`data` (an applicant file as data, dates as dates or text) made possible: for each
    constraint it breaks, the last fact the constraint names that is not in `keep` is left out
    (unknown never breaks one), and a permit period without a length gets one (its later field
    one day after the earlier). For generators: the strategies and the caseload. What stays
    broken because every fact it names is in `keep` is left as the caller fixed it."""
    out = dict(data)
    kept = set(keep)
    for _ in range(4 * len(kb.constraints) + 4):
        values = _as_values(kb, out)
        try:
            broken = broken_constraints(kb, values, peildatum)
        except TypeError:  # a date that is no date: the loader says so, not this
            return out
        fixable = None
        for constraint, _field, facts in broken:
            if constraint.period is not None:
                fixable = (constraint, facts)
                break
            names = [n for n in facts if n not in kept]
            if names:
                fixable = (constraint, names)
                break
        if fixable is None:
            return out
        constraint, names = fixable
        if constraint.period is not None:
            later, earlier = constraint.period
            fact, index = names[0].split("[", 1)[0], int(names[0].split("[", 1)[1].split("]", 1)[0])
            periods = [dict(p) for p in out[fact]]
            start = values[fact][index][earlier]
            moved = date.fromordinal(min(start.toordinal() + 1, date.max.toordinal()))
            periods[index][later] = moved.isoformat() if isinstance(periods[index][later], str) else moved
            if moved <= start:  # the last day of the calendar: no period after it
                periods[index].pop(later)
            out[fact] = periods if isinstance(out[fact], list) else tuple(periods)
            continue
        # a yes/no or choice fact first: leaving out a date or the permits changes more
        simple = [n for n in names if kb.facts[n].type in ("bool", "keuze")]
        out.pop((simple or names)[-1], None)
    return out
