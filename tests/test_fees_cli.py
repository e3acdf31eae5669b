"""`verblijfsregels fees` (issue 4): the form, the amount and the exception that decided it, in Dutch
and as JSON that fits the published schema; both amounts where sources disagree, and the user's
precedence only when set; the base amount with what would lower it when documents are missing."""

from __future__ import annotations

import json

import fastjsonschema
import pytest

from tests.conftest import ROOT, flat
from tests.test_cli import assert_one_line_error, run
from tests.test_fee_properties import _kb_copy_with

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
    assert (
        "De bronnen noemen verschillende bedragen voor deze situatie: bron 001: € 174,00; bron 002: € 207,00."
        in flat(text.stdout)
    )
    assert "G4.na_familie" in flat(text.stdout) and "G8" in flat(text.stdout)
    assert "Deze aanvraag kost € 207." in flat(text.stdout) and "Uw aanvraag kost € 174." in flat(text.stdout)
    data = json.loads(fees(VICTIM, "--form", "7027", "--format", "json").stdout)
    fees_schema(data)
    assert data["amount"] is None and data["sources_agree"] is False
    assert data["precedence"] == {
        "order": [],
        "applied": False,
        "chosen_source": None,
        "set_by": None,
        "declared": None,  # 001 and 002 are both undated: the knowledge base declares no order between them
    }
    assert {s["source_file"][:3]: s["amount"] for s in data["per_source"]} == {"001": 17400, "002": 20700}


def test_a_precedence_is_applied_only_when_set_and_the_answer_says_so(fees_schema):
    text = fees(VICTIM, "--form", "7027", "--voorrang", "002,001")
    assert "Bedrag: € 207,00, volgens bron 002: de door u ingestelde voorrang (002, 001) is toegepast" in flat(
        text.stdout
    )
    data = json.loads(fees(VICTIM, "--form", "7027", "--voorrang", "002,001", "--format", "json").stdout)
    fees_schema(data)
    assert data["amount"] == 20700
    assert data["precedence"]["applied"] is True and data["precedence"]["chosen_source"].startswith("002")


def test_a_precedence_changes_nothing_where_the_sources_agree():
    data = json.loads(fees(EX_DIPLOMAT, "--form", "6009", "--voorrang", "002,001", "--format", "json").stdout)
    assert data["amount"] == 17400 and data["precedence"]["applied"] is False


def test_missing_documents_leave_the_base_amount_and_the_answer_names_the_reduction(fees_schema):
    text = fees(NO_DOCUMENTS, "--form", "7018")
    assert "Bedrag: € 174,00" in flat(text.stdout)
    assert "Het bedrag wordt lager als u verandert wat u nog kunt veranderen:" in flat(text.stdout)
    assert "€ 0,00 (G2.artikel_8_evrm:" in flat(text.stdout)
    data = json.loads(fees(NO_DOCUMENTS, "--form", "7018", "--format", "json").stdout)
    fees_schema(data)
    (reduction,) = data["per_source"][0]["reductions"]
    assert {c["fact"] for c in reduction["changes"]} == {
        "stuurt_inkomensverklaring_t2_mee",
        "stuurt_bewijs_leningaanvragen_mee",
    }


