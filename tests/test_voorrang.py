"""Precedence between sources (kb/voorrang.yaml): where 003 (the IND's own page, updated 22 March
2024) and 004 (a third-party page, undated and older) disagree, the answer follows 003, says so,
and shows what 004 would give; `--voorrang` overrides it; the loader refuses a bad declaration."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from engine.answer.assess import Engine
from engine.answer.repairs import find_repairs
from engine.applicant.facts import parse_applicant
from engine.checks.audit_space import AtomSpace
from engine.errors import KnowledgeBaseError
from engine.evaluate.datalog import DatalogEvaluator
from engine.evaluate.symbolic import SymbolicEvaluator
from engine.rules.model import KB_DIR, load_knowledge_base
from tests.conftest import flat
from tests.test_cli import run
from tests.test_scenarios import HERE

GOAL = "onbepaalde_tijd_regulier"
PEILDATUM = date(2026, 11, 23)
IND_003 = "003_453b3a8f2812a451.txt"
THIRD_PARTY_004 = "004_4ee60f9a98cd6659.txt"


def applicant(**changes) -> dict:
    facts = yaml.safe_load((HERE / "basis" / "voldoet_aan_alles.yaml").read_text(encoding="utf-8"))
    facts.update(changes)
    return facts


A1 = applicant(
    inburgeringsexamen_gehaald_niveau="A1",
    vrijgesteld_van_inburgeringsexamen=False,
    ontheven_van_inburgeringsexamen=False,
)
ONTHEVEN = applicant(
    inburgeringsexamen_gehaald_niveau="geen",
    vrijgesteld_van_inburgeringsexamen=False,
    ontheven_van_inburgeringsexamen=True,
)
SIX_YEARS_INTERRUPTED = applicant(
    datum_aankomst_nederland="2016-01-01",
    uitzondering_vijfjaartermijn_van_toepassing=False,
    verblijfsvergunningen=[
        {"van": "2016-01-01", "tot": "2023-12-31", "verblijfsdoel": "echtgenoot_of_partner", "niet_tijdelijk": False},
        {"van": "2024-02-01", "verblijfsdoel": "humanitair_niet_tijdelijk", "niet_tijdelijk": True},
    ],
)


def consensus(result, dis_id: str):
    (node,) = [
        n
        for n in result.proof.walk()
        if n.kind == "consensus" and n.rule_id == dis_id and not n.detail.get("shown_above")
    ]
    return node


def test_the_declaration_names_003_before_004_with_its_reason_and_quotes(kb):
    (declared,) = [p for p in kb.precedences.values() if p.first == IND_003]
    assert declared.after == (THIRD_PARTY_004,)
    assert "IND" in declared.reason and declared.sources
    for dis_id in ("B4+C2", "B6+C12"):
        rule_id, how, what = kb.governing(kb.disagreements[dis_id])
        assert kb.rules[rule_id].source.file == IND_003 and how == "kennisbank" and what is declared


def test_between_two_undated_pages_no_precedence_is_declared_and_the_sources_must_agree(kb):
    """001 and 002 are both undated (and 000 is dated, 001 not): which is newer cannot be told."""
    for dis in kb.disagreements.values():
        files = {kb.rules[r].source.file for r in dis.rule_ids}
        if IND_003 not in files:
            assert kb.governing(dis) is None, dis.id


def test_the_compiled_clauses_read_only_the_governing_source_and_voorrang_swaps_it(engine):
    def clauses(program, head):
        return sorted(
            (c.value, tuple((b.predicate, b.value) for b in c.body)) for c in program.clauses if c.head == head
        )

    # views resolve to the rules' own conditions: C12 and B6 are `een_van` nodes
    assert clauses(engine.program, "inburgeringseis_vervuld") == [
        (False, (("c12_inburgering__c", False),)),
        (True, (("c12_inburgering__c", True),)),
    ]
    assert clauses(engine.program, "vijfjaarstermijn_vervuld") == [
        (False, (("c2_vijf_jaar_achter_elkaar", False),)),
        (True, (("c2_vijf_jaar_achter_elkaar", True),)),
    ]
    other = engine.with_precedence(["004"])
    assert clauses(other.program, "inburgeringseis_vervuld") == [
        (False, (("b6_inburgering__c", False),)),
        (True, (("b6_inburgering__c", True),)),
    ]
    assert engine.with_precedence(["003"]) is engine  # the declared order already: nothing to recompile


@pytest.mark.parametrize("facts, dis_id", [(A1, "B6+C12"), (ONTHEVEN, "B6+C12"), (SIX_YEARS_INTERRUPTED, "B4+C2")])
def test_003_decides_and_the_answer_shows_what_004_would_give(engine, facts, dis_id):
    result = engine.assess(parse_applicant(engine.kb, facts), GOAL, PEILDATUM)
    assert result.outcome == "not_eligible"
    node = consensus(result, dis_id)
    assert node.value is False and node.detail["sources_disagree"] is True
    assert node.detail["precedence"]["source_file"] == IND_003
    assert node.detail["precedence"]["set_by"] == "kennisbank"
    assert [(o["source_file"], o["value"]) for o in node.detail["other_sources"]] == [(THIRD_PARTY_004, True)]


@pytest.mark.parametrize("facts, dis_id", [(A1, "B6+C12"), (ONTHEVEN, "B6+C12"), (SIX_YEARS_INTERRUPTED, "B4+C2")])
def test_voorrang_004_overrides_the_declared_precedence_and_shows_003_beside_it(engine, facts, dis_id):
    result = engine.assess(parse_applicant(engine.kb, facts), GOAL, PEILDATUM, ["004"])
    assert result.outcome == "eligible"
    node = consensus(result, dis_id)
    assert node.detail["precedence"]["source_file"] == THIRD_PARTY_004
    assert node.detail["precedence"]["set_by"] == "voorrang"
    assert [(o["source_file"], o["value"]) for o in node.detail["other_sources"]] == [(IND_003, False)]


def test_the_cli_says_which_source_it_follows_and_what_the_other_gives(tmp_path):
    path = tmp_path / "a1.yaml"
    path.write_text(yaml.safe_dump(A1), encoding="utf-8")
    text = flat(run("assess", path, "--goal", GOAL, "--peildatum", PEILDATUM.isoformat(), "--detail").stdout)
    assert "komt niet in aanmerking" in text
    assert "Het antwoord volgt bron 003 (C12): die gaat voor volgens de kennisbank" in text
    assert "Volgens bron 004 (B6): voldaan." in text
    text = flat(
        run(
            "assess", path, "--goal", GOAL, "--peildatum", PEILDATUM.isoformat(), "--voorrang", "004", "--detail"
        ).stdout
    )
    assert "komt in aanmerking" in text
    assert "Het antwoord volgt bron 004 (B6): de door u ingestelde voorrang (--voorrang 004)." in text
    assert "Volgens bron 003 (C12): niet voldaan." in text
    data = json.loads(
        run(
            "assess",
            path,
            "--goal",
            GOAL,
            "--peildatum",
            PEILDATUM.isoformat(),
            "--voorrang",
            "004",
            "--format",
            "json",
        ).stdout
    )
    assert data["outcome"] == "eligible" and data["version"] == 3


@pytest.mark.parametrize("facts", [A1, ONTHEVEN])
def test_why_not_never_proposes_what_003_excludes(engine, facts):
    """No 'an A1 pass or an ontheffing may be enough': under 003 only A2 or higher, or vrijstelling."""
    answer = find_repairs(engine, parse_applicant(engine.kb, facts), GOAL, PEILDATUM)
    assert answer.repairs and all(r.certain for r in answer.repairs)
    for repair in answer.repairs:
        changed = {c.fact: c.value for c in repair.changes}
        assert "ontheven_van_inburgeringsexamen" not in changed, changed
        assert changed.get("inburgeringsexamen_gehaald_niveau") in (None, "A2", "B1", "B2", "C1", "C2"), changed
        assert changed.get("inburgeringsexamen_gehaald_niveau") or changed.get("vrijgesteld_van_inburgeringsexamen")


def test_every_evaluator_follows_the_precedence(engine):
    datalog = engine.with_evaluator(DatalogEvaluator)
    for facts in (A1, ONTHEVEN, SIX_YEARS_INTERRUPTED):
        a = parse_applicant(engine.kb, facts)
        for order in ([], ["004"]):
            assert engine.assess(a, GOAL, PEILDATUM, order).to_json(engine.kb) == datalog.assess(
                a, GOAL, PEILDATUM, order
            ).to_json(engine.kb)
    for eng, reads in (
        (engine, ("c12_inburgering", "c2_vijf_jaar_achter_elkaar")),
        (engine.with_precedence(["004"]), ("b6_inburgering", "b4_vijf_jaar_bepaalde_tijd")),
    ):
        heads = ("inburgeringseis_vervuld", "vijfjaarstermijn_vervuld")
        program = eng.program.restricted_to(list(heads))
        space = AtomSpace(eng.kb, program, PEILDATUM)
        sym = SymbolicEvaluator(program).run([space])
        for head, governing in zip(heads, reads):
            assert sym.true(head) == sym.true(governing) and sym.false(head) == sym.false(governing), head


def _kb_with(tmp_path: Path, text: str) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(Path(KB_DIR), target)
    (target / "voorrang.yaml").write_text(text, encoding="utf-8")
    return target


ENTRY = """
voorrang:
  - id: {id}
    eerst: {eerst}
    daarna: [{daarna}]
    reden: waarom
    bronnen:
      - {{bestand: 003_453b3a8f2812a451.txt, citaat: "Laatste update: 22 maart 2024"}}
