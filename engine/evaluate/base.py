"""What every evaluator shares: the comparison operators, the strata, the protocols, and the
engine facts of an applicant's inputs (see `engine.evaluate` for the evaluators)."""

from __future__ import annotations

import operator
from datetime import date
from typing import Any, Callable, Collection, Iterable, Mapping, Protocol, Sequence

from engine.graph import strongly_connected
from engine.rules.compiler import Absent, Clause, Cmp, Program

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
    "in": lambda value, options: value in options,
    "not in": lambda value, options: value not in options,
}


def holds(op: str, value: Any, constant: Any) -> bool:
    """A comparison as every evaluator makes it: incomparable values match nothing (pyDatalog
    finds no match for them either)."""
    try:
        return bool(OPERATORS[op](value, constant))
    except TypeError:
        return False


def engine_value(value: Any) -> Any:
    """A value as the clauses compare it: dates as day numbers."""
    return value.toordinal() if type(value) is date else value


def engine_facts_of(inputs: Mapping[str, Any], names: Collection[str]) -> list[tuple[str, Any]]:
    """(predicate, value) pairs to assert for one applicant's inputs: the names the program reads
    as facts (`engine.applicant.facts.engine_input_names`), dates as day numbers, by name."""
    return [(name, engine_value(value)) for name, value in sorted(inputs.items()) if name in names]


def strata(by_head: Mapping[str, Sequence[Clause]]) -> list[list[str]]:
    """Strongly connected groups of derived predicates, each after the groups it reads.

    A group that reads one of its own predicates through `Absent` (negation as failure) has no
    unique meaning: refused."""
    graph = {
        head: sorted(
            {i.predicate for c in clauses for i in c.body if not isinstance(i, Cmp) and i.predicate in by_head}
        )
        for head, clauses in by_head.items()
    }
    groups = strongly_connected(graph)
    for group in groups:
        members = set(group)
        for head in group:
            for clause in by_head[head]:
                for item in clause.body:
                    if isinstance(item, Absent) and item.predicate in members:
                        raise ValueError(f"recursie via negatie: {head} leest {item.predicate} als niet afgeleid")
    return groups


class Values(Protocol):
    """What the per-applicant evaluators return: the derived truth values per row."""

    def values_of(self, index: int, nodes: Iterable[str]) -> dict[str, set[bool]]:
        """node -> the truth values derived for row `index` (two means a conflict)."""
        ...


class Evaluator(Protocol):
    def run(self, rows: Sequence[Any], nodes: Sequence[str]) -> Any:
        """The values of `nodes` for every row."""
        ...


class EvaluatorFactory(Protocol):
    name: str  # how the command line and the reports call it

    def __call__(self, program: Program, base_predicates: Sequence[str], input_names: frozenset[str]) -> Evaluator: ...
