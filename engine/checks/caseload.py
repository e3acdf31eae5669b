"""A seeded generator of consistent synthetic applicants, for benchmarks and differential tests.

Built from the vocabulary, so a fact added to kb/ is generated without a change here; the birth
date, whether born here and the arrival are the facts with those roles (`rol` in kb/feiten.yaml:
geboorte, hier_geboren, aankomst). Every applicant is consistent (arrival after birth, permit
periods inside the life, in order, dates not after the peildatum and in the order the vocabulary
declares), breaks none of the vocabulary's constraints (`beperkingen`), and some facts are left
unknown. Same seed, same caseload.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any, Iterator

from engine.applicant.constraints import repaired
from engine.rules.model import KnowledgeBase, date_order, fact_with_role


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def applicant_data(kb: KnowledgeBase, rng: random.Random, peildatum: date, unknown: float = 0.15) -> dict[str, Any]:
    """One applicant as an applicant file holds it (ISO dates as text)."""
    birth, here, arrival = (fact_with_role(kb, role) for role in ("geboorte", "hier_geboren", "aankomst"))
    born = _day(rng, date(peildatum.year - 80, 1, 1), peildatum)
    born_here = rng.random() < 0.3
    arrived = born if born_here else _day(rng, born, peildatum)
    # drawn whatever the vocabulary declares, so that the rest of a caseload does not depend on it
    data: dict[str, Any] = {}
    for name, value in ((birth, born.isoformat()), (here, born_here), (arrival, arrived.isoformat())):
        if name is not None:
            data[name] = value
    for name in sorted(kb.facts):
        if name in data:
            continue
        fact = kb.facts[name]
        if rng.random() < unknown:
            continue
        if fact.type == "bool":
            data[name] = rng.random() < 0.5
        elif fact.type == "keuze":
            data[name] = rng.choice(fact.values)
        elif fact.type == "tekst":
            data[name] = "tekst"
        elif fact.type == "bedrag":
            data[name] = rng.randrange(0, 500_000, 100)
        elif fact.type == "datum":
            data[name] = _day(rng, arrived, peildatum).isoformat()
        elif fact.type == "vergunningen":
            data[name] = _periods(kb, rng, arrived, peildatum)
    # the vocabulary's order of dates (`niet_voor`): a date drawn before one it cannot precede is
    # drawn again after it (only then is the generator called, so other rows stay as they were)
    for name, earlier in date_order(kb).items():
        if data.get(name) is None or name in (birth, arrival):
            continue
        lowest = max((data[o] for o in earlier if data.get(o) is not None), default=data[name])
        if data[name] < lowest:
            data[name] = _day(rng, date.fromisoformat(lowest), peildatum).isoformat()
    # the vocabulary's constraints (kb/beperkingen.yaml): what one rules out is left out, after
    # every draw, so that the rest of a caseload stays as it was
    return repaired(kb, data, peildatum)


def _periods(kb: KnowledgeBase, rng: random.Random, start: date, peildatum: date) -> list[dict[str, Any]]:
    purposes = list(kb.period_fields.get("verblijfsdoel", {}).get("waarden", ["anders"]))
    periods = []
    cursor = start
    for _ in range(rng.randint(0, 3)):
        if cursor >= peildatum:
            break
        begin = _day(rng, cursor, min(peildatum, cursor + timedelta(days=3 * 365)))
        period: dict[str, Any] = {"van": begin.isoformat(), "verblijfsdoel": rng.choice(purposes)}
        if rng.random() < 0.5:
            period["niet_tijdelijk"] = rng.random() < 0.3
        if rng.random() < 0.6:
            end = _day(rng, begin, begin + timedelta(days=6 * 365))
            period["tot"] = end.isoformat()
            cursor = end + timedelta(days=rng.choice([0, 1, 1, 30, 400]))
        else:
            periods.append(period)
            break  # a permit that still runs is the last one
        periods.append(period)
    return periods


def variant(
    kb: KnowledgeBase, rng: random.Random, base: dict[str, Any], changes: int, peildatum: date | None = None
) -> dict[str, Any]:
    """`base` with a few yes/no and choice facts redrawn or forgotten; dates stay consistent, and
    what a constraint then rules out is left out."""
    data = dict(base)
    names = sorted(n for n in kb.facts if kb.facts[n].type in ("bool", "keuze"))
    for name in rng.sample(names, min(changes, len(names))):
        fact = kb.facts[name]
        roll = rng.random()
        if roll < 0.2:
            data.pop(name, None)
        else:
            data[name] = rng.random() < 0.5 if fact.type == "bool" else rng.choice(fact.values)
    return repaired(kb, data, peildatum)


def caseload(
    kb: KnowledgeBase,
    size: int,
    seed: int,
    peildatum: date,
    unknown: float = 0.15,
    bases: tuple[dict[str, Any], ...] = (),
) -> Iterator[dict[str, Any]]:
    """`size` applicants; with `bases` (applicant files as data), half are variants of one of them,
    so that outcomes other than the commonest are well represented."""
    rng = random.Random(seed)
    for _ in range(size):
        if bases and rng.random() < 0.5:
            yield variant(kb, rng, rng.choice(bases), rng.randint(0, 3), peildatum)
        else:
            yield applicant_data(kb, rng, peildatum, unknown)
