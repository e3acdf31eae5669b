"""Mutation testing of the knowledge base: do the tests notice when a rule is changed?

One small change at a time is made to the rule declarations (a condition dropped or negated, a
threshold moved by one unit, a choice list widened or narrowed by one value, a parameter or
amount swapped, an exception dropped, a source dropped from a disagreement, a precedence turned round); each mutant is
written to a temporary copy of `kb/`, compiled, and checked with the very functions the test
suite runs: every scenario of tests/scenarios (`tests.test_scenarios.check_scenario`) and the
properties of tests/test_invariants.py (`PROPERTIES`, with a fixed, derandomized set of examples)
and, for mutants of fee rules and amounts, the fee properties of tests/test_fee_properties.py.
A mutant is *killed* when one of them fails. This module never imports the tests: they hand it
their checks as a `MutationChecks` (tests/mutation_checks.py, a pytest plugin and the entry
point `verblijfsregels.mutation_checks` that `find_checks` looks up).

A survivor is either equivalent (it changes nothing anyone can observe: no goal reads the rule,
or tests/mutation_equivalents.yaml says why the change makes no difference), or a gap in the
tests. For each unexplained survivor the report runs a differential check over a generated
caseload with the set-at-a-time evaluator and shows the simplest applicant whose outcome or fee
the mutant changes: the scenario that would kill it.

Mutants are evaluated in-process with the set-at-a-time evaluator (the same compiled clauses,
no pyDatalog logic per mutant); `--backend datalog` uses the pyDatalog one instead.
Usage: `verblijfsregels mutate [--limit N] [--jobs N]` or `python -m engine.checks.mutation`.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.metadata import Distribution, EntryPoint, entry_points
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlparse
from urllib.request import url2pathname

import yaml

from engine.answer.assess import Engine, decide
from engine.answer.proof import ProofBuilder
from engine.applicant.facts import Applicant
from engine.applicant.pipeline import evaluator_inputs
from engine.checks import coverage
from engine.errors import VerblijfsregelsError
from engine.evaluate import EvaluatorFactory
from engine.evaluate.setwise import SetwiseEvaluator
from engine.rules.model import KB_DIR, KnowledgeBase, declaration_files, load_knowledge_base
from engine.tijd import add_duration, iso_text

REPORT_FORMAT = "verblijfsregels/mutation-report"
REPORT_VERSION = 2  # 2: kb_version

KILLED = "killed"
SURVIVED = "survived"
EQUIVALENT = "equivalent"  # listed in the equivalents file with a reason
UNREACHABLE = "unreachable"  # no goal, consequence or form reads what was changed
# Survivors are looked for at one fixed date so that the report is the same on every run.
DIFFERENTIAL_PEILDATUM = date(2026, 11, 22)
INVALID = "invalid"  # the knowledge base refuses the mutant (a check in engine/rules/model.py)


# -- engines ------------------------------------------------------------------------------------


def mutant_engine(kb_dir: Path, evaluator: EvaluatorFactory = SetwiseEvaluator) -> Engine:
    """An engine for a (mutated) copy of the rule base: compiled afresh, never cached."""
    return Engine(kb_dir, evaluator=evaluator, cache=False)


# -- mutants ------------------------------------------------------------------------------------


@dataclass
class Mutant:
    id: str  # stable: declaration, place and operator, e.g. "C13:van_toepassing_als.alle[1]:negeren"
    file: str  # relative to the kb directory
    target: str  # the declaration changed: a rule, fee rule, disagreement, quantity or parameter
    kind: str  # regel | leges | bronverschil | voorrang | grootheid | parameter
    description: str  # in Dutch, for the report
    apply: Callable[[Any], None] = field(repr=False)  # changes the file's parsed YAML in place


def _label(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        if "waarde" in raw:
            op = next(k for k in raw if k != "waarde")
            value = raw[op]
            return f"{raw['waarde']} {op.replace('_', ' ')} {', '.join(map(str, value)) if isinstance(value, list) else value}"
        if "niet" in raw:
            return f"niet {_label(raw['niet'])}"
        ((key, value),) = raw.items()
        return f"{key.replace('_', ' ')} ({len(value)})"
    return str(raw)


def _get(root: Any, path: tuple) -> Any:
    for key in path:
        root = root[key]
    return root


def _setter(path: tuple, make: Callable[[Any], Any]) -> Callable[[Any], None]:
    """Replace the node at `path` (keys from the file's root) by make(old)."""

    def apply(data: Any) -> None:
        parent = _get(data, path[:-1])
        parent[path[-1]] = make(copy.deepcopy(parent[path[-1]]))

    return apply


def _exception_dropper(section: str, rule_id: str) -> Callable[[Any], None]:
    """Drop the exception `rule_id` and, with it, the exceptions declared on it (fee trees nest)."""

    def apply(data: Any) -> None:
        gone = {rule_id}
        rules = data[section]
        changed = True
        while changed:
            changed = False
            for raw in rules:
                if raw.get("uitzondering_op") in gone and raw.get("id") not in gone:
                    gone.add(raw.get("id"))
                    changed = True
        data[section] = [raw for raw in rules if raw.get("id") not in gone]

    return apply


def _pathstr(path: tuple) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out


def _shift(value: Any, step: int) -> Any:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value + step
    if isinstance(value, float):
        return value + step
    if isinstance(value, date):
        return value + timedelta(days=step)
    return None


def _expr_mutants(
    kb: KnowledgeBase, raw: Any, base: tuple, rel: tuple, rid: str, under_not: bool = False
) -> Iterator[tuple[str, str, str, Callable[[Any], None]]]:
    """(place, operator, description, apply) for every small change to the expression at
    `base + rel`; `place` is `rel` written as a path (voorwaarden.alle[2])."""
    here = base + rel
    place = _pathstr(rel)
    if not under_not:
        if isinstance(raw, dict) and set(raw) == {"niet"}:
            yield (
                place,
                "niet_weg",
                f"{rid}: 'niet' weggehaald bij '{_label(raw['niet'])}'",
                _setter(here, lambda old: old["niet"]),
            )
        else:
            yield (
                place,
                "negeren",
                f"{rid}: voorwaarde '{_label(raw)}' omgekeerd",
                _setter(here, lambda old: {"niet": old}),
            )
    if isinstance(raw, dict) and "waarde" in raw:
        op = next(k for k in raw if k != "waarde")
        value = raw[op]
        name = raw["waarde"]
        fact = kb.facts.get(name)
        if op in ("in", "is") and fact is not None and fact.type == "keuze":
            order = list(fact.values)
            chosen = value if isinstance(value, list) else [value]
            for variant, what in _choice_variants(order, chosen):
                new = variant if op == "in" else (variant[0] if len(variant) == 1 else None)
                if new is None:
                    continue
                yield (
                    place,
                    f"waarden:{what.replace(' ', '_')}",
                    f"{rid}: {name} {op} {', '.join(map(str, chosen))} → {what}",
                    _setter(here, lambda old, new=new, op=op: {**old, op: new}),
                )
        elif op != "in":
            for step in (-1, 1):
                new = _shift(value, step)
                if new is None:
                    continue
                yield (
                    place,
                    f"drempel{step:+d}",
                    f"{rid}: {name} {op.replace('_', ' ')} {value} → {new}",
                    _setter(here, lambda old, new=new, op=op: {**old, op: new}),
                )
        return
    if isinstance(raw, dict) and set(raw) == {"niet"}:
        yield from _expr_mutants(kb, raw["niet"], base, rel + ("niet",), rid, under_not=True)
        return
    if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("alle", "een_van"):
        key = next(iter(raw))
        items = raw[key]
        if len(items) >= 2:
            for i, item in enumerate(items):
                yield (
                    place,
                    f"weglaten[{i}]",
                    f"{rid}: voorwaarde '{_label(item)}' weggelaten uit {key.replace('_', ' ')}",
                    _setter(here + (key,), lambda old, i=i: old[:i] + old[i + 1 :]),
                )
        for i, item in enumerate(items):
            yield from _expr_mutants(kb, item, base, rel + (key, i), rid)


def _choice_variants(order: list[str], chosen: list[str]) -> Iterator[tuple[list[str], str]]:
    """A choice list moved by one value: its ends shifted when it is a range in the declared
    order, otherwise each value added or taken away."""
    positions = sorted(order.index(v) for v in chosen if v in order)
    contiguous = positions and positions == list(range(positions[0], positions[-1] + 1))
    seen: set[tuple[str, ...]] = {tuple(chosen)}

    def emit(values: list[str], what: str):
        key = tuple(values)
        if values and key not in seen:
            seen.add(key)
            return (values, what)
        return None

    candidates = []
    if contiguous:
        lo, hi = positions[0], positions[-1]
        if lo > 0:
            candidates.append(emit(order[lo - 1 : hi + 1], f"ook {order[lo - 1]}"))
        if lo < hi:
            candidates.append(emit(order[lo + 1 : hi + 1], f"zonder {order[lo]}"))
            candidates.append(emit(order[lo:hi], f"zonder {order[hi]}"))
        if hi < len(order) - 1:
            candidates.append(emit(order[lo : hi + 2], f"ook {order[hi + 1]}"))
        if lo == hi:
            if lo > 0:
                candidates.append(emit([order[lo - 1]], order[lo - 1]))
            if hi < len(order) - 1:
                candidates.append(emit([order[hi + 1]], order[hi + 1]))
    else:
        for v in order:
            if v in chosen:
                candidates.append(emit([c for c in chosen if c != v], f"zonder {v}"))
            else:
                candidates.append(emit([c for c in order if c in chosen or c == v], f"ook {v}"))
    yield from (c for c in candidates if c is not None)


def enumerate_mutants(kb_dir: Path = KB_DIR) -> list[Mutant]:
    """Every mutant of the declarations under `kb_dir`, in file and declaration order."""
    kb = load_knowledge_base(kb_dir)
    out: list[Mutant] = []
    amounts = sorted({v.value for p in kb.parameters.values() for v in p.values})
    for path in declaration_files(kb_dir):
        rel = str(path.relative_to(kb_dir))
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}

        def add(mid: str, target: str, kind: str, description: str, apply: Callable[[Any], None]) -> None:
            out.append(Mutant(mid, rel, target, kind, description, apply))

        for i, raw in enumerate(data.get("regels") or ()):
            rid = str(raw.get("id"))
            base = ("regels", i)
            if raw.get("uitzondering_op"):
                add(
                    f"{rid}:uitzondering_weg",
                    rid,
                    "regel",
                    f"{rid}: uitzondering op {raw['uitzondering_op']} weggelaten",
                    _exception_dropper("regels", rid),
                )
            for key in ("voorwaarden", "van_toepassing_als"):
                if key in raw:
                    for place, op, description, apply in _expr_mutants(kb, raw[key], base, (key,), rid):
                        add(f"{rid}:{place}:{op}", rid, "regel", description, apply)
            for key in ("geldig_van", "geldig_tot"):
                if isinstance(raw.get(key), date):
                    for step in (-1, 1):
                        new = raw[key] + timedelta(days=step)
                        add(
                            f"{rid}:{key}:drempel{step:+d}",
                            rid,
                            "regel",
                            f"{rid}: {key} {raw[key]} → {new}",
                            _setter(base + (key,), lambda old, new=new: new),
                        )
            if isinstance(raw.get("duur"), dict):
                ((unit, amount),) = raw["duur"].items()
                for step in (-1, 1):
                    if amount + step > 0:
                        add(
                            f"{rid}:duur:drempel{step:+d}",
                            rid,
                            "regel",
                            f"{rid}: duur {amount} {unit} → {amount + step}",
                            _setter(base + ("duur",), lambda old, unit=unit, new=amount + step: {unit: new}),
                        )
        for i, raw in enumerate(data.get("leges") or ()):
            rid = str(raw.get("id"))
            base = ("leges", i)
            if raw.get("uitzondering_op"):
                add(
                    f"{rid}:uitzondering_weg",
                    rid,
                    "leges",
                    f"{rid}: uitzondering op {raw['uitzondering_op']} weggelaten (met de uitzonderingen erop)",
                    _exception_dropper("leges", rid),
                )
            if "van_toepassing_als" in raw:
                for place, op, description, apply in _expr_mutants(
                    kb, raw["van_toepassing_als"], base, ("van_toepassing_als",), rid
                ):
                    add(f"{rid}:{place}:{op}", rid, "leges", description, apply)
            # another parameter with another amount: the nearest one, as a slip between two lines would be
            own = _amount(kb, raw["bedrag"]) if raw.get("bedrag") in kb.parameters else None
            others = sorted(p for p in kb.parameters if p != raw.get("bedrag") and _amount(kb, p) != own)
            if others and own is not None:
                other = min(others, key=lambda p: (abs(_amount(kb, p) - own), p))
                add(
                    f"{rid}:bedrag:wissel",
                    rid,
                    "leges",
                    f"{rid}: bedrag {raw['bedrag']} → {other}",
                    _setter(base + ("bedrag",), lambda old, other=other: other),
                )
        for i, raw in enumerate(data.get("bronverschillen") or ()):
            rid = str(raw.get("id"))
            rules = raw.get("regels") or []
            if len(rules) >= 2:
                for j, rule in enumerate(rules):
                    add(
                        f"{rid}:regels[{j}]:weglaten",
                        rid,
                        "bronverschil",
                        f"{rid}: bron {rule} weggelaten",
                        _setter(("bronverschillen", i, "regels"), lambda old, j=j: old[:j] + old[j + 1 :]),
                    )
        for i, raw in enumerate(data.get("voorrang") or ()):
            # the precedence turned round: the source that went after goes first
            pid, after = str(raw.get("id")), list(raw.get("daarna") or ())
            if raw.get("eerst") and after:
                add(
                    f"{pid}:volgorde:wissel",
                    pid,
                    "voorrang",
                    f"voorrang {pid}: {after[0]} gaat voor op {raw['eerst']}",
                    _setter(
                        ("voorrang", i),
                        lambda old: {**old, "eerst": old["daarna"][0], "daarna": [old["eerst"], *old["daarna"][1:]]},
                    ),
                )
        for name, raw in (data.get("grootheden") or {}).items():
            for key, value in sorted((raw.get("parameters") or {}).items()):
                place = ("grootheden", name, "parameters", key)
                if isinstance(value, list) and len(value) >= 2:
                    for j, item in enumerate(value):
                        add(
                            f"{name}:parameters.{key}[{j}]:weglaten",
                            name,
                            "grootheid",
                            f"grootheid {name}: {key} zonder {item}",
                            _setter(place, lambda old, j=j: old[:j] + old[j + 1 :]),
                        )
                else:
                    for step in (-1, 1):
                        new = _shift(value, step)
                        if new is not None:
                            add(
                                f"{name}:parameters.{key}:drempel{step:+d}",
                                name,
                                "grootheid",
                                f"grootheid {name}: {key} {value} → {new}",
                                _setter(place, lambda old, new=new: new),
                            )
        for name, raw in (data.get("parameters") or {}).items():
            for j, value in enumerate(raw.get("waarden") or ()):
                amount = value.get("waarde") if isinstance(value, dict) else None
                if not isinstance(amount, int):
                    continue
                different = [a for a in amounts if a != amount]
                new = min(different, key=lambda a: (abs(a - amount), a)) if different else amount + 100
                add(
                    f"{name}:waarden[{j}]:bedrag",
                    name,
                    "parameter",
                    f"parameter {name}: {amount} → {new} eurocent",
                    _setter(("parameters", name, "waarden", j, "waarde"), lambda old, new=new: new),
                )
    return out


