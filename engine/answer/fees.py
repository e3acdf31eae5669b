"""Fees (leges): which amount a form costs for an applicant, per source, with every exception.

Each source states its own fee tree for a form: a base amount and exceptions that override the
rule they name (and may themselves be overridden). The compiled program derives which rules of
the tree decide (`engine.rules.compiler.FeeChoice`: every evaluator, the audit and batch read the
same nodes); here that is only shown. Where two
exceptions of one source both apply and lead to different amounts, the source does not say which
one holds: the answer shows every amount with its quote and picks none, unless the knowledge base
declares that one goes first (`gaat_voor`, with a cited reason), and then the answer says so. The
order in which exceptions are declared never decides. An exception whose applicability is unknown
becomes an alternative ("kan ... zijn als ...").

Where sources give different amounts the answer shows all of them; a precedence the user sets
picks one, and the answer says that it did. A range a source states (G9) that an amount falls
outside of is a disagreement too: it is shown, and set aside only where the knowledge base says
why (`verouderd`). An exception that does not apply only because of facts the applicant can still
change (`wijzigbaar`, such as sending a document) is named as a reduction within reach, with the
smallest verified set of changes that brings it about.

Asked for a goal, the fee uses what applying for that goal says about the application
(`aanvraag_voor_doel`, e.g. an application for a violence victim's permit is one after violence)
where the applicant left that fact open; a value the applicant gave stays, and the answer says
that it differs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from engine.answer.proof import ProofBuilder, open_disagreements, unknown_facts
from engine.applicant.facts import Applicant
from engine.errors import InputError, visible
from engine.rules.compiler import FeeChoice, Program
from engine.rules.declarations import FeeRule, KnowledgeBase

FEES_FORMAT = "verblijfsregels/fees"
FEES_VERSION = 4  # 4: kb_version; `fees --goal` is one document with `forms`, also when the sources name none; 3: precedence.set_by and .declared; applied also by the declared precedence


def _prefix(source_file: str) -> str:
    return source_file.split("_", 1)[0]


def fee_source_files(kb: KnowledgeBase) -> list[str]:
    """The seed files fees cite: the sources --voorrang may name (by file name or three-digit number)."""
    files = {f.source.file for f in kb.fee_rules.values()} | {r.source.file for r in kb.fee_ranges.values()}
    files |= {v.source.file for p in kb.parameters.values() for v in p.values}
    return sorted(files)


def precedence_source_files(kb: KnowledgeBase) -> list[str]:
    """The sources --voorrang may name: those fees cite and those of every source disagreement."""
    files = set(fee_source_files(kb))
    files |= {kb.rules[r].source.file for d in kb.disagreements.values() for r in d.rule_ids}
    return sorted(files)


@dataclass
class SourceFee:
    """What one source states a form costs in the applicant's situation, and which fee rules decide it."""

    source_file: str
    amount: int | None  # euro cents; None where no value is in force, or the source states several and not which
    decided_by: list[dict[str, Any]]  # the chain of fee rules from the base to the one that decided
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    # the source states more than one amount for this situation and does not say which applies:
    # {"at": rule id where the exceptions part, "branches": [{"amount", "decided_by": [rules below "at"]}]}
    conflict: dict[str, Any] | None = None
    # exceptions set aside because the knowledge base declares that another goes first (`gaat_voor`)
    declared_precedence: list[dict[str, Any]] = field(default_factory=list)
    applies: bool | None = True  # None: the source speaks about a situation not yet known to be this one
    unknown_facts: list[str] = field(default_factory=list)
    reductions: list[dict[str, Any]] = field(default_factory=list)  # lower amounts the applicant can still reach

    @property
    def stated_amounts(self) -> list[int | None]:
        """Every amount this source states for the situation, also those a declared precedence set aside."""
        found = {self.amount} if self.conflict is None else {b["amount"] for b in self.conflict["branches"]}
        found |= {o["amount"] for p in self.declared_precedence for o in p["over"]}
        return sorted(found, key=lambda a: (a is None, a))

    def to_json(self) -> dict[str, Any]:
        return {
            "source_file": self.source_file,
            "applies": self.applies,
            "unknown_facts": self.unknown_facts,
            "amount": self.amount,
            "stated_amounts": self.stated_amounts,
            "decided_by": self.decided_by,
            "conflict": self.conflict,
            "declared_precedence": self.declared_precedence,
            "alternatives": self.alternatives,
            "reductions": self.reductions,
        }


