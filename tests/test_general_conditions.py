"""004: every temporary permit has the general conditions A (issue 18, item 6).

'Om voor een verblijfsvergunning voor bepaalde tijd in aanmerking te komen moet u aan een aantal
voorwaarden voldoen.' Every goal reads the general conditions in each of its routes, or the
knowledge base says why not, with a quote (`zonder_algemene_voorwaarden`); the loader refuses a
rule base that does neither. The goal `algemene_voorwaarden` tests A alone.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.errors import KnowledgeBaseError
from engine.rules.model import KB_DIR, Atom, load_knowledge_base, requires
from tests.conftest import ROOT, flat

A = "voldoet_algemene_voorwaarden_bepaalde_tijd"
PEILDATUM = date(2026, 11, 22)
SOURCE_004 = "004_4ee60f9a98cd6659.txt"
# the goals the knowledge base itself holds to be temporary permits: A10, 'De maximale
# geldigheidsduur van een verblijfsvergunning voor bepaalde tijd is vijf jaar', names them
TEMPORARY = "A10"


def test_every_goal_reads_the_general_conditions_or_says_why_not_with_a_quote(kb):
    (general,) = [g for g in kb.goals.values() if g.every_goal_reads is not None]
    assert general.id == "algemene_voorwaarden" and general.conclusion == A
    assert general.every_goal_reads.file == SOURCE_004
    for goal in kb.goals.values():
        if goal is general:
            continue
        reads = requires(kb, Atom(goal.conclusion), A)
        reason = goal.without_general_conditions
        assert reads != (reason is not None), goal.id
        if reason is not None:
            assert reason.text and reason.source.quote, goal.id


def test_every_route_to_a_permit_for_bepaalde_tijd_reads_the_general_conditions(kb):
    """A10 ('De maximale geldigheidsduur van een verblijfsvergunning voor bepaalde tijd is vijf
    jaar') is linked to the routes that lead to humanitair tijdelijk or niet-tijdelijk: both
    permits read A on every route, and every goal A10 names reads A or says why not."""
    for goal in ("humanitair_tijdelijk", "humanitair_niet_tijdelijk"):
        assert TEMPORARY in [r.id for r in kb.rules.values() if goal in r.goals]
        assert requires(kb, Atom(kb.goals[goal].conclusion), A), goal
    for goal in kb.rules[TEMPORARY].goals:
        reads = requires(kb, Atom(kb.goals[goal].conclusion), A)
        assert reads or kb.goals[goal].without_general_conditions is not None, goal


def test_a_permit_for_onbepaalde_tijd_says_so_as_its_reason(kb):
    for goal in ("onbepaalde_tijd_regulier", "onbepaalde_tijd_benelux", "ex_geprivilegieerde"):
        assert "onbepaalde tijd" in kb.goals[goal].without_general_conditions.source.quote, goal


def _planted(tmp_path: Path, edit) -> Path:
    """A copy of the real knowledge base with one file edited."""
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    edit(copy)
    return copy


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_route_that_neither_reads_the_general_conditions_nor_says_why_is_refused(tmp_path):
    """Take A out of the buitenschuld route (F10) without a declared reason: refused, naming the
    goal, the key and the quote of 004."""

    def edit(copy: Path) -> None:
        _replace(
            copy / "regels" / "andere_redenen.yaml",
            "        - voldoet_aan_overige_regels_buitenschuld\n        - voldoet_algemene_voorwaarden_bepaalde_tijd",
            "        - voldoet_aan_overige_regels_buitenschuld",
        )

    with pytest.raises(KnowledgeBaseError, match=r"doel buitenschuld: .*zonder_algemene_voorwaarden.*bron 004"):
        load_knowledge_base(_planted(tmp_path, edit))


def test_a_route_that_reads_the_conditions_in_one_alternative_only_is_refused(tmp_path):
    """'een_van' of A and something else does not make A a condition of the route."""

    def edit(copy: Path) -> None:
        _replace(
            copy / "regels" / "andere_redenen.yaml",
            "        - voldoet_aan_overige_regels_buitenschuld\n        - voldoet_algemene_voorwaarden_bepaalde_tijd",
            "        - een_van:\n            - voldoet_aan_overige_regels_buitenschuld\n"
            "            - voldoet_algemene_voorwaarden_bepaalde_tijd",
        )

    with pytest.raises(KnowledgeBaseError, match=r"doel buitenschuld"):
        load_knowledge_base(_planted(tmp_path, edit))


def test_a_reason_where_the_route_already_reads_the_conditions_is_refused(tmp_path):
    def edit(copy: Path) -> None:
        _replace(
            copy / "regels" / "andere_redenen.yaml",
            "(buitenschuld)\n    conclusie: buitenschuld\n",
            "(buitenschuld)\n    conclusie: buitenschuld\n    zonder_algemene_voorwaarden:\n"
            f"      reden: geen\n      bron: {{bestand: {SOURCE_004}, citaat: Voorwaarden}}\n",
        )

    with pytest.raises(KnowledgeBaseError, match=r"doel buitenschuld: 'zonder_algemene_voorwaarden', maar"):
        load_knowledge_base(_planted(tmp_path, edit))


@pytest.mark.parametrize(
    "value, message",
    [
        ("{reden: waarom}", r"'bron' moet 'bestand' en 'citaat' hebben"),
        (f"{{bron: {{bestand: {SOURCE_004}, citaat: x}}}}", r"noem de 'reden'"),
        (
            "{reden: r, bron: {bestand: elders.txt, citaat: x}, extra: 1}",
            r"'zonder_algemene_voorwaarden' is \{reden, bron\}",
        ),
        ("{reden: r, bron: {bestand: elders.txt, citaat: x}}", r"geen bestand uit shared/seeds"),
        ("ja", r"'zonder_algemene_voorwaarden' is \{reden, bron\}"),
    ],
)
def test_a_malformed_reason_is_refused_naming_the_key(tmp_path, value, message):
    def edit(copy: Path) -> None:
        _replace(
            copy / "doelen.yaml",
            "    zonder_algemene_voorwaarden:\n",
            f"    zonder_algemene_voorwaarden: {value}\n    oud_zonder_algemene_voorwaarden:\n",
        )

    # the old block is renamed to an unknown key; the value under test must be refused first
    with pytest.raises(KnowledgeBaseError, match=message + "|onbekende sleutel"):
        load_knowledge_base(_planted(tmp_path, edit))


def test_an_unknown_goal_key_is_refused_with_what_is_allowed(tmp_path):
    def edit(copy: Path) -> None:
        _replace(
            copy / "doelen.yaml",
            "    conclusie: onbepaalde_tijd_regulier\n",
            "    conclusie: onbepaalde_tijd_regulier\n    leest: A\n",
        )

    with pytest.raises(KnowledgeBaseError, match=r"onbekende sleutel\(s\) \['leest'\].*geldt_voor_elk_doel"):
        load_knowledge_base(_planted(tmp_path, edit))


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _applicant(tmp_path: Path, **changes) -> Path:
    facts = {
        "heeft_geldige_mvv_voor_verblijfsdoel": True,
        "heeft_geldig_reisdocument": True,
        "beschikt_over_voldoende_middelen_van_bestaan": True,
        "vormt_gevaar_openbare_orde": False,
        "vormt_gevaar_nationale_veiligheid": False,
        "bereid_tot_medewerking_tbc_onderzoek": True,
        "verricht_arbeid_zonder_wav": False,
        "voldoet_aan_verblijfsdoel": True,
        "onjuiste_informatie_eerdere_aanvraag": False,
        "heeft_onrechtmatig_verblijf_gehad": False,
        **changes,
    }
    path = tmp_path / "aanvrager.json"
    path.write_text(json.dumps(facts), encoding="utf-8")
    return path


def test_an_advisor_tests_the_general_conditions_alone_with_assess(tmp_path):
    result = _cli(
        "assess", _applicant(tmp_path), "--goal", "algemene_voorwaarden", "--peildatum", PEILDATUM, "--detail"
    )
    assert (
        "Conclusie: de aanvrager komt in aanmerking voor een verblijfsvergunning voor bepaalde tijd wat de algemene"
        in flat(result.output)
    )
    assert "A: voldoet aan de algemene voorwaarden voor een verblijfsvergunning voor bepaalde tijd — voldaan" in flat(
        result.output
    )
    assert "Bron 004: “Om voor een verblijfsvergunning voor bepaalde tijd in aanmerking te komen" in flat(result.output)


def test_why_not_for_the_general_conditions_names_the_failing_one_with_its_quote(tmp_path):
    path = _applicant(tmp_path, vormt_gevaar_openbare_orde=True)
    result = _cli("why-not", path, "--goal", "algemene_voorwaarden", "--peildatum", PEILDATUM, "--format", "json")
    data = json.loads(result.output)
    assert data["assessment"]["outcome"] == "not_eligible"
    assert {"A", "A4"} <= {f["rule_id"] for f in data["failing"]}
    text = flat(_cli("why-not", path, "--goal", "algemene_voorwaarden", "--peildatum", PEILDATUM, "--detail").output)
    assert "A4: vormt geen gevaar voor de openbare orde of nationale veiligheid — niet voldaan" in text
    assert "“U mag geen gevaar vormen voor de openbare orde of nationale veiligheid.”" in text


def test_the_goal_for_the_general_conditions_is_documented():
    text = (ROOT / "docs" / "regels-schrijven.md").read_text(encoding="utf-8")
    assert "zonder_algemene_voorwaarden" in text and "geldt_voor_elk_doel" in text