def change_kind(mutant: Mutant) -> str:
    """The kind of change a mutant makes, for spreading a sample over them: what is changed
    (regel, leges, bronverschil, voorrang, grootheid, parameter) and how."""
    op = mutant.id.rsplit(":", 1)[1].split("[")[0]
    if op.startswith("drempel"):
        how = "drempel"
    elif op in ("weglaten", "negeren", "niet_weg", "uitzondering_weg", "wissel", "bedrag"):
        how = op
    else:
        how = "keuzelijst"  # a choice list one value wider or narrower
    return f"{mutant.kind}:{how}"


def sample_mutants(mutants: list[Mutant], size: int, seed: int) -> list[Mutant]:
    """A fixed sample of `size` mutants spread over the kinds of change: in turn from each kind
    (in name order) a mutant drawn with `random.Random(seed)`, until `size` or none left.
    Returned in the order of `mutants`."""
    import random

    rng = random.Random(seed)
    pools: dict[str, list[Mutant]] = {}
    for m in mutants:
        pools.setdefault(change_kind(m), []).append(m)
    chosen: set[str] = set()
    while len(chosen) < size and any(pools.values()):
        for kind in sorted(pools):
            if pools[kind] and len(chosen) < size:
                chosen.add(pools[kind].pop(rng.randrange(len(pools[kind]))).id)
    return [m for m in mutants if m.id in chosen]


