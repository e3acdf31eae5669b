"""Which unknown facts decide an undetermined answer: only those under undecided nodes."""

from __future__ import annotations

from engine.answer.proof import CONFLICT, ProofNode, unknown_facts


def fact(name, value):
    return ProofNode(name, "fact", name, value)


def test_a_decided_rule_under_a_conflict_does_not_make_its_open_facts_deciding():
    false_source = ProofNode("a", "rule", "a", False, children=[fact("gehad", False), fact("open_a", None)])
    true_source = ProofNode("b", "rule", "b", True, children=[fact("open_b", True)])
    root = ProofNode("c", "consensus", "c", CONFLICT, children=[false_source, true_source])
    assert unknown_facts(root) == []


def test_unknown_facts_under_an_undecided_rule_are_deciding():
    undecided = ProofNode("a", "rule", "a", None, children=[fact("gehad", True), fact("open_a", None)])
    decided = ProofNode("b", "rule", "b", False, children=[fact("gehad_b", False), fact("open_b", None)])
    root = ProofNode("r", "any", "r", None, children=[undecided, decided])
    assert unknown_facts(root) == ["open_a"]


def test_an_unknown_quantity_under_a_decided_rule_is_not_deciding():
    quantity = ProofNode("leeftijd", "quantity", "leeftijd", None, children=[fact("geboortedatum", None)])
    compare = ProofNode("c", "compare", "c", None, children=[quantity])
    decided = ProofNode("b", "all", "b", False, children=[fact("x", False), compare])
    root = ProofNode("r", "any", "r", None, children=[decided, fact("y", None)])
    assert unknown_facts(root) == ["y"]