@dataclass
class FeeAnswer:
    """The fee of one form at a peildatum: per source, and the source followed where they differ."""

    form: str
    form_label: str
    peildatum: date
    per_source: list[SourceFee]
    precedence: list[str]
    chosen_source: str | None
    ranges: list[dict[str, Any]]
    assumptions: list[dict[str, Any]] = field(default_factory=list)
    # set where no --voorrang was given and the knowledge base's declared precedence (`voorrang`)
    # chose `chosen_source`: {declaration, reason, sources}
    declaration: dict[str, Any] | None = None
    kb_version: str = ""  # the rule base that produced it (KnowledgeBase.version)

    @property
    def applicable(self) -> list[SourceFee]:
        return [s for s in self.per_source if s.applies is True]

    @property
    def amounts(self) -> list[int | None]:
        """Every amount the applicable sources state for this situation."""
        return sorted({a for s in self.applicable for a in s.stated_amounts}, key=lambda a: (a is None, a))

    @property
    def open_alternatives(self) -> list[int | None]:
        """The other amounts the fee may turn out to be, depending on facts still unknown: the amount
        of every exception of an applicable source whose applicability is unknown, once each, sorted
        (what `assess` shows as "kan anders zijn"); empty when nothing unknown can change it."""
        return sorted({a["amount"] for s in self.applicable for a in s.alternatives}, key=lambda a: (a is None, a))

    @property
    def agreed(self) -> bool:
        """Every stated amount and range agrees: one amount, no source that states two, no range it falls outside."""
        return len(self.amounts) == 1 and not self.ranges

    @property
    def amount(self) -> int | None:
        if self.chosen_source is not None:
            return next(s.amount for s in self.per_source if s.source_file == self.chosen_source)
        return _settled(self.applicable, self.ranges)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FEES_FORMAT,
            "version": FEES_VERSION,
            "kb_version": self.kb_version,
            "form": self.form,
            "form_label": self.form_label,
            "peildatum": self.peildatum.isoformat(),
            "amount": self.amount,
            "sources_agree": self.agreed,
            "precedence": {
                "order": self.precedence,
                "applied": self.chosen_source is not None,
                "chosen_source": self.chosen_source,
                "set_by": None if self.chosen_source is None else ("kennisbank" if self.declaration else "voorrang"),
                "declared": self.declaration,
            },
            "per_source": [s.to_json() for s in self.per_source],
            "range_notes": self.ranges,
            "assumptions": self.assumptions,
        }


def _settled(applicable: list[SourceFee], ranges: list[dict[str, Any]]) -> int | None:
    """The amount where nothing stated is left open: every applicable source states the same single
    amount, and no range it falls outside of stands (one the knowledge base declares outdated does not)."""
    if any(s.conflict is not None for s in applicable) or any(r["outdated"] is None for r in ranges):
        return None
    amounts = {s.amount for s in applicable}
    return amounts.pop() if len(amounts) == 1 else None


def _rule_json(fee: FeeRule, kb: KnowledgeBase, peildatum: date) -> dict[str, Any]:
    value = kb.parameters[fee.parameter].at(peildatum)
    return {
        "rule_id": fee.id,
        "label": fee.label,
        "source": {"file": fee.source.file, "quote": fee.source.quote},
        "parameter": fee.parameter,
        "amount": value.value if value else None,
        "amount_source": {"file": value.source.file, "quote": value.source.quote} if value else None,
        "explanation": fee.explanation,
    }