def _amount(kb: KnowledgeBase, parameter: str) -> int:
    values = kb.parameters[parameter].values
    return values[-1].value if values else 0


# -- checks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MutationChecks:
    """What the test suite checks every mutant with, handed to the mutation test by the tests.

    A property has the shape of tests.test_invariants.Property: `name`, `reason(kb)` (why it does
    not apply to this rule base, or None), `strategy(kb)` (a hypothesis strategy) and
    `check(engine, example)` (raises AssertionError when the engine answers wrongly).
    """

    check_scenario: Callable[[Engine, dict[str, Any], str], None]  # raises AssertionError on a wrong answer
    scenarios: tuple[tuple[str, dict[str, Any]], ...]  # (name, scenario as check_scenario reads it)
    properties: tuple[Any, ...]
    fee_properties: tuple[Any, ...]  # run for the original and for mutants of fee rules and amounts
    bases: dict[str, dict[str, Any]]  # the scenario base applicants by name, as written (dates as text)
    equivalents: Path  # the survivors known to be equivalent, with reasons (load_equivalents)


CHECKS_GROUP = "verblijfsregels.mutation_checks"  # entry points naming a function that returns MutationChecks
NO_CHECKS = (
    f"mutate heeft de scenario's en eigenschappen van de tests nodig (entry point {CHECKS_GROUP}); "
    "draai het vanuit de broncode na `pip install -e '.[test]'`"
)


