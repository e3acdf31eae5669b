"""The JSON answers, built in one place: the command line prints them and the HTTP API sends them.

Each function takes what the user gave (an applicant already parsed, a goal, a peildatum) and
returns the payload; `dumps` writes it as both print it, so the same question gets the same bytes
from either. Errors are `VerblijfsregelsError`s, each edge turns them into its own message.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from engine.applicant.facts import Applicant, parse_applicant
from engine.errors import InputError, visible

INTERVIEW_STEP_FORMAT = "verblijfsregels/interview-step"
INTERVIEW_STEP_VERSION = 2  # 2: kb_version
OVERVIEW_FORMAT = "verblijfsregels/overview"  # `assess` without --goal: before, a bare list
OVERVIEW_VERSION = 1
RULES_FORMAT = "verblijfsregels/rules"  # `rules`: before, a bare list
RULES_VERSION = 1
INVENTORY_FORMAT = "verblijfsregels/inventory"  # `rules --inventory`: before, a bare list
INVENTORY_VERSION = 1
# `verblijfsregels schema --kind K` and GET /v1/schema/K: the file engine/answer/<name>.schema.json
SCHEMA_FILES = {
    "assessment": "assessment",
    "overview": "overview",
    "fees": "fees",
    "why-not": "why_not",
    "interview-step": "interview_step",
    "rules": "rules",
    "inventory": "inventory",
    "batch-row": "batch_row",
}
NO_FORM = "de bronnen noemen geen aanvraagformulier voor dit doel in deze situatie"


def dumps(payload: Any) -> str:
    """The text of a payload: UTF-8 as written (no \\u escapes), indented, without a final newline."""
    return json.dumps(payload, ensure_ascii=False, indent=2)


def check_goal(eng, goal: str, field: str) -> None:
    if goal not in eng.kb.goals:
        raise InputError(field, f"onbekend doel '{visible(goal)}'; toegestaan: {', '.join(sorted(eng.kb.goals))}")


def precedence(kb, names: list[str], field: str) -> list[str]:
    """The sources named, in order, first where they disagree; a name that is no source of the fees
    or of a source disagreement (a file name or its three-digit number) is refused."""
    from engine.answer.fees import precedence_source_files

    files = precedence_source_files(kb)
    allowed = sorted({f.split("_", 1)[0] for f in files})
    for name in names:
        if name not in allowed and name not in files:
            raise InputError(
                field, by_position=True, message=f"onbekende bron '{visible(name)}'; toegestaan: {', '.join(allowed)}"
            )
    return list(names)


def assessment(eng, applicant: Applicant, goal: str | None, peildatum: date, precedence: list[str]) -> Any:
    """`assess --format json`: one goal's assessment, or the overview of every goal."""
    if goal is not None:
        return assessments(eng, [eng.assess(applicant, goal, peildatum, precedence)], peildatum, one_goal=True)
    return assessments(eng, eng.assess_all(applicant, peildatum, precedence, None), peildatum, one_goal=False)


def assessments(eng, results: list, peildatum: date, one_goal: bool) -> Any:
    """One assessment as it is, or several as the overview document (`verblijfsregels/overview`)."""
    if one_goal:
        return results[0].to_json(eng.kb)
    return {
        "format": OVERVIEW_FORMAT,
        "version": OVERVIEW_VERSION,
        "kb_version": eng.kb.version,
        "peildatum": peildatum.isoformat(),
        "assessments": [r.to_json(eng.kb) for r in results],
    }


def why_not(
    eng, applicant: Applicant, goal: str, peildatum: date, max_changes: int, deadline: float | None = None
) -> tuple[Any, Any, Any]:
    """`why-not --format json`, with the assessment and repairs it was built from (for the text);
    a repair search still running at `deadline` (time.monotonic()) raises repairs.WorkLimitReached."""
    from engine.answer.proof import failing_conditions
    from engine.answer.repairs import WHY_NOT_FORMAT, WHY_NOT_VERSION, find_repairs

    result = eng.assess(applicant, goal, peildatum, every_failure=True)
    repairs = find_repairs(eng, applicant, goal, peildatum, max_changes, deadline) if max_changes else None
    payload = {
        "format": WHY_NOT_FORMAT,
        "version": WHY_NOT_VERSION,
        "kb_version": eng.kb.version,
        "failing": [
            {"rule_id": n.rule_id, "label": n.label, "value": n.value}
            for n in failing_conditions(result.proof, result.scope)
        ],
        "assessment": result.to_json(eng.kb),
        "repairs": None if repairs is None else repairs.to_json(),
    }
    return payload, result, repairs


