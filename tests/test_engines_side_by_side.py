"""Several compiled rule bases in one process (strategies, mutation testing) keep their own clauses."""

from __future__ import annotations

from datetime import date

from engine.answer.assess import Engine
from engine.applicant.facts import parse_applicant


def test_a_model_added_after_another_engine_was_built_survives_switching_back_and_forth():
    first = Engine()
    applicant = parse_applicant(first.kb, {"geboortedatum": "1990-01-01"})
    day = date(2026, 11, 22)
    Engine()  # another engine becomes the active pyDatalog logic
    expected = [a.to_json(first.kb) for a in first.assess_all(applicant, day)]  # adds the every-goal model
    Engine()
    assert [a.to_json(first.kb) for a in first.assess_all(applicant, day)] == expected
    Engine()
    first.evaluate(applicant, sorted(first.kb.goals)[0], day)
    assert [a.to_json(first.kb) for a in first.assess_all(applicant, day)] == expected
