"""Proof nodes share what the program says of a node (engine.answer.proof._NodeStatic): that
sharing must never show in an answer, nor let one answer change another."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from engine.answer.proof import ProofNode, _node_statics
from engine.applicant.facts import parse_applicant
from tests.test_scenarios import FILES, load_scenario


def written_afresh(node: ProofNode) -> ProofNode:
    """A copy of a proof with none of the shared parts: what `to_json` writes from the fields alone."""
    out = copy.copy(node)
    out.static = None
    out.detail = dict(node.detail)
    out.source = dict(node.source) if node.source else None
    out.children = [written_afresh(c) for c in node.children]
    return out


def scenario_assessments(engine):
    for path in FILES:
        spec = load_scenario(path)
        if "doel" not in spec:
            continue
        applicant = parse_applicant(engine.kb, spec["facts"])
        yield engine.assess(applicant, spec["doel"], date.fromisoformat(str(spec["peildatum"])))


def test_every_scenario_proof_writes_what_its_fields_say(engine):
    compared = 0
    for result in scenario_assessments(engine):
        for proof in [result.proof, result.scope, *result.exceptions_applied]:
            if proof is not None:
                assert proof.to_json() == written_afresh(proof).to_json()
                compared += 1
    assert compared > 300


def test_a_proof_changed_after_it_was_built_writes_its_change(engine):
    result = next(scenario_assessments(engine))
    node = next(n for n in result.proof.walk() if n.static is not None and n.detail is n.static.detail)
    node.detail = {**node.detail, "extra": True}
    assert node.to_json()["detail"]["extra"] is True


def test_answers_cannot_change_what_every_proof_of_the_program_shares(engine):
    def shared():
        return copy.deepcopy(
            {
                nid: (s.detail.copy(), dict(s.source or {}), s.json_detail)
                for nid, s in _node_statics(engine.program).items()
            }
        )

    before = shared()
    for result in scenario_assessments(engine):
        for node in result.proof.walk():
            if node.static is not None and node.detail is node.static.detail:
                with pytest.raises(TypeError):
                    node.detail["changed"] = True  # type: ignore[index]
            if node.source is not None:
                with pytest.raises(TypeError):
                    node.source["file"] = "changed"  # type: ignore[index]
            written = node.to_json()
            if "detail" in written:
                written["detail"]["changed"] = True
            if "source" in written:
                written["source"]["file"] = "changed"
    assert shared() == before