class ChecksNotFound(VerblijfsregelsError):
    """No test suite hands over its checks: an installed wheel has no tests."""


def find_checks() -> MutationChecks:
    """The checks a test suite registers under CHECKS_GROUP (this project's own: tests/mutation_checks.py,
    named in pyproject.toml); ChecksNotFound, one line saying what is needed, when none loads."""
    missing = None
    for point in sorted(entry_points(group=CHECKS_GROUP), key=lambda p: p.name):
        try:
            return _load(point)()
        except ModuleNotFoundError as exc:  # the tests, or what they need (hypothesis), are not installed
            missing = exc.name
    raise ChecksNotFound(NO_CHECKS + (f" (ontbreekt: {missing})" if missing else ""))


def _load(point: EntryPoint) -> Any:
    """An editable install maps only the packages it ships, not the tests beside them: when the
    entry point's module is not found, it is looked for in the distribution's source directory."""
    try:
        return point.load()
    except ModuleNotFoundError:
        source = _editable_source(point.dist)
        if source is None or str(source) in sys.path:
            raise
        sys.path.insert(0, str(source))
        return point.load()


def _editable_source(dist: Distribution | None) -> Path | None:
    """The directory `pip install -e` installed `dist` from (PEP 610 direct_url.json), if any."""
    text = dist.read_text("direct_url.json") if dist is not None else None
    if not text:
        return None
    info = json.loads(text)
    if not (info.get("dir_info") or {}).get("editable") or not str(info.get("url", "")).startswith("file:"):
        return None
    return Path(url2pathname(urlparse(info["url"]).path))


FEE_KINDS = ("leges", "parameter")  # the mutants the fee properties also check