"""


@pytest.mark.parametrize(
    "text, message",
    [
        (
            ENTRY.format(id="x", eerst=IND_003, daarna=THIRD_PARTY_004) + "    gewicht: 1\n",
            "onbekende sleutel(s) ['gewicht']",
        ),
        (
            ENTRY.format(id="x", eerst=IND_003, daarna=THIRD_PARTY_004).replace("    reden: waarom\n", ""),
            "voorrang noemt 'reden'",
        ),
        (
            ENTRY.format(id="x", eerst="ind.nl", daarna=THIRD_PARTY_004),
            "'eerst' noemt 'ind.nl', geen bestandsnaam uit shared/seeds",
        ),
        (
            ENTRY.format(id="x", eerst=IND_003, daarna="999_abc.txt"),
            "'daarna' noemt '999_abc.txt', maar geen declaratie citeert die bron",
        ),
        (ENTRY.format(id="x", eerst=IND_003, daarna=IND_003), "'daarna' noemt de bron van 'eerst'"),
        (
            ENTRY.format(id="x", eerst=IND_003, daarna=THIRD_PARTY_004)
            + ENTRY.format(id="y", eerst=THIRD_PARTY_004, daarna=IND_003).replace("voorrang:\n", ""),
            "gaat via de declaraties voor zichzelf",
        ),
        (
            ENTRY.format(id="x", eerst=IND_003, daarna=THIRD_PARTY_004).replace(
                "bestand: 003_453b3a8f2812a451.txt", "bestand: ind.nl"
            ),
            "'bronnen' noemt 'ind.nl'",
        ),
    ],
)
def test_the_loader_refuses_a_bad_precedence_naming_the_key(tmp_path, text, message):
    with pytest.raises(KnowledgeBaseError) as refused:
        load_knowledge_base(_kb_with(tmp_path, text))
    assert message in str(refused.value)


def test_a_declared_precedence_between_fee_sources_chooses_the_amount_and_says_so_and_voorrang_overrides(tmp_path):
    """Were 002 declared before 001, the fee would follow 002 without --voorrang, saying why."""
    from engine.answer.fees import fees_for

    current = (Path(KB_DIR) / "voorrang.yaml").read_text(encoding="utf-8")
    extra = ENTRY.format(id="stel_002_voor_001", eerst="002_b3255643ce0e7bad.txt", daarna="001_656115d499998806.txt")
    kb_dir = _kb_with(tmp_path, current + extra.replace("voorrang:\n", ""))
    engine = Engine(kb_dir, cache=False)
    victim = yaml.safe_load(
        (Path(__file__).parent / "golden" / "slachtoffer_geweld_met_gezinsvergunning.yaml").read_text(encoding="utf-8")
    )
    a = parse_applicant(engine.kb, victim)
    data = fees_for(engine, a, "7027", PEILDATUM).to_json()
    assert data["precedence"]["chosen_source"].startswith("002") and data["precedence"]["set_by"] == "kennisbank"
    assert data["precedence"]["declared"]["declaration"] == "stel_002_voor_001"
    assert data["amount"] == 20700
    data = fees_for(engine, a, "7027", PEILDATUM, ["001"]).to_json()
    assert data["precedence"]["chosen_source"].startswith("001") and data["precedence"]["set_by"] == "voorrang"
    assert data["amount"] == 17400
