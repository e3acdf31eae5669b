"""`verblijfsregels fees` (issue 4): the form, the amount and the exception that decided it, in Dutch
and as JSON that fits the published schema; both amounts where sources disagree, and the user's
precedence only when set; the base amount with what would lower it when documents are missing."""

from __future__ import annotations

import json

import fastjsonschema
import pytest

from tests.conftest import ROOT
from tests.test_cli import assert_one_line_error, run

GOLDEN = ROOT / "tests" / "golden"
VICTIM = GOLDEN / "slachtoffer_geweld_met_gezinsvergunning.yaml"  # 001: € 174, 002: € 207
NO_DOCUMENTS = GOLDEN / "artikel_8_zonder_stukken.yaml"
EX_DIPLOMAT = ROOT / "tests" / "scenarios" / "basis" / "ex_diplomaat_tien_jaar.yaml"
PEILDATUM = "2026-11-23"


@pytest.fixture(scope="module")
def fees_schema():
    schema = json.loads(run("schema", "--kind", "fees").stdout)
    return fastjsonschema.compile(schema, formats={"date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})


def fees(*args: str):
    return run("fees", *args, "--peildatum", PEILDATUM)


def test_disagreeing_sources_are_both_shown_with_their_quotes_and_no_amount_is_chosen(fees_schema):
    text = fees(VICTIM, "--form", "7027")
    assert text.exit_code == 0, text.output
    assert "De bronnen noemen verschillende bedragen voor deze situatie: bron 001: € 174,00; bron 002: € 207,00." in text.stdout
    assert "G4.na_familie" in text.stdout and "G8" in text.stdout
    assert "Deze aanvraag kost € 207." in text.stdout and "Uw aanvraag kost € 174." in text.stdout
    data = json.loads(fees(VICTIM, "--form", "7027", "--format", "json").stdout)
    fees_schema(data)
    assert data["amount"] is None and data["sources_agree"] is False
    assert data["precedence"] == {"order": [], "applied": False, "chosen_source": None}
    assert {s["source_file"][:3]: s["amount"] for s in data["per_source"]} == {"001": 17400, "002": 20700}


def test_a_precedence_is_applied_only_when_set_and_the_answer_says_so(fees_schema):
    text = fees(VICTIM, "--form", "7027", "--voorrang", "002,001")
    assert "Bedrag: € 207,00, volgens bron 002: de door u ingestelde voorrang (002, 001) is toegepast" in text.stdout
    data = json.loads(fees(VICTIM, "--form", "7027", "--voorrang", "002,001", "--format", "json").stdout)
    fees_schema(data)
    assert data["amount"] == 20700
    assert data["precedence"]["applied"] is True and data["precedence"]["chosen_source"].startswith("002")


def test_a_precedence_changes_nothing_where_the_sources_agree():
    data = json.loads(fees(EX_DIPLOMAT, "--form", "6009", "--voorrang", "002,001", "--format", "json").stdout)
    assert data["amount"] == 17400 and data["precedence"]["applied"] is False


def test_missing_documents_leave_the_base_amount_and_the_answer_names_the_reduction(fees_schema):
    text = fees(NO_DOCUMENTS, "--form", "7018")
    assert "Bedrag: € 174,00" in text.stdout
    assert "Het bedrag wordt lager als u verandert wat u nog kunt veranderen:" in text.stdout
    assert "€ 0,00 (G2.artikel_8_evrm:" in text.stdout
    data = json.loads(fees(NO_DOCUMENTS, "--form", "7018", "--format", "json").stdout)
    fees_schema(data)
    (reduction,) = data["per_source"][0]["reductions"]
    assert {c["fact"] for c in reduction["changes"]} == {"stuurt_inkomensverklaring_t2_mee", "stuurt_bewijs_leningaanvragen_mee"}


def test_a_goal_gives_the_fee_of_the_form_its_route_points_to(fees_schema):
    result = fees(EX_DIPLOMAT, "--goal", "ex_geprivilegieerde", "--format", "json")
    assert result.exit_code == 0, result.output
    (answer,) = json.loads(result.stdout)
    fees_schema(answer)
    assert answer["form"] == "6009" and answer["amount"] == 17400
    assert answer["per_source"][0]["decided_by"][-1]["rule_id"] == "G7"


def test_a_goal_without_a_form_in_the_sources_is_one_dutch_error_line():
    # 001 names form 6009 for ex-privileged applicants only, not for every permanent permit
    result = fees(EX_DIPLOMAT, "--goal", "onbepaalde_tijd_regulier")
    assert_one_line_error(result, "geen aanvraagformulier", "onbepaalde_tijd_regulier")


def test_goal_and_form_together_or_neither_is_refused():
    assert_one_line_error(fees(VICTIM, "--goal", "ex_geprivilegieerde", "--form", "7027"), "--goal", "--form")
    assert_one_line_error(fees(VICTIM), "--goal", "--form")


def test_an_unknown_form_is_refused_naming_the_forms():
    assert_one_line_error(fees(VICTIM, "--form", "9999"), "9999", "7027")