def _reason_json(reason: Any) -> dict[str, Any]:
    return {"reason": reason.text, "source": {"file": reason.source.file, "quote": reason.source.quote}}


class FeeCalculator:
    """The fee answer from node values: which fee rule decides is compiled (`FeeChoice` in
    `engine.rules.compiler`), so every evaluator derives it; here it is only read and shown."""

    def __init__(self, kb: KnowledgeBase, program: Program):
        self.kb = kb
        self.fee_nodes = program.fee_nodes
        self.roots: dict[str, list[FeeRule]] = {}
        self.tree: dict[str, list[FeeChoice]] = {}  # base rule -> its source's rules, in preorder
        for choice in program.fee_choice.values():
            self.tree.setdefault(choice.root, []).append(choice)
        for fee in kb.fee_rules.values():
            if not fee.exception_to:
                self.roots.setdefault(fee.form, []).append(fee)

    def answer(self, builder: ProofBuilder, form: str, peildatum: date, precedence: list[str]) -> FeeAnswer:
        return self.answer_from(builder.value, builder.build, form, peildatum, precedence)

    def answer_from(
        self,
        value: Callable[[str], Any],
        build: Callable[[str], Any] | None,
        form: str,
        peildatum: date,
        precedence: list[str],
    ) -> FeeAnswer:
        """The answer from node values alone; `build` (a proof builder) names unknown facts.

        Without `build` (batch runs) alternatives and unknown facts are left empty: the amounts
        and who decided them are the same.
        """
        kb = self.kb
        if form not in kb.forms:
            raise InputError(
                "--form", f"onbekend formulier '{visible(form)}'; toegestaan: {', '.join(sorted(kb.forms))}"
            )
        per_source = []
        for root in self.roots.get(form, []):
            # a source may speak only about one situation (002: victims of violence)
            applies = value(self.fee_nodes[root.id]) if root.id in self.fee_nodes else True
            if applies is False:
                continue
            fee = self._walk(value, build, root, peildatum)
            if applies is not True:
                fee.applies = None
                if build is not None:
                    fee.unknown_facts = unknown_facts(build(self.fee_nodes[root.id]))
            per_source.append(fee)
        per_source.sort(key=lambda s: s.source_file)
        ranges = []
        for fee_range in kb.fee_ranges.values():
            outside = [
                s.source_file
                for s in per_source
                if any(a is not None and not fee_range.minimum <= a <= fee_range.maximum for a in s.stated_amounts)
            ]
            if outside:
                ranges.append(
                    {
                        "rule_id": fee_range.id,
                        "label": fee_range.label,
                        "minimum": fee_range.minimum,
                        "maximum": fee_range.maximum,
                        "outside_for": outside,
                        "source": {"file": fee_range.source.file, "quote": fee_range.source.quote},
                        "outdated": _reason_json(fee_range.outdated) if fee_range.outdated else None,
                    }
                )
        applicable = [s for s in per_source if s.applies is True]
        chosen = self._chosen_source(applicable, ranges, precedence)
        declaration = None
        if chosen is None and not precedence:
            chosen, declaration = self._declared_source(applicable, ranges)
        answer = FeeAnswer(
            form, kb.forms[form].label, peildatum, per_source, precedence, chosen, ranges, kb_version=kb.version
        )
        answer.declaration = declaration
        return answer

    def _declared_source(
        self, applicable: list[SourceFee], ranges: list[dict[str, Any]]
    ) -> tuple[str | None, dict[str, Any] | None]:
        """Without an order from the user: the source the knowledge base declares first (`voorrang`),
        where what is stated leaves the amount open and that source goes before every other
        applicable source and every range that stands."""
        if not applicable or not self._open(applicable, ranges):
            return None, None
        others = {s.source_file for s in applicable} | {r["source"]["file"] for r in ranges if r["outdated"] is None}
        for s in applicable:
            found = [self.kb.declared_precedence(s.source_file, o) for o in sorted(others - {s.source_file})]
            if found and all(found):
                p = found[0]
                return s.source_file, {
                    "declaration": p.id,
                    "reason": p.reason,
                    "sources": [{"file": q.file, "quote": q.quote} for q in p.sources],
                }
        return None, None

    @staticmethod
    def _open(applicable: list[SourceFee], ranges: list[dict[str, Any]]) -> bool:
        """What is stated leaves the amount open in a way an order of sources can settle."""
        if _settled(applicable, ranges) is not None:
            return False
        amounts = {a for s in applicable for a in s.stated_amounts}
        return len(amounts) >= 2 or any(r["outdated"] is None for r in ranges)

    @staticmethod
    def _chosen_source(applicable: list[SourceFee], ranges: list[dict[str, Any]], precedence: list[str]) -> str | None:
        """The source the user's order picks, only where what is stated leaves the amount open."""
        if not precedence or not applicable:
            return None
        if _settled(applicable, ranges) is not None:
            return None  # nothing to choose: the precedence changes nothing
        amounts = {a for s in applicable for a in s.stated_amounts}
        standing = [r for r in ranges if r["outdated"] is None]
        if len(amounts) < 2 and not standing:
            return None  # one source leaves its own amount open: an order of sources cannot settle that

        def rank(name: str) -> int:
            return next((i for i, p in enumerate(precedence) if name == p or _prefix(name) == p), len(precedence))

        first = min(applicable, key=lambda s: rank(s.source_file))
        if rank(first.source_file) == len(precedence):
            return None  # the order names none of these sources
        if any(rank(r["source"]["file"]) < rank(first.source_file) for r in standing):
            return None  # the user puts the range first: it states no amount to pay
        return first.source_file

    def _walk(
        self, value: Callable[[str], Any], build: Callable[[str], Any] | None, root: FeeRule, peildatum: date
    ) -> SourceFee:
        kb = self.kb
        tree = self.tree[root.id]
        # every rule that decides, in the order of the tree: one amount, or several the source leaves open
        branches = [[kb.fee_rules[r] for r in c.chain] for c in tree if c.chosen is None or value(c.chosen) is True]
        if not branches:
            # the compiled walk always reaches one deciding rule where the source speaks; without
            # this guard a broken walk would loop below instead of failing
            raise RuntimeError(f"no fee rule of {root.id} decides: the compiled fee walk is broken")
        amounts = {self._amount_of(chain[-1], peildatum) for chain in branches}
        conflict = None
        if len(amounts) == 1:
            chain = branches[0]  # the same amount whichever applicable exception is followed
        else:
            common = 0
            while all(len(c) > common + 1 and c[common].id == branches[0][common].id for c in branches):
                common += 1
            chain = branches[0][:common]
            conflict = {
                "at": chain[-1].id,
                "branches": [
                    {
                        "amount": self._amount_of(c[-1], peildatum),
                        "decided_by": [_rule_json(f, kb, peildatum) for f in c[common:]],
                    }
                    for c in branches
                ],
            }
        # exceptions in the order the walk meets them: per rule reached, its exceptions in turn
        met = sorted((c for c in tree if c.open is not None), key=lambda c: c.order)
        alternatives = []
        for c in met:
            if value(c.open) is not True:
                continue
            proof = build(self.fee_nodes[c.rule_id]) if build else None
            alternatives.append(
                {
                    **_rule_json(kb.fee_rules[c.rule_id], kb, peildatum),
                    "unknown_facts": unknown_facts(proof) if proof else [],
                    # bronverschillen whose sources differ for this applicant and keep it open
                    "open_disagreements": open_disagreements(proof) if proof else [],
                }
            )
        declared = []
        for c in met:
            for winner, node in c.set_aside:
                if value(node) is not True:
                    continue
                set_aside = sorted(
                    {
                        self._amount_of(kb.fee_rules[leaf], peildatum)
                        for leaf, n in c.set_aside_leaves
                        if value(n) is True
                    },
                    key=lambda a: (a is None, a),
                )
                declared.append(
                    {
                        "rule_id": winner,
                        "over": [{"rule_id": c.rule_id, "amount": a} for a in set_aside],
                        **_reason_json(kb.fee_rules[winner].precedence.reason),
                    }
                )
        return SourceFee(
            source_file=root.source.file,
            amount=self._amount_of(chain[-1], peildatum) if conflict is None else None,
            decided_by=[_rule_json(f, kb, peildatum) for f in chain],
            alternatives=alternatives,
            conflict=conflict,
            declared_precedence=declared,
        )

    def _amount_of(self, fee: FeeRule, peildatum: date) -> int | None:
        value = self.kb.parameters[fee.parameter].at(peildatum)
        return value.value if value else None


