"""Fees (leges): which amount a form costs for an applicant, per source, with every exception.

Each source states its own fee tree for a form: a base amount and exceptions that override the
rule they name (and may themselves be overridden). The Datalog program derives whether each
exception applies; here the tree is walked: the first applicable exception in declaration order
wins, one whose applicability is unknown becomes an alternative ("kan ... zijn als ..."), and a
second applicable sibling with another amount is reported as an overlap the sources leave open.
Where sources give different amounts the answer shows all of them; a precedence the user sets
picks one, and the answer says that it did. An exception that does not apply only because of
facts the applicant can still change (`wijzigbaar`, such as sending a document) is named as a
reduction within reach, with the smallest verified set of changes that brings it about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

import itertools

from engine.errors import InputError, visible
from engine.facts import Applicant
from engine.model import FeeRule, KnowledgeBase
from engine.proof import ProofBuilder, unknown_facts

FEES_FORMAT = "verblijfsregels/fees"
FEES_VERSION = 1


@dataclass
class SourceFee:
    source_file: str
    amount: int | None  # euro cents; None where no value is in force on the peildatum
    decided_by: list[dict[str, Any]]  # the chain of fee rules from the base to the one that decided
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    overlaps: list[dict[str, Any]] = field(default_factory=list)
    applies: bool | None = True  # None: the source speaks about a situation not yet known to be this one
    unknown_facts: list[str] = field(default_factory=list)
    reductions: list[dict[str, Any]] = field(default_factory=list)  # lower amounts the applicant can still reach


@dataclass
class FeeAnswer:
    form: str
    form_label: str
    peildatum: date
    per_source: list[SourceFee]
    precedence: list[str]
    chosen_source: str | None
    ranges: list[dict[str, Any]]

    @property
    def applicable(self) -> list[SourceFee]:
        return [s for s in self.per_source if s.applies is True]

    @property
    def amounts(self) -> list[int | None]:
        return sorted({s.amount for s in self.applicable}, key=lambda a: (a is None, a))

    @property
    def agreed(self) -> bool:
        return len(self.amounts) == 1

    @property
    def amount(self) -> int | None:
        if self.chosen_source is not None:
            return next(s.amount for s in self.per_source if s.source_file == self.chosen_source)
        return self.amounts[0] if self.agreed else None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FEES_FORMAT,
            "version": FEES_VERSION,
            "form": self.form,
            "form_label": self.form_label,
            "peildatum": self.peildatum.isoformat(),
            "amount": self.amount,
            "sources_agree": self.agreed,
            "precedence": {"order": self.precedence, "applied": self.chosen_source is not None and not self.agreed,
                           "chosen_source": self.chosen_source},
            "per_source": [
                {"source_file": s.source_file, "applies": s.applies, "unknown_facts": s.unknown_facts,
                 "amount": s.amount, "decided_by": s.decided_by,
                 "alternatives": s.alternatives, "overlaps": s.overlaps, "reductions": s.reductions}
                for s in self.per_source
            ],
            "range_notes": self.ranges,
        }


def _rule_json(fee: FeeRule, kb: KnowledgeBase, peildatum: date) -> dict[str, Any]:
    value = kb.parameters[fee.parameter].at(peildatum)
    return {
        "rule_id": fee.id, "label": fee.label,
        "source": {"file": fee.source.file, "quote": fee.source.quote},
        "parameter": fee.parameter,
        "amount": value.value if value else None,
        "amount_source": {"file": value.source.file, "quote": value.source.quote} if value else None,
        "explanation": fee.explanation,
    }


class FeeCalculator:
    def __init__(self, kb: KnowledgeBase, program_fee_nodes: dict[str, str]):
        self.kb = kb
        self.fee_nodes = program_fee_nodes
        self.children: dict[str, list[FeeRule]] = {}
        self.roots: dict[str, list[FeeRule]] = {}
        for fee in kb.fee_rules.values():  # declaration order is the order of precedence among siblings
            if fee.exception_to:
                self.children.setdefault(fee.exception_to, []).append(fee)
            else:
                self.roots.setdefault(fee.form, []).append(fee)

    def answer(self, builder: ProofBuilder, form: str, peildatum: date, precedence: list[str]) -> FeeAnswer:
        return self.answer_from(builder.value, builder.build, form, peildatum, precedence)

    def answer_from(self, value: Callable[[str], Any], build: Callable[[str], Any] | None, form: str,
                    peildatum: date, precedence: list[str]) -> FeeAnswer:
        """The answer from node values alone; `build` (a proof builder) names unknown facts.

        Without `build` (batch runs) alternatives and unknown facts are left empty: the amounts
        and who decided them are the same.
        """
        kb = self.kb
        if form not in kb.forms:
            raise InputError("--form", f"onbekend formulier '{visible(form)}'; toegestaan: {', '.join(sorted(kb.forms))}")
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
        applicable = [s for s in per_source if s.applies is True]
        chosen = None
        if len({s.amount for s in applicable}) > 1 and precedence:
            for prefix in precedence:
                match = [s for s in applicable if s.source_file.split("_", 1)[0] == prefix or s.source_file == prefix]
                if match:
                    chosen = match[0].source_file
                    break
        ranges = []
        for fee_range in kb.fee_ranges.values():
            outside = [s.source_file for s in per_source
                       if s.amount is not None and not fee_range.minimum <= s.amount <= fee_range.maximum]
            if outside:
                ranges.append({"rule_id": fee_range.id, "label": fee_range.label, "minimum": fee_range.minimum,
                               "maximum": fee_range.maximum, "outside_for": outside,
                               "source": {"file": fee_range.source.file, "quote": fee_range.source.quote}})
        return FeeAnswer(form, kb.forms[form].label, peildatum, per_source, precedence, chosen, ranges)

    def _walk(self, value: Callable[[str], Any], build: Callable[[str], Any] | None, root: FeeRule,
              peildatum: date) -> SourceFee:
        chain = [root]
        alternatives: list[dict[str, Any]] = []
        overlaps: list[dict[str, Any]] = []
        node = root
        while True:
            decided = None
            for child in self.children.get(node.id, []):
                applies = value(self.fee_nodes[child.id])
                if applies is True and decided is None:
                    decided = child
                elif applies is True:
                    other = self._amount_of(decided, peildatum)
                    mine = self._amount_of(child, peildatum)
                    if other != mine:
                        overlaps.append({"applied": decided.id, "also_applies": child.id, "amount_not_used": mine})
                elif applies is not False and decided is None:
                    alternatives.append({
                        **_rule_json(child, self.kb, peildatum),
                        "unknown_facts": unknown_facts(build(self.fee_nodes[child.id])) if build else [],
                    })
            if decided is None:
                break
            chain.append(decided)
            node = decided
        in_force = self.kb.parameters[node.parameter].at(peildatum)
        return SourceFee(
            source_file=root.source.file,
            amount=in_force.value if in_force else None,
            decided_by=[_rule_json(f, self.kb, peildatum) for f in chain],
            alternatives=alternatives,
            overlaps=overlaps,
        )

    def _amount_of(self, fee: FeeRule, peildatum: date) -> int | None:
        value = self.kb.parameters[fee.parameter].at(peildatum)
        return value.value if value else None


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
    alternative that still depends on unknown facts (then those are named). Supersets of a set
    that already reaches the exception are not tried, so every set is minimal.
    """
    kb = engine.kb
    fee_nodes = engine.program.fee_nodes
    calculator = FeeCalculator(kb, fee_nodes)
    for source in answer.applicable:
        if source.amount is None:
            continue
        for fee in kb.fee_rules.values():
            if (fee.form != answer.form or fee.source.file != source.source_file or not fee.exception_to
                    or fee.id not in fee_nodes or builder.value(fee_nodes[fee.id]) is not False):
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
                        source.reductions.append({
                            **_rule_json(fee, kb, answer.peildatum),
                            "changes": [{"fact": n, "value": v, "old": applicant.values.get(n)} for n, v in changes],
                            "unknown_facts": reached,
                        })
                        break