class Checks:
    """The scenario and property checks of the test suite, ready to run against an engine."""

    def __init__(self, tests: MutationChecks, examples: int):
        self.check_scenario = tests.check_scenario
        self.scenarios = list(tests.scenarios)
        self.properties = list(tests.properties)
        self.fee_properties = list(tests.fee_properties)
        self.examples = examples
        self.kb = load_knowledge_base()  # properties draw from the vocabulary, which mutants keep
        self._runners: dict[str, Callable[[Any], None]] = {}

    def _runner(self, prop) -> Callable[[Any], None]:
        runner = self._runners.get(prop.name)
        if runner is None:
            from hypothesis import HealthCheck, Phase, given, settings

            holder: dict[str, Any] = {}

            @settings(
                max_examples=self.examples,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
                print_blob=False,
            )
            @given(prop.strategy(self.kb))
            def run(example):
                prop.check(holder["engine"], example)

            def runner(engine, run=run, holder=holder):
                holder["engine"] = engine
                run()

            runner.__name__ = prop.name
            runner = self._runners[prop.name] = runner
        return runner

    def first_failure(self, engine: Engine, mutant: Mutant | None = None) -> str | None:
        """The first scenario or property that fails against `engine`, or None. The fee properties
        run for the original and for mutants of fee rules and amounts only."""
        for name, spec in self.scenarios:
            try:
                self.check_scenario(engine, spec, name)
            except Exception as exc:  # AssertionError, or a crash: either way the tests notice
                return f"scenario {name}" + ("" if isinstance(exc, AssertionError) else f" ({type(exc).__name__})")
        fees = self.fee_properties if mutant is None or mutant.kind in FEE_KINDS else []
        for prop in [*self.properties, *fees]:
            if prop.reason(engine.kb) is not None:
                continue
            try:
                self._runner(prop)(engine)
            except Exception as exc:
                return f"eigenschap {prop.name}" + (
                    "" if isinstance(exc, AssertionError) else f" ({type(exc).__name__})"
                )
        return None


# -- differential check -----------------------------------------------------------------------------


class Differential:
    """Observable answers (outcome per goal, consequences, term dates, fee per form and source)
    for a fixed generated caseload, to find an applicant for whom a surviving mutant answers
    differently, and to shrink that applicant to the few facts that make the difference."""

    def __init__(self, size: int, peildatum: date, tests: MutationChecks):
        from engine.checks.caseload import caseload

        self.peildatum = peildatum
        self.kb = load_knowledge_base()  # the vocabulary, which mutants keep
        self.bases = dict(tests.bases)
        self.data: list[dict[str, Any]] = []
        self.applicants: list[tuple[Applicant, dict[str, Any]]] = []  # with inputs at the peildatum
        for raw in caseload(self.kb, size, seed=7, peildatum=peildatum, bases=tuple(self.bases.values())):
            applicant = self._parse(raw)
            if applicant is not None:
                self.data.append(raw)
                self.applicants.append(applicant)
        self.original: Engine | None = None
        self.reference: list[dict[str, Any]] | None = None

    def set_reference(self, engine: Engine) -> None:
        self.original = engine
        self.reference = self.answers(engine)

    def _parse(self, data: dict[str, Any]) -> tuple[Applicant, dict[str, Any]] | None:
        """An applicant and its inputs at the peildatum, or None if the data is no applicant."""
        try:
            return evaluator_inputs(self.kb, data, self.peildatum)
        except VerblijfsregelsError:
            return None

    def answers(
        self, engine: Engine, applicants: list[tuple[Applicant, dict[str, Any]]] | None = None
    ) -> list[dict[str, Any]]:
        from engine.answer.fees import FeeCalculator

        kb, program = engine.kb, engine.program
        inputs = [i for _, i in (self.applicants if applicants is None else applicants)]
        chunk = engine.evaluator.run(inputs, engine.derived)
        calculator = FeeCalculator(kb, program)
        out = []
        for i in range(len(inputs)):
            builder = ProofBuilder(program, chunk.values_of(i, engine.derived), inputs[i])
            answer: dict[str, Any] = {}
            for goal, spec in sorted(kb.goals.items()):
                scope = builder.value(spec.out_of_scope) if spec.out_of_scope else False
                answer[goal] = decide(builder.value(spec.conclusion), scope)
            for r in kb.rules.values():
                if r.kind in ("gevolg", "termijn") and r.conclusion:
                    answer[r.id] = builder.value(r.conclusion)
                if r.kind == "termijn" and r.duration and builder.inputs.get(r.start) is not None:
                    answer[f"termijn {r.id}"] = add_duration(builder.inputs[r.start], *r.duration)
            for form in sorted(kb.forms):
                fee = calculator.answer_from(builder.value, None, form, self.peildatum, [])
                answer[f"formulier {form}"] = sorted((s.source_file, s.amount, s.applies) for s in fee.per_source)
            out.append(answer)
        return out

    def _differs(self, engine: Engine, data: dict[str, Any]) -> bool:
        applicant = self._parse(data)
        if applicant is None:
            return False
        return self.answers(self.original, [applicant]) != self.answers(engine, [applicant])

    def witness(self, engine: Engine) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """An applicant whose answers the mutant changes, shrunk to the facts that matter (as
        `basis` + `wijzig` where a scenario base is close), and what changed."""
        mutant = self.answers(engine)
        differing = [i for i, (a, b) in enumerate(zip(self.reference, mutant)) if a != b]
        if not differing:
            return None
        candidates = [
            self._shrink(engine, self.data[i]) for i in sorted(differing, key=lambda i: len(self.data[i]))[:5]
        ]
        best = min(candidates, key=lambda c: (len(c.get("wijzig", c)), json_key(c)))
        data = self._as_data(best)
        before, after = (
            self.answers(self.original, [self._parse(data)])[0],
            self.answers(engine, [self._parse(data)])[0],
        )
        changed = {k: {"origineel": before[k], "mutant": after.get(k)} for k in before if before[k] != after.get(k)}
        return best, changed

    def _as_data(self, described: dict[str, Any]) -> dict[str, Any]:
        if "basis" not in described:
            return dict(described)
        data = dict(self.bases[described["basis"]])
        for key, value in described["wijzig"].items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return data

    def _shrink(self, engine: Engine, data: dict[str, Any]) -> dict[str, Any]:
        """Leave out every fact, or undo every change to the nearest base, that the difference
        does not need (one pass, greedy, in a stable order)."""
        plain = dict(data)
        for key in sorted(plain):
            trial = {k: v for k, v in plain.items() if k != key}
            if self._differs(engine, trial):
                plain = trial
        best: dict[str, Any] = plain
        for name, base in self.bases.items():
            changes = {k: v for k, v in data.items() if base.get(k) != v}
            changes.update({k: None for k in base if k not in data})
            if len(changes) >= len(best.get("wijzig", best)):
                continue
            for key in sorted(changes):
                trial = {k: v for k, v in changes.items() if k != key}
                if self._differs(engine, self._as_data({"basis": name, "wijzig": trial})):
                    changes = trial
            if len(changes) < len(best.get("wijzig", best)):
                best = {"basis": name, "wijzig": changes}
        return best


