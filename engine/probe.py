"""What-if outcomes: many variants of one applicant for one goal, evaluated together.

Repairs and the interview ask the same question many times: what would the outcome be with a
few facts changed, forgotten (None: unknown) or at another peildatum? Each answer from pyDatalog
costs a query of about 3 ms. Here a whole list of variants is one set-at-a-time run of the same
compiled clauses (`engine.setwise`, tens of microseconds per variant; tests/test_batch.py
checks both evaluators derive the same values). Callers re-assess what they report with
`Engine.assess`, the reference.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from engine.assess import ELIGIBLE, NOT_ELIGIBLE, OUT_OF_SCOPE, UNDETERMINED, decide
from engine.facts import Applicant, engine_facts, quantity_values
from engine.proof import ProofBuilder

SURE, POSSIBLE, NO = "sure", "possible", "no"  # eligible; undetermined; not eligible or elsewhere
LEVEL = {ELIGIBLE: SURE, UNDETERMINED: POSSIBLE, NOT_ELIGIBLE: NO, OUT_OF_SCOPE: NO}

ENGINE_SCALARS = ("bool", "keuze", "tekst", "bedrag")  # asserted as given (engine.facts.engine_facts)

Variant = tuple[Mapping[str, Any], date]  # changes (None: make unknown) and the peildatum


def setwise_of(engine: Any) -> Any:
    """The engine's set-at-a-time evaluator, built on first use (as `Engine.assess_all` does)."""
    program = getattr(engine, "_setwise", None)
    if program is None:
        from engine.setwise import SetwiseProgram

        program = engine._setwise = SetwiseProgram(engine.program, engine.base_predicates)
    return program


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
    than any variant's)."""

    def __init__(self, engine: Any, applicant: Applicant, goals: str | Sequence[str]):
        kb = engine.kb
        self.goals = [goals] if isinstance(goals, str) else list(goals)
        self.engine = engine
        self.kb = kb
        self.roots = [(kb.goals[g].conclusion, kb.goals[g].out_of_scope) for g in self.goals]
        self.values = dict(applicant.values)
        self._setwise = setwise_of(engine)
        self.quantity_inputs = {i for q in kb.quantities.values() for i in q.inputs}
        self._days: dict[date, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._needed = _through_views(engine.program, [n for pair in self.roots for n in pair if n])
        self.evaluated = 0  # variants evaluated so far: what a search spent

    def _base(self, day: date) -> tuple[dict[str, Any], dict[str, Any]]:
        """The unchanged applicant's quantities and engine facts at `day`, worked out once."""
        cached = self._days.get(day)
        if cached is None:
            quantities = quantity_values(self.kb, Applicant(self.values), day)
            cached = self._days[day] = (quantities, dict(engine_facts(self.kb, Applicant(self.values), quantities)))
        return cached

    def _row(self, changes: Mapping[str, Any], day: date) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
        """The engine facts of one variant, and its inputs (facts and quantities) for a proof."""
        values = dict(self.values)
        for name, value in changes.items():
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
        if any(name in self.quantity_inputs or self.kb.facts[name].type not in ENGINE_SCALARS for name in changes):
            quantities = quantity_values(self.kb, Applicant(values), day)
            return engine_facts(self.kb, Applicant(values), quantities), {**values, **quantities}
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
        chunk = self._setwise.run(rows)
        self.evaluated += len(variants)
        wanted = self._needed if not extra else list(dict.fromkeys([*self._needed, *_through_views(self.engine.program, list(extra))]))
        return [ProofBuilder(self.engine.program, chunk.values_of(i, wanted), inputs[i]) for i in range(len(variants))]

    def outcomes(self, variants: Sequence[Variant]) -> list[tuple[str, ...]]:
        """Per variant, the outcome (engine.assess.ELIGIBLE …) of each goal."""
        out = []
        for builder in self.builders(variants):
            out.append(tuple(decide(builder.value(conclusion), builder.value(scope) if scope else False)
                             for conclusion, scope in self.roots))
        return out

    def levels(self, variants: Sequence[Variant]) -> list[str]:
        """SURE, POSSIBLE or NO per variant, for the first goal."""
        return [LEVEL[o[0]] for o in self.outcomes(variants)]

    def level(self, changes: Mapping[str, Any], day: date) -> str:
        return self.levels([(changes, day)])[0]
