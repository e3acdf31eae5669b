"""The loader refuses rule bases that would give wrong answers, with a message naming the rule."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from engine.answer.assess import Engine
from engine.applicant.facts import parse_applicant
from engine.errors import KnowledgeBaseError
from engine.rules.model import load_knowledge_base

SOURCE = "bron: {bestand: 003_453b3a8f2812a451.txt, citaat: Voorwaarden}"


def seeded(tmp_path: Path, rules: str, goal: str = "p") -> Path:
    """A minimal rule base with facts a, b and the given rules; the goal concludes `goal`."""
    (tmp_path / "regels").mkdir()
    (tmp_path / "feiten.yaml").write_text(
        textwrap.dedent("""
        feiten:
          a: {type: bool, label: a, vraag: a?, wijzigbaar: true}
          b: {type: bool, label: b, vraag: b?, wijzigbaar: true}
    """),
        encoding="utf-8",
    )
    (tmp_path / "doelen.yaml").write_text(f"doelen:\n  doel: {{label: doel, conclusie: {goal}}}\n", encoding="utf-8")
    (tmp_path / "regels" / "r.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    return tmp_path


def test_a_well_formed_seeded_rule_base_loads(tmp_path):
    kb = load_knowledge_base(
        seeded(
            tmp_path,
            f"""
        regels:
          - {{id: C1, label: p, conclusie: p, voorwaarden: {{alle: [a, b]}}, {SOURCE}}}
    """,
        )
    )
    assert list(kb.rules) == ["C1"]


def test_an_undeclared_predicate_is_rejected_naming_the_rule(tmp_path):
    with pytest.raises(KnowledgeBaseError, match=r"\[C1\].*'onbekend_feit' is niet gedeclareerd"):
        load_knowledge_base(
            seeded(
                tmp_path,
                f"""
            regels:
              - {{id: C1, label: p, conclusie: p, voorwaarden: {{alle: [a, onbekend_feit]}}, {SOURCE}}}
        """,
            )
        )


def test_recursion_through_negation_is_rejected(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="recursie via negatie"):
        load_knowledge_base(
            seeded(
                tmp_path,
                f"""
            regels:
              - {{id: C1, label: p, conclusie: p, voorwaarden: {{alle: [a, {{niet: q}}]}}, {SOURCE}}}
              - {{id: C2, label: q, conclusie: q, voorwaarden: {{alle: [b, p]}}, {SOURCE}}}
        """,
            )
        )


def test_a_rule_negating_itself_is_rejected(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="recursie via negatie"):
        load_knowledge_base(
            seeded(
                tmp_path,
                f"""
            regels:
              - {{id: C1, label: p, conclusie: p, voorwaarden: {{alle: [a, {{niet: p}}]}}, {SOURCE}}}
        """,
            )
        )


def test_an_exception_depending_on_the_rule_it_overrides_is_recursion_through_negation(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="recursie via negatie"):
        load_knowledge_base(
            seeded(
                tmp_path,
                f"""
            regels:
              - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SOURCE}}}
              - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: p, {SOURCE}}}
        """,
            )
        )


def test_duplicate_rule_ids_are_rejected(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="al gedeclareerd"):
        load_knowledge_base(
            seeded(
                tmp_path,
                f"""
            regels:
              - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SOURCE}}}
              - {{id: C1, label: q, conclusie: q, voorwaarden: b, {SOURCE}}}
        """,
            )
        )


def test_a_rule_id_must_name_an_inventory_row(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="noemt geen inventarisrij"):
        load_knowledge_base(
            seeded(
                tmp_path,
                f"""
            regels:
              - {{id: regel1, label: p, conclusie: p, voorwaarden: a, {SOURCE}}}
        """,
            )
        )


def test_an_exception_to_an_unknown_rule_is_rejected(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="uitzondering op onbekende regel 'C9'"):
        load_knowledge_base(
            seeded(
                tmp_path,
                f"""
            regels:
              - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SOURCE}}}
              - {{id: C1.x, label: x, uitzondering_op: C9, van_toepassing_als: b, {SOURCE}}}
        """,
            )
        )


def test_positive_recursion_is_allowed_and_leaves_an_unfounded_cycle_unknown(tmp_path):
    # p <= q, q <= p: nothing grounds either, so in the least model neither is true or false
    engine = Engine(
        seeded(
            tmp_path,
            f"""
        regels:
          - {{id: C1, label: p, conclusie: p, voorwaarden: q, {SOURCE}}}
          - {{id: C2, label: q, conclusie: q, voorwaarden: p, {SOURCE}}}
    """,
        )
    )
    result = engine.assess(parse_applicant(engine.kb, {"a": True}), "doel", date(2026, 1, 1))
    assert result.outcome == "undetermined"


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (True, True, "eligible"),
        (True, False, "eligible"),
        (False, False, "not_eligible"),
        (False, None, "undetermined"),
        (None, True, "eligible"),
    ],
)
def test_an_exception_without_conditions_can_only_make_its_rule_hold(tmp_path, a, b, expected):
    engine = Engine(
        seeded(
            tmp_path,
            f"""
        regels:
          - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SOURCE}}}
          - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: b, {SOURCE}}}
    """,
        )
    )
    facts = {k: v for k, v in {"a": a, "b": b}.items() if v is not None}
    assert engine.assess(parse_applicant(engine.kb, facts), "doel", date(2026, 1, 1)).outcome == expected


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (True, True, "not_eligible"),  # exception applies and its condition (niet a) fails
        (False, True, "eligible"),  # exception applies: niet a holds
        (True, False, "eligible"),  # exception does not apply: the rule's own condition a
        (True, None, "undetermined"),  # rule says yes, exception would say no
        (False, None, "undetermined"),  # rule says no, exception would say yes
    ],
)
def test_an_applicable_exception_replaces_the_rules_conditions(tmp_path, a, b, expected):
    engine = Engine(
        seeded(
            tmp_path,
            f"""
        regels:
          - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SOURCE}}}
          - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: {{niet: a}}, {SOURCE}}}
    """,
        )
    )
    facts = {k: v for k, v in {"a": a, "b": b}.items() if v is not None}
    assert engine.assess(parse_applicant(engine.kb, facts), "doel", date(2026, 1, 1)).outcome == expected


# -- the order of dates (`niet_voor`) ---------------------------------------------------------------


def dated(tmp_path: Path, facts: str) -> Path:
    """A minimal rule base with the given date facts and one goal."""
    (tmp_path / "regels").mkdir(parents=True)
    (tmp_path / "feiten.yaml").write_text("feiten:\n" + textwrap.indent(textwrap.dedent(facts), "  "), encoding="utf-8")
    (tmp_path / "doelen.yaml").write_text("doelen:\n  doel: {label: doel, conclusie: p}\n", encoding="utf-8")
    (tmp_path / "regels" / "r.yaml").write_text(
        f"regels:\n  - {{id: C1, label: p, conclusie: p, voorwaarden: {{waarde: begin, minstens: 2000-01-01}}, {SOURCE}}}\n",
        encoding="utf-8",
    )
    return tmp_path


@pytest.mark.parametrize(
    "declaration, message",
    [
        ("niet_voor: onbekend", r"\[einde\]: niet_voor noemt 'onbekend', geen ander gedeclareerd datumfeit"),
        ("niet_voor: a", r"\[einde\]: niet_voor noemt 'a', geen ander gedeclareerd datumfeit"),
        ("niet_voor: einde", r"\[einde\]: niet_voor noemt 'einde', geen ander"),
        ("niet_voor: {x: begin}", r"\[einde\]: 'niet_voor' hoort bij een datumfeit"),
    ],
)
def test_niet_voor_must_name_another_date_fact_in_one_line_naming_both(tmp_path, declaration, message):
    with pytest.raises(KnowledgeBaseError, match=message) as info:
        load_knowledge_base(
            dated(
                tmp_path,
                f"""
            a: {{type: bool, label: a, vraag: a?, wijzigbaar: true}}
            begin: {{type: datum, label: begin, vraag: begin?, wijzigbaar: false}}
            einde: {{type: datum, {declaration}, label: einde, vraag: einde?, wijzigbaar: false}}
        """,
            )
        )
    assert "\n" not in str(info.value)


def test_niet_voor_on_a_fact_that_is_no_date_and_a_cycle_are_refused(tmp_path):
    with pytest.raises(KnowledgeBaseError, match=r"\[a\]: 'niet_voor' hoort bij een datumfeit"):
        load_knowledge_base(
            dated(
                tmp_path / "1",
                """
            a: {type: bool, niet_voor: begin, label: a, vraag: a?, wijzigbaar: true}
            begin: {type: datum, label: begin, vraag: begin?, wijzigbaar: false}
        """,
            )
        )
    with pytest.raises(KnowledgeBaseError, match=r"niet_voor maakt een kring: begin → einde → begin"):
        load_knowledge_base(
            dated(
                tmp_path / "2",
                """
            begin: {type: datum, niet_voor: einde, label: begin, vraag: begin?, wijzigbaar: false}
            einde: {type: datum, niet_voor: begin, label: einde, vraag: einde?, wijzigbaar: false}
        """,
            )
        )


def test_an_applicant_whose_dates_break_the_declared_order_is_refused_naming_both_fields(tmp_path):
    from engine.applicant.facts import json_schema
    from engine.errors import InputError
    from engine.rules.model import date_order

    kb = load_knowledge_base(
        dated(
            tmp_path,
            """
        begin: {type: datum, label: begin, vraag: begin?, wijzigbaar: false}
        midden: {type: datum, niet_voor: begin, label: midden, vraag: midden?, wijzigbaar: false}
        einde: {type: datum, niet_voor: [midden], label: einde, vraag: einde?, wijzigbaar: false}
    """,
        )
    )
    assert date_order(kb) == {"begin": (), "midden": ("begin",), "einde": ("midden", "begin")}
    parse_applicant(kb, {"begin": "2020-01-01", "einde": "2020-01-01"})  # the same day is fine
    with pytest.raises(InputError, match=r"^veld 'midden': ligt voor begin; dat kan niet$"):
        parse_applicant(kb, {"begin": "2020-01-02", "midden": "2020-01-01"})
    # followed through an unknown date in between
    with pytest.raises(InputError, match=r"^veld 'einde': ligt voor begin; dat kan niet$"):
        parse_applicant(kb, {"begin": "2020-01-02", "einde": "2020-01-01"})
    assert json_schema(kb)["properties"]["einde"]["x-niet-voor"] == ["midden"]


@pytest.mark.parametrize(
    "later, earlier",
    [
        ("einde_geprivilegieerde_status", "begin_geprivilegieerde_status"),
        ("einde_geprivilegieerde_status", "datum_vestiging_internationale_organisatie"),
        ("begin_geprivilegieerde_status", "datum_aankomst_nederland"),
        ("datum_ontvangst_aanvraag", "datum_indienen_aanvraag"),
        ("datum_positieve_beslissing", "datum_ontvangst_aanvraag"),
        ("datum_positieve_beslissing", "datum_indienen_aanvraag"),
        ("datum_ontvangst_vergunning", "datum_positieve_beslissing"),
        ("datum_indienen_aanvraag", "geboortedatum"),
    ],
)
def test_assess_refuses_an_applicant_whose_dates_are_in_an_impossible_order(tmp_path, later, earlier):
    from click.testing import CliRunner

    from cli import main

    path = tmp_path / "aanvrager.yaml"
    path.write_text(f"{earlier}: 2020-05-02\n{later}: 2020-05-01\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["assess", str(path), "--peildatum", "2026-11-22"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"fout: veld '{later}': ligt voor {earlier}; dat kan niet"]


def test_a_pointer_elsewhere_that_two_rules_conclude_names_its_goal_and_the_reference_that_holds(tmp_path):
    path = seeded(
        tmp_path,
        f"""
        regels:
          - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SOURCE}}}
          - {{id: C15.asiel, label: asiel, conclusie: weg, voorwaarden: a, verwijzing: naar de asielpagina, {SOURCE}}}
          - {{id: C15.ex_geprivilegieerde, label: geprivilegieerd, conclusie: weg, voorwaarden: b,
             verwijzing: naar de pagina voor geprivilegieerden, {SOURCE}}}
    """,
    )
    (path / "doelen.yaml").write_text(
        "doelen:\n  doel: {label: het doel, conclusie: p, buiten_bereik: weg}\n", encoding="utf-8"
    )
    engine = Engine(path)
    result = engine.assess(parse_applicant(engine.kb, {"a": True, "b": False}), "doel", date(2026, 1, 1))
    assert result.outcome == "out_of_scope"
    assert result.scope.label == "de bronnen verwijzen naar een andere regeling dan deze (het doel)"
    assert result.scope.detail["reference"] == "naar de asielpagina"
    both = engine.assess(parse_applicant(engine.kb, {"a": True, "b": True}), "doel", date(2026, 1, 1))
    assert both.scope.detail["reference"] == "naar de asielpagina naar de pagina voor geprivilegieerden"


ASSUMPTION = "aanname: {grondslag: art. 1:233 BW, reden: De bronnen gebruiken het woord zonder het te definiëren.}"


def test_an_assumption_is_a_declaration_with_a_legal_basis_instead_of_a_seed_quote(tmp_path):
    kb = load_knowledge_base(
        seeded(
            tmp_path,
            f"""
        regels:
          - {{id: C4, label: p, conclusie: p, voorwaarden: q, {SOURCE}}}
          - {{id: aanname.q, label: q, conclusie: q, voorwaarden: a, {ASSUMPTION}}}
    """,
        )
    )
    rule = kb.rules["aanname.q"]
    assert rule.assumption.basis == "art. 1:233 BW"
    assert rule.assumption.reason == "De bronnen gebruiken het woord zonder het te definiëren."
    assert kb.rules["C4"].assumption is None


@pytest.mark.parametrize(
    "rule, message",
    [
        # an assumption has no seed quote, and a seed-quoted rule is no assumption
        (f"{{id: aanname.q, label: q, conclusie: q, voorwaarden: a, {ASSUMPTION}, {SOURCE}}}", "aanname.*geen 'bron'"),
        (f"{{id: C5, label: q, conclusie: q, voorwaarden: a, {ASSUMPTION}}}", "aanname\\.<naam>"),
        ("{id: aanname.q, label: q, conclusie: q, voorwaarden: a, " + SOURCE + "}", "aanname\\.<naam>"),
        (
            "{id: aanname.q, label: q, conclusie: q, voorwaarden: a, aanname: {grondslag: art. 1:233 BW}}",
            "precies 'grondslag'.* en 'reden'",
        ),
        # only a plain rule can be an assumption: no exception, consequence or term
        (f"{{id: aanname.q, label: q, uitzondering_op: C4, van_toepassing_als: a, {ASSUMPTION}}}", "alleen een regel"),
    ],
)
def test_a_malformed_assumption_is_rejected(tmp_path, rule, message):
    with pytest.raises(KnowledgeBaseError, match=message):
        load_knowledge_base(
            seeded(
                tmp_path,
                f"""
            regels:
              - {{id: C4, label: p, conclusie: p, voorwaarden: q, {SOURCE}}}
              - {rule}
        """,
            )
        )


def test_a_proof_shows_an_assumption_as_such_and_never_as_a_seed_quote(tmp_path):
    engine = Engine(
        seeded(
            tmp_path,
            f"""
        regels:
          - {{id: C4, label: p, conclusie: p, voorwaarden: q, {SOURCE}}}
          - {{id: aanname.q, label: q, conclusie: q, voorwaarden: a, {ASSUMPTION}}}
    """,
        )
    )
    result = engine.assess(parse_applicant(engine.kb, {"a": True}), "doel", date(2026, 1, 1))
    node = next(n for n in result.proof.walk() if n.rule_id == "aanname.q")
    assert node.source is None  # a `source` in a proof is a verbatim quote of a seed file
    assert node.detail["assumption"] == {
        "basis": "art. 1:233 BW",
        "reason": "De bronnen gebruiken het woord zonder het te definiëren.",
    }
    assert node.explanation.startswith("Aanname, geen citaat uit de bronnen (art. 1:233 BW):")
    assert "source" not in node.to_json() and node.to_json()["detail"]["assumption"]["basis"] == "art. 1:233 BW"
