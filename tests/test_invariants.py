"""Invariants of the knowledge base, each a property over generated applicants.

Every check is a plain function (`check_*`) that raises AssertionError; the tests below feed it
applicants from `engine.strategies`, and `verblijfsregels mutate` runs the same functions
(listed in PROPERTIES) against every mutant of the rule base. Whatever a check needs that the
knowledge base does not declare (a goal, a route's facts, a rule) makes it skip, with the reason.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from engine import strategies as kit
from engine.assess import ELIGIBLE, NOT_ELIGIBLE, OUT_OF_SCOPE, UNDETERMINED
from engine.facts import parse_applicant
from engine.model import Atom, KnowledgeBase, load_knowledge_base

PEILDATUM = date(2026, 11, 22)
ROOT = Path(__file__).resolve().parent.parent
C13_GOAL = "onbepaalde_tijd_regulier"
DANGERS = ("vormt_gevaar_openbare_orde", "vormt_gevaar_nationale_veiligheid")
E9_GOAL = "huiselijk_geweld"

KB = load_knowledge_base()


class Skip(Exception):
    """The knowledge base does not declare what a check needs."""


def _assess(engine, facts: dict[str, Any], goal: str):
    return engine.assess(parse_applicant(engine.kb, facts), goal, PEILDATUM)


# -- C13: who grew up here can be refused only for public order or national security -----------------

def c13_reason(kb: KnowledgeBase) -> str | None:
    if C13_GOAL not in kb.goals:
        return f"doel {C13_GOAL} is niet gedeclareerd"
    missing = [f for f in DANGERS if f not in kb.facts]
    if missing:
        return f"feit(en) {', '.join(missing)} niet gedeclareerd"
    return kit.beschikbaar("hier_opgegroeide_volwassenen", kb)


@st.composite
def c13_applicants(draw, kb: KnowledgeBase):
    """Adults who grew up here; each danger mostly absent, sometimes present or unknown."""
    dangers = {name: draw(st.sampled_from([False, False, True, None])) for name in DANGERS}
    return draw(kit.routes(kb)["hier_opgegroeide_volwassenen"](PEILDATUM, kb, doelen=[C13_GOAL], **dangers))


def check_c13(engine, facts: dict[str, Any]) -> None:
    result = _assess(engine, facts, C13_GOAL)
    dangers = [facts.get(name) for name in DANGERS]
    if any(d is True for d in dangers):
        expected = NOT_ELIGIBLE
    elif all(d is False for d in dangers):
        expected = ELIGIBLE
    else:
        expected = UNDETERMINED
    assert result.outcome == expected, (
        f"C13: verwacht {expected} bij gevaar {dict(zip(DANGERS, dangers))}, kreeg {result.outcome}")
    if expected == UNDETERMINED:
        assert set(result.unknown_facts) <= set(DANGERS), f"C13: alleen het gevaar is open, niet {result.unknown_facts}"
    if expected == ELIGIBLE:
        assert any(n.rule_id == "C13" and n.value is True for n in result.proof.walk()), "C13 staat niet in het bewijs"


@pytest.mark.skipif(c13_reason(KB) is not None, reason=str(c13_reason(KB)))
@given(st.data())
def test_c13_who_grew_up_here_can_only_be_refused_for_public_order_or_national_security(engine, data):
    check_c13(engine, data.draw(c13_applicants(engine.kb)))


# -- adding a fact --------------------------------------------------------------------------------

def _goal_outcomes(engine, facts: dict[str, Any]) -> dict[str, Any]:
    applicant = parse_applicant(engine.kb, facts)
    return {a.goal: a for a in engine.assess_all(applicant, PEILDATUM)}


def _addition_sources(kb: KnowledgeBase) -> list:
    """Any applicant, or a variant of a scenario base that is eligible for some goal."""
    sources = getattr(kb, "_addition_sources", None)  # on the KB itself: an id() can be reused
    if sources is None:
        sources = [kit.aanvragers(PEILDATUM, kb)]
        for goal in sorted(kb.goals):
            try:
                sources.append(kit.aanvragers_voor_doel(goal, PEILDATUM))
            except LookupError:
                pass
        object.__setattr__(kb, "_addition_sources", sources)
    return sources


@st.composite
def fact_additions(draw, kb: KnowledgeBase):
    """(applicant, fact, value): an applicant (often eligible for a goal) and a fact it does not
    have yet, or a yes/no fact it has as false, with the value it gets."""
    facts = draw(st.one_of(*_addition_sources(kb)))
    candidates = sorted(n for n in kb.facts
                        if n not in facts or (kb.facts[n].type == "bool" and facts[n] is False))
    if not candidates:
        return facts, None, None
    name = draw(st.sampled_from(candidates))
    if name in facts:
        return facts, name, True
    born = facts.get(kit.GEBOORTEDATUM)
    arrived = facts.get(kit.AANKOMST)
    start = max((d for d in (born, arrived) if d is not None), default=None)
    if name == kit.AANKOMST:
        value = born if facts.get(kit.HIER_GEBOREN) is True and born else draw(
            kit.datums(born or date(PEILDATUM.year - 90, 1, 1), PEILDATUM))
    elif name == kit.GEBOORTEDATUM:
        latest = min([d for d in (PEILDATUM, arrived) if d is not None]
                     + [p["van"] for p in facts.get("verblijfsvergunningen") or ()])
        value = draw(kit.datums(date(PEILDATUM.year - 90, 1, 1), latest))
        if facts.get(kit.HIER_GEBOREN) is True and arrived:
            value = arrived
    elif name == kit.HIER_GEBOREN and born and arrived and born != arrived:
        value = False
    else:
        value = draw(kit._value_strategy(kb, name, start, PEILDATUM))
    return facts, name, value


def _reach(engine, nid: str) -> set[str]:
    return set(engine.program.reachable([nid]))


def _excuses(engine, result, fact: str) -> list[str]:
    """The declared exceptions, negated conditions and out-of-scope rules in the proof of `result`
    that read `fact` and go against the goal: what may take eligibility away."""
    found: list[str] = []

    def walk(node, rule_id: str | None) -> None:
        rule_id = node.rule_id or rule_id
        if node.kind == "not" and node.value is not True and fact in _reach(engine, node.node):
            found.append(f"niet in {rule_id}")
        elif node.kind == "exception" and node.children and node.children[0].value is True \
                and fact in _reach(engine, engine.program.nodes[node.node].detail["applies"]):
            found.append(f"uitzondering {node.rule_id} op {node.detail.get('exception_to')}")
        elif node.kind == "compare" and node.detail.get("threshold") is False and node.value is not True \
                and fact in _reach(engine, node.node):
            found.append(f"'is onwaar' in {rule_id}")
        for child in node.children:
            walk(child, rule_id)

    walk(result.proof, None)
    # a pointer elsewhere that reads the fact and now holds, or may hold (it waits on other facts:
    # E2.humanitair_tijdelijk sends EU citizens away unless another route than violence holds)
    if result.scope is not None and result.scope.value is not False and fact in _reach(engine, result.scope.node):
        found.append(f"buiten bereik ({', '.join(sorted({n.rule_id for n in result.scope.walk() if n.rule_id}))})")
    return found


def _broken_derivation(engine, old, facts: dict[str, Any], fact: str) -> list[str]:
    """The `niet`s of the old, eligible proof that read `fact` and no longer hold with the new facts.

    A proof that is still open shows only its open parts, so a route that the fact made false
    drops out of it (humanitair_tijdelijk: the violence route fails through E7's `niet` while
    buitenschuld is still open); the old proof still shows where that route broke."""
    values = engine.evaluate(parse_applicant(engine.kb, facts), old.goal, PEILDATUM)
    found: list[str] = []

    def walk(node, rule_id: str | None) -> None:
        rule_id = node.rule_id or rule_id
        if node.kind == "not" and values.value(node.node) is not True and fact in _reach(engine, node.node):
            found.append(f"niet in {rule_id} (in het bewijs van daarvoor)")
        for child in node.children:
            walk(child, rule_id)

    walk(old.proof, None)
    return found


def check_adding_a_fact(engine, example) -> None:
    facts, name, value = example
    if name is None:
        return
    before = _goal_outcomes(engine, facts)
    after = _goal_outcomes(engine, {**facts, name: value})
    for goal, old in before.items():
        new = after[goal]
        if name not in facts:
            # an unknown fact becoming known never changes an answer that was already given
            assert old.outcome == UNDETERMINED or new.outcome == old.outcome, (
                f"{goal}: {old.outcome} werd {new.outcome} toen {name} bekend werd ({value!r})")
        elif old.outcome == ELIGIBLE and new.outcome != ELIGIBLE:
            why = _excuses(engine, new, name) or _broken_derivation(engine, old, {**facts, name: value}, name)
            assert why, f"{goal}: {name} waar maken nam het recht weg zonder uitzondering of 'niet' die het leest"
            event(f"{name} neemt {goal} weg via {why[0]}")


@given(fact_additions(KB))
def test_adding_a_fact_never_removes_eligibility_except_through_a_declared_exception(engine, example):
    check_adding_a_fact(engine, example)


# -- out of scope -----------------------------------------------------------------------------------

@st.composite
def scope_applicants(draw, kb: KnowledgeBase):
    """Any applicant, or one that the rules of some goal send elsewhere (as far as yes/no and
    choice facts can do that)."""
    facts = draw(kit.aanvragers(PEILDATUM, kb))
    goals = sorted(g for g, spec in kb.goals.items() if spec.out_of_scope)
    if goals and draw(st.booleans()):
        goal = draw(st.sampled_from(goals))
        forced = dict(facts)
        kit.forceer(kb, Atom(kb.goals[goal].out_of_scope), True, forced,
                    choose=lambda options: draw(st.sampled_from(options)))
        return forced
    return facts


def check_out_of_scope(engine, facts: dict[str, Any]) -> None:
    for goal, result in _goal_outcomes(engine, facts).items():
        sent_elsewhere = result.scope is not None and result.scope.value is True
        assert (result.outcome == OUT_OF_SCOPE) == sent_elsewhere, (goal, result.outcome)
        if sent_elsewhere:
            assert result.outcome not in (ELIGIBLE, NOT_ELIGIBLE)
            assert result.fees == []
            assert any(n.kind == "rule" and n.value is True for n in result.scope.walk()), \
                f"{goal}: buiten bereik zonder een regel die verwijst"


@given(scope_applicants(KB))
def test_eligibility_is_never_derived_for_someone_the_sources_send_elsewhere(engine, facts):
    check_out_of_scope(engine, facts)


# -- the shape of every proof -----------------------------------------------------------------------

def check_proof_shape(engine, facts: dict[str, Any]) -> None:
    kb = engine.kb
    for goal, result in _goal_outcomes(engine, facts).items():
        roots = [result.proof, result.scope] + [
            _from_json(c["proof"]) for c in result.consequences if c.get("proof")]
        for root in filter(None, roots):
            expanded = {n.node for n in root.walk() if n.children}
            for node in root.walk():
                if node.kind in ("rule", "exception"):
                    assert node.rule_id in kb.rules, (goal, node.node)
                elif node.kind == "consensus":
                    assert node.rule_id in kb.disagreements, (goal, node.node)
                elif node.kind == "fact":
                    assert node.node in kb.facts and not node.children, (goal, node.node)
                elif node.kind == "quantity":
                    assert node.node in kb.quantities, (goal, node.node)
                    assert [c.node for c in node.children] == list(kb.quantities[node.node].inputs)
                else:
                    assert node.kind in ("all", "any", "not", "compare", "conclusion"), (goal, node.kind)
                if not node.children:
                    # a leaf is an input: a fact of the applicant or the peildatum itself (a quantity
                    # without inputs), or a rule already worked out elsewhere in this proof
                    assert node.kind == "fact" \
                        or (node.kind == "quantity" and not kb.quantities[node.node].inputs) \
                        or (node.detail.get("shown_above") and node.node in expanded), (goal, node.node, node.kind)


def _from_json(data: dict[str, Any]):
    from engine.proof import ProofNode

    return ProofNode(node=data["node"], kind=data["kind"], label=data["label"], value=data["value"],
                     rule_id=data.get("rule_id"), detail=data.get("detail") or {},
                     children=[_from_json(c) for c in data["children"]])


@given(kit.aanvragers(PEILDATUM, KB))
def test_every_proof_leaf_is_an_input_fact_and_every_node_a_declared_rule_for_every_goal(engine, facts):
    check_proof_shape(engine, facts)


# -- E9: under 18 the end of the relationship does not count ---------------------------------------

def e9_facts(kb: KnowledgeBase) -> list[str]:
    """Yes/no facts read by the declarations of E9 (E9, E9.*) other than through an age."""
    names: list[str] = []
    from engine.model import expr_names

    for rule in kb.rules.values():
        if rule.id == "E9" or rule.id.startswith("E9."):
            for expr in (rule.conditions, rule.applies_when):
                for name, _ in expr_names(expr):
                    if name in kb.facts and kb.facts[name].type == "bool" and name not in names:
                        names.append(name)
    return sorted(names)


def e9_reason(kb: KnowledgeBase) -> str | None:
    if E9_GOAL not in kb.goals:
        return f"doel {E9_GOAL} is (nog) niet gedeclareerd; E9 test een andere helper"
    if not e9_facts(kb):
        return "geen declaratie E9 die een ja/nee-feit leest"
    return None


@st.composite
def minors_with_e9_fact(draw, kb: KnowledgeBase):
    born = draw(kit.geboortedatums(PEILDATUM, 0, 17))
    facts = draw(kit.aanvragers(PEILDATUM, kb, geboortedatum=born))
    return facts, draw(st.sampled_from(e9_facts(kb)))


def check_e9(engine, example) -> None:
    facts, name = example
    outcomes = {value: _assess(engine, {**facts, name: value}, E9_GOAL).outcome for value in (True, False, None)}
    assert len(set(outcomes.values())) == 1, f"E9: onder 18 hangt {E9_GOAL} af van {name}: {outcomes}"


@pytest.mark.skipif(e9_reason(KB) is not None, reason=str(e9_reason(KB)))
@given(st.data())
def test_e9_under_18_the_end_of_the_relationship_does_not_decide(engine, data):
    check_e9(engine, data.draw(minors_with_e9_fact(engine.kb)))


# -- the same bytes whatever the hash seed or the order of the facts -------------------------------

SCRIPT = Path(sys.executable).with_name("verblijfsregels")


def _shuffled(facts: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    items = list(facts.items())
    rng.shuffle(items)
    out = {}
    for name, value in items:
        if isinstance(value, list):
            value = [dict(sorted(p.items(), key=lambda _: rng.random())) for p in value]
            rng.shuffle(value)
        out[name] = value
    return out


def _cli_outputs(path: Path, seed: str, cache: Path) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "VERBLIJFSREGELS_CACHE": str(cache)}
    env.pop("VERBLIJFSREGELS_NO_CACHE", None)
    out = {}
    for fmt in ("json", "text"):
        proc = subprocess.run([str(SCRIPT), "assess", str(path), "--peildatum", PEILDATUM.isoformat(), "--format", fmt],
                              capture_output=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        out[fmt] = proc.stdout
    return out


@settings(max_examples=int(os.environ.get("KIT_PROCESS_EXAMPLES", "3")))
@given(kit.aanvragers(PEILDATUM, KB), st.randoms(use_true_random=False))
def test_output_is_byte_identical_across_runs_fact_orders_and_hash_seeds(tmp_path_factory, facts, rng):
    directory = tmp_path_factory.mktemp("volgorde")
    outputs = []
    for i, seed in enumerate(("0", "4242")):
        path = directory / f"aanvrager_{i}.yaml"
        data = kit_plain(_shuffled(facts, rng) if i else facts)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        outputs.append(_cli_outputs(path, seed, directory / f"cache-{i}"))
    assert outputs[0] == outputs[1]
    assert [a["outcome"] for a in json.loads(outputs[0]["json"])]


def kit_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: kit_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [kit_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


# -- what `verblijfsregels mutate` runs against every mutant ---------------------------------------

@dataclass(frozen=True)
class Property:
    name: str
    reason: Callable[[KnowledgeBase], str | None]  # why it does not apply to this rule base, or None
    strategy: Callable[[KnowledgeBase], Any]
    check: Callable[[Any, Any], None]


PROPERTIES = [
    Property("c13_alleen_openbare_orde", c13_reason, c13_applicants, check_c13),
    Property("feit_toevoegen", lambda kb: None, fact_additions, check_adding_a_fact),
    Property("buiten_bereik", lambda kb: None, scope_applicants, check_out_of_scope),
    Property("e9_onder_18", e9_reason, minors_with_e9_fact, check_e9),
]