def goal_applicant(kb: KnowledgeBase, applicant: Applicant, goal: str | None) -> tuple[Applicant, list[dict[str, Any]]]:
    """The applicant as the fees of `goal` see it, and what applying for the goal said.

    A fact the applicant left open takes the value the goal declares (`aanvraag_voor_doel`,
    `applied: true`); a value the applicant gave stays, and where it differs the note says so
    (`applied: false`).
    """
    if goal is None:
        return applicant, []
    values = dict(applicant.values)
    notes = []
    for assumption in kb.goal_assumptions.values():
        if goal not in assumption.goals:
            continue
        given = applicant.values.get(assumption.fact)
        if given == assumption.value:
            continue
        if given is None:
            values[assumption.fact] = assumption.value
        notes.append(
            {
                "rule_id": assumption.id,
                "goal": goal,
                "fact": assumption.fact,
                "label": kb.facts[assumption.fact].label,
                "value": assumption.value,
                "given": given,
                "applied": given is None,
                "source": {"file": assumption.source.file, "quote": assumption.source.quote},
                "explanation": assumption.explanation,
            }
        )
    return (Applicant(values) if values != applicant.values else applicant), notes


MAX_CHANGES = 3  # as many changes as why-not tries


def _changeable_failing_facts(kb: KnowledgeBase, proof: Any) -> list[tuple[str, list[Any]]]:
    """The changeable yes/no and choice facts under a false exception, each with its other values."""
    seen: dict[str, Any] = {}
    for node in proof.walk():
        if node.kind == "fact" and node.node in kb.facts and kb.facts[node.node].changeable:
            seen.setdefault(node.node, node.value)
    out = []
    for name, current in seen.items():
        fact = kb.facts[name]
        if fact.type == "bool":
            out.append((name, [v for v in (True, False) if v is not current]))
        elif fact.type == "keuze":
            out.append((name, [v for v in fact.values if v != current]))
    return out


