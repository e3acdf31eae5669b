"""Victims of honour-related or domestic violence (002): the E9 exception, scope, and the terms."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from engine.applicant.facts import parse_applicant

PEILDATUM = date(2026, 11, 23)
GOALS = ("huiselijk_geweld", "eergerelateerd_geweld")
FACTS = (
    "heeft_nationaliteit_eu_eer_of_zwitserland",
    "is_familielid_van_eu_eer_of_zwitserse_burger",
    "heeft_geldige_mvv_voor_verblijfsdoel",
    "heeft_geldig_reisdocument",
    "beschikt_over_voldoende_middelen_van_bestaan",
    "vormt_gevaar_openbare_orde",
    "vormt_gevaar_nationale_veiligheid",
    "bereid_tot_medewerking_tbc_onderzoek",
    "verricht_arbeid_zonder_wav",
    "voldoet_aan_verblijfsdoel",
    "onjuiste_informatie_eerdere_aanvraag",
    "heeft_onrechtmatig_verblijf_gehad",
    "voldoet_aan_voorwaarden_andere_verblijfsvergunning",
    "sprake_van_huiselijk_geweld_of_dreiging",
    "relatie_verbroken_door_huiselijk_geweld",
    "huiselijk_geweld_heeft_relatie_met_eer",
    "kan_geweld_ontlopen_door_wonen_in_land_van_herkomst",
    "dreiging_eergerelateerd_geweld_in_nederland",
    "dreiging_eergerelateerd_geweld_in_land_van_herkomst",
    "dreiging_reeel_en_niet_op_korte_termijn_weg_te_nemen",
    "kinderontvoering",
    "dreiging_anderszins_voldoende_ernstig",
)
PERMITS = {
    "geen": [],
    "gezin": [{"van": "2022-01-01", "verblijfsdoel": "familie_of_gezinslid"}],
    "anders": [{"van": "2022-01-01", "verblijfsdoel": "anders"}],
}


@st.composite
def slachtoffers_van_geweld(draw, minderjarig: bool | None = None) -> dict:
    """Applicants for the violence routes; every yes/no fact may be unknown (the simplest case)."""
    if minderjarig is None:
        age_days = draw(st.integers(0, 80 * 365))
    elif minderjarig:
        age_days = draw(st.integers(0, 18 * 365 - 1))  # 18 * 365 days is always before the 18th birthday
    else:
        age_days = draw(st.integers(18 * 366, 80 * 365))
    born = PEILDATUM - timedelta(days=age_days)
    data = {"geboortedatum": born.isoformat()}
    for name in FACTS:
        value = draw(st.none() | st.booleans())
        if value is not None:
            data[name] = value
    permits = draw(st.none() | st.sampled_from(sorted(PERMITS)))
    if permits is not None:  # a permit starts on or after the birth date, so the applicant stays consistent
        start = max(born, date(2022, 1, 1)).isoformat()
        data["verblijfsvergunningen"] = [{**p, "van": start} for p in PERMITS[permits]]
    return data


def e9_values(assessment) -> list:
    return [n.value for n in assessment.proof.walk() if n.rule_id == "E9"]


@given(data=slachtoffers_van_geweld(minderjarig=True))
def test_a_domestic_violence_victim_under_18_never_fails_on_the_relationship_break(engine, data):
    applicant = parse_applicant(engine.kb, data)
    assessment = engine.assess(applicant, "huiselijk_geweld", PEILDATUM)
    values = engine.evaluate(applicant, "huiselijk_geweld", PEILDATUM)
    assert values.value("e9_relatie_verbroken") is True
    assert False not in e9_values(assessment)
    assert "relatie_verbroken_door_huiselijk_geweld" not in assessment.unknown_facts


@given(data=slachtoffers_van_geweld(minderjarig=False))
def test_for_an_adult_the_relationship_break_decides_e9(engine, data):
    applicant = parse_applicant(engine.kb, data)
    e9 = engine.evaluate(applicant, "huiselijk_geweld", PEILDATUM).value("e9_relatie_verbroken")
    assert e9 == data.get("relatie_verbroken_door_huiselijk_geweld")


@given(data=slachtoffers_van_geweld(), goal=st.sampled_from(GOALS))
def test_outside_this_knowledge_base_never_coexists_with_eligible_or_not_eligible(engine, data, goal):
    applicant = parse_applicant(engine.kb, data)
    assessment = engine.assess(applicant, goal, PEILDATUM)
    eu = data.get("heeft_nationaliteit_eu_eer_of_zwitserland") or data.get(
        "is_familielid_van_eu_eer_of_zwitserse_burger"
    )
    if eu:
        assert assessment.outcome == "out_of_scope"
    if assessment.outcome == "eligible":
        assert assessment.scope is not None and assessment.scope.value is False
    if assessment.outcome == "not_eligible":
        # every route fails: a refusal whatever E2 turns out to be, with E2 named while it is open
        assert assessment.scope is not None and assessment.scope.value is not True
        assert bool(assessment.elsewhere_if) == (assessment.scope.value is not False)


def test_the_terms_are_dates_counted_from_the_applicants_dates(engine):
    data = {
        "datum_indienen_aanvraag": "2026-11-02",
        "datum_ontvangst_aanvraag": "2026-11-05",
        "datum_positieve_beslissing": "2027-01-29",
        "datum_ontvangst_vergunning": "2027-02-15",
        "datum_aankomst_nederland": "2020-01-31",
        "geboortedatum": "1990-03-01",
        "verblijfsvergunningen": [],
    }
    terms = {
        t["rule_id"]: t["date"]
        for t in engine.assess(parse_applicant(engine.kb, data), "huiselijk_geweld", PEILDATUM).terms
    }
    assert terms["E14.biometrie"] == date(2026, 11, 16)  # 2 weeks after applying
    assert terms["E15"] == date(2027, 2, 3)  # 90 days after receipt
    assert terms["E16"] == date(2027, 2, 12)  # 2 weeks after the positive decision
    assert terms["E17.zorgverzekering"] == date(2020, 5, 31)  # 4 months after arrival
    assert terms["E18"] == date(2028, 2, 15)  # valid 1 year
    assert terms["E19"] == date(2028, 2, 15)  # change to niet-tijdelijk after 1 year


def test_the_form_follows_the_current_permit(engine):
    def forms(permits):
        data = {"geboortedatum": "1990-03-01", "verblijfsvergunningen": permits}
        result = engine.assess(parse_applicant(engine.kb, data), "huiselijk_geweld", PEILDATUM)
        return sorted(c["form"] for c in result.consequences if c["form"] and c["applies"] is True)

    assert forms([]) == ["7026"]
    assert forms(PERMITS["gezin"]) == ["7027"]
    assert forms(PERMITS["anders"]) == []


def test_why_not_names_the_half_of_the_threat_that_is_missing_in_the_netherlands_or_the_country_of_origin(engine):
    """002 (E4): 'een dreiging met eergerelateerd geweld in Nederland en in het land van herkomst'.
    Someone threatened in one place only is asked each half and hears which one fails."""
    import yaml

    from explain import render_why_not
    from tests.test_scenarios import HERE

    basis = yaml.safe_load((HERE / "basis" / "slachtoffer_eergerelateerd_geweld.yaml").read_text(encoding="utf-8"))
    here = "er is een dreiging met eergerelateerd geweld in Nederland: "
    there = "er is een dreiging met eergerelateerd geweld in het land van herkomst: "
    for missing, present in (("in_nederland", there), ("in_land_van_herkomst", here)):
        applicant = parse_applicant(engine.kb, {**basis, f"dreiging_eergerelateerd_geweld_{missing}": False})
        result = engine.assess(applicant, "eergerelateerd_geweld", PEILDATUM, every_failure=True)
        assert result.outcome == "not_eligible"
        text = render_why_not(result, engine.kb, None)
        failing = here if missing == "in_nederland" else there
        assert failing + "nee" in text, text
        assert present not in text  # the half that holds is no reason
