"""One pass per batch row, built from the vocabulary: a plainly valid row validated, converted and
checked (dates, permit periods, date order, the peildatum, the constraints) straight into the
values and inputs the evaluator reads; any other row is left to the full path, which words its
error. Apart from `engine.applicant.rows` because it reads the vocabulary through
`engine.applicant.facts`, which itself uses that module's plain checker.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable

from engine.applicant.rows import Check, value_check

_FAIL = object()  # a value the reader does not take: the full path decides (and names the error)
Reader = Callable[[dict[str, Any], Any, Any], "tuple[dict[str, Any], dict[str, Any]] | None"]


def _nullable_check(fragment: dict[str, Any], pattern: str) -> Check | None:
    """The plain check of a fact that may be unknown (null is taken before a converter is
    called), or None where the fragment is of another shape."""
    check = value_check(fragment, pattern)
    return check if check is not None and check(None) else None


def _date_converter(fragment: dict[str, Any], pattern: str) -> Callable[[Any], Any] | None:
    check = _nullable_check(fragment, pattern)
    if check is None:
        return None
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
    check = _nullable_check(fragment, pattern)
    if check is None:
        return None
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
        return tuple(sorted(periods, key=order)) if len(periods) > 1 else tuple(periods)

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
            check = value_check(fragment, pattern)
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
    quantity_function = facts.quantity_function
    # the quantities the constraints read are worked out with those asked for, once for both
    for_constraints = constraints.constraint_quantities(kb)
    with_constraints: dict[Any, tuple[Callable, frozenset[str]]] = {}
    fail = _FAIL

    def quantities_for(asked: Any) -> tuple[Callable, frozenset[str]]:
        """The function of the quantities asked for and those of the constraints, and the names
        of those not asked for (to leave out of the inputs)."""
        names = None if asked is None else frozenset(asked)
        if names is None or for_constraints <= names:
            got = (quantity_function(kb, names), frozenset())
        else:
            got = (quantity_function(kb, names | for_constraints), for_constraints - names)
        if (asked is None or type(asked) is frozenset) and len(with_constraints) < 64:  # a few per run
            with_constraints[asked] = got
        return got

    def read(data: dict[str, Any], peildatum: Any, quantities: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        # the row copied whole (in C), then each fact looked at: most are kept as given (no store
        # per fact), an unknown one is taken out and a converted one replaced in place, so the
        # order of the facts stays the row's
        values: dict[str, Any] = dict(data)
        for name, value in data.items():
            if value is True or value is False:
                if name in yes_no:
                    continue
            elif value is None:
                if name in nullable:
                    del values[name]
                    continue
                return None
            check = plain.get(name)
            if check is not None:
                if not check(value):
                    return None
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
        plan = with_constraints.get(quantities) if quantities is None or type(quantities) is frozenset else None
        compute, not_asked = plan if plan is not None else quantities_for(quantities)
        worked_out = compute(values, peildatum)
        inputs = {**values, **worked_out}
        if constraints.any_broken(kb, values, peildatum, inputs):
            return None
        if not_asked and not not_asked.isdisjoint(worked_out):
            inputs = {**values, **{name: v for name, v in worked_out.items() if name not in not_asked}}
        return values, inputs

    def guarded(data: dict[str, Any], peildatum: Any, quantities: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        try:
            return read(data, peildatum, quantities)
        except Exception:  # noqa: BLE001 - whatever it is, the full path meets it again and says so
            return None

    return guarded