def _reductions(engine: Any, applicant: Applicant, answer: FeeAnswer, builder: ProofBuilder) -> None:
    """Per source: each exception with a lower amount that fails only on changeable facts.

    Change sets are tried smallest first and each is verified by working out the fee again: the
    changed applicant's amount from this source is the exception's, or the exception becomes an
    alternative that still depends on unknown facts (then those are named), or the source then
    states the exception's amount beside another without saying which applies (then the other
    amounts are named, `contested_with`). Supersets of a set that already reaches the exception
    are not tried, so every set is minimal.
    """
    kb = engine.kb
    fee_nodes = engine.program.fee_nodes
    calculator = FeeCalculator(kb, engine.program)
    for source in answer.applicable:
        if source.amount is None:
            continue
        for fee in kb.fee_rules.values():
            if (
                fee.form != answer.form
                or fee.source.file != source.source_file
                or not fee.exception_to
                or fee.id not in fee_nodes
                or builder.value(fee_nodes[fee.id]) is not False
            ):
                continue
            target = calculator._amount_of(fee, answer.peildatum)
            if target is None or target >= source.amount:
                continue
            candidates = _changeable_failing_facts(kb, builder.build(fee_nodes[fee.id]))
            found: list[frozenset[str]] = []
            for size in range(1, min(MAX_CHANGES, len(candidates)) + 1):
                for combo in itertools.combinations(candidates, size):
                    names = frozenset(name for name, _ in combo)
                    if any(f <= names for f in found):
                        continue
                    for choice in itertools.product(*(values for _, values in combo)):
                        changes = [(name, value) for (name, _), value in zip(combo, choice)]
                        reached = _reached(engine, applicant, answer, source.source_file, fee, changes)
                        if reached is None:
                            continue
                        found.append(names)
                        unknown, contested = reached
                        source.reductions.append(
                            {
                                **_rule_json(fee, kb, answer.peildatum),
                                "changes": [
                                    {"fact": n, "value": v, "old": applicant.values.get(n)} for n, v in changes
                                ],
                                "unknown_facts": unknown,
                                "contested_with": contested,
                            }
                        )
                        break


