"""Properties of the fees (issue 4), over every form and every situation the fee rules can tell apart.

A situation is *complete* when every fact a fee rule of the form reads is known; the facts are
drawn from the vocabulary, so a new fee rule is covered without a change here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable

import fastjsonschema
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from engine.answer.fees import fees_for
from engine.applicant.constraints import repaired
from engine.applicant.facts import parse_applicant
from engine.rules.model import KB_DIR, expr_names, load_knowledge_base
from explain import render_fees

PEILDATUM = date(2026, 11, 23)
KB = load_knowledge_base()
FORMS = sorted(KB.forms)
PERIODS = {
    "geen": [],
    "nu_familie": [{"van": "2021-01-01", "verblijfsdoel": "familie_of_gezinslid"}],
    "eerder_familie": [{"van": "2016-01-01", "tot": "2021-12-31", "verblijfsdoel": "familie_of_gezinslid"}],
    "nu_anders": [{"van": "2022-01-01", "verblijfsdoel": "anders"}],
}


def _inputs(name: str, seen: set[str]) -> set[str]:
    """The applicant facts behind a name a fee rule reads (through quantities and rules)."""
    if name in seen:
        return set()
    seen.add(name)
    if name in KB.facts:
        return {name}
    if name in KB.quantities:
        return {f for i in KB.quantities[name].inputs for f in _inputs(i, seen)}
    out: set[str] = set()
    for rid in KB.rules_for.get(name, ()):
        rule = KB.rules[rid]
        for expr in (rule.conditions, rule.applies_when):
            for n, _ in expr_names(expr):
                out |= _inputs(n, seen)
        for eid in KB.exceptions_of.get(rid, ()):
            for expr in (KB.rules[eid].conditions, KB.rules[eid].applies_when):
                for n, _ in expr_names(expr):
                    out |= _inputs(n, seen)
    return out


FEE_FACTS = sorted(
    {f for fee in KB.fee_rules.values() for n, _ in expr_names(fee.applies_when) for f in _inputs(n, set())}
)


def _value(name: str):
    fact = KB.facts[name]
    if fact.type == "bool":
        return st.booleans()
    if fact.type == "keuze":
        return st.sampled_from(fact.values)
    if fact.type == "vergunningen":
        return st.sampled_from(sorted(PERIODS)).map(lambda k: PERIODS[k])
    if fact.type == "datum":
        return st.sampled_from(["1990-05-01", "2008-11-23", "2008-11-24", "2012-05-01"])
    raise AssertionError(f"fee rules read a fact of type {fact.type}: {name}")


@st.composite
def volledige_situaties(draw) -> dict:
    """Every fact a fee rule reads is known; the simplest values first. Only possible situations
    (kb/beperkingen.yaml: not illegal while holding a valid permit)."""
    situation = {name: draw(_value(name)) for name in FEE_FACTS}
    assume(repaired(KB, situation, PEILDATUM) == situation)
    return situation


def answer(engine, data: dict, form: str):
    return fees_for(engine, parse_applicant(engine.kb, data), form, PEILDATUM)


def _stated_by_the_rules(engine, data: dict, form: str) -> dict[str, dict[str, int | None]]:
    """Per source, straight from the declarations and the derived value of each fee rule's conditions:
    every exception that applies and that no applicable exception below it overrides, with its
    amount. Siblings are followed in no order; one set aside by a declared `gaat_voor` is left out."""
    builder = engine.evaluate(parse_applicant(engine.kb, data), f"form_{form}", PEILDATUM)
    fees = engine.kb.fee_rules
    holds = {
        rid: (builder.value(engine.program.fee_nodes[rid]) if rid in engine.program.fee_nodes else True) for rid in fees
    }

    def ends(rid: str) -> dict[str, int | None]:
        below = [f for f in fees.values() if f.exception_to == rid and holds[f.id] is True]
        below = [f for f in below if not any(o.precedence and f.id in o.precedence.over for o in below)]
        if not below:
            value = engine.kb.parameters[fees[rid].parameter].at(PEILDATUM)
            return {rid: value.value if value else None}
        return {k: v for f in below for k, v in ends(f.id).items()}

    return {
        f.source.file: ends(f.id)
        for f in fees.values()
        if f.form == form and not f.exception_to and holds[f.id] is True
    }


@st.composite
def situaties_en_formulieren(draw, kb=None) -> tuple[dict, tuple[str, ...]]:
    """(complete situation, (one form,)). `kb` is not read: the fee facts come from the
    vocabulary, which the mutants of `verblijfsregels mutate` keep."""
    return draw(volledige_situaties()), (draw(st.sampled_from(FORMS)),)


def situaties_alle_formulieren(kb=None):
    """(complete situation, every form): what the mutation test checks, with few examples."""
    return volledige_situaties().map(lambda situation: (situation, tuple(FORMS)))


def check_one_amount_per_source(engine, example) -> None:
    """In a complete situation each source gives one amount; where two of its exceptions both apply
    with different amounts and it does not say which goes first, the answer shows each amount with
    its quote, picks none, and says so (issue 4; never the order in which the rules are declared)."""
    situation, forms = example
    for form in forms:
        _one_amount_per_source(engine, situation, form)


def _one_amount_per_source(engine, situation: dict, form: str) -> None:
    result = answer(engine, situation, form)
    sources = [s.source_file for s in result.per_source]
    assert len(sources) == len(set(sources)), "a source answers twice for one form"
    assert result.per_source, f"no source states an amount for form {form}"
    expected = _stated_by_the_rules(engine, situation, form)
    assert sorted(expected) == sources
    for fee in result.per_source:
        assert fee.applies is True, f"{fee.source_file}: whether it speaks about this situation stays open"
        assert fee.alternatives == [], f"{fee.source_file}: an exception stays open in a complete situation"
        stated = expected[fee.source_file]
        if len(set(stated.values())) == 1:
            assert fee.conflict is None and fee.amount == next(iter(stated.values())), (fee.source_file, stated)
            assert isinstance(fee.amount, int), f"{fee.source_file}: no amount for form {form}"
            assert fee.decided_by[-1]["rule_id"] in stated
            continue
        # the source states more than one amount: all of them, each with the quote that states it
        assert fee.amount is None and fee.conflict is not None, (fee.source_file, stated, fee.amount)
        shown = {b["decided_by"][-1]["rule_id"]: b["amount"] for b in fee.conflict["branches"]}
        assert shown == stated
        for branch in fee.conflict["branches"]:
            leaf = engine.kb.fee_rules[branch["decided_by"][-1]["rule_id"]]
            in_force = engine.kb.parameters[leaf.parameter].at(PEILDATUM)
            assert branch["decided_by"][-1]["amount_source"] == {
                "file": in_force.source.file,
                "quote": in_force.source.quote,
            }
        assert result.amount is None and result.agreed is False
    data = result.to_json()
    assert data["sources_agree"] is (
        len({a for s in expected.values() for a in s.values()}) == 1 and not data["range_notes"]
    )
    if any(len(set(s.values())) > 1 for s in expected.values()):
        text = render_fees(result, engine.kb)
        assert "zegt niet welke" in text and "Bedrag:" not in text


@given(situaties_en_formulieren())
def test_every_form_gets_exactly_one_amount_per_source_or_every_amount_the_source_leaves_open(engine, example):
    check_one_amount_per_source(engine, example)


@given(situation=volledige_situaties(), form=st.sampled_from(FORMS), seed=st.randoms(use_true_random=False))
def test_the_order_in_which_fee_rules_are_declared_decides_nothing(engine, situation, form, seed):
    import dataclasses

    from engine.answer.fees import FeeCalculator

    rules = list(engine.kb.fee_rules.items())
    seed.shuffle(rules)
    shuffled_kb = dataclasses.replace(engine.kb, fee_rules=dict(rules))
    builder = engine.evaluate(parse_applicant(engine.kb, situation), f"form_{form}", PEILDATUM)

    def outcome(kb):
        result = FeeCalculator(kb, engine.program).answer(builder, form, PEILDATUM, [])
        return result.amount, {s.source_file: (s.amount, s.stated_amounts) for s in result.per_source}

    assert outcome(shuffled_kb) == outcome(engine.kb)


def check_minor_pays_no_more(engine, example) -> None:
    """Per source, the amounts stated for a minor are no higher than those for an adult: the highest
    and the lowest of them (a source may state more than one and not say which applies)."""
    situation, forms = example
    adult = {**situation, "geboortedatum": "1990-05-01"}
    minor = {**situation, "geboortedatum": "2012-05-01"}
    for form in forms:
        adult_fees = {
            s.source_file: s.stated_amounts for s in answer(engine, adult, form).per_source if s.applies is True
        }
        minor_fees = {
            s.source_file: s.stated_amounts for s in answer(engine, minor, form).per_source if s.applies is True
        }
        assert set(adult_fees) == set(minor_fees)
        for source, amounts in minor_fees.items():
            assert max(amounts) <= max(adult_fees[source]), (form, source, minor_fees, adult_fees)
            assert min(amounts) <= min(adult_fees[source]), (form, source, minor_fees, adult_fees)


@given(situaties_en_formulieren())
def test_a_minor_never_pays_more_than_an_adult_in_the_same_situation(engine, example):
    check_minor_pays_no_more(engine, example)


@given(situation=volledige_situaties(), form=st.sampled_from(FORMS), order=st.randoms(use_true_random=False))
def test_the_amount_does_not_depend_on_the_order_of_facts(engine, situation, form, order):
    names = list(situation)
    order.shuffle(names)
    shuffled = {name: situation[name] for name in names}
    first = json.dumps(answer(engine, situation, form).to_json(), sort_keys=True)
    assert json.dumps(answer(engine, shuffled, form).to_json(), sort_keys=True) == first


def test_the_fee_facts_cover_every_exception_and_the_age():
    assert "geboortedatum" in FEE_FACTS  # minors: G4.minderjarig_na_familie, G8.minderjarig
    assert {"stuurt_inkomensverklaring_t2_mee", "stuurt_bewijs_leningaanvragen_mee"} <= set(FEE_FACTS)


FEES_SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "engine" / "answer" / "fees.schema.json").read_text(encoding="utf-8")
)
_validate_fees = fastjsonschema.compile(FEES_SCHEMA, formats={"date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})


def check_reductions(engine, example) -> None:
    """A reduction named beside an amount is reached by exactly its changes, to changeable facts."""
    situation, forms = example
    for form in forms:
        result = fees_for(engine, parse_applicant(engine.kb, situation), form, PEILDATUM, reductions=True)
        _validate_fees(result.to_json())
        for fee in result.per_source:
            for reduction in fee.reductions:
                assert reduction["amount"] < fee.amount
                assert reduction["unknown_facts"] == [], "in a complete situation nothing stays open"
                changes = {c["fact"]: c["value"] for c in reduction["changes"]}
                assert all(engine.kb.facts[name].changeable for name in changes)
                changed = answer(engine, {**situation, **changes}, form)
                again = next(s for s in changed.per_source if s.source_file == fee.source_file)
                if not reduction["contested_with"]:
                    assert again.amount == reduction["amount"]
                    assert again.decided_by[-1]["rule_id"] == reduction["rule_id"]
                    continue
                # the source then states this amount beside others and does not say which applies
                assert again.amount is None
                ends = {b["decided_by"][-1]["rule_id"]: b["amount"] for b in again.conflict["branches"]}
                assert ends == {
                    reduction["rule_id"]: reduction["amount"],
                    **{o["rule_id"]: o["amount"] for o in reduction["contested_with"]},
                }


@given(situaties_en_formulieren())
def test_every_reduction_is_verified_lower_and_fits_the_schema(engine, example):
    check_reductions(engine, example)


@dataclass(frozen=True)
class Property:  # the shape of tests.test_invariants.Property
    name: str
    reason: Callable[[Any], str | None]
    strategy: Callable[[Any], Any]
    check: Callable[[Any, Any], None]


# What `verblijfsregels mutate` also runs against every mutant of a fee rule or an amount, each
# situation for every form (the orders of facts and of declarations are left out: they test the
# engine, which mutants do not change).
PROPERTIES = [
    Property("leges_een_bedrag_per_bron", lambda kb: None, situaties_alle_formulieren, check_one_amount_per_source),
    Property(
        "leges_minderjarige_betaalt_niet_meer", lambda kb: None, situaties_alle_formulieren, check_minor_pays_no_more
    ),
    Property("leges_verlagingen_kloppen", lambda kb: None, situaties_alle_formulieren, check_reductions),
]


def test_documents_not_sent_leave_the_base_amount_and_name_the_reduction(engine):
    situation = {
        "beroep_artikel_8_evrm_op": "familie_of_gezinsleven",
        "heeft_onvoldoende_inkomen": True,
        "stuurt_inkomensverklaring_t2_mee": False,
        "stuurt_bewijs_leningaanvragen_mee": False,
    }
    result = fees_for(engine, parse_applicant(engine.kb, situation), "7018", PEILDATUM, reductions=True)
    (fee,) = result.per_source
    assert fee.amount == 17400 and fee.decided_by[-1]["rule_id"] == "G2"
    assert [(r["rule_id"], r["amount"], sorted(c["fact"] for c in r["changes"])) for r in fee.reductions] == [
        ("G2.artikel_8_evrm", 0, ["stuurt_bewijs_leningaanvragen_mee", "stuurt_inkomensverklaring_t2_mee"])
    ]


def _kb_copy_with(tmp_path, old: str, new: str):
    """A copy of the knowledge base with one change in leges.yaml."""
    import shutil

    target = tmp_path / "kb"
    shutil.copytree(Path(KB_DIR), target)
    leges = target / "regels" / "leges.yaml"
    text = leges.read_text(encoding="utf-8")
    assert text.count(old) == 1
    leges.write_text(text.replace(old, new), encoding="utf-8")
    return target


def test_the_peildatum_picks_the_value_in_force(tmp_path):
    """A dated value holds from its date; before it the undated one stays in force (issue 4)."""
    from engine.answer.assess import Engine

    old = """      - {vanaf: null, waarde: 5800, bron: {bestand: 001_656115d499998806.txt, citaat: "Deze aanvraag kost € 58."}}"""
    kb_dir = _kb_copy_with(
        tmp_path,
        old,
        old
        + """
      - {vanaf: 2027-01-01, waarde: 6100, bron: {bestand: 001_656115d499998806.txt, citaat: "Deze aanvraag kost € 58."}}""",
    )
    dated = Engine(kb_dir)
    nobody = parse_applicant(dated.kb, {})
    assert fees_for(dated, nobody, "7031", date(2026, 12, 31)).amount == 5800
    assert fees_for(dated, nobody, "7031", date(2027, 1, 1)).amount == 6100


def test_an_amount_written_into_a_fee_rule_is_refused(tmp_path):
    """Amounts are parameters with a source, never literals in a rule."""
    from engine.errors import KnowledgeBaseError

    kb_dir = _kb_copy_with(tmp_path, "    bedrag: leges_7031\n", "    bedrag: 5800\n")
    with pytest.raises(KnowledgeBaseError, match="onbekende parameter"):
        load_knowledge_base(kb_dir)
