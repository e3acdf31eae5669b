"""YAML scenarios: each file's name is a sentence saying what the law gives in that situation.

A scenario names a base applicant (tests/scenarios/basis/), the changes to it (`wijzig`; null
makes a fact unknown), the goal and peildatum, and what must come out: the outcome, optionally
the value of named rules in the proof (`regels`), the unknown facts (`onbekende_feiten`), the
referrals elsewhere that are still open beside the answer (`verwijzingen_open`: rule ids), the
consequence rules shown with an eligible outcome (`gevolgen`), the consequences whose conditions
hold whatever the outcome (`geldende_gevolgen`), the exceptions that apply and so set a rule
aside, whatever the outcome (`toegepaste_uitzonderingen`) and the dates terms give (`termijnen`; `geen`:
the term does not apply). `voorrang` (a list of sources, as `--voorrang` takes them) puts those
sources first; `volgt_bron: {B4+C2: "003"}` says which source a disagreement follows in the
proof. A fee scenario has `leges` instead of `doel` (see `check_fees`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from engine.applicant.facts import parse_applicant

HERE = Path(__file__).resolve().parent / "scenarios"
FILES = sorted(p for p in HERE.rglob("*.yaml") if p.parent.name != "basis")
STATUS = {"voldaan": True, "niet voldaan": False, "onbekend": None}


def load_scenario(path: Path) -> dict:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    facts: dict = {}
    if "basis" in spec:
        facts.update(yaml.safe_load((HERE / "basis" / f"{spec['basis']}.yaml").read_text(encoding="utf-8")))
    for name, value in (spec.get("wijzig") or {}).items():
        if value is None:
            facts.pop(name, None)
        else:
            facts[name] = value
    spec["facts"] = facts
    return spec


def rule_values(proof) -> dict[str, list]:
    found: dict[str, list] = {}
    for node in proof.walk():
        if node.rule_id:
            found.setdefault(node.rule_id, []).append(node.value)
    return found


def check_fees(engine, applicant, peildatum, spec) -> None:
    """`leges: {formulier, doel?, bedrag?, per_bron?: {"001": cents}, eens?, voorrang?: [..], beslist_door?: id,
    alternatieven?: [ids], bron_zegt_niet_welke?: {"001": {id: cents}}, buiten_bandbreedte?: [ids],
    verlagingen?: {id: {fact: value}}}`

    `doel`: the fee of an application for that goal (`fees --goal`): what applying for the goal
    says about the application (`aanvraag_voor_doel`) fills the facts the applicant left open.

    `bron_zegt_niet_welke`: per source, the exceptions that all apply with their amounts where the
    source does not say which goes first (`{}`: every source gives one amount). `per_bron` gives
    null for such a source: it states no single amount."""
    from engine.answer.fees import fees_for, goal_applicant

    expected = spec["leges"]
    applicant, assumptions = goal_applicant(engine.kb, applicant, expected.get("doel"))
    answer = fees_for(
        engine,
        applicant,
        str(expected["formulier"]),
        peildatum,
        expected.get("voorrang"),
        reductions=True,
        assumptions=assumptions,
    )
    data = answer.to_json()
    if "bedrag" in expected:
        assert data["amount"] == expected["bedrag"], data
    if "per_bron" in expected:
        got = {s["source_file"].split("_", 1)[0]: s["amount"] for s in data["per_source"] if s["applies"] is True}
        assert got == {str(k): v for k, v in expected["per_bron"].items()}
    if "eens" in expected:
        assert data["sources_agree"] is expected["eens"]
    if "beslist_door" in expected:
        chains = [[d["rule_id"] for d in s["decided_by"]] for s in data["per_source"] if s["applies"] is True]
        assert any(chain[-1] == expected["beslist_door"] for chain in chains), chains
    if "bron_zegt_niet_welke" in expected:
        open_ = {
            s["source_file"].split("_", 1)[0]: {
                b["decided_by"][-1]["rule_id"]: b["amount"] for b in s["conflict"]["branches"]
            }
            for s in data["per_source"]
            if s["conflict"]
        }
        assert open_ == {str(k): v for k, v in expected["bron_zegt_niet_welke"].items()}, open_
    if "buiten_bandbreedte" in expected:
        assert sorted(r["rule_id"] for r in data["range_notes"]) == sorted(expected["buiten_bandbreedte"])
    if "voorrang" in expected:
        assert data["precedence"]["applied"] is True and data["precedence"]["chosen_source"].startswith(
            expected["voorrang"][0]
        )
    if "alternatieven" in expected:
        alternatives = sorted(a["rule_id"] for s in data["per_source"] for a in s["alternatives"])
        assert alternatives == sorted(expected["alternatieven"])
    if "verlagingen" in expected:  # {rule id: {fact: new value}}: lower amounts within the applicant's reach
        reductions = {
            r["rule_id"]: {c["fact"]: c["value"] for c in r["changes"]}
            for s in data["per_source"]
            for r in s["reductions"]
        }
        assert reductions == expected["verlagingen"], reductions


def check_scenario(engine, spec: dict, name: str = "") -> None:
    """Every expectation of one scenario; AssertionError names the first that fails.

    `verblijfsregels mutate` runs this same function against every mutant of the rule base.
    """
    applicant = parse_applicant(engine.kb, spec["facts"])
    peildatum = spec["peildatum"] if isinstance(spec["peildatum"], date) else date.fromisoformat(spec["peildatum"])
    if "leges" in spec:
        check_fees(engine, applicant, peildatum, spec)
        return
    result = engine.assess(applicant, spec["doel"], peildatum, spec.get("voorrang"))
    expected = spec["verwacht"]
    assert result.outcome == expected["uitkomst"], f"{name}: {result.outcome}"
    values = rule_values(result.proof)
    if result.scope is not None:
        for rid, vals in rule_values(result.scope).items():
            values.setdefault(rid, []).extend(vals)
    for rid, word in (expected.get("regels") or {}).items():
        assert rid in values, f"{rid} staat niet in het bewijs"
        assert STATUS[word] in values[rid], f"{rid}: verwacht {word}, bewijs zegt {values[rid]}"
    if "gevolgen" in expected:
        shown = [c["rule_id"] for c in result.consequences] if result.outcome == "eligible" else []
        assert sorted(shown) == sorted(expected["gevolgen"])
    if "geldende_gevolgen" in expected:
        # whatever the outcome: the consequences whose own conditions hold (an advisor sees them
        # beside an open outcome too)
        holding = [c["rule_id"] for c in result.consequences if c["applies"] is True]
        assert sorted(holding) == sorted(expected["geldende_gevolgen"]), holding
    if "toegepaste_uitzonderingen" in expected:
        # a ground of refusal set aside is shown in every outcome, also while the goal is open
        applied = [e.rule_id for e in result.exceptions_applied]
        assert sorted(applied) == sorted(expected["toegepaste_uitzonderingen"]), applied
    if "onbekende_feiten" in expected:
        assert sorted(result.unknown_facts) == sorted(expected["onbekende_feiten"])
    if "verwijzingen_open" in expected:
        named = [r["rule_id"] for r in result.elsewhere_if]
        assert sorted(named) == sorted(expected["verwijzingen_open"]), f"open verwijzingen: {named}"
    for dis_id, source in (expected.get("volgt_bron") or {}).items():
        # the source whose rule decides the disagreement, by precedence (declared or --voorrang)
        followed = {
            n.detail["precedence"]["source_file"].split("_", 1)[0]
            for n in result.proof.walk()
            if n.kind == "consensus" and n.rule_id == dis_id and n.detail.get("precedence")
        }
        assert followed == {str(source)}, f"{dis_id}: verwacht bron {source}, het bewijs volgt {followed or 'geen'}"
    for rid, day in (expected.get("termijnen") or {}).items():
        # `termijnen: {E15: 2026-04-01}`: the date a term gives (null: its start date is unknown)
        dates = {t["rule_id"]: t["date"] for t in result.terms}
        if day == "geen":
            assert rid not in dates, f"termijn {rid} geldt, verwacht: geldt niet"
            continue
        assert rid in dates, f"termijn {rid} staat niet in de beoordeling"
        assert dates[rid] == day, f"termijn {rid}: verwacht {day}, kreeg {dates[rid]}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario(path: Path, engine):
    check_scenario(engine, load_scenario(path), path.stem)


def test_scenario_names_are_sentences():
    for path in FILES:
        words = path.stem.split("_")
        assert len(words) >= 4, f"{path.name}: de naam van een scenario is een zin"
