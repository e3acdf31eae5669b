"""Which fee rule decides (issue 17 item 6): compiled into the program, the same for every evaluator.

A source states a base amount for a form and exceptions to it, which may have exceptions of their
own. In law terms, per source:

- the base amount is due unless an exception to it applies;
- an exception applies where its condition is known to hold; then its amount is due, unless an
  exception to that exception applies in turn (and so on down);
- where it is unknown whether an exception applies, the amount above it stays, and the exception
  is named as what the fee may turn out to be ("kan ... zijn als");
- where two exceptions of one source both apply with different amounts, the source does not say
  which holds: both amounts are shown and none is picked;
- unless the rule base declares that one goes first (`gaat_voor`, with a reason): then the other
  is set aside, and the answer says which amount it set aside; an exception that goes first only
  sets another aside where it is known to apply.

Each statement is checked with the set-at-a-time evaluator (the default `Engine()`), with pyDatalog
(the reference) and, over every situation at once, with the audit's symbolic evaluator.
"""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from engine.answer.assess import Engine
from engine.answer.fees import fees_for
from engine.applicant.facts import parse_applicant
from engine.checks.audit_space import AtomSpace
from engine.evaluate.datalog import DatalogEvaluator
from engine.evaluate.symbolic import SymbolicEvaluator
from tests.conftest import ROOT
from tests.test_audit import FEE_SRC, FEES, facts, kb_dir

PEILDATUM = date(2026, 11, 23)
FORM = "1234"
PARAMETERS = FEES + (
    "  kwart: {label: kwart, eenheid: eurocent, waarden: [{vanaf: null, waarde: 2500, "
    "bron: {bestand: 001_656115d499998806.txt, citaat: kwart}}]}\n"
)
GOES_FIRST = ", gaat_voor: {regels: [G1.b], reden: omdat, bron: {bestand: 001_656115d499998806.txt, citaat: leges}}"


def rules(goes_first: str = "") -> str:
    """Base G1 (€ 100); exceptions G1.a (€ 50, where a) and G1.b (€ 25, where b); G1.c (€ 0, where c)
    is an exception to G1.a, G1.d (€ 0, where d) one to G1.b."""
    return (
        facts("a", "b", "c", "d")
        + PARAMETERS
        + f"""
leges:
  - {{id: G1, label: basis, formulier: "{FORM}", bedrag: basis, {FEE_SRC}}}
  - {{id: G1.a, label: a, uitzondering_op: G1, formulier: "{FORM}", bedrag: laag, van_toepassing_als: a, {FEE_SRC}{goes_first}}}
  - {{id: G1.c, label: c, uitzondering_op: G1.a, formulier: "{FORM}", bedrag: nul, van_toepassing_als: c, {FEE_SRC}}}
  - {{id: G1.b, label: b, uitzondering_op: G1, formulier: "{FORM}", bedrag: kwart, van_toepassing_als: b, {FEE_SRC}}}
  - {{id: G1.d, label: d, uitzondering_op: G1.b, formulier: "{FORM}", bedrag: nul, van_toepassing_als: d, {FEE_SRC}}}
"""
    )


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("leges")
    return {"zonder": kb_dir(root / "zonder", rules()), "met": kb_dir(root / "met", rules(GOES_FIRST))}


EVALUATORS = ["setwise", "datalog"]


@pytest.fixture(scope="module")
def engines(bases):
    out = {}
    for name, path in bases.items():
        engine = Engine(path, cache=False)
        out[name, "setwise"] = engine
        out[name, "datalog"] = engine.with_evaluator(DatalogEvaluator)
    return out


def fee(engine: Engine, **known: bool):
    answer = fees_for(engine, parse_applicant(engine.kb, known), FORM, PEILDATUM)
    (source,) = answer.per_source
    return answer, source


def decided_by(source) -> list[str]:
    return [r["rule_id"] for r in source.decided_by]


