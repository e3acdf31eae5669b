"""Assess an applicant for a goal: evaluate, decide the outcome, build the proof."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import coverage
from engine.cache import cached, content_key
from engine.compiler import Program, compile_knowledge_base
from engine.errors import InputError, visible
from engine.facts import Applicant, check_against_peildatum, engine_facts, quantity_values
from engine.model import KB_DIR, KnowledgeBase, load_knowledge_base
from engine.proof import CONFLICT, ProofBuilder, ProofNode, unknown_facts
from engine.tijd import add_duration

if TYPE_CHECKING:
    from engine.datalog import DatalogProgram

ASSESSMENT_SCHEMA = Path(__file__).resolve().parent / "assessment.schema.json"
PROOF_FORMAT = "verblijfsregels/assessment"
PROOF_VERSION = 1

ELIGIBLE = "eligible"
NOT_ELIGIBLE = "not_eligible"
UNDETERMINED = "undetermined"
OUT_OF_SCOPE = "out_of_scope"
ALL = "*"  # the model of every derived node
_NEW_PER_THREAD = threading.Lock()


def decide(goal_value: Any, scope_value: Any) -> str:
    """The outcome from the values of a goal's conclusion and of its out-of-scope predicate."""
    if scope_value is True:
        return OUT_OF_SCOPE
    if scope_value is False and goal_value in (True, False):
        return ELIGIBLE if goal_value else NOT_ELIGIBLE
    return UNDETERMINED


@dataclass
class Assessment:
    goal: str
    goal_label: str
    peildatum: date
    outcome: str
    proof: ProofNode
    scope: ProofNode | None
    unknown_facts: list[str]
    consequences: list[dict[str, Any]] = field(default_factory=list)
    terms: list[dict[str, Any]] = field(default_factory=list)
    fees: list[Any] = field(default_factory=list)  # engine.fees.FeeAnswer per form the route points to
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self, kb: KnowledgeBase) -> dict[str, Any]:
        return {
            "format": PROOF_FORMAT,
            "version": PROOF_VERSION,
            "goal": self.goal,
            "goal_label": self.goal_label,
            "peildatum": self.peildatum.isoformat(),
            "outcome": self.outcome,
            "unknown_facts": [
                {"fact": name, "label": kb.facts[name].label, "question": kb.facts[name].question,
                 "open_norm": kb.facts[name].open_norm}
                for name in self.unknown_facts
            ],
            "proof": self.proof.to_json(),
            "scope": self.scope.to_json() if self.scope else None,
            "consequences": self.consequences,
            "terms": [
                {**t, "start_date": t["start_date"].isoformat() if t["start_date"] else None,
                 "date": t["date"].isoformat() if t["date"] else None}
                for t in self.terms
            ],
            "fees": [f.to_json() for f in self.fees],
        }