def _reached(
    engine: Any, applicant: Applicant, answer: FeeAnswer, source_file: str, fee: FeeRule, changes: list[tuple[str, Any]]
) -> tuple[list[str], list[dict[str, Any]]] | None:
    """None if the changes do not bring `fee` about; else the facts still unknown for it (maybe none)
    and the other exceptions whose amounts the source then states beside it (maybe none)."""
    changed = Applicant({**applicant.values, **dict(changes)})
    again = fees_for(engine, changed, answer.form, answer.peildatum)
    for source in again.per_source:
        if source.source_file != source_file or source.applies is not True:
            continue
        if source.conflict is None and source.decided_by[-1]["rule_id"] == fee.id:
            return [], []
        if source.conflict is not None:
            leaves = [(b["decided_by"][-1]["rule_id"], b["amount"]) for b in source.conflict["branches"]]
            if any(rule_id == fee.id for rule_id, _ in leaves):
                return [], [{"rule_id": r, "amount": a} for r, a in leaves if r != fee.id]
        for alternative in source.alternatives:
            if alternative["rule_id"] == fee.id:
                return alternative["unknown_facts"], []
    return None


def _facts_read(engine: Any, form: str) -> set[str]:
    """The input facts the fee rules of `form` read, through every rule and quantity below them."""
    program = engine.program
    roots = [
        program.fee_nodes[f.id] for f in engine.kb.fee_rules.values() if f.form == form and f.id in program.fee_nodes
    ]
    names = set()
    for nid in program.reachable(roots):
        node = program.nodes[nid]
        if node.kind == "fact":
            names.add(nid)
        elif node.kind == "quantity":
            names.update(engine.kb.quantities[nid].inputs if nid in engine.kb.quantities else ())
    return names


def fees_for(
    engine: Any,
    applicant: Applicant,
    form: str,
    peildatum: date,
    precedence: list[str] | None = None,
    values: dict[str, set[Any]] | None = None,
    inputs: dict[str, Any] | None = None,
    reductions: bool = False,
    assumptions: list[dict[str, Any]] | None = None,
) -> FeeAnswer:
    """The fee of `form`; `values` from an evaluation of every node saves evaluating the form's model,
    `inputs` (facts and quantities at the peildatum) saves working the quantities out again.

    With `reductions` each source also names the lower amounts the applicant can still reach by
    changing changeable facts (this works the fee out again per candidate change). `assumptions`
    (from `goal_applicant`, whose applicant this is) are reported where the form's rules read them.
    """
    if form not in engine.kb.forms:
        raise InputError(
            "--form", f"onbekend formulier '{visible(form)}'; toegestaan: {', '.join(sorted(engine.kb.forms))}"
        )
    if values is None:
        builder = engine.evaluate(applicant, f"form_{form}", peildatum)
    else:
        if inputs is None:
            _, inputs = engine.inputs(applicant, peildatum, checked=False)
        builder = ProofBuilder(engine.program, values, inputs)
    calculator = FeeCalculator(engine.kb, engine.program)
    answer = calculator.answer(builder, form, peildatum, list(precedence or []))
    if assumptions:
        read = _facts_read(engine, form)
        answer.assumptions = [a for a in assumptions if a["fact"] in read]
    if reductions:
        _reductions(engine, applicant, answer, builder)
    return answer