def json_key(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True)


# -- running ------------------------------------------------------------------------------------------


@dataclass
class Result:
    mutant: Mutant
    status: str
    killed_by: str | None = None
    reason: str | None = None  # why it is equivalent, unreachable or invalid
    witness: dict[str, Any] | None = None
    changed: dict[str, Any] | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.mutant.id,
            "file": self.mutant.file,
            "target": self.mutant.target,
            "kind": self.mutant.kind,
            "description": self.mutant.description,
            "status": self.status,
            "killed_by": self.killed_by,
            "reason": self.reason,
            "witness": _plain(self.witness),
            "changed": _plain(self.changed),
            "seconds": round(self.seconds, 4),
        }


def _plain(value: Any) -> Any:
    return iso_text(value)


def reachable_targets(engine: Engine) -> set[str]:
    """Declarations whose change some goal, consequence, term or form can show."""
    from engine.checks.coverage import model_roots

    program, kb = engine.program, engine.kb
    roots: list[str] = []
    for goal in kb.goals:
        roots += model_roots(engine, goal)
    roots += list(program.fee_nodes.values())
    reach = program.reachable(roots)
    found = {program.nodes[n].rule_id for n in reach if program.nodes[n].rule_id}
    found |= {n for n in reach if program.nodes[n].kind == "quantity"}
    found |= set(kb.fee_rules) | set(kb.parameters)
    # consequences and terms are part of every assessment of their goals, with or without conditions
    found |= {r.id for r in kb.rules.values() if r.kind in ("gevolg", "termijn") and set(r.goals) & set(kb.goals)}
    # so is the quantity a term runs from: its date is in the answer (D10.termijn, E20)
    found |= {
        r.start
        for r in kb.rules.values()
        if r.kind == "termijn" and r.start in kb.quantities and set(r.goals) & set(kb.goals)
    }
    # a precedence decides the disagreements in reach whose rules come from its sources, and the fees
    disagreements = {d for d in kb.disagreements.values() if d.id in found}
    for p in kb.precedences.values():
        files = {p.first, *p.after}
        if p.first in {f.source.file for f in kb.fee_rules.values()} or any(
            len(files & {kb.rules[r].source.file for r in d.rule_ids}) >= 2 for d in disagreements
        ):
            found.add(p.id)
    return found


