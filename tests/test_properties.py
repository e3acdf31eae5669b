"""Properties of rule interactions that must hold for every applicant."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from engine.applicant.facts import parse_applicant
from engine.checks.strategies import aanvragers, basisaanvragers, varianten
from tests.strategies import hier_opgegroeide_volwassenen

PEILDATUM = date(2026, 11, 22)
GOAL = "onbepaalde_tijd_regulier"


def basisvarianten():
    """Scenario base applicants with a few facts changed: they reach every outcome, source
    disagreements included, far more often than arbitrary applicants."""
    return basisaanvragers().flatmap(varianten)


@given(hier_opgegroeide_volwassenen(PEILDATUM))
def test_c13_an_adult_who_grew_up_here_is_eligible_whatever_else_is_true(engine, facts):
    result = engine.assess(parse_applicant(engine.kb, facts), GOAL, PEILDATUM)
    assert result.outcome == "eligible"
    assert any(n.rule_id == "C13" and n.value is True for n in result.proof.walk())


@given(aanvragers(PEILDATUM))
def test_every_proof_leaf_is_an_input_fact_and_every_node_a_declaration(engine, facts):
    kb = engine.kb
    result = engine.assess(parse_applicant(kb, facts), GOAL, PEILDATUM)
    for root in filter(None, (result.proof, result.scope)):
        expanded = {n.node for n in root.walk() if n.children}
        for node in root.walk():
            if node.kind in ("rule", "exception"):
                assert node.rule_id in kb.rules
            elif node.kind == "consensus":
                assert node.rule_id in kb.disagreements
            elif node.kind == "fact":
                assert node.node in kb.facts and not node.children
            elif node.kind == "quantity":
                assert node.node in kb.quantities
                assert [c.node for c in node.children] == list(kb.quantities[node.node].inputs)
            else:
                assert node.kind in ("all", "any", "not", "compare", "conclusion")
            if not node.children:
                # a leaf is an input fact, or a rule already worked out elsewhere in this proof
                assert node.kind == "fact" or (node.detail.get("shown_above") and node.node in expanded)


@given(aanvragers(PEILDATUM), st.randoms(use_true_random=False))
def test_the_answer_does_not_depend_on_the_order_of_facts(engine, facts, random):
    kb = engine.kb
    items = list(facts.items())
    random.shuffle(items)
    shuffled = dict(items)
    if "verblijfsvergunningen" in shuffled:
        periods = list(shuffled["verblijfsvergunningen"])
        random.shuffle(periods)
        shuffled["verblijfsvergunningen"] = [dict(reversed(list(p.items()))) for p in periods]
    first = engine.assess(parse_applicant(kb, facts), GOAL, PEILDATUM).to_json(kb)
    second = engine.assess(parse_applicant(kb, shuffled), GOAL, PEILDATUM).to_json(kb)
    assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)


_assessment_validator = None


@given(aanvragers(PEILDATUM))
def test_every_assessment_json_fits_the_published_schema(engine, facts):
    global _assessment_validator
    if _assessment_validator is None:
        import fastjsonschema

        from engine.answer.assess import ASSESSMENT_SCHEMA

        schema = json.loads(ASSESSMENT_SCHEMA.read_text(encoding="utf-8"))
        _assessment_validator = fastjsonschema.compile(schema, formats={"date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
    result = engine.assess(parse_applicant(engine.kb, facts), GOAL, PEILDATUM)
    _assessment_validator(json.loads(json.dumps(result.to_json(engine.kb))))


@given(st.one_of(aanvragers(PEILDATUM), basisvarianten()))
def test_undetermined_exactly_when_some_deciding_fact_is_unknown_or_the_sources_disagree(engine, facts):
    result = engine.assess(parse_applicant(engine.kb, facts), GOAL, PEILDATUM)
    disagree = any(n.detail.get("sources_disagree") for n in result.proof.walk())
    if result.outcome == "undetermined":
        # open because a deciding fact is unknown, or because two sources say different things
        assert result.unknown_facts or disagree
    else:
        assert not result.unknown_facts
    for name in result.unknown_facts:
        assert name not in facts or name == "verblijfsvergunningen"
