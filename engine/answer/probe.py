"""What-if outcomes: many variants of one applicant for one goal, evaluated together.

Repairs and the interview ask the same question many times: what would the outcome be with a
few facts changed, forgotten (None: unknown) or at another peildatum? Here a whole list of
variants is one run of the engine's evaluator over the clauses the goals read
(`Evaluator.restricted`; set at a time, tens of microseconds per variant, where a pyDatalog
query costs about 3 ms). Callers re-assess what they report with `Engine.assess`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from engine.answer.assess import ELIGIBLE, NOT_ELIGIBLE, OUT_OF_SCOPE, UNDETERMINED, decide
from engine.answer.proof import ProofBuilder
from engine.applicant.facts import Applicant
from engine.applicant.pipeline import evaluator_inputs
from engine.evaluate import engine_facts_of
from engine.rules.compiler import Cmp

SURE, POSSIBLE, NO = "sure", "possible", "no"  # eligible; undetermined; not eligible or elsewhere
LEVEL = {ELIGIBLE: SURE, UNDETERMINED: POSSIBLE, NOT_ELIGIBLE: NO, OUT_OF_SCOPE: NO}

ENGINE_SCALARS = ("bool", "keuze", "tekst", "bedrag")  # asserted as given (engine.evaluate.engine_facts_of)

Variant = tuple[Mapping[str, Any], date]  # changes (None: make unknown) and the peildatum


EVERY = object()  # as a change: assert every value of the fact at once (see Probe.decidable_by)


def _literals(builder: ProofBuilder, nid: str) -> set[bool]:
    """The truth values derived for a node, both where facts were asserted with every value."""
    node = builder.nodes[nid]
    if node.kind in ("fact", "quantity"):
        value = builder.inputs.get(nid)
        return {value} if isinstance(value, bool) else set()
    if not node.view:
        return set(builder.values.get(nid, ()))
    if node.kind == "not":
        return {not v for v in _literals(builder, node.children[0])}
    if node.kind == "rule":
        return _literals(builder, node.children[0])
    parts = [_literals(builder, c) for c in node.children]  # an exception: applies and holds
    out = set()
    if all(True in p for p in parts):
        out.add(True)
    if any(False in p for p in parts):
        out.add(False)
    return out


def _through_views(program: Any, roots: list[str]) -> list[str]:
    """The derived predicates the value of `roots` is read from: views are seen through."""
    out: dict[str, None] = {}
    stack = list(roots)
    seen: set[str] = set()
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        node = program.nodes[nid]
        if node.kind in ("fact", "quantity"):
            continue
        if node.view:
            stack.extend(node.children)
        else:
            out[nid] = None
    return list(out)


class Probe:
    """Outcomes of `goals` for variants of `applicant` (who was validated at a peildatum no later
    than any variant's). `in_scope`: a referral that is still open counts as not applying, as for
    a person the sources do not send elsewhere (the repairs of someone whose scope is open)."""

    def __init__(self, engine: Any, applicant: Applicant, goals: str | Sequence[str], in_scope: bool = False):
        kb = engine.kb
        self.in_scope = in_scope
        self.goals = [goals] if isinstance(goals, str) else list(goals)
        self.engine = engine
        self.kb = kb
        self.roots = [(kb.goals[g].conclusion, kb.goals[g].out_of_scope) for g in self.goals]
        self.values = dict(applicant.values)
        self._evaluator = engine.evaluator.restricted([n for pair in self.roots for n in pair if n])
        self.quantity_inputs = {i for q in kb.quantities.values() for i in q.inputs}
        self._days: dict[date, tuple[dict[str, Any], dict[str, Any]]] = {}
        roots = [n for pair in self.roots for n in pair if n]
        self._needed = _through_views(engine.program, roots)
        read = set(engine.program.reachable(roots))
        self._quantities = frozenset(q for q in kb.quantities if q in read or q == "peildatum")
        self.evaluated = 0  # variants evaluated so far: what a search spent
        self._readers: dict[str, list[str]] = {}
        for quantity in kb.quantities.values():
            for i in quantity.inputs:
                self._readers.setdefault(i, []).append(quantity.name)

    def _representatives(self, predicate: str) -> list[Any]:
        """Values of an input (a fact or a quantity), one in every class its comparisons make (as
        the engine sees them: dates as day numbers), or both truth values of a yes/no quantity."""
        cache = self.engine.program.__dict__.setdefault("_representatives", {})
        if predicate not in cache:
            quantity = self.kb.quantities.get(predicate)
            if quantity is not None and quantity.type == "bool":
                cache[predicate] = [True, False]
            else:
                values: dict[str, Any] = {}
                for clause in self.engine.program.clauses:
                    for item in clause.body:
                        if isinstance(item, Cmp) and item.predicate == predicate:
                            constants = item.constant if isinstance(item.constant, (tuple, list)) else (item.constant,)
                            for c in constants:
                                near = [c - 1, c, c + 1] if isinstance(c, int) and not isinstance(c, bool) else [c]
                                for v in near:
                                    values[repr(v)] = v
                if values:
                    values["other"] = "\x00another value"  # a text no comparison names
                cache[predicate] = list(values.values())
        return cache[predicate]

    def _inputs(self, values: Mapping[str, Any], day: date) -> dict[str, Any]:
        """The facts with the quantities the goals read, at `day` (the pipeline of every applicant,
        without the peildatum checks the applicant passed)."""
        return evaluator_inputs(self.kb, Applicant(dict(values)), day, checked=False, quantities=self._quantities)[1]

    def _base(self, day: date) -> tuple[dict[str, Any], dict[str, Any]]:
        """The unchanged applicant's quantities and engine facts at `day`, worked out once."""
        cached = self._days.get(day)
        if cached is None:
            inputs = self._inputs(self.values, day)
            quantities = {k: v for k, v in inputs.items() if k in self._quantities}
            cached = self._days[day] = (quantities, dict(engine_facts_of(inputs, self.engine.input_names)))
        return cached

    def _row(self, changes: Mapping[str, Any], day: date) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
        """The engine facts of one variant, and its inputs (facts and quantities) for a proof."""
        every = [name for name, value in changes.items() if value is EVERY]
        if every:
            row, inputs = self._row({k: (None if v is EVERY else v) for k, v in changes.items()}, day)
            for name in every:
                fact = self.kb.facts[name]
                if fact.type in ("bool", "keuze"):
                    row.extend((name, v) for v in ([True, False] if fact.type == "bool" else fact.values))
                else:  # a date, text, amount or permit history: every value the rules tell apart,
                    # of the fact itself and of each quantity read from it
                    for predicate in (name, *self._readers.get(name, ())):
                        row.extend((predicate, v) for v in self._representatives(predicate))
            return row, inputs
        values = dict(self.values)
        for name, value in changes.items():
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
        if any(name in self.quantity_inputs or self.kb.facts[name].type not in ENGINE_SCALARS for name in changes):
            inputs = self._inputs(values, day)
            return engine_facts_of(inputs, self.engine.input_names), inputs
        quantities, facts = self._base(day)
        facts = dict(facts)
        for name, value in changes.items():  # yes/no and choice facts are asserted as they are
            if value is None:
                facts.pop(name, None)
            else:
                facts[name] = value
        return list(facts.items()), {**values, **quantities}

    def builders(self, variants: Sequence[Variant], extra: Iterable[str] = ()) -> list[ProofBuilder]:
        """A proof builder per variant that knows the goal's conclusion and scope (and `extra`)."""
        if not variants:
            return []
        rows, inputs = [], []
        for changes, day in variants:
            row, values = self._row(changes, day)
            rows.append(row)
            inputs.append(values)
        wanted = (
            self._needed
            if not extra
            else list(dict.fromkeys([*self._needed, *_through_views(self.engine.program, list(extra))]))
        )
        chunk = self._evaluator.run_facts(rows, wanted)
        self.evaluated += len(variants)
        return [ProofBuilder(self.engine.program, chunk.values_of(i, wanted), inputs[i]) for i in range(len(variants))]

    def outcome(self, builder: ProofBuilder, conclusion: str, scope: str | None) -> str:
        """engine.answer.assess.decide for one goal of one variant (an open scope as not applying
        if `in_scope`)."""
        scope_value = builder.value(scope) if scope else False
        if self.in_scope and scope_value is None:
            scope_value = False
        return decide(builder.value(conclusion), scope_value)

    def outcomes(self, variants: Sequence[Variant]) -> list[tuple[str, ...]]:
        """Per variant, the outcome (engine.answer.assess.ELIGIBLE …) of each goal."""
        return [
            tuple(self.outcome(builder, conclusion, scope) for conclusion, scope in self.roots)
            for builder in self.builders(variants)
        ]

    def decidable_by(self, name: str, variants: Sequence[Variant], refusals: bool = True) -> list[tuple[bool, ...]]:
        """Per variant and goal: whether the fact `name` can help decide the outcome there.

        Meant for variants that give facts the value EVERY: each of their values is asserted at
        once. The program is positive, so what no combination of those values derives is not
        derived here either. A fact helps decide a goal only through the predicates it feeds:
        the out-of-scope one becoming true (or false, with the conclusion true), or the
        conclusion becoming false (a refusal whatever the open referrals) or true while the
        applicant is not sent elsewhere. False here means no answers to the EVERY facts let an
        answer to `name` decide that goal. `refusals=False` leaves out a refusal beside an open
        referral: then the conclusion decides only while the applicant is known not to be sent
        elsewhere (the stricter test for a question that has no witness).
        """
        program = self.engine.program
        cones = self.__dict__.setdefault("_cones", {})
        out = []
        for builder in self.builders(variants):
            row = []
            for conclusion, scope in self.roots:
                for root in (conclusion, scope):
                    if root and root not in cones:
                        cones[root] = set(program.reachable([root]))
                concl = _literals(builder, conclusion)
                outside = _literals(builder, scope) if scope else {False}
                via_scope = (
                    bool(scope) and name in cones[scope] and (True in outside or (False in outside and True in concl))
                )
                via_conclusion = name in cones[conclusion] and (
                    (refusals and False in concl) or (bool(concl) and False in outside)
                )
                row.append(via_scope or via_conclusion)
            out.append(tuple(row))
        return out

    def levels(self, variants: Sequence[Variant]) -> list[str]:
        """SURE, POSSIBLE or NO per variant, for the first goal."""
        return [LEVEL[o[0]] for o in self.outcomes(variants)]

    def level(self, changes: Mapping[str, Any], day: date) -> str:
        return self.levels([(changes, day)])[0]
