"""The one module that talks to pyDatalog.

Clauses arrive as `engine.compiler.Clause` objects and become pyDatalog terms through its Python
API; no text is ever handed to `pyDatalog.load` or `ask`, so applicant data can never be read as
program code. Applicant values enter only as Python objects in asserted facts.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterable

from pyDatalog import pyDatalog
from pyDatalog.pyParser import Term

from engine.compiler import Clause, Cmp, Lit

_APPLICANT = Term("A")
_VALUE = Term("V")
_NODE = Term("N")
_ids = itertools.count(1)
_active: list["DatalogProgram | None"] = [None]  # whose Logic this thread currently holds


class DatalogProgram:
    """A loaded rule set in its own pyDatalog `Logic`, queried one applicant at a time."""

    def __init__(self, clauses: Iterable[Clause], models: dict[str, list[str]], base_predicates: Iterable[str]):
        pyDatalog.Logic()  # a fresh, empty logic for this thread
        self._logic = pyDatalog.Logic(True)
        _active[0] = self
        self._terms: dict[str, Term] = {}
        for clause in clauses:
            head = self._term(clause.head)(_APPLICANT, clause.value)
            body = None
            for i, literal in enumerate(clause.body):
                part = self._literal(literal, i)
                body = part if body is None else body & part
            head <= body
        self._models: dict[str, Term] = {}
        for name, nodes in models.items():
            model = Term(f"model__{name}")
            self._models[name] = model
            for node in nodes:
                model(_APPLICANT, node, _VALUE) <= self._term(node)(_APPLICANT, _VALUE)
        # pyDatalog only knows a predicate once it has had a clause or a fact
        for pred in base_predicates:
            pyDatalog.assert_fact(pred, 0, None)
            pyDatalog.retract_fact(pred, 0, None)

    def _term(self, name: str) -> Term:
        term = self._terms.get(name)
        if term is None:
            term = self._terms[name] = Term(name)
        return term

    def _literal(self, literal: Lit | Cmp, position: int):
        if isinstance(literal, Lit):
            return self._term(literal.predicate)(_APPLICANT, literal.value)
        var = Term(f"N{position}")
        value = list(literal.constant) if isinstance(literal.constant, tuple) else literal.constant
        op = literal.operator
        if op == "in":
            comparison = var.in_(value)
        elif op == "not in":
            comparison = var.not_in_(value)
        elif op == ">=":
            comparison = var >= value
        elif op == ">":
            comparison = var > value
        elif op == "<=":
            comparison = var <= value
        elif op == "<":
            comparison = var < value
        elif op == "==":
            comparison = var == value
        elif op == "!=":
            comparison = var != value
        else:
            raise ValueError(op)
        return self._term(literal.predicate)(_APPLICANT, var) & comparison

    def evaluate(self, facts: list[tuple[str, Any]], model: str) -> dict[str, set[Any]]:
        """Assert one applicant's facts, read the model, retract them again.

        Returns node id -> the set of values derived (normally one; two means a conflict).
        """
        if _active[0] is not self:
            pyDatalog.Logic(self._logic)  # shares our clauses and facts; only the tables are new
            _active[0] = self
        applicant = next(_ids)
        asserted = []
        try:
            for pred, value in facts:
                pyDatalog.assert_fact(pred, applicant, value)
                asserted.append((pred, value))
            rows = self._models[model](applicant, _NODE, _VALUE).data
        finally:
            for pred, value in asserted:
                pyDatalog.retract_fact(pred, applicant, value)
        values: dict[str, set[Any]] = {}
        for node, value in rows:
            values.setdefault(node, set()).add(value)
        return values