class Engine:
    """A knowledge base compiled once, ready to assess applicants."""

    def __init__(self, kb_dir: Path = KB_DIR):
        def build() -> tuple[KnowledgeBase, Program]:
            kb = load_knowledge_base(kb_dir)
            return kb, compile_knowledge_base(kb)

        self.kb, self.program = cached(content_key(kb_dir), build)
        self.kb_dir = kb_dir
        models = {}
        for goal in self.kb.goals.values():
            roots = [goal.conclusion] + ([goal.out_of_scope] if goal.out_of_scope else [])
            roots += [r.conclusion for r in self.kb.rules.values()
                      if r.kind in ("gevolg", "termijn") and r.conclusion and goal.id in r.goals]
            # inputs are known without asking the engine; the model holds what it derives
            models[goal.id] = [n for n in self.program.reachable(roots)
                               if self.program.nodes[n].kind not in ("fact", "quantity")
                               and not self.program.nodes[n].view]
        for number in self.kb.forms:
            roots = [self.program.fee_nodes[f.id] for f in self.kb.fee_rules.values()
                     if f.form == number and f.id in self.program.fee_nodes]
            models[f"form_{number}"] = [n for n in self.program.reachable(roots)
                                        if self.program.nodes[n].kind not in ("fact", "quantity")
                                        and not self.program.nodes[n].view]
        self.models = models
        self._setwise: Any = None
        self.base_predicates = sorted(set(self.kb.facts) | set(self.kb.quantities))
        self._datalogs = threading.local()

    def _consequences_and_terms(self, goal: str) -> tuple[list[Any], list[Any]]:
        """A goal's consequence and term rules in declaration order, listed once per engine."""
        table = getattr(self, "_goal_rules", None)  # subclasses (engine.mutation) skip __init__
        if table is None:
            rules = list(self.kb.rules.values())
            table = {g: ([r for r in rules if r.kind == "gevolg" and g in r.goals],
                         [r for r in rules if r.kind == "termijn" and g in r.goals])
                     for g in self.kb.goals}
            self._goal_rules = table
        return table[goal]

    @property
    def datalog(self) -> DatalogProgram:
        """This thread's pyDatalog program, loaded on its first use in the thread (an overview with
        the setwise backend needs none).

        One per thread: threads that shared one would see each other's applicants' facts
        (engine/datalog.py says how). Building one takes about 10 ms.
        """
        local = self.__dict__.get("_datalogs")
        if local is None:  # subclasses (engine.mutation) skip __init__
            with _NEW_PER_THREAD:
                local = self.__dict__.setdefault("_datalogs", threading.local())
        program = getattr(local, "program", None)
        if program is None:
            from engine.datalog import DatalogProgram  # imports pyDatalog: an overview needs neither

            program = local.program = DatalogProgram(self.program.clauses, self.models, self.base_predicates)
        return program

    def evaluate(self, applicant: Applicant, model: str, peildatum: date) -> ProofBuilder:
        """Derive every node of one model (a goal, or `form_N`) for one applicant."""
        check_against_peildatum(applicant, peildatum)
        quantities = quantity_values(self.kb, applicant, peildatum)
        values = self.datalog.evaluate(engine_facts(self.kb, applicant, quantities), model)
        builder = ProofBuilder(self.program, values, {**applicant.values, **quantities})
        if coverage.recorder is not None:  # rule coverage, only when asked for (engine/coverage.py)
            coverage.recorder.record(self, model, builder)
        return builder

    def assess_all(self, applicant: Applicant, peildatum: date, precedence: list[str] | None = None,
                   goals: list[str] | None = None, backend: str = "setwise") -> list[Assessment]:
        """Every goal (or the given ones) from a single evaluation of the whole program.

        `backend` "setwise" evaluates the compiled clauses with engine.setwise (a fraction of a
        millisecond); "datalog" asks pyDatalog, the reference. tests/test_batch.py checks that
        both derive the same value for every node on 2,000 generated applicants (in CI).
        """
        values, inputs = self._evaluate_all(applicant, peildatum, backend)
        return [self.assess(applicant, goal, peildatum, precedence, values, inputs, backend)
                for goal in goals or sorted(self.kb.goals)]

    def _evaluate_all(self, applicant: Applicant, peildatum: date, backend: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The value of every derived node and the inputs (facts, quantities), from one evaluation."""
        derived = [n for n, node in self.program.nodes.items() if node.kind not in ("fact", "quantity") and not node.view]
        if backend == "datalog":
            if not self.datalog.has_model(ALL):  # built on first use: a single-goal cold start does without
                self.datalog.add_model(ALL, derived)
            builder = self.evaluate(applicant, ALL, peildatum)
            return builder.values, builder.inputs
        if self._setwise is None:
            from engine.setwise import SetwiseProgram

            self._setwise = SetwiseProgram(self.program, self.base_predicates)
        check_against_peildatum(applicant, peildatum)
        quantities = quantity_values(self.kb, applicant, peildatum)
        values = self._setwise.run([engine_facts(self.kb, applicant, quantities)]).values_of(0, derived)
        inputs = {**applicant.values, **quantities}
        if coverage.recorder is not None:  # rule coverage, only when asked for (engine/coverage.py)
            coverage.recorder.record(self, ALL, ProofBuilder(self.program, values, inputs))
        return values, inputs

    def assess(self, applicant: Applicant, goal: str, peildatum: date,
               precedence: list[str] | None = None, values: dict[str, set[Any]] | None = None,
               inputs: dict[str, Any] | None = None, backend: str = "setwise",
               every_failure: bool = False) -> Assessment:
        """One goal; `values` (from evaluating the model ALL with `backend`) saves evaluating the
        goal's own, and `inputs` (the applicant's facts with the quantities at the peildatum, never
        changed here) saves working the quantities out again per goal. `every_failure` (why-not)
        makes the proof show every condition that is not met on every route, also where the
        outcome is open.

        The fees are those of the forms the goal's consequences point to, for the application as
        the goal describes it (`engine.fees.goal_applicant`): the answer `fees --goal` gives."""
        kb = self.kb
        if goal not in kb.goals:
            raise InputError("--goal", f"onbekend doel '{visible(goal)}'; toegestaan: {', '.join(sorted(kb.goals))}")
        if values is None:
            builder = self.evaluate(applicant, goal, peildatum)
        else:
            if inputs is None:
                inputs = {**applicant.values, **quantity_values(kb, applicant, peildatum)}
            builder = ProofBuilder(self.program, values, inputs)
        builder.every_failure = every_failure
        spec = kb.goals[goal]
        proof = builder.build(spec.conclusion)
        scope = builder.build(spec.out_of_scope) if spec.out_of_scope else None
        goal_value = builder.value(spec.conclusion)
        scope_value = builder.value(spec.out_of_scope) if spec.out_of_scope else False

        unknown: list[str] = []
        outcome = decide(goal_value, scope_value)
        if outcome == UNDETERMINED:
            parts = (proof, scope)
            if every_failure:  # the deciding facts are those of the proof assess shows
                builder.every_failure = False
                parts = (builder.build(spec.conclusion), builder.build(spec.out_of_scope) if spec.out_of_scope else None)
                builder.every_failure = True
            for part in parts:
                if part is not None and part.value in (None, CONFLICT):
                    unknown.extend(n for n in unknown_facts(part) if n not in unknown)

        consequences = []
        gevolgen, termijnen = self._consequences_and_terms(goal)
        for r in gevolgen:
            applies = builder.value(r.conclusion) if r.conclusion else True
            if applies is False:
                continue
            consequences.append({
                "rule_id": r.id, "label": r.label, "source": {"file": r.source.file, "quote": r.source.quote},
                "explanation": r.explanation, "form": r.form, "applies": applies,
                "proof": builder.build(r.conclusion).to_json() if r.conclusion else None,
            })
        terms = []
        for r in termijnen:
            if r.conclusion and builder.value(r.conclusion) is False:
                continue
            start = builder.inputs.get(r.start)
            unit, amount = r.duration
            try:
                end = add_duration(start, unit, amount) if start else None
            except OverflowError:
                raise InputError(r.start, f"de termijn {r.id} ({amount} {unit}) vanaf deze datum eindigt na "
                                          "31 december 9999, buiten de kalender") from None
            terms.append({
                "rule_id": r.id, "label": r.label,
                "source": {"file": r.source.file, "quote": r.source.quote}, "explanation": r.explanation,
                "start": r.start, "start_label": kb.label_of(r.start), "start_date": start,
                "duration": {unit: amount}, "date": end,
            })
        fees = []
        if outcome in (ELIGIBLE, UNDETERMINED):
            fees = self.goal_fees(applicant, goal, [c["form"] for c in consequences if c["form"]], peildatum,
                                  precedence, values, builder.inputs, backend)
        return Assessment(
            goal=goal,
            goal_label=spec.label,
            peildatum=peildatum,
            outcome=outcome,
            proof=proof,
            scope=scope,
            unknown_facts=unknown,
            consequences=consequences,
            terms=terms,
            fees=fees,
            facts=dict(applicant.values),
        )

    def goal_fees(self, applicant: Applicant, goal: str, forms: list[str], peildatum: date,
                  precedence: list[str] | None = None, values: dict[str, set[Any]] | None = None,
                  inputs: dict[str, Any] | None = None, backend: str = "setwise", reductions: bool = False) -> list[Any]:
        """The fee of each form (once, in order) for an application for `goal`.

        What applying for the goal says about the application fills facts the applicant left open
        (`aanvraag_voor_doel`); then the node values are worked out again for that applicant, with
        the same backend as `values` came from (an overview never loads pyDatalog).
        """
        from engine.fees import fees_for, goal_applicant

        fee_applicant, assumptions = goal_applicant(self.kb, applicant, goal)
        if fee_applicant is not applicant:
            values, inputs = self._evaluate_all(fee_applicant, peildatum, backend) if values is not None else (None, None)
        return [fees_for(self, fee_applicant, number, peildatum, precedence, values, inputs, reductions, assumptions)
                for number in dict.fromkeys(forms) if number in self.kb.forms]