def chosen(engine: Engine, **known: bool) -> set[str]:
    """The fee rules whose compiled node says that they decide, as the evaluator derives them."""
    builder = engine.evaluate(parse_applicant(engine.kb, known), f"form_{FORM}", PEILDATUM)
    return {
        c.rule_id for c in engine.program.fee_choice.values() if c.chosen is None or builder.value(c.chosen) is True
    }


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_the_base_amount_is_due_where_no_exception_applies(engines, evaluator):
    engine = engines["zonder", evaluator]
    answer, source = fee(engine, a=False, b=False, c=True, d=True)
    assert answer.amount == 10000 and decided_by(source) == ["G1"] and source.alternatives == []
    # an exception to an exception that does not apply is not read
    assert chosen(engine, a=False, b=False, c=True, d=True) == {"G1"}


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_an_exception_that_applies_decides_and_an_exception_to_it_decides_in_turn(engines, evaluator):
    engine = engines["zonder", evaluator]
    answer, source = fee(engine, a=True, b=False, c=False)
    assert answer.amount == 5000 and decided_by(source) == ["G1", "G1.a"] and source.conflict is None
    answer, source = fee(engine, a=True, b=False, c=True)
    assert answer.amount == 0 and decided_by(source) == ["G1", "G1.a", "G1.c"]
    assert chosen(engine, a=True, b=False, c=True) == {"G1.c"}


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_an_exception_not_known_to_apply_leaves_the_amount_above_it_and_is_named_as_an_alternative(engines, evaluator):
    engine = engines["zonder", evaluator]
    answer, source = fee(engine, b=False)  # a unknown
    assert answer.amount == 10000 and decided_by(source) == ["G1"]
    assert [a["rule_id"] for a in source.alternatives] == ["G1.a"] and answer.open_alternatives == [5000]
    # below an exception not known to apply nothing is read, not even what is known there
    answer, source = fee(engine, b=False, c=True)
    assert answer.amount == 10000 and [a["rule_id"] for a in source.alternatives] == ["G1.a"]
    # known to apply: its amount, and the unknown exception below it is the alternative
    answer, source = fee(engine, a=True, b=False)
    assert answer.amount == 5000 and [a["rule_id"] for a in source.alternatives] == ["G1.c"]
    # nothing known: the base amount; each exception to it may still apply, in the order of the rules
    answer, source = fee(engine)
    assert answer.amount == 10000 and [a["rule_id"] for a in source.alternatives] == ["G1.a", "G1.b"]
    assert chosen(engine) == {"G1"}


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_two_exceptions_of_one_source_that_both_apply_give_both_amounts_and_no_choice(engines, evaluator):
    engine = engines["zonder", evaluator]
    answer, source = fee(engine, a=True, b=True, c=False, d=False)
    assert answer.amount is None and source.amount is None and source.stated_amounts == [2500, 5000]
    assert source.conflict["at"] == "G1"
    assert [[r["rule_id"] for r in b["decided_by"]] for b in source.conflict["branches"]] == [["G1.a"], ["G1.b"]]
    assert chosen(engine, a=True, b=True, c=False, d=False) == {"G1.a", "G1.b"}
    # further down, the branches part where the exceptions do
    answer, source = fee(engine, a=True, b=True, c=True, d=True)
    assert source.stated_amounts == [0] and answer.amount == 0 and source.conflict is None
    assert decided_by(source) == ["G1", "G1.a", "G1.c"]  # one amount: the first rule that states it


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_an_exception_that_goes_first_sets_the_other_aside_and_the_answer_names_what_it_set_aside(engines, evaluator):
    engine = engines["met", evaluator]
    answer, source = fee(engine, a=True, b=True, c=False, d=False)
    assert answer.amount == 5000 and decided_by(source) == ["G1", "G1.a"] and source.conflict is None
    (declared,) = source.declared_precedence
    assert declared["rule_id"] == "G1.a" and declared["over"] == [{"rule_id": "G1.b", "amount": 2500}]
    assert declared["reason"] == "omdat"
    assert source.stated_amounts == [2500, 5000]
    # what the set-aside exception would have said follows its own exceptions
    answer, source = fee(engine, a=True, b=True, c=False, d=True)
    assert answer.amount == 5000
    assert source.declared_precedence[0]["over"] == [{"rule_id": "G1.b", "amount": 0}]
    assert chosen(engine, a=True, b=True, c=False, d=True) == {"G1.a"}


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_an_exception_that_goes_first_but_is_not_known_to_apply_sets_nothing_aside(engines, evaluator):
    engine = engines["met", evaluator]
    answer, source = fee(engine, b=True, d=False)  # a unknown
    assert answer.amount == 2500 and decided_by(source) == ["G1", "G1.b"]
    assert source.declared_precedence == [] and [a["rule_id"] for a in source.alternatives] == ["G1.a"]
    answer, source = fee(engine, a=False, b=True, d=False)
    assert answer.amount == 2500 and source.alternatives == [] and source.declared_precedence == []