def load_equivalents(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {}
    for entry in data.get("equivalenten") or ():
        if not entry.get("reden"):
            raise ValueError(f"{path.name}: mutant {entry.get('mutant')} staat er zonder 'reden'")
        out[str(entry["mutant"])] = " ".join(str(entry["reden"]).split())
    return out


class _Worker:
    """Runs mutants in its own copy of the knowledge base directory."""

    def __init__(
        self, kb_dir: Path, tests: MutationChecks, examples: int, evaluator: EvaluatorFactory = SetwiseEvaluator
    ):
        self.kb_dir = kb_dir
        self.tmp = Path(tempfile.mkdtemp(prefix="verblijfsregels-mutant-"))
        self.copy = self.tmp / "kb"
        shutil.copytree(kb_dir, self.copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        self.checks = Checks(tests, examples)
        self.evaluator = evaluator
        self.originals = {str(p.relative_to(kb_dir)): p.read_text(encoding="utf-8") for p in declaration_files(kb_dir)}

    def engine(self, kb_dir: Path) -> Engine:
        return mutant_engine(kb_dir, self.evaluator)

    def run(self, mutant: Mutant) -> Result:
        start = time.perf_counter()
        target = self.copy / mutant.file
        data = yaml.load(self.originals[mutant.file], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        mutant.apply(data)
        target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
        try:
            try:
                engine = self.engine(self.copy)
            except VerblijfsregelsError as exc:
                return Result(mutant, INVALID, reason=str(exc), seconds=time.perf_counter() - start)
            failure = self.checks.first_failure(engine, mutant)
            status = KILLED if failure else SURVIVED
            return Result(mutant, status, killed_by=failure, seconds=time.perf_counter() - start)
        finally:
            target.write_text(self.originals[mutant.file], encoding="utf-8")

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


_worker: _Worker | None = None


def _init_worker(kb_dir: Path, tests: MutationChecks, examples: int, evaluator: EvaluatorFactory) -> None:
    global _worker
    coverage.disable()
    _worker = _Worker(kb_dir, tests, examples, evaluator)


def _run_in_worker(index_and_id: tuple[int, str]) -> tuple[int, Result]:
    index, _ = index_and_id
    result = _worker.run(_MUTANTS[index])
    result.mutant = None  # its change is a closure; the parent has the same list of mutants
    return index, result


_MUTANTS: list[Mutant] = []


@dataclass
class Report:
    results: list[Result]
    seconds: float
    baseline_failure: str | None
    stale_equivalents: list[str]
    differential_size: int
    jobs: int
    backend: str  # the evaluator's name, as the report shows it
    kb_version: str = ""  # the rule base mutated (KnowledgeBase.version)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def score(self) -> float | None:
        """Killed among the mutants that can be killed: equivalent, unreachable and invalid ones left out."""
        relevant = self.count(KILLED) + self.count(SURVIVED)
        return 100.0 * self.count(KILLED) / relevant if relevant else None

    def to_json(self) -> dict[str, Any]:
        run = [r.seconds for r in self.results if r.status in (KILLED, SURVIVED)]
        return {
            "format": REPORT_FORMAT,
            "version": REPORT_VERSION,
            "kb_version": self.kb_version,
            "mutants": len(self.results),
            "killed": self.count(KILLED),
            "survived": self.count(SURVIVED),
            "equivalent": self.count(EQUIVALENT),
            "unreachable": self.count(UNREACHABLE),
            "invalid": self.count(INVALID),
            "score": None if self.score is None else round(self.score, 1),
            "seconds": round(self.seconds, 2),
            "jobs": self.jobs,
            "backend": self.backend,
            "seconds_per_mutant": round(sum(run) / len(run), 4) if run else None,
            "baseline_failure": self.baseline_failure,
            "stale_equivalents": self.stale_equivalents,
            "differential_size": self.differential_size,
            "results": [r.to_json() for r in self.results],
        }


def run_mutation(
    tests: MutationChecks,
    kb_dir: Path = KB_DIR,
    limit: int | None = None,
    jobs: int = 1,
    only: list[str] | None = None,
    examples: int = 20,
    differential: int = 1500,
    equivalents: Path | None = None,
    evaluator: EvaluatorFactory = SetwiseEvaluator,
    progress: Callable[[int, int], None] | None = None,
    ids: list[str] | None = None,
) -> Report:
    """`only`: declarations or id prefixes; `ids`: exact mutant ids (both: mutants matching either);
    `equivalents`: another file than the tests' own."""
    global _MUTANTS
    start = time.perf_counter()
    with coverage.paused():
        mutants = enumerate_mutants(kb_dir)
        if only or ids:
            exact = set(ids or ())
            mutants = [
                m
                for m in mutants
                if m.id in exact
                or any(m.target == o or m.target.startswith(f"{o}.") or m.id.startswith(o) for o in only or ())
            ]
        if limit is not None:
            mutants = mutants[:limit]
        listed = load_equivalents(tests.equivalents if equivalents is None else equivalents)
        original = mutant_engine(kb_dir)
        reachable = reachable_targets(original)
        checks = Checks(tests, examples)
        baseline = checks.first_failure(original if evaluator is SetwiseEvaluator else mutant_engine(kb_dir, evaluator))
        results: dict[int, Result] = {}
        todo: list[int] = []
        for i, m in enumerate(mutants):
            if m.target not in reachable and m.kind != "parameter":
                results[i] = Result(
                    m, UNREACHABLE, reason="geen doel, gevolg, termijn of formulier leest deze declaratie"
                )
            else:
                todo.append(i)
        if baseline is None:
            _MUTANTS = mutants
            done = 0
            if jobs > 1 and len(todo) > 1:
                ctx = multiprocessing.get_context("fork")
                with ctx.Pool(jobs, initializer=_init_worker, initargs=(kb_dir, tests, examples, evaluator)) as pool:
                    for index, result in pool.imap_unordered(
                        _run_in_worker, [(i, mutants[i].id) for i in todo], chunksize=2
                    ):
                        result.mutant = mutants[index]
                        results[index] = result
                        done += 1
                        if progress:
                            progress(done, len(todo))
            else:
                worker = _Worker(kb_dir, tests, examples, evaluator)
                try:
                    for i in todo:
                        results[i] = worker.run(mutants[i])
                        done += 1
                        if progress:
                            progress(done, len(todo))
                finally:
                    worker.close()
        ordered = [results[i] for i in sorted(results)]
        for r in ordered:
            if r.status == SURVIVED and r.mutant.id in listed:
                r.status, r.reason = EQUIVALENT, listed[r.mutant.id]
        survivors = [r for r in ordered if r.status == SURVIVED]
        size = 0
        if survivors and differential:
            diff = Differential(differential, DIFFERENTIAL_PEILDATUM, tests)
            size = len(diff.applicants)
            diff.set_reference(original)
            tmp = Path(tempfile.mkdtemp(prefix="verblijfsregels-mutant-"))
            try:
                copy_dir = tmp / "kb"
                shutil.copytree(kb_dir, copy_dir, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
                for r in survivors:
                    target = copy_dir / r.mutant.file
                    text = target.read_text(encoding="utf-8")
                    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
                    r.mutant.apply(data)
                    target.write_text(
                        yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8"
                    )
                    try:
                        found = diff.witness(mutant_engine(copy_dir))
                    finally:
                        target.write_text(text, encoding="utf-8")
                    if found:
                        r.witness, r.changed = found
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        killed_ids = {r.mutant.id for r in ordered if r.status == KILLED}
        all_ids = {m.id for m in mutants}
        stale = sorted(
            m for m in listed if m in killed_ids or (m not in all_ids and not only and not ids and limit is None)
        )
    elapsed = time.perf_counter() - start
    return Report(ordered, elapsed, baseline, stale, size, jobs, evaluator.name, kb_version=original.kb.version)


# -- text -------------------------------------------------------------------------------------------


def render_text(report: Report) -> str:
    data = report.to_json()
    lines = ["Mutatietest van de kennisbank", ""]
    if report.baseline_failure:
        lines.append(f"De tests falen al op de kennisbank zelf ({report.baseline_failure}); eerst repareren.")
        return "\n".join(lines) + "\n"
    score = "n.v.t." if data["score"] is None else f"{data['score']:.1f}%"
    lines += [
        f"mutanten:                 {data['mutants']}",
        f"gedood:                   {data['killed']}",
        f"overleefd:                {data['survived']}",
        f"equivalent (met reden):   {data['equivalent']}",
        f"onbereikbaar:             {data['unreachable']} (geen doel leest wat veranderde)",
        f"ongeldig:                 {data['invalid']} (de kennisbank weigert de mutant)",
        f"mutatiescore:             {score} (gedood / (gedood + overleefd))",
        f"tijd:                     {data['seconds']:.1f} s, {data['jobs']} proces(sen), "
        f"{(data['seconds_per_mutant'] or 0) * 1000:.0f} ms per mutant ({data['backend']})",
        "",
    ]
    survivors = [r for r in report.results if r.status == SURVIVED]
    lines.append("Overlevende mutanten:" + (" geen" if not survivors else ""))
    for r in survivors:
        lines.append(f"  {r.mutant.id}  ({r.mutant.file})")
        lines.append(f"    {r.mutant.description}")
        if r.witness is not None:
            lines.append(
                f"    verschil zichtbaar voor deze aanvrager (peildatum {DIFFERENTIAL_PEILDATUM.isoformat()}); "
                "een scenario met haar doodt hem:"
            )
            for key, change in r.changed.items():
                lines.append(f"      {key}: {_plain(change['origineel'])} → {_plain(change['mutant'])}")
            dumped = yaml.safe_dump(
                _plain(r.witness), allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000
            )
            lines.extend("      | " + line for line in dumped.rstrip("\n").split("\n"))
        elif report.differential_size:
            lines.append(
                f"    geen verschil gevonden bij {report.differential_size} gegenereerde aanvragers: "
                "waarschijnlijk equivalent; zet hem met de reden in tests/mutation_equivalents.yaml"
            )
    equivalent = [r for r in report.results if r.status == EQUIVALENT]
    if equivalent:
        lines.append("")
        lines.append("Equivalent (tests/mutation_equivalents.yaml):")
        for r in equivalent:
            lines.append(f"  {r.mutant.id}: {r.reason}")
    if report.stale_equivalents:
        lines.append("")
        lines.append("Verouderd in tests/mutation_equivalents.yaml (gedood of bestaat niet meer):")
        lines.extend(f"  {m}" for m in report.stale_equivalents)
    unreachable = [r for r in report.results if r.status == UNREACHABLE]
    if unreachable:
        lines.append("")
        lines.append("Onbereikbaar (geen doel, gevolg, termijn of formulier leest deze declaratie):")
        lines.extend(f"  {r.mutant.id}: {r.mutant.description}" for r in unreachable)
    invalid = [r for r in report.results if r.status == INVALID]
    if invalid:
        lines.append("")
        lines.append("Ongeldig (de kennisbank weigert de mutant):")
        lines.extend(f"  {r.mutant.id}: {r.reason}" for r in invalid)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:  # python -m engine.checks.mutation
    """`verblijfsregels mutate` through the installed console script: the command line is the CLI's,
    which imports this module, so this module does not import the CLI."""
    found = entry_points(group="console_scripts", name="verblijfsregels")
    if not found:
        sys.exit(
            "fout: python -m engine.checks.mutation draait `verblijfsregels mutate`; installeer eerst met `pip install -e .`"
        )
    next(iter(found)).load()(["mutate", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":  # pragma: no cover
    main()