def fee_answers(eng, applicant: Applicant, goal: str | None, form: str | None, peildatum: date, precedence: list[str]):
    """The fee answers of `fees`: of the forms a goal points to, or of one form."""
    from engine.answer.fees import fees_for

    if goal:
        result = eng.assess(applicant, goal, peildatum)
        forms = [c["form"] for c in result.consequences if c["form"]]
        if not forms:  # an answer too: the sources give none (fees() says so)
            return []
        # the fees `assess` shows beside the goal, with the reductions within reach
        return eng.goal_fees(applicant, goal, forms, peildatum, precedence, reductions=True)
    return [fees_for(eng, applicant, form, peildatum, precedence, reductions=True)]


def fees(eng, answers: list, goal: str | None, peildatum: date) -> Any:
    """`fees --format json`: one answer for `--form`; for `--goal` one document with the answer of
    each form the goal points to, and `no_form` saying so where the sources name none."""
    from engine.answer.fees import FEES_FORMAT, FEES_VERSION

    if goal is None:
        return answers[0].to_json()
    return {
        "format": FEES_FORMAT,
        "version": FEES_VERSION,
        "kb_version": eng.kb.version,
        "goal": goal,
        "peildatum": peildatum.isoformat(),
        "forms": [a.to_json() for a in answers],
        "no_form": None if answers else NO_FORM,
    }


def interview_answers(eng, raw: Any) -> dict[str, Any]:
    """The answers given so far, validated, as written (dates as text): a fact left empty may still be asked."""
    parse_applicant(eng.kb, raw, json_values=True)
    return {name: value for name, value in raw.items() if value is not None}


def interview_step(eng, answers: dict[str, Any], goals: list[str], peildatum: date) -> dict[str, Any]:
    """`interview --next`: the next question whose answer can still change an outcome, and the outcomes so far."""
    from engine.answer.interview import assessments, next_question

    question = next_question(eng, answers, goals, peildatum)
    results = assessments(eng, answers, goals, peildatum)
    return {
        "format": INTERVIEW_STEP_FORMAT,
        "version": INTERVIEW_STEP_VERSION,
        "kb_version": eng.kb.version,
        "done": question is None,
        "question": question.to_json() if question else None,
        "outcomes": {r.goal: r.outcome for r in results},
    }


def rules(kb) -> dict[str, Any]:
    """`rules --format json`: every declaration with its id, label and source."""
    return {
        "format": RULES_FORMAT,
        "version": RULES_VERSION,
        "kb_version": kb.version,
        "rules": _rule_list(kb),
    }


def _rule_list(kb) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "label": r.label,
            "kind": r.kind,
            "conclusion": kb.conclusion_of(r),
            "exception_to": r.exception_to,
            "source": {"file": r.source.file, "quote": r.source.quote},
            # no seed states an assumption: its "source" holds its legal basis, and this says so
            "assumption": {"basis": r.assumption.basis, "reason": r.assumption.reason} if r.assumption else None,
        }
        for r in kb.rules.values()
    ] + [
        {
            "id": f.id,
            "label": f.label,
            "kind": "leges",
            "form": f.form,
            "parameter": f.parameter,
            "exception_to": f.exception_to,
            "source": {"file": f.source.file, "quote": f.source.quote},
        }
        for f in kb.fee_rules.values()
    ]


def inventory(kb, rows) -> dict[str, Any]:
    """`rules --inventory --format json`: every inventory row (engine.rules.inventory) with the rules that encode it."""
    return {
        "format": INVENTORY_FORMAT,
        "version": INVENTORY_VERSION,
        "kb_version": kb.version,
        "rows": _inventory_rows(rows),
    }


def _inventory_rows(rows) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "description": r.description,
            "encoded_by": list(r.encoded_by),
            "not_encoded": r.not_encoded or None,
        }
        for r in rows
    ]
