"""Hypothesis strategies for applicants, built from the vocabulary and consistent by construction.

For knowledge-base authors who want to state a property of their rules ("every adult who grew
up here is eligible unless ..."), and for the project's own property tests::

    from hypothesis import given
    from engine.checks.strategies import aanvragers

    @given(aanvragers(peildatum=date(2026, 11, 22)))
    def test_...(facts): ...

Every strategy yields an applicant file as a dict (fact name -> value, dates as `date`), the
same thing `engine.applicant.facts.parse_applicant` reads. Facts come from the vocabulary
(`kb/feiten.yaml` and the `feiten` of every domain file), so a fact added to the knowledge base
is generated without a change here; the few facts drawn apart (the birth date, the arrival, born
here, ...) are the ones the vocabulary gives a `rol`. Generated applicants are consistent: born before the
peildatum, arrived in the Netherlands on or after the day of birth (on that day when born here),
permit periods inside the life and in order, every other date between birth and the peildatum
and after every date the vocabulary says it cannot precede (`niet_voor` on a date fact, followed
through: `engine.rules.model.date_order`); ages and years of residence are never drawn, they follow from
the dates. No generated applicant breaks one of the vocabulary's constraints (`beperkingen`,
kb/beperkingen.yaml): a fact of a broken one is left out (`mogelijk`). Any fact may be left
out (unknown), and leaving it out is what Hypothesis shrinks towards, so a failing example
reads as the few facts that matter; dates shrink towards round ages, permit lists towards none.

Narrower strategies exist per route. A route whose facts the vocabulary does not declare is not
offered: it is missing from `routes()` and importing it says why.

Hypothesis is an optional dependency: `pip install 'verblijfsregels[kit]'`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "engine.checks.strategies heeft hypothesis nodig, dat niet is geïnstalleerd; "
        "installeer het met: pip install 'verblijfsregels[kit]'"
    ) from exc

from engine.rules.model import (
    All,
    Any_,
    Atom,
    Compare,
    Expr,
    KnowledgeBase,
    Not,
    date_order,
    fact_with_role,
    load_knowledge_base,
)
from engine.tijd import add_years

# The roles (`rol` in kb/feiten.yaml) of the facts drawn apart: those that anchor a life in time,
# and those a route fixes. The vocabulary says which fact has which role.
ROL_GEBOORTE = "geboorte"
ROL_AANKOMST = "aankomst"
ROL_HIER_GEBOREN = "hier_geboren"
ROL_SINDSDIEN_HIER = "sindsdien_hier_gewoond"
ROL_EX_GEPRIVILEGIEERD = "ex_geprivilegieerd"
# GEBOORTEDATUM, AANKOMST and HIER_GEBOREN name the facts with the first three roles in the
# shipped vocabulary (module __getattr__ reads them there).
_ROLE_NAMES = {"GEBOORTEDATUM": ROL_GEBOORTE, "AANKOMST": ROL_AANKOMST, "HIER_GEBOREN": ROL_HIER_GEBOREN}
BASIS_DIR = Path(__file__).resolve().parents[2] / "tests" / "scenarios" / "basis"

__all__ = [
    "aanvragers",
    "datums",
    "geboortedatums",
    "vergunningsperioden",
    "varianten",
    "basisaanvragers",
    "aanvragers_voor_doel",
    "bijna_geschikte_aanvragers",
    "routes",
    "beschikbaar",
    "buiten_bereik_uitgesloten",
    "forceer",
    "datumfeit",
    "datum_grenzen",
]


@lru_cache(maxsize=1)
def _default_kb() -> KnowledgeBase:
    return load_knowledge_base()


def _kb(kb: KnowledgeBase | None) -> KnowledgeBase:
    return kb if kb is not None else _default_kb()


def onbekend_of(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """None (unknown) or a value; shrinks to unknown."""
    return st.one_of(st.none(), values)


# -- dates ----------------------------------------------------------------------------------------


def datums(start: date, end: date) -> st.SearchStrategy[date]:
    """Days from `start` to `end` inclusive; shrinks towards `start`."""
    return st.integers(0, max(0, (end - start).days)).map(lambda d: start + timedelta(days=d))


def geboortedatums(peildatum: date, min_leeftijd: int = 0, max_leeftijd: int = 90) -> st.SearchStrategy[date]:
    """Birth dates for an age in [min_leeftijd, max_leeftijd] on the peildatum.

    Shrinks towards a birthday on the peildatum itself at the lowest age that is at least 18
    within the range (or the lowest age), so a shrunk example reads as a round age.
    """
    lo, hi = add_years(peildatum, -(max_leeftijd + 1)) + timedelta(days=1), add_years(peildatum, -min_leeftijd)
    anchor = add_years(peildatum, -min(max(18, min_leeftijd), max_leeftijd))
    before, after = (anchor - lo).days, (hi - anchor).days
    # integers() shrinks towards 0, so 0 is the anchor; negative goes back in time
    return st.integers(-before, after).map(lambda d: anchor + timedelta(days=d))


def _period_fields(kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in kb.period_fields.items() if k not in ("van", "tot")}


def _field_value(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = spec.get("type")
    if kind == "keuze":
        return st.sampled_from(list(spec["waarden"]))
    if kind == "bool":
        return st.booleans()
    if kind == "datum":
        return st.nothing()  # no dated period fields besides van and tot are declared
    return st.text("abcdefghij", min_size=1, max_size=8)


@st.composite
def vergunningsperioden(
    draw, start: date, peildatum: date, kb: KnowledgeBase | None = None, max_perioden: int = 3
) -> list[dict[str, Any]]:
    """Up to `max_perioden` permit periods in order from `start`; each begins on or before the
    peildatum, the last one may still run (no `tot`). The other period fields (purpose, whether
    it is non-temporary) come from the vocabulary and may be left out. Shrinks towards no periods."""
    kb = _kb(kb)
    fields = _period_fields(kb)
    periods: list[dict[str, Any]] = []
    cursor = start
    for _ in range(draw(st.integers(0, max_perioden))):
        if cursor > peildatum:
            break
        van = draw(datums(cursor, peildatum))
        period: dict[str, Any] = {"van": van}
        running = draw(st.booleans())
        if not running:
            # shrinks towards a five-year permit that ended; the next one starts the day after
            # it ends after it begins (the constraint vergunning_heeft_duur in kb/beperkingen.yaml)
            tot = draw(st.integers(-5 * 365 + 2, 5 * 365).map(lambda d: van + timedelta(days=5 * 365 + d - 1)))
            period["tot"] = tot
        for name in sorted(fields):
            value = draw(onbekend_of(_field_value(fields[name])))
            if value is not None:
                period[name] = value
        periods.append(period)
        if running:
            break  # a permit that still runs is the last one
        cursor = period["tot"] + timedelta(days=draw(st.sampled_from([1, 2, 31, 400])))
    return periods


# -- facts by type --------------------------------------------------------------------------------


def _value_strategy(kb: KnowledgeBase, name: str, born: date | None, peildatum: date) -> st.SearchStrategy[Any]:
    fact = kb.facts[name]
    if fact.type == "bool":
        return st.booleans()
    if fact.type == "keuze":
        return st.sampled_from(list(fact.values))
    if fact.type == "tekst":
        return st.text("abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=12).filter(str.strip)
    if fact.type == "bedrag":
        return st.integers(0, 2_000_000)  # euro cents
    if fact.type == "datum":
        return datums(born or add_years(peildatum, -90), peildatum)
    if fact.type == "vergunningen":
        return vergunningsperioden(born or add_years(peildatum, -90), peildatum, kb)
    raise AssertionError(f"unknown fact type {fact.type}")


def _static(kb: KnowledgeBase, name: str) -> st.SearchStrategy[Any] | None:
    """The (unknown or) value strategy of a fact that does not depend on dates, built once:
    building strategies anew for every draw is most of what generating an applicant costs.
    Kept on the knowledge base itself (an id() could be reused by another one)."""
    cache = getattr(kb, "_fact_strategies", None)
    if cache is None:
        cache = {}
        object.__setattr__(kb, "_fact_strategies", cache)
    if name not in cache:
        kind = kb.facts[name].type
        cache[name] = (
            None if kind in ("datum", "vergunningen") else onbekend_of(_value_strategy(kb, name, None, date.today()))
        )
    return cache[name]


def datum_grenzen(
    name: str, facts: dict[str, Any], peildatum: date, kb: KnowledgeBase | None = None, start: date | None = None
) -> tuple[date, date]:
    """The first and last day date fact `name` can have beside the known dates in `facts`: not
    before `start` (default: the birth date, else 90 years back), not before any date it cannot
    precede (the vocabulary's `niet_voor`, followed through), not after the peildatum nor after a
    known date that cannot precede it. The first may lie after the last: then no day fits."""
    kb = _kb(kb)
    order = date_order(kb)
    born = fact_with_role(kb, ROL_GEBOORTE)
    lo = start or (facts.get(born) if born is not None else None) or add_years(peildatum, -90)
    hi = peildatum
    for other in order.get(name, ()):
        if facts.get(other) is not None:
            lo = max(lo, facts[other])
    for later, earlier in order.items():
        if name in earlier and facts.get(later) is not None:
            hi = min(hi, facts[later])
    return lo, hi


def datumfeit(
    name: str, facts: dict[str, Any], peildatum: date, kb: KnowledgeBase | None = None, start: date | None = None
) -> st.SearchStrategy[date]:
    """Days for date fact `name` that keep `facts` consistent (see `datum_grenzen`); shrinks
    towards the earliest. Nothing when no day fits."""
    lo, hi = datum_grenzen(name, facts, peildatum, kb, start)
    return datums(lo, hi) if lo <= hi else st.nothing()


@lru_cache(maxsize=16)
def _births(peildatum: date) -> st.SearchStrategy[date | None]:
    return onbekend_of(geboortedatums(peildatum))


@st.composite
def aanvragers(draw, peildatum: date, kb: KnowledgeBase | None = None, **vast: Any) -> dict[str, Any]:
    """Any applicant at `peildatum`: every fact of the vocabulary known or unknown.

    `vast` fixes facts (None: keep it unknown); fixed dates are respected by the others (a
    fixed birth date bounds the arrival and the permits).
    """
    kb = _kb(kb)
    facts: dict[str, Any] = {}
    birth, here_name, arrival = (fact_with_role(kb, r) for r in (ROL_GEBOORTE, ROL_HIER_GEBOREN, ROL_AANKOMST))
    born = (vast.get(birth) if birth in vast else draw(_births(peildatum))) if birth is not None else None
    if born is not None:
        facts[birth] = born
    here = (
        (vast.get(here_name) if here_name in vast else draw(_static(kb, here_name))) if here_name is not None else None
    )
    if here is not None:
        facts[here_name] = here
    if arrival is None:
        arrived = None
    elif arrival in vast:
        arrived = vast[arrival]
    elif here is True and born is not None:
        arrived = draw(onbekend_of(st.just(born)))
    else:
        earliest = born + timedelta(days=1) if (born is not None and here is False) else born
        earliest = earliest or add_years(peildatum, -90)
        # born abroad on the peildatum itself: not arrived yet
        arrived = draw(onbekend_of(datums(earliest, peildatum))) if earliest <= peildatum else None
    if arrived is not None:
        facts[arrival] = arrived
    start = max(d for d in (born, arrived, add_years(peildatum, -90)) if d is not None) if arrived or born else None
    apart = {birth, here_name, arrival} - {None}
    for name in sorted(kb.facts):
        if name in apart or name in vast or kb.facts[name].type == "datum":
            continue
        strategy = _static(kb, name)
        if strategy is None:
            strategy = onbekend_of(_value_strategy(kb, name, start, peildatum))
        value = draw(strategy)
        if value is not None:
            facts[name] = value
    for name in date_order(kb):  # each date after the dates it cannot precede (`niet_voor`)
        if name in (birth, arrival) or name in vast:
            continue
        value = draw(onbekend_of(datumfeit(name, {**facts, **vast}, peildatum, kb, start)))
        if value is not None:
            facts[name] = value
    return mogelijk(kb, met_vast(facts, vast), peildatum, vast)


def mogelijk(kb: KnowledgeBase, facts: dict[str, Any], peildatum: date | None, vast: Any = ()) -> dict[str, Any]:
    """`facts` without what the vocabulary's constraints rule out (`beperkingen`,
    engine.applicant.constraints.repaired): a fact of a broken constraint is left out, never
    one named in `vast`. Every strategy here ends with it, so none yields an impossible applicant."""
    from engine.applicant.constraints import repaired

    return repaired(kb, facts, peildatum, keep=vast)


def met_vast(facts: dict, vast: dict) -> dict:
    """The drawn facts with the fixed ones laid over them (a fixed None leaves the fact out)."""
    for name, value in vast.items():
        if value is None:
            facts.pop(name, None)
        else:
            facts[name] = value
    return facts


# -- forcing a declared condition -----------------------------------------------------------------


def forceer(
    kb: KnowledgeBase,
    expr: Expr,
    value: bool,
    facts: dict[str, Any],
    choose: Callable[[list[Any]], Any] | None = None,
    _depth: int = 0,
) -> None:
    """Change yes/no and choice facts in `facts` so that `expr` gets `value`, as far as they can.

    Best effort and generic: derived names are followed into the rules that conclude them
    (a rule made true gets its exceptions made inapplicable), comparisons on choice facts pick a
    matching choice, comparisons on computed quantities are left alone. `choose` picks between
    alternatives (a `een_van` made true, an `alle` made false); the default takes the first.
    The caller checks the outcome: the engine, not this function, says what holds.
    """
    pick = choose or (lambda options: options[0])
    if _depth > 40:
        return
    if isinstance(expr, Not):
        forceer(kb, expr.operand, not value, facts, choose, _depth + 1)
    elif isinstance(expr, (All, Any_)):
        every = isinstance(expr, All) == value  # alle made true or een_van made false: each operand
        if every:
            for op in expr.operands:
                forceer(kb, op, value, facts, choose, _depth + 1)
        else:
            forceer(kb, pick(list(expr.operands)), value, facts, choose, _depth + 1)
    elif isinstance(expr, Compare):
        fact = kb.facts.get(expr.name)
        if fact is None or fact.type != "keuze":
            return
        wanted = set(expr.value) if isinstance(expr.value, tuple) else {expr.value}
        if expr.comparator not in ("is", "in"):
            return
        options = [v for v in fact.values if (v in wanted) == value]
        if options:
            facts[expr.name] = pick(options)
    elif isinstance(expr, Atom):
        name = expr.name
        if name in kb.facts:
            if kb.facts[name].type == "bool":
                facts[name] = value
        elif name in kb.disagreement_for:
            dis = kb.disagreements[kb.disagreement_for[name]]
            for rid in dis.rule_ids:
                _force_rule(kb, rid, value, facts, choose, _depth)
        elif name in kb.rules_for:
            rules = kb.rules_for[name]
            if value:
                _force_rule(kb, pick(list(rules)), True, facts, choose, _depth)
            else:
                for rid in rules:
                    _force_rule(kb, rid, False, facts, choose, _depth)


def _force_rule(
    kb: KnowledgeBase,
    rule_id: str,
    value: bool,
    facts: dict[str, Any],
    choose: Callable[[list[Any]], Any] | None,
    depth: int,
) -> None:
    rule = kb.rules[rule_id]
    for eid in kb.exceptions_of.get(rule_id, []):
        forceer(kb, kb.rules[eid].applies_when, False, facts, choose, depth + 1)
    if rule.conditions is not None:
        forceer(kb, rule.conditions, value, facts, choose, depth + 1)


def buiten_bereik_uitgesloten(
    kb: KnowledgeBase, facts: dict[str, Any], doelen: list[str] | None = None, peildatum: date | None = None
) -> dict[str, Any]:
    """`facts` changed so that no rule sends the applicant elsewhere for `doelen` (default: all).

    Only yes/no and choice facts are changed; the caller checks the outcome. What a change makes
    impossible (kb/beperkingen.yaml) is undone by leaving out another fact, never a changed one
    (`mogelijk`; the constraints that read a quantity only with a `peildatum`).
    """
    out = dict(facts)
    for goal in doelen if doelen is not None else sorted(kb.goals):
        spec = kb.goals[goal]
        if spec.out_of_scope:
            forceer(kb, Atom(spec.out_of_scope), False, out)
    changed = [n for n in out if facts.get(n) != out[n]]
    return mogelijk(kb, out, peildatum, changed)


# -- scenario base applicants and variants -----------------------------------------------------------


def _read_base(path: Path) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(data)


def _bases(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    directory = directory or BASIS_DIR
    if not directory.is_dir():
        return {}
    return {p.stem: _read_base(p) for p in sorted(directory.glob("*.yaml"))}


def basisaanvragers(directory: Path | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """The scenario base applicants (tests/scenarios/basis/) as they are; each meets a route."""
    bases = _bases(directory)
    if not bases:
        return st.nothing()
    return st.builds(dict, st.sampled_from([bases[name] for name in sorted(bases)]))  # a copy each time


@st.composite
def varianten(
    draw,
    basis: dict[str, Any],
    kb: KnowledgeBase | None = None,
    vast: tuple[str, ...] = (),
    max_wijzigingen: int = 3,
    peildatum: date | None = None,
) -> dict[str, Any]:
    """`basis` with up to `max_wijzigingen` yes/no or choice facts changed or forgotten.

    Dates and permits stay as given, so a consistent base gives consistent variants. Facts
    named in `vast` are never touched. A change that breaks a constraint is undone by leaving a
    fact out (`mogelijk`; the constraints that read a quantity only with a `peildatum`).
    Shrinks towards the base itself.
    """
    kb = _kb(kb)
    names = sorted(n for n in kb.facts if kb.facts[n].type in ("bool", "keuze") and n not in vast)
    data = dict(basis)
    if not names:
        return data
    chosen = draw(st.lists(st.sampled_from(names), max_size=max_wijzigingen, unique=True))
    for name in chosen:
        fact = kb.facts[name]
        if draw(st.booleans()):
            data.pop(name, None)  # forgotten
        elif fact.type == "bool":
            data[name] = not data[name] if isinstance(data.get(name), bool) else draw(st.booleans())
        else:
            others = [v for v in fact.values if v != data.get(name)]
            data[name] = draw(st.sampled_from(others))
    return mogelijk(kb, data, peildatum, vast)


def aanvragers_voor_doel(
    doel: str,
    peildatum: date,
    uitkomst: str = "eligible",
    kb_dir: Path | None = None,
    basis_dir: Path | None = None,
    **kwargs: Any,
) -> st.SearchStrategy[dict[str, Any]]:
    """Variants of the scenario base applicants that have `uitkomst` for `doel` at `peildatum`.

    Which bases qualify is decided once, by assessing them, so the strategy follows the rules
    as they are. Raises LookupError when no base qualifies (the route is not offered).
    """
    from engine.applicant.facts import parse_applicant

    engine = _engine(kb_dir)
    if doel not in engine.kb.goals:
        raise LookupError(f"doel '{doel}' is niet gedeclareerd")
    chosen = []
    for name, data in _bases(basis_dir).items():
        try:
            if engine.assess(parse_applicant(engine.kb, data), doel, peildatum).outcome == uitkomst:
                chosen.append(data)
        except Exception:  # a base that does not fit this vocabulary or peildatum is no anchor
            continue
    if not chosen:
        raise LookupError(
            f"geen basisaanvrager in {basis_dir or BASIS_DIR} heeft uitkomst {uitkomst} voor {doel} op {peildatum}"
        )
    return st.sampled_from(chosen).flatmap(lambda base: varianten(base, engine.kb, peildatum=peildatum, **kwargs))


@lru_cache(maxsize=32)
def _eligible_bases(
    doel: str, peildatum: date, kb_dir: Path | None, basis_dir: Path | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The scenario bases eligible for `doel` on `peildatum`, and the changeable yes/no and choice
    facts the goal reads (engine.answer.repairs.changeable_facts)."""
    from engine.answer.repairs import changeable_facts
    from engine.applicant.facts import parse_applicant

    engine = _engine(kb_dir)
    if doel not in engine.kb.goals:
        raise LookupError(f"doel '{doel}' is niet gedeclareerd")
    chosen = []
    for data in _bases(basis_dir).values():
        try:
            if engine.assess(parse_applicant(engine.kb, data), doel, peildatum).outcome == "eligible":
                chosen.append(data)
        except Exception:  # a base that does not fit this vocabulary or peildatum is no anchor
            continue
    return chosen, changeable_facts(engine, doel)[0]


