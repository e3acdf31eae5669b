"""Assess an applicant for a goal: evaluate, decide the outcome, build the proof."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

from engine.answer.proof import CONFLICT, ProofBuilder, ProofNode, unknown_facts
from engine.applicant.facts import Applicant, engine_input_names
from engine.applicant.pipeline import Inputs, evaluator_inputs
from engine.errors import InputError, visible
from engine.evaluate import EvaluatorFactory
from engine.evaluate.setwise import SetwiseEvaluator
from engine.rules.cache import cached, content_key
from engine.rules.compiler import Program, compile_knowledge_base
from engine.rules.declarations import KB_DIR, KnowledgeBase
from engine.tijd import add_duration

ASSESSMENT_SCHEMA = Path(__file__).resolve().parent / "assessment.schema.json"
PROOF_FORMAT = "verblijfsregels/assessment"
PROOF_VERSION = 3  # 3: kb_version, the rule base that produced it; 2: `elsewhere_if`, not_eligible whatever the scope when every route fails; a disagreement
# that a precedence decides follows the source that goes first

ELIGIBLE = "eligible"
NOT_ELIGIBLE = "not_eligible"
UNDETERMINED = "undetermined"
OUT_OF_SCOPE = "out_of_scope"
ALL = "*"  # the model of every derived node


def decide(goal_value: Any, scope_value: Any) -> str:
    """The outcome from the values of a goal's conclusion and of its out-of-scope predicate.

    A referral that holds decides (the sources send the applicant elsewhere). Otherwise a route
    that fails is a refusal whatever the referrals turn out to be: an open scope never turns it
    into "undetermined" (the answer names the referrals that may still apply, `elsewhere_if`).
    Eligible needs the routes to hold and the referrals to be known not to apply."""
    if scope_value is True:
        return OUT_OF_SCOPE
    if goal_value is False:
        return NOT_ELIGIBLE
    if goal_value is True and scope_value is False:
        return ELIGIBLE
    return UNDETERMINED


def open_referrals(scope: ProofNode | None) -> list[dict[str, Any]]:
    """The declared referrals of a goal (the rules concluding its `buiten_bereik`) that may still
    send the applicant elsewhere: neither known to apply nor known not to. Each with its source
    and the unknown facts that decide it, in the order of the proof."""
    if scope is None or scope.value is True or scope.value is False:
        return []
    rules = [scope] if scope.rule_id else [c for c in scope.children if c.rule_id]
    return [
        {
            "rule_id": n.rule_id,
            "label": n.label,
            "source": dict(n.source) if n.source else None,
            "reference": n.detail.get("reference", ""),
            "unknown_facts": unknown_facts(n),
        }
        for n in rules
        if n.value is not False
    ]


@dataclass
class Assessment:
    """The answer for one goal: the outcome, its proof, and what the answer shows beside it."""

    goal: str
    goal_label: str
    peildatum: date
    outcome: str
    proof: ProofNode
    scope: ProofNode | None
    unknown_facts: list[str]
    # the referrals that may still apply (`open_referrals`): with a route that holds, the "unless"
    # of an undetermined outcome; with every route failing, a note beside the refusal
    elsewhere_if: list[dict[str, Any]] = field(default_factory=list)
    exceptions_applied: list[ProofNode] = field(default_factory=list)
    consequences: list[dict[str, Any]] = field(default_factory=list)
    terms: list[dict[str, Any]] = field(default_factory=list)
    fees: list[Any] = field(default_factory=list)  # engine.answer.fees.FeeAnswer per form the route points to
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self, kb: KnowledgeBase) -> dict[str, Any]:
        return {
            "format": PROOF_FORMAT,
            "version": PROOF_VERSION,
            "kb_version": kb.version,
            "goal": self.goal,
            "goal_label": self.goal_label,
            "peildatum": self.peildatum.isoformat(),
            "outcome": self.outcome,
            "unknown_facts": [
                {
                    "fact": name,
                    "label": kb.facts[name].label,
                    "question": kb.facts[name].question,
                    "open_norm": kb.facts[name].open_norm,
                }
                for name in self.unknown_facts
            ],
            "elsewhere_if": [
                {**r, "unknown_facts": [{"fact": n, "label": kb.facts[n].label} for n in r["unknown_facts"]]}
                for r in self.elsewhere_if
            ],
            "proof": self.proof.to_json(),
            "scope": self.scope.to_json() if self.scope else None,
            "exceptions_applied": [e.to_json() for e in self.exceptions_applied],
            "consequences": self.consequences,
            "terms": [
                {
                    **t,
                    "start_date": t["start_date"].isoformat() if t["start_date"] else None,
                    "date": t["date"].isoformat() if t["date"] else None,
                }
                for t in self.terms
            ],
            "fees": [f.to_json() for f in self.fees],
        }


class _Models(Mapping):
    """The derived nodes of each model of an engine: ALL, each goal, each form (`form_N`), in that
    order. A model's nodes are worked out when it is first asked for: a cold `assess --goal` reads
    one of them, and working out the sixty-odd takes longer than that whole assessment."""

    INPUTS = ("fact", "quantity")  # known without asking the evaluator: in no model

    def __init__(self, engine: Engine):
        self.kb, self.program = engine.kb, engine.program
        # what each model is of (no functions: an engine is pickled to worker processes)
        self.of: dict[str, tuple[str, str]] = {goal: ("goal", goal) for goal in engine.kb.goals}
        self.of.update((f"form_{number}", ("form", number)) for number in engine.kb.forms)
        self.made: dict[str, tuple[str, ...]] = {ALL: engine.derived}

    def _roots(self, name: str) -> list[str]:
        kind, key = self.of[name]  # KeyError: no such model
        if kind == "form":
            return self.program.fee_roots(key)
        goal = self.kb.goals[key]
        roots = [goal.conclusion] + ([goal.out_of_scope] if goal.out_of_scope else [])
        return roots + [
            r.conclusion
            for r in self.kb.rules.values()
            if r.kind in ("gevolg", "termijn") and r.conclusion and key in r.goals
        ]

    def __getitem__(self, name: str) -> tuple[str, ...]:
        found = self.made.get(name)
        if found is None:
            roots = self._roots(name)
            nodes = self.program.nodes
            found = self.made[name] = tuple(
                n for n in self.program.reachable(roots) if nodes[n].kind not in self.INPUTS and not nodes[n].view
            )
        return found

    def __iter__(self) -> Iterator[str]:
        yield ALL
        yield from self.of

    def __len__(self) -> int:
        return 1 + len(self.of)


class Engine:
    """A knowledge base compiled once, with the evaluator that answers for it.

    The evaluator is chosen here, once (`engine.evaluate`): the set-at-a-time one by default, a
    fraction of a millisecond per applicant and no pyDatalog to load; `DatalogEvaluator`, the
    reference, where a caller asks for it (`assess --backend datalog`, the audit's cross-check).
    Both derive the same value for every node (tests/test_batch.py, 2,000 generated applicants).
    `cache=False` neither reads nor writes the compiled knowledge base cache (mutants).
    """

    def __init__(self, kb_dir: Path = KB_DIR, evaluator: EvaluatorFactory | None = None, cache: bool = True):
        def build() -> tuple[KnowledgeBase, Program]:
            from engine.rules.model import load_knowledge_base  # only where the cache has no answer

            kb = load_knowledge_base(kb_dir)
            return kb, compile_knowledge_base(kb)

        key = content_key(kb_dir)
        self.kb, self.program = cached(key, build) if cache else build()
        self.kb.version = self.kb_version = key  # what produced an answer, in every JSON output
        self.kb.directory = Path(kb_dir)  # a cached base may have been built from a copy elsewhere
        self.kb_dir = kb_dir
        self.order: list[str] = []  # the user's order of sources the program was compiled with
        inputs = ("fact", "quantity")
        # inputs are known without asking the evaluator; a model holds what it derives
        self.derived = tuple(n for n, node in self.program.nodes.items() if node.kind not in inputs and not node.view)
        self.models = _Models(self)
        self.base_predicates = sorted(set(self.kb.facts) | set(self.kb.quantities))
        self.input_names = engine_input_names(self.kb)
        self._goal_rules: dict[str, tuple[list[Any], list[Any]]] = {}
        self.evaluator_factory: EvaluatorFactory = evaluator or SetwiseEvaluator
        self._evaluator: Any = None
        self._model_evaluators: dict[str, Any] = {}

    @property
    def evaluator(self) -> Any:
        """The evaluator of the whole program, made when first asked for: one goal needs only its
        own clauses (`_evaluator_of`), and a cold `assess --goal` never makes this one."""
        if self._evaluator is None:
            self._evaluator = self.evaluator_factory(self.program, self.base_predicates, self.input_names)
        return self._evaluator

    @evaluator.setter
    def evaluator(self, value: Any) -> None:
        self._evaluator = value
        self._model_evaluators = {}

    def _evaluator_of(self, model: str) -> Any:
        """An evaluator of only the clauses a model's nodes depend on (for a goal about a fifth of
        the program; the values of those nodes are the same), made once per model; ALL, and a
        model whose evaluator of the whole program exists already, use that one."""
        if model == ALL or self._evaluator is not None:
            return self.evaluator
        found = self._model_evaluators.get(model)
        if found is None:
            program = self.program.restricted_to(self.models[model])
            found = self._model_evaluators[model] = self.evaluator_factory(
                program, self.base_predicates, self.input_names
            )
        return found

    def governing(self, order: list[str] | None = None) -> dict[str, str | None]:
        """Per source disagreement, the rule whose source goes first under `order` (else declared)."""
        return {
            d.id: (g[0] if (g := self.kb.governing(d, order or ())) else None) for d in self.kb.disagreements.values()
        }

    def with_precedence(self, order: list[str] | None) -> Engine:
        """This knowledge base with the user's order of sources (`--voorrang`) before the declared
        precedence: compiled again only where that order changes which source decides a
        disagreement, so the clauses every evaluator runs carry it."""
        if not order or self.governing(order) == self.governing(self.order):
            return self
        other = copy.copy(self)
        other.order = list(order)
        other.program = compile_knowledge_base(self.kb, order)
        other.evaluator = None  # made for the new program when asked for
        return other

    def with_evaluator(self, evaluator: EvaluatorFactory) -> Engine:
        """This knowledge base, answered by another evaluator (made when first needed, then shared)."""
        other = copy.copy(self)
        other.evaluator_factory = evaluator
        other.evaluator = None  # made when asked for; one goal loads only its own clauses
        return other

    def inputs(self, applicant: Applicant | Any, peildatum: date, **options: Any) -> tuple[Applicant, Inputs]:
        """`engine.applicant.pipeline.evaluator_inputs` for this knowledge base."""
        return evaluator_inputs(self.kb, applicant, peildatum, **options)

    def evaluate(self, applicant: Applicant, model: str, peildatum: date) -> ProofBuilder:
        """Derive every node of one model (a goal, `form_N`, or ALL) for one applicant."""
        _, inputs = evaluator_inputs(self.kb, applicant, peildatum)
        return self.evaluate_inputs(inputs, model)

    def evaluate_inputs(self, inputs: Inputs, model: str) -> ProofBuilder:
        """One applicant's inputs (`engine.applicant.pipeline.evaluator_inputs`) evaluated for one model.

        Every path that evaluates one applicant at a time comes here, so the observers (rule
        coverage) see them all. Batch runs and what-if probes evaluate many at once and are left
        out: what a probe finds is re-assessed here before it is shown, and batch is checked
        against this path by tests/test_batch.py.
        """
        nodes = self.models[model]
        values = self._evaluator_of(model).run([inputs], nodes).values_of(0, nodes)
        builder = ProofBuilder(self.program, values, inputs)
        for observe in EVALUATION_OBSERVERS:
            observe(self, model, builder)
        return builder

    def _consequences_and_terms(self, goal: str) -> tuple[list[Any], list[Any]]:
        """A goal's consequence and term rules in declaration order (found when first asked for)."""
        found = self._goal_rules.get(goal)
        if found is None:
            rules = self.kb.rules.values()
            found = self._goal_rules[goal] = (
                [r for r in rules if r.kind == "gevolg" and goal in r.goals],
                [r for r in rules if r.kind == "termijn" and goal in r.goals],
            )
        return found

    def assess_all(
        self, applicant: Applicant, peildatum: date, precedence: list[str] | None = None, goals: list[str] | None = None
    ) -> list[Assessment]:
        """Every goal (or the given ones) from a single evaluation of the whole program."""
        other = self.with_precedence(precedence)
        if other is not self:
            return other.assess_all(applicant, peildatum, precedence, goals)
        _, inputs = evaluator_inputs(self.kb, applicant, peildatum)
        values = self.evaluate_inputs(inputs, ALL).values
        return [
            self.assess(applicant, goal, peildatum, precedence, values, inputs)
            for goal in goals or sorted(self.kb.goals)
        ]

    def assess(
        self,
        applicant: Applicant,
        goal: str,
        peildatum: date,
        precedence: list[str] | None = None,
        values: dict[str, set[Any]] | None = None,
        inputs: dict[str, Any] | None = None,
        every_failure: bool = False,
    ) -> Assessment:
        """One goal; `values` (from evaluating the model ALL) saves evaluating the
        goal's own, and `inputs` (the applicant's facts with the quantities at the peildatum, never
        changed here) saves working the quantities out again per goal. `every_failure` (why-not)
        makes the proof show every condition that is not met on every route, also where the
        outcome is open.

        The fees are those of the forms the goal's consequences point to, for the application as
        the goal describes it (`engine.answer.fees.goal_applicant`): the answer `fees --goal` gives."""
        kb = self.kb
        if values is None and (other := self.with_precedence(precedence)) is not self:
            return other.assess(applicant, goal, peildatum, precedence, None, inputs, every_failure)
        if goal not in kb.goals:
            raise InputError("--goal", f"onbekend doel '{visible(goal)}'; toegestaan: {', '.join(sorted(kb.goals))}")
        if values is None:
            builder = self.evaluate(applicant, goal, peildatum)
        else:
            if inputs is None:
                _, inputs = evaluator_inputs(kb, applicant, peildatum, checked=False)
            builder = ProofBuilder(self.program, values, inputs)
        builder.every_failure = every_failure
        spec = kb.goals[goal]
        proof = builder.build(spec.conclusion)
        scope = builder.build(spec.out_of_scope) if spec.out_of_scope else None
        goal_value = builder.value(spec.conclusion)
        scope_value = builder.value(spec.out_of_scope) if spec.out_of_scope else False

        # built after the proofs: `build` starts each proof afresh
        exceptions_applied = builder.applied_exceptions([spec.conclusion, spec.out_of_scope])
        unknown: list[str] = []
        outcome = decide(goal_value, scope_value)
        parts = (proof, scope)
        if every_failure and outcome in (UNDETERMINED, NOT_ELIGIBLE):
            # the deciding facts and open referrals are those of the proof assess shows
            builder.every_failure = False
            parts = (
                builder.build(spec.conclusion),
                builder.build(spec.out_of_scope) if spec.out_of_scope else None,
            )
            builder.every_failure = True
        if outcome == UNDETERMINED:
            for part in parts:
                if part is not None and part.value in (None, CONFLICT):
                    unknown.extend(n for n in unknown_facts(part) if n not in unknown)

        consequences = []
        gevolgen, termijnen = self._consequences_and_terms(goal)
        for r in gevolgen:
            applies = builder.value(r.conclusion) if r.conclusion else True
            if applies is False:
                continue
            consequences.append(
                {
                    "rule_id": r.id,
                    "label": r.label,
                    "source": {"file": r.source.file, "quote": r.source.quote},
                    "explanation": r.explanation,
                    "form": r.form,
                    "applies": applies,
                    "proof": builder.build(r.conclusion).to_json() if r.conclusion else None,
                }
            )
        terms = []
        for r in termijnen:
            if r.conclusion and builder.value(r.conclusion) is False:
                continue
            start = builder.inputs.get(r.start)
            unit, amount = r.duration
            try:
                end = add_duration(start, unit, amount) if start else None
            except OverflowError:
                raise InputError(
                    r.start,
                    f"de termijn {r.id} ({amount} {unit}) vanaf deze datum eindigt na "
                    "31 december 9999, buiten de kalender",
                ) from None
            terms.append(
                {
                    "rule_id": r.id,
                    "label": r.label,
                    "source": {"file": r.source.file, "quote": r.source.quote},
                    "explanation": r.explanation,
                    "start": r.start,
                    "start_label": kb.label_of(r.start),
                    "start_date": start,
                    "duration": {unit: amount},
                    "date": end,
                }
            )
        fees = []
        if outcome in (ELIGIBLE, UNDETERMINED):
            fees = self.goal_fees(
                applicant,
                goal,
                [c["form"] for c in consequences if c["form"]],
                peildatum,
                precedence,
                values,
                builder.inputs,
            )
        return Assessment(
            goal=goal,
            goal_label=spec.label,
            peildatum=peildatum,
            outcome=outcome,
            proof=proof,
            scope=scope,
            unknown_facts=unknown,
            elsewhere_if=open_referrals(parts[1]) if outcome in (NOT_ELIGIBLE, UNDETERMINED) else [],
            exceptions_applied=exceptions_applied,
            consequences=consequences,
            terms=terms,
            fees=fees,
            facts=dict(applicant.values),
        )

    def goal_fees(
        self,
        applicant: Applicant,
        goal: str,
        forms: list[str],
        peildatum: date,
        precedence: list[str] | None = None,
        values: dict[str, set[Any]] | None = None,
        inputs: dict[str, Any] | None = None,
        reductions: bool = False,
    ) -> list[Any]:
        """The fee of each form (once, in order) for an application for `goal`.

        What applying for the goal says about the application fills facts the applicant left open
        (`aanvraag_voor_doel`); then the node values are worked out again for that applicant.
        """
        from engine.answer.fees import fees_for, goal_applicant

        fee_applicant, assumptions = goal_applicant(self.kb, applicant, goal)
        if fee_applicant is not applicant:
            if values is not None:
                _, inputs = evaluator_inputs(self.kb, fee_applicant, peildatum)
                values = self.evaluate_inputs(inputs, ALL).values
            else:
                inputs = None
        return [
            fees_for(self, fee_applicant, number, peildatum, precedence, values, inputs, reductions, assumptions)
            for number in dict.fromkeys(forms)
            if number in self.kb.forms
        ]


# Observers of every evaluation of one applicant: rule coverage (engine/checks/coverage.py) adds itself
# when it is loaded, which only the tools that record it do (cli.py, tests/conftest.py); what answers
# never loads it, so normally this stays empty.
EVALUATION_OBSERVERS: list[Callable[[Engine, str, ProofBuilder], None]] = []