def test_every_evaluator_derives_the_same_fee_choice_in_every_situation_of_the_example(engines):
    """All 3^4 situations (each fact true, false or unknown), both rule bases: node by node."""
    import itertools

    for name in ("zonder", "met"):
        setwise, datalog = engines[name, "setwise"], engines[name, "datalog"]
        for values in itertools.product((True, False, None), repeat=4):
            known = {k: v for k, v in zip("abcd", values) if v is not None}
            assert chosen(setwise, **known) == chosen(datalog, **known), (name, known)
            assert fee(setwise, **known)[0].to_json() == fee(datalog, **known)[0].to_json(), (name, known)


def test_the_symbolic_evaluator_derives_the_same_choice_over_every_situation(engines):
    for name in ("zonder", "met"):
        engine = engines[name, "setwise"]
        program = engine.program
        space = AtomSpace(engine.kb, program, PEILDATUM)
        sym = SymbolicEvaluator(program).run([space])
        bdd = space.bdd
        t = {n: sym.true(n) for n in "abcd"}
        f = {n: sym.false(n) for n in "abcd"}
        decides = {c.rule_id: sym.true(c.chosen) if c.chosen else bdd.true for c in program.fee_choice.values()}

        def always(condition, then) -> bool:
            return condition & ~then == bdd.false

        assert always(f["a"] & f["b"], decides["G1"] & ~decides["G1.a"] & ~decides["G1.b"])
        assert always(t["a"] & f["b"] & f["c"], decides["G1.a"] & ~decides["G1"])
        assert always(t["a"] & t["c"] & f["b"], decides["G1.c"] & ~decides["G1.a"])
        assert always(f["a"] & t["c"], ~decides["G1.c"])
        both = t["a"] & t["b"] & f["c"] & f["d"]
        if name == "zonder":
            assert always(both, decides["G1.a"] & decides["G1.b"])
        else:
            assert always(both, decides["G1.a"] & ~decides["G1.b"])
            ((winner, node),) = program.fee_choice["G1.b"].set_aside
            assert winner == "G1.a" and always(both, sym.true(node))
        # and in each fully known situation exactly what the set-at-a-time evaluator derives
        for values in __import__("itertools").product((True, False), repeat=4):
            known = dict(zip("abcd", values))
            situation = bdd.true
            for k, v in known.items():
                situation &= t[k] if v else f[k]
            assert {r for r, d in decides.items() if always(situation, d)} == chosen(engine, **known), (name, known)


def test_fees_and_the_audit_read_the_compiled_choice_and_walk_no_fee_tree():
    """The semantics of fee exceptions live in the compiler only: `engine.answer.fees` shows what the
    nodes say, the audit reads the same nodes (`Auditor._decides`), and neither walks the tree."""
    fees_source = (ROOT / "engine" / "answer" / "fees.py").read_text(encoding="utf-8")
    audit_source = (ROOT / "engine" / "checks" / "audit.py").read_text(encoding="utf-8")
    for gone in ("_branches", "_chosen"):
        pattern = rf"\b{gone}\b(?!_)"
        assert not re.search(pattern, fees_source) and not re.search(pattern, audit_source), gone
    assert "precedence.over" not in fees_source  # `gaat_voor` is compiled, not interpreted here
    tree = ast.parse(fees_source)
    (calculator,) = [c for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and c.name == "FeeCalculator"]
    for function in calculator.body:
        if isinstance(function, ast.FunctionDef):
            calls = {
                c.func.attr
                for c in ast.walk(function)
                if isinstance(c, ast.Call)
                and isinstance(c.func, ast.Attribute)
                and isinstance(c.func.value, ast.Name)
                and c.func.value.id == "self"
            }
            assert function.name not in calls, f"FeeCalculator.{function.name} calls itself: a walk"
    assert "fee_choice" in audit_source and "fee_choice" in fees_source