def test_a_goal_gives_the_fee_of_the_form_its_route_points_to(fees_schema):
    result = fees(EX_DIPLOMAT, "--goal", "ex_geprivilegieerde", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    fees_schema(document)
    (answer,) = document["forms"]
    fees_schema(answer)
    assert answer["form"] == "6009" and answer["amount"] == 17400
    assert answer["per_source"][0]["decided_by"][-1]["rule_id"] == "G7"


def test_a_goal_without_a_form_in_the_sources_is_an_answer_said_plainly_in_text_and_json(fees_schema):
    # 001 names form 6009 for ex-privileged applicants only, not for every permanent permit
    result = fees(EX_DIPLOMAT, "--goal", "onbepaalde_tijd_regulier")
    assert result.exit_code == 0 and result.stderr == ""
    assert flat(result.stdout) == (
        "Leges voor verblijfsvergunning voor onbepaalde tijd regulier: de bronnen noemen geen"
        " aanvraagformulier voor dit doel in deze situatie. "
    )
    data = json.loads(fees(EX_DIPLOMAT, "--goal", "onbepaalde_tijd_regulier", "--format", "json").stdout)
    fees_schema(data)
    assert data["forms"] == [] and data["no_form"].startswith("de bronnen noemen geen aanvraagformulier")


def test_goal_and_form_together_or_neither_is_refused():
    assert_one_line_error(fees(VICTIM, "--goal", "ex_geprivilegieerde", "--form", "7027"), "--goal", "--form")
    assert_one_line_error(fees(VICTIM), "--goal", "--form")


def test_an_unknown_form_is_refused_naming_the_forms():
    assert_one_line_error(fees(VICTIM, "--form", "9999"), "9999", "7027")


# -- beside each open route (assess), what applying for a goal implies, one source with two amounts,
#    --voorrang naming a source the fees do not cite, and the range of bron 004 (G9) --------------

HG = GOLDEN / "slachtoffer_huiselijk_geweld_zonder_opgave_over_de_aanvraag.yaml"  # aanvraag_na_geweld open
TRAFFICKING = GOLDEN / "slachtoffer_mensenhandel_na_gezinsvergunning.yaml"  # 001: € 391 and € 174


def assess(*args: str):
    return run("assess", *args, "--peildatum", PEILDATUM)


def _without_reductions(answer: dict) -> dict:
    return {**answer, "per_source": [{**s, "reductions": []} for s in answer["per_source"]]}


def test_the_overview_shows_beside_each_open_route_the_fee_that_fees_gives_for_that_goal(fees_schema):
    overview = json.loads(assess(HG, "--format", "json").stdout)["assessments"]
    text = assess(HG).stdout
    seen = 0
    for assessment in overview:
        if assessment["outcome"] not in ("eligible", "undetermined"):
            assert assessment["fees"] == []
            continue
        for fee in assessment["fees"]:
            fees_schema(fee)
            assert f"formulier {fee['form']} ({fee['form_label']}): " in flat(text)
            seen += 1
        if assessment["fees"]:
            given = json.loads(fees(HG, "--goal", assessment["goal"], "--format", "json").stdout)["forms"]
            assert [_without_reductions(a) for a in given] == assessment["fees"], assessment["goal"]
    assert seen >= 5
    block = text.split("verblijfsvergunning als slachtoffer van (dreigend) huiselijk geweld (huiselijk_geweld)")[1]
    assert block.split("\n- ")[0].count("leges: formulier 7027") == 1
    assert "de bronnen verschillen: bron 001 € 174,00" in flat(block.split("\n- ")[0])
    assert ", bron 002 € 207,00" in flat(block.split("\n- ")[0])
    closed = text.split("Komt niet in aanmerking voor:")[1]
    assert "leges" not in closed.split("Het korte antwoord per doel")[0]


def test_asked_for_a_violence_goal_the_application_is_one_after_violence_so_both_sources_show(fees_schema):
    """E12.aanvraag_na_geweld: 001 (€ 174) and 002 (€ 207) both speak, and the answer says they differ."""
    for goal in ("huiselijk_geweld", "eergerelateerd_geweld"):
        (answer,) = json.loads(fees(HG, "--goal", goal, "--format", "json").stdout)["forms"]
        fees_schema(answer)
        assert answer["amount"] is None and answer["sources_agree"] is False
        assert {s["source_file"][:3]: (s["applies"], s["amount"]) for s in answer["per_source"]} == {
            "001": (True, 17400),
            "002": (True, 20700),
        }
        # the application is one after violence (E12.aanvraag_na_geweld) and as a victim of violence
        # (E12.doel_van_de_aanvraag), both from 002
        assumed = {a["fact"]: a for a in answer["assumptions"]}
        assert {f: a["value"] for f, a in assumed.items()} == {
            "aanvraag_na_geweld": True,
            "doel_van_de_aanvraag": "slachtoffer_huiselijk_of_eergerelateerd_geweld",
        }
        for assumption in assumed.values():
            assert assumption["applied"] is True and assumption["given"] is None
            assert assumption["source"]["file"].startswith("002") and assumption["goal"] == goal
    text = fees(HG, "--goal", "huiselijk_geweld").stdout
    assert "Voor dit doel (huiselijk_geweld) gaat de kennisbank uit van: doet de aanvraag na" in flat(text)
    assert (
        "De bronnen noemen verschillende bedragen voor deze situatie: bron 001: € 174,00; bron 002: € 207,00."
        in flat(text)
    )
    leges = flat(assess(HG, "--goal", "huiselijk_geweld").stdout.split("Leges:")[1])
    assert "de bronnen verschillen: bron 001 € 174,00" in leges and "bron 002 € 207,00" in leges
    assert "Voor dit doel geldt: doet de aanvraag na" in leges


def test_asked_for_the_form_alone_nothing_is_assumed_and_another_goal_assumes_only_its_own_purpose():
    (answer,) = [json.loads(fees(HG, "--form", "7027", "--format", "json").stdout)]
    assert answer["assumptions"] == []
    assert {s["source_file"][:3]: s["applies"] for s in answer["per_source"]} == {"001": True, "002": None}
    (other,) = json.loads(fees(HG, "--goal", "humanitair_niet_tijdelijk", "--format", "json").stdout)["forms"]
    # voortgezet verblijf says what the application is for (F11.doel_van_de_aanvraag), not that it
    # is one after violence
    assert [(a["fact"], a["value"]) for a in other["assumptions"]] == [
        ("doel_van_de_aanvraag", "humanitair_niet_tijdelijk")
    ]
    assert other["amount"] == 17400


def test_a_value_the_applicant_gave_is_never_overridden_and_the_answer_says_it_differs(tmp_path, fees_schema):
    said_no = tmp_path / "nee.yaml"
    said_no.write_text(
        HG.read_text(encoding="utf-8") + "aanvraag_na_geweld: false\ndoel_van_de_aanvraag: humanitair_niet_tijdelijk\n",
        encoding="utf-8",
    )
    (answer,) = json.loads(fees(said_no, "--goal", "huiselijk_geweld", "--format", "json").stdout)["forms"]
    fees_schema(answer)
    (assumption,) = [a for a in answer["assumptions"] if a["fact"] == "aanvraag_na_geweld"]
    assert assumption["applied"] is False and assumption["given"] is False and assumption["value"] is True
    # 002 speaks only about an application as a victim of violence (G8, E12: doel_van_de_aanvraag)
    assert [s["source_file"][:3] for s in answer["per_source"]] == ["001"]
    assert answer["amount"] == 17400
    text = fees(said_no, "--goal", "huiselijk_geweld").stdout
    assert "Let op: u gaf op ‘doet de aanvraag na (een dreiging van) huiselijk of eergerelateerd geweld’: nee." in flat(
        text
    )
    assert "de leges hieronder volgen uw opgave" in flat(text)
    said_yes = tmp_path / "ja.yaml"
    said_yes.write_text(HG.read_text(encoding="utf-8") + "aanvraag_na_geweld: true\n", encoding="utf-8")
    (same,) = json.loads(fees(said_yes, "--goal", "huiselijk_geweld", "--format", "json").stdout)["forms"]
    # nothing assumed about the violence: the applicant said so
    assert [a["fact"] for a in same["assumptions"]] == ["doel_van_de_aanvraag"] and same["amount"] is None


def test_one_source_with_two_applicable_exceptions_names_both_amounts_and_picks_none(fees_schema):
    text = fees(TRAFFICKING, "--form", "7027").stdout
    assert (
        "Bron 001 noemt voor deze situatie € 174,00 of € 391,00 en zegt niet welke geldt. De kennisbank kiest niet."
        in flat(text)
    )
    assert "Bedrag:" not in flat(text) and "--voorrang" not in flat(
        text
    )  # an order of sources cannot settle one source
    assert "Uw aanvraag kost € 391." in flat(
        text
    ) and "Dit bedrag geldt ook als u de aanvraag doet na huiselijk geweld" in flat(text)
    data = json.loads(fees(TRAFFICKING, "--form", "7027", "--format", "json").stdout)
    fees_schema(data)
    (source,) = data["per_source"]
    assert data["amount"] is None and data["sources_agree"] is False and source["amount"] is None
    assert source["conflict"]["at"] == "G4" and source["stated_amounts"] == [17400, 39100]
    assert {b["decided_by"][-1]["rule_id"]: b["amount"] for b in source["conflict"]["branches"]} == {
        "G4.mensenhandel": 39100,
        "G4.na_familie": 17400,
    }
    beside = flat(assess(TRAFFICKING, "--goal", "slachtoffer_mensenhandel").stdout.split("Leges:")[1])
    assert "bron 001 noemt € 174,00 of € 391,00 en zegt niet welke geldt" in beside


def test_a_precedence_the_kb_declares_with_a_reason_settles_one_source_and_the_answer_says_so(tmp_path):
    from datetime import date

    from engine.answer.assess import Engine
    from engine.answer.fees import fees_for
    from engine.applicant.facts import read_applicant_file
    from explain import render_fees

    anchor = "    bedrag: leges_7027_mensenhandel_huiselijk_geweld\n"
    kb_dir = _kb_copy_with(
        tmp_path,
        anchor,
        anchor
        + (
            "    gaat_voor:\n      regels: [G4.na_familie]\n      reden: een proefverklaring\n"
            '      bron: {bestand: 001_656115d499998806.txt, citaat: "Uw aanvraag kost € 391."}\n'
        ),
    )
    eng = Engine(kb_dir)
    answer = fees_for(eng, read_applicant_file(eng.kb, TRAFFICKING), "7027", date(2026, 11, 23))
    (source,) = answer.per_source
    assert answer.amount == 39100 and source.conflict is None and answer.agreed is False
    assert source.declared_precedence == [
        {
            "rule_id": "G4.mensenhandel",
            "over": [{"rule_id": "G4.na_familie", "amount": 17400}],
            "reason": "een proefverklaring",
            "source": {"file": "001_656115d499998806.txt", "quote": "Uw aanvraag kost € 391."},
        }
    ]
    text = render_fees(answer, eng.kb)
    assert "de kennisbank laat G4.mensenhandel voorgaan: een proefverklaring." in flat(text)


@pytest.mark.parametrize(
    "declaration, message",
    [
        ("      regels: [G2.turks]\n", "geen andere uitzondering op G4"),
        ("      regels: [G4.mensenhandel]\n", "geen andere uitzondering op G4"),
    ],
)
def test_a_declared_precedence_names_a_sibling_exception(tmp_path, declaration, message):
    from engine.errors import KnowledgeBaseError
    from engine.rules.model import load_knowledge_base

    anchor = "    bedrag: leges_7027_mensenhandel_huiselijk_geweld\n"
    kb_dir = _kb_copy_with(
        tmp_path,
        anchor,
        anchor
        + "    gaat_voor:\n"
        + declaration
        + ('      reden: proef\n      bron: {bestand: 001_656115d499998806.txt, citaat: "Uw aanvraag kost € 391."}\n'),
    )
    with pytest.raises(KnowledgeBaseError, match=message):
        load_knowledge_base(kb_dir)


@pytest.mark.parametrize("command", ["fees", "batch"])
def test_an_unknown_source_in_voorrang_is_refused_naming_the_option_and_the_sources(tmp_path, command):
    out = tmp_path / "uit.csv"
    if command == "fees":
        result = fees(VICTIM, "--form", "7027", "--voorrang", "002,xyz")
    else:
        source = tmp_path / "in.csv"
        source.write_text("geboortedatum\n1990-05-01\n", encoding="utf-8")
        result = run("batch", source, "--out", out, "--voorrang", "xyz")
    # the sources of the fees and of every source disagreement (000 and 003 state conditions, no fee)
    assert_one_line_error(result, "--voorrang", "'xyz'", "toegestaan: 000, 001, 002, 003, 004")
    assert not out.exists()  # refused before anything was written


def test_voorrang_takes_the_sources_of_fees_and_disagreements_by_number_or_file_name():
    for order in ("002,001", "004,001", "002_b3255643ce0e7bad.txt,001", "003"):
        assert fees(VICTIM, "--form", "7027", "--voorrang", order).exit_code == 0, order
    assert_one_line_error(
        fees(VICTIM, "--form", "7027", "--voorrang", "005"), "--voorrang", "'005'"
    )  # there is no source 005


def test_the_range_of_bron_004_is_a_disagreement_set_aside_with_the_reason_the_kb_cites(fees_schema):
    data = json.loads(fees(EX_DIPLOMAT, "--form", "7024", "--format", "json").stdout)
    fees_schema(data)
    assert data["amount"] == 137900 and data["sources_agree"] is False
    (note,) = data["range_notes"]
    assert note["rule_id"] == "G9" and note["outdated"]["source"] == {
        "file": "rule-inventory.md",
        "quote": "third-party page, undated and older: its fee range is out of date",
    }
    text = fees(EX_DIPLOMAT, "--form", "7024").stdout
    assert "De kennisbank volgt bron 004 hierin niet: " + note["outdated"]["reason"] in flat(text)
    assert "De regelinventaris: “third-party page, undated and older: its fee range is out of date”" in flat(text)


def test_the_reason_for_setting_the_range_aside_comes_from_the_kb_not_the_template(tmp_path):
    from datetime import date

    from engine.answer.assess import Engine
    from engine.answer.fees import fees_for
    from engine.applicant.facts import read_applicant_file
    from explain import render_fees

    template = (ROOT / "explain" / "templates" / "fees.txt.j2").read_text(encoding="utf-8")
    assert "verouderd" not in template and "ouder" not in template
    old = "      reden: bron 004 is een pagina van derden, ongedateerd en ouder dan de andere bronnen; haar bandbreedte van de leges is verouderd\n"
    eng = Engine(_kb_copy_with(tmp_path / "a", old, "      reden: een andere reden\n"))
    text = render_fees(fees_for(eng, read_applicant_file(eng.kb, EX_DIPLOMAT), "7024", date(2026, 11, 23)), eng.kb)
    assert "De kennisbank volgt bron 004 hierin niet: een andere reden." in flat(text)
    # without a declared reason the range stands: no amount is picked, and --voorrang can pick one
    start = "    verouderd:\n"
    text_kb = (ROOT / "kb" / "regels" / "leges.yaml").read_text(encoding="utf-8")
    block = text_kb[text_kb.index(start) : text_kb.index("\n", text_kb.index("bron: {bestand: rule-inventory.md")) + 1]
    eng = Engine(_kb_copy_with(tmp_path / "b", block, ""))
    applicant = read_applicant_file(eng.kb, EX_DIPLOMAT)
    standing = fees_for(eng, applicant, "7024", date(2026, 11, 23))
    assert standing.amount is None and standing.agreed is False and standing.ranges[0]["outdated"] is None
    assert "De kennisbank kiest niet; met --voorrang kiest u zelf welke bron voorgaat." in render_fees(standing, eng.kb)
    chosen = fees_for(eng, applicant, "7024", date(2026, 11, 23), ["001", "004"])
    assert chosen.amount == 137900 and chosen.chosen_source.startswith("001")
    assert fees_for(eng, applicant, "7024", date(2026, 11, 23), ["004", "001"]).amount is None


# -- the purpose of the application decides the fee (issue 18, item 3) ----------------------------

VICTIM_WHO_CANNOT_LEAVE = {
    "geboortedatum": "1990-05-01",
    "sprake_van_huiselijk_geweld_of_dreiging": True,
    "kan_buiten_schuld_nederland_niet_verlaten": True,
    "verblijfsvergunningen": [],
}


def _amounts(answer: dict) -> dict:
    """Per applicable source: its amount and the other amounts it may still turn out to be."""
    return {
        s["source_file"][:3]: (s["amount"], sorted(a["amount"] for a in s["alternatives"]))
        for s in answer["per_source"]
        if s["applies"] is True
    }


def test_the_purpose_of_the_application_decides_the_fee_alike_in_the_overview_fees_goal_and_batch(tmp_path, engine):
    """001 (7026): 'Deze aanvraag kost € 0.' and '€ 333' for an application because you cannot leave
    through no fault of your own; 002: free without a permit after violence. Someone who is a victim
    of violence and also cannot leave, and says nothing about the purpose: applying for buitenschuld
    costs € 333 (F10.doel_van_de_aanvraag), applying as a victim costs nothing by both sources
    (E12.doel_van_de_aanvraag), and humanitair_tijdelijk, which joins several routes, leaves € 333
    possible. The overview of assess, `fees --goal` and batch say the same."""
    from datetime import date

    from engine.answer.batch import CaseloadEvaluator, Row

    applicant = tmp_path / "slachtoffer.yaml"
    applicant.write_text(json.dumps(VICTIM_WHO_CANNOT_LEAVE), encoding="utf-8")
    expected = {
        "buitenschuld": {"001": (33300, [])},
        "huiselijk_geweld": {"001": (0, []), "002": (0, [])},
        "humanitair_tijdelijk": {"001": (0, [33300])},
    }
    overview = {a["goal"]: a["fees"] for a in json.loads(assess(applicant, "--format", "json").stdout)["assessments"]}
    (row,) = CaseloadEvaluator(engine, date.fromisoformat(PEILDATUM)).evaluate([Row(1, VICTIM_WHO_CANNOT_LEAVE)])
    for goal, amounts in expected.items():
        (shown,) = [f for f in overview[goal] if f["form"] == "7026"]
        given = [
            a
            for a in json.loads(fees(applicant, "--goal", goal, "--format", "json").stdout)["forms"]
            if a["form"] == "7026"
        ]
        assert [_without_reductions(a) for a in given] == [shown], goal
        assert _amounts(shown) == amounts, goal
        (batch,) = [f for f in row["fees"][goal] if f["form"] == "7026"]
        assert batch["per_source"] == {
            s["source_file"]: s["amount"] for s in shown["per_source"] if s["applies"] is True
        }, goal
        assert batch["alternative_amounts"] == sorted({a for _, others in amounts.values() for a in others}), goal


SPOUSE_MORE_THAN_FIVE_YEARS = {
    "geboortedatum": "1985-03-01",
    "is_slachtoffer_mensenhandel": False,
    "is_getuige_mensenhandel": False,
    "is_slachtoffer_huiselijk_geweld": False,
    "aanvraag_na_geweld": False,
    "aanvraag_na_achterlating": False,
    "verblijfsvergunningen": [{"van": "2019-01-01", "verblijfsdoel": "echtgenoot_of_partner", "niet_tijdelijk": False}],
}


def test_after_a_stay_as_spouse_the_7027_fee_names_the_disagreement_of_000_and_001_with_both_quotes(tmp_path, engine):
    """001 (7027): € 174 'na verblijf bij een familielid'. 000 counts a stay as spouse or partner as a
    stay as family member; 001 lists it apart (bronverschil D2+D5). The answer keeps € 1057 with
    € 174 possible and says that the sources differ, quoting both, in fees, the overview and batch."""
    from datetime import date

    from engine.answer.batch import CaseloadEvaluator, Row

    applicant = tmp_path / "echtgenoot.yaml"
    applicant.write_text(json.dumps(SPOUSE_MORE_THAN_FIVE_YEARS), encoding="utf-8")
    goal = "humanitair_niet_tijdelijk"
    (answer,) = json.loads(fees(applicant, "--goal", goal, "--format", "json").stdout)["forms"]
    (source,) = [s for s in answer["per_source"] if s["applies"] is True]
    assert source["amount"] == 105700
    (na_familie,) = [a for a in source["alternatives"] if a["rule_id"] == "G4.na_familie"]
    assert na_familie["amount"] == 17400 and na_familie["open_disagreements"] == ["D2+D5"]
    text = fees(applicant, "--goal", goal).stdout
    assert "bronverschil D2+D5" in flat(text)
    assert "“U hebt langer dan 5 jaar in Nederland verblijf gehad als echtgenoot of partner.”" in flat(text)
    assert "“U hebt een verblijfsvergunning voor verblijf bij echtgenoot of partner. En er is sprake" in flat(text)
    overview = {a["goal"]: a["fees"] for a in json.loads(assess(applicant, "--format", "json").stdout)["assessments"]}
    assert [_without_reductions(answer)] == overview[goal]
    (row,) = CaseloadEvaluator(engine, date.fromisoformat(PEILDATUM)).evaluate([Row(1, SPOUSE_MORE_THAN_FIVE_YEARS)])
    (batch,) = row["fees"][goal]
    assert (batch["amount"], batch["alternative_amounts"]) == (105700, [17400])
