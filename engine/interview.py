"""An interview that asks only what can still change the outcome, and stops once it is decided.

The candidates are the unknown facts the proof names as deciding: each sits below undecided
nodes only, so some answer to it, together with answers still to come, changes the outcome.
Questions whose answer could settle the outcome at once come first (checked by assessing each
possible answer); ties keep the order in which the proof names them, so the order is stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.assess import UNDETERMINED, Assessment
from engine.facts import MAX_DIGITS, Applicant, parse_applicant

ENUMERABLE = ("bool", "keuze")


@dataclass(frozen=True)
class Question:
    fact: str
    label: str
    question: str
    type: str
    values: tuple[str, ...] = ()
    open_norm: bool = False

    def to_json(self) -> dict[str, Any]:
        allowed: Any
        if self.type == "bool":
            allowed = [True, False]
        elif self.type == "keuze":
            allowed = list(self.values)
        else:
            allowed = None
        return {"fact": self.fact, "label": self.label, "question": self.question, "type": self.type,
                "allowed": allowed, "open_norm": self.open_norm}


def _question(kb: Any, name: str) -> Question:
    fact = kb.facts[name]
    return Question(name, fact.label, fact.question, fact.type, fact.values, fact.open_norm)


def assessments(engine: Any, answers: dict[str, Any], goals: list[str], peildatum: date) -> list[Assessment]:
    applicant = parse_applicant(engine.kb, answers)
    if len(goals) == 1:
        return [engine.assess(applicant, goals[0], peildatum)]
    return engine.assess_all(applicant, peildatum, goals=goals)


def _outcomes(engine: Any, answers: dict[str, Any], goals: list[str], peildatum: date) -> tuple[str, ...]:
    return tuple(a.outcome for a in assessments(engine, answers, goals, peildatum))


def _values(kb: Any, name: str) -> list[Any]:
    fact = kb.facts[name]
    return [True, False] if fact.type == "bool" else list(fact.values)


def deciding_facts(results: list[Assessment]) -> list[str]:
    out: dict[str, None] = {}
    for result in results:
        if result.outcome == UNDETERMINED:
            for name in result.unknown_facts:
                out[name] = None
    return list(out)


def next_question(engine: Any, answers: dict[str, Any], goals: list[str], peildatum: date,
                  skipped: frozenset[str] = frozenset()) -> Question | None:
    """The next question to ask, or None once the outcome is decided (or nothing asked can help)."""
    kb = engine.kb
    results = assessments(engine, answers, goals, peildatum)
    candidates = [n for n in deciding_facts(results) if n not in skipped and n not in answers]
    if not candidates:
        return None
    now = tuple(r.outcome for r in results)

    def settles(name: str) -> bool:
        if kb.facts[name].type not in ENUMERABLE:
            return False
        return any(_outcomes(engine, {**answers, name: v}, goals, peildatum) != now for v in _values(kb, name))

    for name in candidates:
        if settles(name):
            return _question(kb, name)
    return _question(kb, candidates[0])


class AnswerError(ValueError):
    """An answer that does not fit the question; the message says what would."""


def parse_answer(fact_type: str, text: str, values: tuple[str, ...] = ()) -> Any:
    """An answer typed in Dutch, as the value an applicant file would hold; AnswerError if wrong."""
    answer = text.strip()
    if fact_type == "bool":
        lowered = answer.lower()
        if lowered in ("ja", "j", "yes", "y", "true"):
            return True
        if lowered in ("nee", "n", "no", "false"):
            return False
        raise AnswerError("antwoord ja of nee")
    if fact_type == "keuze":
        if answer in values:
            return answer
        raise AnswerError(f"kies een van: {', '.join(values)}")
    if fact_type == "bedrag":
        # ASCII digits only (str.isdigit also takes '²' and '٣', which int() refuses), and no
        # more of them than a number may have anywhere
        if answer.isascii() and answer.isdigit() and len(answer) <= MAX_DIGITS:
            return int(answer)
        raise AnswerError("geef een bedrag in gehele eurocenten, bijvoorbeeld 17400 voor € 174")
    if not answer:
        raise AnswerError("het antwoord mag niet leeg zijn")
    return answer  # dates and text are checked by the applicant validation


def applicant_file(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers as an applicant file (dates as ISO text), in a stable order."""
    def plain(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return {k: plain(answers[k]) for k in sorted(answers)}


def validated(engine: Any, answers: dict[str, Any]) -> Applicant:
    return parse_applicant(engine.kb, answers)