def _reached(engine: Any, applicant: Applicant, answer: FeeAnswer, source_file: str, fee: FeeRule,
             changes: list[tuple[str, Any]]) -> list[str] | None:
    """None if the changes do not bring `fee` about; else the facts still unknown for it (maybe none)."""
    changed = Applicant({**applicant.values, **dict(changes)})
    again = fees_for(engine, changed, answer.form, answer.peildatum)
    for source in again.per_source:
        if source.source_file != source_file or source.applies is not True:
            continue
        if source.decided_by[-1]["rule_id"] == fee.id:
            return []
        for alternative in source.alternatives:
            if alternative["rule_id"] == fee.id:
                return alternative["unknown_facts"]
    return None


def fees_for(engine: Any, applicant: Applicant, form: str, peildatum: date, precedence: list[str] | None = None,
             values: dict[str, set[Any]] | None = None, inputs: dict[str, Any] | None = None,
             reductions: bool = False) -> FeeAnswer:
    """The fee of `form`; `values` from an evaluation of every node saves evaluating the form's model,
    `inputs` (facts and quantities at the peildatum) saves working the quantities out again.

    With `reductions` each source also names the lower amounts the applicant can still reach by
    changing changeable facts (this works the fee out again per candidate change).
    """
    if form not in engine.kb.forms:
        raise InputError("--form", f"onbekend formulier '{visible(form)}'; toegestaan: {', '.join(sorted(engine.kb.forms))}")
    if values is None:
        builder = engine.evaluate(applicant, f"form_{form}", peildatum)
    else:
        if inputs is None:
            from engine.facts import quantity_values

            inputs = {**applicant.values, **quantity_values(engine.kb, applicant, peildatum)}
        builder = ProofBuilder(engine.program, values, inputs)
    calculator = FeeCalculator(engine.kb, engine.program.fee_nodes)
    answer = calculator.answer(builder, form, peildatum, list(precedence or []))
    if reductions:
        _reductions(engine, applicant, answer, builder)
    return answer
