"""An interview that asks only what can still change the outcome, and stops once it is decided.

The candidates are the unknown facts the proof names as deciding (each sits below undecided
nodes only), and a permit history that is given but still lacks a detail a rule reads (a period
without its purpose). A question is asked with a witness: answers to other open questions and an
answer to it under which the outcome changes, found with many variants at once (`engine.answer.probe`).
A yes/no or choice question without one is not asked once that is proven: a search over partial
answers to the other open yes/no and choice questions, pruned where the outcome is decided and
where, with every answer to the rest asserted at once, no answer to it helps decide a goal. A
date or permit history cannot be enumerated: it is tried with answers around every threshold the
rules read of it, and left out only when even every value of what the rules read of it cannot
help decide. Questions whose answer settles an outcome at once come first; ties keep the order in
which the proof names them, so the order is stable.

A refusal while a referral elsewhere is still open (every route fails, and whether the applicant
holds an asylum permit is not known) is not yet settled: an answer can still send the applicant
elsewhere, so the facts of the open referrals are asked too; the routes' facts are not.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from engine.answer.assess import NOT_ELIGIBLE, UNDETERMINED, Assessment
from engine.answer.probe import EVERY, Probe
from engine.applicant.constraints import forced_values, possible
from engine.applicant.facts import MAX_DIGITS, Applicant, parse_applicant
from engine.tijd import iso_text

ENUMERABLE = ("bool", "keuze")
WITNESS_BUDGET = 2000  # variants a search for a witness may evaluate; beyond it the question is "unproven"
PERIOD_DETAILS = ("verblijfsdoel", "niet_tijdelijk")  # what a permit period may leave out and a rule may need


@dataclass(frozen=True)
class Question:
    fact: str
    label: str
    question: str
    type: str
    values: tuple[str, ...] = ()
    open_norm: bool = False
    fields: tuple[dict[str, Any], ...] = ()  # a permit history: the fields of one period
    incomplete: tuple[dict[str, Any], ...] = ()  # periods already given that lack a detail
    # answers to other open questions, then to this one (last), under which this answer changes an
    # outcome: why the question is asked (None: a date or permit history for which none of the
    # answers tried is one, asked because the proof names it as deciding)
    witness: tuple[tuple[str, Any], ...] | None = None

    def to_json(self) -> dict[str, Any]:
        allowed: Any
        if self.type == "bool":
            allowed = [True, False]
        elif self.type == "keuze":
            allowed = list(self.values)
        else:
            allowed = None
        out = {
            "fact": self.fact,
            "label": self.label,
            "question": self.question,
            "type": self.type,
            "allowed": allowed,
            "open_norm": self.open_norm,
        }
        if self.type == "vergunningen":
            out["fields"] = [dict(f) for f in self.fields]
            out["incomplete"] = [dict(p) for p in self.incomplete]
        return out


def period_fields(kb: Any) -> tuple[dict[str, Any], ...]:
    """The fields of one permit period, for a front end: name, label, type, required, allowed."""
    out = []
    for name, spec in kb.period_fields.items():
        kind = spec.get("type")
        field: dict[str, Any] = {
            "name": name,
            "label": spec.get("label", name),
            "type": kind,
            "required": name == "van",
        }
        if kind == "keuze":
            field["allowed"] = list(spec.get("waarden", ()))
        elif kind == "bool":
            field["allowed"] = [True, False]
        out.append(field)
    return tuple(out)


def incomplete_periods(kb: Any, value: Any) -> tuple[dict[str, Any], ...]:
    """The periods of a permit history given as answer that leave out a detail (by position)."""
    details = [d for d in PERIOD_DETAILS if d in kb.period_fields]
    out = []
    for index, period in enumerate(value if isinstance(value, (list, tuple)) else ()):
        if isinstance(period, dict):
            missing = [d for d in details if period.get(d) is None]
            if missing:
                out.append({"index": index, "missing": missing})
    return tuple(out)


def _question(
    kb: Any, name: str, answers: dict[str, Any] | None = None, found: tuple[dict[str, Any], Any] | None = None
) -> Question:
    fact = kb.facts[name]
    why = tuple(sorted(found[0].items())) + ((name, found[1]),) if found else None
    if fact.type == "vergunningen":
        given = (answers or {}).get(name)
        return Question(
            name,
            fact.label,
            fact.question,
            fact.type,
            fact.values,
            fact.open_norm,
            period_fields(kb),
            incomplete_periods(kb, given) if given is not None else (),
            why,
        )
    return Question(name, fact.label, fact.question, fact.type, fact.values, fact.open_norm, witness=why)


def question_for(kb: Any, name: str, answers: dict[str, Any]) -> Question:
    """The question for a fact asked again, to change an earlier answer (no reason it is asked)."""
    return _question(kb, name, answers)


def settled(engine: Any, answers: dict[str, Any], peildatum: date) -> Applicant:
    """The answers, with the yes/no and choice facts the vocabulary's constraints settle beside
    them (engine.applicant.constraints.forced_values: every other answer would break one). Such a
    fact is never asked: the interview and its outcome read it as answered."""
    applicant = parse_applicant(engine.kb, answers)
    forced = forced_values(engine.kb, applicant.values, peildatum)
    return Applicant({**applicant.values, **forced}) if forced else applicant


def assessments(engine: Any, answers: dict[str, Any], goals: list[str], peildatum: date) -> list[Assessment]:
    return _assess(engine, settled(engine, answers, peildatum), goals, peildatum)


def _assess(engine: Any, applicant: Applicant, goals: list[str], peildatum: date) -> list[Assessment]:
    if len(goals) == 1:
        return [engine.assess(applicant, goals[0], peildatum)]
    return engine.assess_all(applicant, peildatum, goals=goals)


def _values(kb: Any, name: str) -> list[Any]:
    fact = kb.facts[name]
    return [True, False] if fact.type == "bool" else list(fact.values)


PENDING = "pending"  # not eligible while a referral is open: an answer may still send the applicant elsewhere
OPEN = (UNDETERMINED, PENDING)


def _states(probe: Probe, builders: list[Any]) -> list[tuple[str, ...]]:
    """Per variant, the outcome of each goal, with PENDING for a refusal whose scope is open."""
    out = []
    for b in builders:
        row = []
        for conclusion, scope in probe.roots:
            outcome = probe.outcome(b, conclusion, scope)
            row.append(PENDING if outcome == NOT_ELIGIBLE and scope and b.value(scope) is None else outcome)
        out.append(tuple(row))
    return out


def _plain(states: tuple[str, ...]) -> tuple[str, ...]:
    """The outcomes themselves: a pending refusal is a refusal."""
    return tuple(NOT_ELIGIBLE if o == PENDING else o for o in states)


def deciding_facts(results: list[Assessment]) -> list[str]:
    """The unknown facts that decide an open outcome, and those of the referrals still open
    beside a refusal."""
    out: dict[str, None] = {}
    for result in results:
        if result.outcome == UNDETERMINED:
            for name in result.unknown_facts:
                out[name] = None
        elif result.outcome == NOT_ELIGIBLE:
            for referral in result.elsewhere_if:
                for name in referral["unknown_facts"]:
                    out[name] = None
    return list(out)


def _open(kb: Any, name: str, answers: dict[str, Any]) -> bool:
    """Not answered yet, or a permit history that still lacks a detail."""
    if name not in answers:
        return True
    return kb.facts[name].type == "vergunningen" and bool(incomplete_periods(kb, answers[name]))


def _ancestors(program: Any, roots: list[str], name: str) -> list[str]:
    """The nodes between the roots and `name`: where an answer to it can make a difference."""
    reach = program.reachable(roots)
    above: dict[str, bool] = {}

    def has(nid: str) -> bool:
        if nid not in above:
            above[nid] = False  # cycles (views of one another) are broken by the compiler
            above[nid] = nid == name or any(has(c) for c in program.nodes[nid].children)
        return above[nid]

    return [n for n in reach if n != name and program.nodes[n].kind not in ("fact", "quantity") and has(n)]


_PASS = {
    "all": True,
    "exception": True,
    "any": False,
    "conclusion": False,
}  # the value a sibling lets a difference through with


def _openness(program: Any, above: set[str], name: str, builder: Any) -> int:
    """How open the way from `name` up to the goals is: per node on it, the other conditions that
    let a difference through (true beside it in an `alle`, false in an `een van`, an exception
    that does not apply, a source that is decided) count one, those that block it minus one."""
    score = 0
    for nid in above:
        node = program.nodes[nid]
        for child in node.children:
            if child == name or child in above:
                continue
            value = builder.value(child)
            if value not in (True, False):
                continue
            if node.kind in _PASS:
                score += 1 if value is _PASS[node.kind] else -1
            elif node.kind == "rule" and child != node.children[0]:  # an exception of the rule
                score += 1 if value is False else -1
            elif node.kind == "consensus":
                score += 1
    return score


def witness(
    probe: Probe,
    name: str,
    others: list[str],
    peildatum: date,
    budget: int = WITNESS_BUDGET,
    values: list[Any] | None = None,
) -> tuple[dict[str, Any], Any] | bool | None:
    """Answers to `others` (yes/no and choice facts; absent: still unknown) and an answer to
    `name` that, given them, changes an outcome: the proof that `name` is worth asking. False if
    there is none, None if the search ran out of budget first (or, for a fact whose answers
    cannot be listed, found none among `values`, the answers tried).

    A local search first: from no answers, the answers to the others that let the difference
    between the answers to `name` reach most nodes towards the goals (each step tries every
    single change at once, in one run). Then, for a yes/no or choice fact, a depth-first search
    over partial answers, which stops wherever the outcome is already decided (an unknown fact
    that becomes known only adds derivations, so a decided outcome stays decided; a refusal with
    a referral still open is not decided yet, PENDING) or where,
    with every answer to the rest asserted at once, an answer to `name` cannot help decide any
    goal; so it proves there is none."""
    kb = probe.kb
    given = probe.values

    def ok(changes: dict[str, Any]) -> bool:
        """A possible applicant (kb/beperkingen.yaml): a witness is never an impossible one."""
        return possible(kb, {**given, **changes}, peildatum)

    enumerable = values is None
    values = _values(kb, name) if values is None else list(values)
    if not values:
        return None
    # the local search follows a few answers; every one is tried on the assignment it reaches
    few = values if len(values) <= 8 else [values[round(i * (len(values) - 1) / 7)] for i in range(8)]
    others = [o for o in others if o != name and kb.facts[o].type in ENUMERABLE]
    roots = [n for pair in probe.roots for n in pair if n]
    program = probe.engine.program
    above = _ancestors(program, roots, name)
    above_set = set(above)
    shown = list(dict.fromkeys([*above, *(c for n in above for c in program.nodes[n].children)]))
    spent = [0]

    def judge(assignments: list[dict[str, Any]], tried: list[Any]) -> list[tuple[Any, int]]:
        """Per assignment: an answer that changes an outcome (or None) and how far the difference
        between the answers reaches (-1: the outcome is decided without an answer)."""
        width = 1 + len(tried)
        variants = [
            (changes, peildatum) for fixed in assignments for changes in (fixed, *({**fixed, name: v} for v in tried))
        ]
        spent[0] += len(variants)
        builders = probe.builders(variants, shown)
        out = []
        for i in range(len(assignments)):
            group = builders[i * width : (i + 1) * width]
            outcomes = _states(probe, group)
            if all(o not in OPEN for o in outcomes[0]) or not ok(assignments[i]):
                out.append((None, -1))
                continue
            base = _plain(outcomes[0])  # the witness changes an outcome, not only its being settled
            fine = [ok({**assignments[i], name: v}) for v in tried]
            hit = next((v for v, o, f in zip(tried, outcomes[1:], fine) if f and _plain(o) != base), None)
            changed = any(f and _plain(o) != base for o, f in zip(outcomes[1:], fine))
            reach = sum(1 for n in above if len({repr(b.value(n)) for b in group}) > 1)
            out.append((hit if changed else None, 1000 * reach + _openness(program, above_set, name, group[0])))
        return out

    current: dict[str, Any] = {}
    ((hit, score),) = judge([current], values)
    if hit is not None:
        return current, hit
    if enumerable:
        # An answer changes an outcome only by deciding it. If with every answer to the others
        # asserted at once an answer to `name` cannot help decide any goal, no answers can.
        everything = {o: EVERY for o in others}
        if not any(
            any(row) for row in probe.decidable_by(name, [({**everything, name: v}, peildatum) for v in values])
        ):
            return False
    while others and spent[0] < budget:
        moves = [
            {**{k: v for k, v in current.items() if k != o}, **({o: x} if x is not None else {})}
            for o in others
            for x in [*_values(kb, o), None]
            if current.get(o) != x
        ]
        judged = judge(moves, few)
        for move, (hit, _) in zip(moves, judged):
            if hit is not None:
                return move, hit
        best = max(range(len(moves)), key=lambda i: judged[i][1])
        if judged[best][1] <= score:
            break  # no single change lets the difference reach further
        current, score = moves[best], judged[best][1]
        if len(few) < len(values):
            ((hit, _),) = judge([current], values)
            if hit is not None:
                return current, hit
    if not enumerable:
        return None

    left = [max(budget - spent[0], 0) // (1 + len(values)) + 1]

    def search(fixed: dict[str, Any], rest: list[str]) -> tuple[dict[str, Any], Any] | bool | None:
        if left[0] <= 0:
            return None
        left[0] -= 1
        outcomes = _states(
            probe, probe.builders([(fixed, peildatum)] + [({**fixed, name: v}, peildatum) for v in values])
        )
        base = outcomes[0]
        if all(o not in OPEN for o in base) or not ok(fixed):
            return False  # decided; or impossible, and so is every answer to the rest beside it
        for v, o in zip(values, outcomes[1:]):
            if _plain(o) != _plain(base) and ok({**fixed, name: v}):
                return fixed, v
        loose = {r: EVERY for r in rest}
        if not any(
            any(row) for row in probe.decidable_by(name, [({**fixed, **loose, name: v}, peildatum) for v in values])
        ):
            return False  # whatever the rest is answered, an answer to `name` decides nothing here
        unsure = False
        for i, other in enumerate(rest):  # every partial answer once: the next fact answered is later in the list
            for v in _values(kb, other):
                got = search({**fixed, other: v}, rest[i + 1 :])
                if got:
                    return got
                unsure = unsure or got is None
        return None if unsure else False

    return search({}, others)


def candidate_answers(engine: Any, answers: dict[str, Any], name: str, peildatum: date) -> list[Any]:
    """Answers worth trying for a date or a permit history, as an applicant file holds them:
    one day either side of every whole-year threshold the rules compare a quantity of it with,
    counted from the peildatum and from the other dates it is compared with; for permits no
    permit, or one permit for each purpose (non-temporary or not) begun on such a day and still
    running. Only answers the applicant file validation accepts next to `answers`."""
    from engine.tijd import add_years

    kb, program = engine.kb, engine.program
    fact = kb.facts[name]
    readers = [q for q in kb.quantities.values() if name in q.inputs]
    reader_names = {q.name for q in readers}
    years = {0}
    for node in program.nodes.values():
        if node.kind == "compare" and node.detail.get("name") in reader_names:
            constant = node.detail.get("value")
            if isinstance(constant, int) and not isinstance(constant, bool) and 0 <= constant <= 120:
                years.add(constant)
    applicant = parse_applicant(kb, {k: v for k, v in answers.items() if k != name})
    anchors = [peildatum] + [
        applicant.values[i]
        for q in readers
        for i in q.inputs
        if i != name and isinstance(applicant.values.get(i), date)
    ]
    days: set[date] = set()
    for anchor in anchors:
        for k in years:
            for sign in (-1, 1):
                try:
                    day = add_years(anchor, sign * k)
                except OverflowError:
                    continue
                for shift in (-1, 0, 1):
                    try:
                        days.add(day + timedelta(days=shift))
                    except OverflowError:
                        continue
    days = {d for d in days if d <= peildatum}
    out: list[Any] = []
    if fact.type == "vergunningen" and name in answers:  # periods given without a detail: fill it in
        given = [dict(p) for p in answers[name]]
        tries = []
        for gap in incomplete_periods(kb, given):
            options = [
                list(kb.period_fields["verblijfsdoel"].get("waarden", ())) if d == "verblijfsdoel" else [True, False]
                for d in gap["missing"]
            ]
            for combination in itertools.product(*options):
                filled = [dict(p) for p in given]
                filled[gap["index"]].update(zip(gap["missing"], combination))
                tries.append(filled)
    elif fact.type == "datum":
        tries: list[Any] = sorted(days)
    elif fact.type == "vergunningen":
        purposes = list(kb.period_fields.get("verblijfsdoel", {}).get("waarden", ()))
        starts = sorted({d for d in days if d <= peildatum})
        starts = [starts[0], starts[len(starts) // 2], starts[-1]] if starts else []
        tries = [[]] + [
            [{"van": start, "verblijfsdoel": purpose, "niet_tijdelijk": lasting}]
            for purpose in purposes
            for lasting in (True, False)
            for start in starts
        ]
    else:
        return []
    for value in tries:
        try:
            parsed = parse_applicant(kb, {**answers, name: value})
        except Exception:  # a date before the birth date, a permit before it: not a possible answer
            continue
        out.append(parsed.values.get(name, value))
    return out


def next_question(
    engine: Any, answers: dict[str, Any], goals: list[str], peildatum: date, skipped: frozenset[str] = frozenset()
) -> Question | None:
    """The next question to ask, or None once the outcome is decided (or nothing asked can help)."""
    kb = engine.kb
    applicant = settled(engine, answers, peildatum)
    results = _assess(engine, applicant, goals, peildatum)
    deciding = deciding_facts(results)
    candidates = [n for n in deciding if n not in skipped and _open(kb, n, answers)]
    if not candidates:
        return None
    probe = Probe(engine, applicant, goals)
    now = tuple(r.outcome for r in results)
    enumerable = [n for n in candidates if kb.facts[n].type in ENUMERABLE]
    # only answers a possible applicant can give (kb/beperkingen.yaml)
    tries = [(n, v) for n in enumerable for v in _values(kb, n) if possible(kb, {**applicant.values, n: v}, peildatum)]
    at_once: dict[str, Any] = {}  # fact -> an answer that changes an outcome at once
    for (n, v), o in zip(tries, probe.outcomes([({n: v}, peildatum) for n, v in tries])):
        if o != now:
            at_once.setdefault(n, v)
    for name in candidates:
        if name in at_once:
            return _question(kb, name, answers, ({}, at_once[name]))
    others = [n for n in deciding if n not in skipped and n not in answers]
    unproven = []
    for name in candidates:
        if kb.facts[name].type not in ENUMERABLE:
            # Every answer to a date or permit history cannot be tried; it is asked because the
            # proof names it, unless even every value of what the rules read of it, with every
            # answer to the other open yes/no and choice questions, cannot help decide a goal.
            everything = {o: EVERY for o in others if o != name and kb.facts[o].type in ENUMERABLE}
            if not any(probe.decidable_by(name, [({**everything, name: EVERY}, peildatum)])[0]):
                continue
            tries = candidate_answers(engine, answers, name, peildatum)
            found = witness(probe, name, others, peildatum, values=tries) if tries else None
            if not found and not any(
                probe.decidable_by(name, [({**everything, name: EVERY}, peildatum)], refusals=False)[0]
            ):
                # no witness, and only a refusal beside an open referral could make it count: the
                # over-approximation above is not reason enough to ask
                continue
            return _question(kb, name, answers, found or None)
        found = witness(probe, name, others, peildatum)
        if found:
            return _question(kb, name, answers, found)
        if found is None:
            unproven.append(name)
    # no witness within the budget, but none shown impossible either: still worth asking
    return _question(kb, unproven[0], answers) if unproven else None


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
    if fact_type == "datum":
        return date_text(answer)
    return answer  # text is checked by the applicant validation


# -- what a person types: dates in Dutch notation, and how far an interview still is from its end --

MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "jan"),
            ("februari", "feb"),
            ("maart", "mrt", "mar"),
            ("april", "apr"),
            ("mei",),
            ("juni", "jun"),
            ("juli", "jul"),
            ("augustus", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "okt", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
    # the English names that differ, for an interview in English (--lang en)
} | {"january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8, "october": 10}
DATE_HINT = "geef een datum, bijvoorbeeld 14-03-1991 of 14 maart 1991 (of JJJJ-MM-DD)"
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMERIC = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})")
_WORDS = re.compile(r"([0-9]{1,2})\.?\s+([a-z]+)\.?\s+([0-9]{4})")


def date_text(text: str) -> str:
    """A date as a person in the Netherlands writes it (14-03-1991, 14-3-1991, 14/3/1991,
    14 maart 1991, 14 mrt 1991) or as ISO text, as the ISO text an applicant file holds.
    An ISO date is passed on unchanged: the applicant validation says what is wrong with it."""
    answer = " ".join(text.strip().lower().split())
    if _ISO.fullmatch(answer):
        return answer
    numeric, words = _NUMERIC.fullmatch(answer), _WORDS.fullmatch(answer)
    if numeric:
        day, month, year = (int(g) for g in numeric.groups())
    elif words and words.group(2) in MONTH_NAMES:
        day, month, year = int(words.group(1)), MONTH_NAMES[words.group(2)], int(words.group(3))
    else:
        raise AnswerError(DATE_HINT)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise AnswerError(f"die datum bestaat niet; {DATE_HINT}") from None


def questions_left(
    engine: Any, answers: dict[str, Any], goals: list[str], peildatum: date, skipped: frozenset[str] = frozenset()
) -> int:
    """At most how many questions `next_question` can still ask, the next one included: each
    open deciding fact once, and a permit history not given yet twice (after it, the details a
    period leaves out may be asked). An answer only decides nodes (the logic is monotone), so no
    fact becomes deciding that is not one now; tests/test_why_not.py checks the bound along
    whole interviews."""
    kb = engine.kb
    results = assessments(engine, answers, goals, peildatum)
    open_facts = [n for n in deciding_facts(results) if n not in skipped and _open(kb, n, answers)]
    return sum(2 if kb.facts[n].type == "vergunningen" and n not in answers else 1 for n in open_facts)


def applicant_file(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers as an applicant file (dates as ISO text), in a stable order."""
    return {k: iso_text(answers[k]) for k in sorted(answers)}


def validated(engine: Any, answers: dict[str, Any]) -> Applicant:
    return parse_applicant(engine.kb, answers)