@st.composite
def bijna_geschikte_aanvragers(
    draw,
    doel: str,
    peildatum: date,
    max_wijzigingen: int = 2,
    kb_dir: Path | None = None,
    basis_dir: Path | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Near-eligible applicants: a scenario base applicant eligible for `doel` on `peildatum`
    with 1 to `max_wijzigingen` changeable yes/no or choice facts that the goal reads (and the
    base states) given another value. Yields `(aanvrager, basis)`: undoing the changes is a
    repair, so repairs exist unless the changes did not matter. Shrinks towards one change to
    the first such fact of the first base. Raises LookupError when no base is eligible or the
    goal reads no changeable fact of one.
    """
    bases, facts = _eligible_bases(doel, peildatum, kb_dir, basis_dir)
    kb = _engine(kb_dir).kb
    usable = [(b, [n for n in facts if b.get(n) is not None]) for b in bases]
    usable = [(b, names) for b, names in usable if names]
    if not usable:
        raise LookupError(
            f"geen basisaanvrager die in aanmerking komt voor {doel} op {peildatum} "
            "heeft een wijzigbaar feit dat het doel leest"
        )
    base, names = draw(st.sampled_from(usable))
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(max_wijzigingen, len(names)), unique=True))
    data = dict(base)
    for name in chosen:
        fact = kb.facts[name]
        options = [v for v in ((True, False) if fact.type == "bool" else fact.values) if v != base[name]]
        data[name] = draw(st.sampled_from(options))
    return mogelijk(kb, data, peildatum, chosen), dict(base)


@lru_cache(maxsize=4)
def _engine(kb_dir: Path | None):
    from engine.answer.assess import Engine

    return Engine(kb_dir) if kb_dir is not None else Engine()


# -- routes ---------------------------------------------------------------------------------------


@st.composite
def _hier_opgegroeide_volwassenen(
    draw, peildatum: date, kb: KnowledgeBase | None = None, doelen: list[str] | None = None, **vast: Any
) -> dict[str, Any]:
    """Adults born in the Netherlands or arrived before their 3rd birthday who have always lived
    here since (C13 of permanent residence), with nothing sending them elsewhere for `doelen`
    (default: every goal). Everything else, dangers to public order included, is arbitrary."""
    kb = _kb(kb)
    born = draw(geboortedatums(peildatum, 18, 90))
    here = draw(st.booleans().map(lambda b: not b))  # shrinks to: born here
    if here:
        arrived = born
    else:
        arrived = draw(datums(born + timedelta(days=1), add_years(born, 3) - timedelta(days=1)))
    birth, arrival, here_name, stayed = (fact_with_role(kb, r) for r in ROUTE_ROLES["hier_opgegroeide_volwassenen"])
    facts = draw(aanvragers(peildatum, kb, **{birth: born, arrival: arrived}))
    if here:
        facts[here_name] = True
    else:
        facts[here_name] = draw(onbekend_of(st.just(False)))
        if facts[here_name] is None:
            del facts[here_name]
    facts[stayed] = True
    facts = buiten_bereik_uitgesloten(kb, facts, doelen, peildatum)
    return mogelijk(kb, met_vast(facts, vast), peildatum, {birth, arrival, here_name, stayed, *vast})


@st.composite
def _ex_geprivilegieerden(draw, peildatum: date, kb: KnowledgeBase | None = None, **vast: Any) -> dict[str, Any]:
    """(Former) privileged persons: diplomats, staff of international organisations and the like;
    every other fact arbitrary."""
    return draw(aanvragers(peildatum, kb, **{fact_with_role(_kb(kb), ROL_EX_GEPRIVILEGIEERD): True, **vast}))


def _violence_facts(kb: KnowledgeBase) -> list[str]:
    """Yes/no facts about violence the applicant suffered or is threatened with: the vocabulary's
    facts whose name speaks of `geweld`, read positively by some rule."""
    from engine.rules.model import expr_names

    positive = {
        name
        for rule in kb.rules.values()
        for expr in (rule.conditions, rule.applies_when)
        for name, pos in expr_names(expr)
        if pos
    }
    return sorted(n for n, f in kb.facts.items() if f.type == "bool" and "geweld" in n and n in positive)


@st.composite
def _slachtoffers_van_geweld(draw, peildatum: date, kb: KnowledgeBase | None = None, **vast: Any) -> dict[str, Any]:
    """Victims of (a threat of) domestic or honour-related violence: at least one of the
    vocabulary's violence facts is true; every other fact arbitrary."""
    kb = _kb(kb)
    names = _violence_facts(kb)
    facts = draw(aanvragers(peildatum, kb, **vast))
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
    for name in chosen:
        if name not in vast:
            facts[name] = True
    return mogelijk(kb, facts, peildatum, {*chosen, *vast})


# The roles whose facts a route needs (`rol` in kb/feiten.yaml).
ROUTE_ROLES = {
    "hier_opgegroeide_volwassenen": (ROL_GEBOORTE, ROL_AANKOMST, ROL_HIER_GEBOREN, ROL_SINDSDIEN_HIER),
    "ex_geprivilegieerden": (ROL_EX_GEPRIVILEGIEERD,),
}

ROUTES: dict[str, tuple[Callable[..., st.SearchStrategy[dict[str, Any]]], Callable[[KnowledgeBase], str | None]]] = {
    "hier_opgegroeide_volwassenen": (
        _hier_opgegroeide_volwassenen,
        lambda kb: _missing(kb, *ROUTE_ROLES["hier_opgegroeide_volwassenen"]),
    ),
    "ex_geprivilegieerden": (_ex_geprivilegieerden, lambda kb: _missing(kb, *ROUTE_ROLES["ex_geprivilegieerden"])),
    "slachtoffers_van_geweld": (
        _slachtoffers_van_geweld,
        lambda kb: (
            None
            if _violence_facts(kb)
            else "de woordenlijst declareert geen ja/nee-feit over geweld dat een regel leest"
        ),
    ),
}


def _missing(kb: KnowledgeBase, *roles: str) -> str | None:
    """Why a vocabulary lacks the facts of `roles`, named as the shipped vocabulary names them."""
    absent = [_role_words(kb, r) for r in roles if fact_with_role(kb, r) is None]
    return f"de woordenlijst declareert {', '.join(absent)} niet" if absent else None


def _role_words(kb: KnowledgeBase, role: str) -> str:
    """A role without a fact, in words: the shipped vocabulary's fact with that role (as the
    vocabulary to check would declare it), or the role itself."""
    try:
        shipped = fact_with_role(_default_kb(), role)
    except Exception:  # the shipped vocabulary is not there or does not load: name the role
        shipped = None
    if shipped is None:
        return f"een feit met rol '{role}'"
    return f"rol '{role}' (bij {shipped})" if shipped in kb.facts else shipped


def beschikbaar(naam: str, kb: KnowledgeBase | None = None) -> str | None:
    """None when the route strategy `naam` is offered for this vocabulary, else why not."""
    if naam not in ROUTES:
        return f"geen route '{naam}'; bekend: {', '.join(sorted(ROUTES))}"
    return ROUTES[naam][1](_kb(kb))


def routes(kb: KnowledgeBase | None = None) -> dict[str, Callable[..., st.SearchStrategy[dict[str, Any]]]]:
    """The route strategies this vocabulary supports, by name."""
    return {name: factory for name, (factory, why_not) in sorted(ROUTES.items()) if why_not(_kb(kb)) is None}


def __getattr__(name: str) -> Any:
    if name in _ROLE_NAMES:
        return fact_with_role(_default_kb(), _ROLE_NAMES[name])
    if name in ROUTES:
        reason = beschikbaar(name)
        if reason is None:
            return ROUTES[name][0]
        # ImportError, so that `from engine.checks.strategies import ...` says why (an AttributeError
        # would become a bare "cannot import name")
        raise ImportError(f"strategie {name} wordt niet aangeboden: {reason}", name=name)
    raise AttributeError(f"module 'engine.checks.strategies' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(routes()))
