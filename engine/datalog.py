"""The one module that talks to pyDatalog.

Clauses arrive as `engine.compiler.Clause` objects and become pyDatalog engine literals and
clauses as Python objects; no text is ever handed to `pyDatalog.load` or `ask`, so applicant data
can never be read as program code. Applicant values enter only as constants in asserted facts.

We build `pyEngine` literals directly with the same constructors pyDatalog's own parser calls
(`Term_of`, `Var`, `Literal`, `Clause`, `assert_`). The parser's operator-overloading objects
cost about 0.1 s for this rule base, which is most of a cold start.

A program belongs to the thread that built it. pyDatalog keeps its `Logic` per thread, and a
switch to another thread's logic is a shallow copy that shares its predicates (and so every
fact asserted into them): two threads querying one program raise "dictionary changed size
during iteration" or find a model half added by the other thread. `engine.assess.Engine` keeps
one program per thread; here a program refuses to be used from any other thread.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Iterable

from pyDatalog import pyDatalog, pyEngine

from engine.compiler import Clause, Cmp, Lit

_OPERATORS = {">=": ">=", ">": ">", "<=": "<=", "<": "<", "==": "==", "!=": "!=",
              "in": "_pyD_in", "not in": "_pyD_not_in"}
_ids = itertools.count(1)


class _Held(threading.local):
    """Whose Logic this thread's pyDatalog currently holds (pyDatalog's own Logic is per thread)."""

    program: "DatalogProgram | None" = None


_held = _Held()


def _const(value: Any):
    if isinstance(value, (tuple, list)):
        return pyEngine.Term_of([pyEngine.Term_of(v) for v in value])
    return pyEngine.Term_of(value)


def _literal(predicate: str, *terms) -> Any:
    return pyEngine.Literal(predicate, list(terms), len(terms), None)


class DatalogProgram:
    """A loaded rule set in its own pyDatalog `Logic`, queried one applicant at a time."""

    def __init__(self, clauses: Iterable[Clause], models: dict[str, list[str]], base_predicates: Iterable[str]):
        self._thread = threading.get_ident()
        pyDatalog.Logic()  # a fresh, empty logic for this thread
        self._logic = pyDatalog.Logic(True)
        _held.program = self
        applicant = pyEngine.Var("A")
        consts = {True: _const(True), False: _const(False)}
        for clause in clauses:
            head = _literal(clause.head, applicant, consts[clause.value])
            body = []
            for i, lit in enumerate(clause.body):
                if isinstance(lit, Lit):
                    body.append(_literal(lit.predicate, applicant, consts[lit.value]))
                else:
                    assert isinstance(lit, Cmp)
                    var = pyEngine.Var(f"N{i}")
                    body.append(_literal(lit.predicate, applicant, var))
                    body.append(_literal(_OPERATORS[lit.operator], var, _const(lit.constant)))
            pyEngine.assert_(pyEngine.Clause(head, body))
        self._models: dict[str, str] = {}
        # a model's query clauses are added on its first use: a cold start asks for one goal
        self._pending: dict[str, list[str]] = dict(models)
        # pyDatalog only knows a predicate once it has had a clause or a fact
        for pred in base_predicates:
            self._retract(self._assert(pred, 0, None))
        self._logic = pyDatalog.Logic(True)

    def add_model(self, name: str, nodes: list[str]) -> None:
        """A query predicate that reads every node in `nodes` for one applicant."""
        self._hold()
        applicant = pyEngine.Var("A")
        model = f"model__{name}"
        self._models[name] = model
        self._pending.pop(name, None)
        for nid in nodes:
            # one clause per truth value: `p(A, True)` and `p(A, False)` are the subgoals the
            # rule bodies table anyway, where `p(A, V)` would be a third one (twice the work)
            for truth in (True, False):
                head = _literal(model, applicant, _const(nid), _const(truth))
                pyEngine.assert_(pyEngine.Clause(head, [_literal(nid, applicant, _const(truth))]))
        clause = pyEngine.Clause(_literal(model, _const(0), _const(None), _const(None)), [])
        pyEngine.assert_(clause)  # pyDatalog knows a predicate only once it had a clause (a model may be empty)
        pyEngine.retract(clause)
        # switching logics copies them (pyDatalog.Logic(logic)): keep the copy that now holds the model
        self._logic = pyDatalog.Logic(True)

    def _hold(self) -> None:
        """Make this program's logic the one pyDatalog uses in this thread."""
        if threading.get_ident() != self._thread:
            raise RuntimeError("een DatalogProgram hoort bij de thread die het bouwde; gebruik er één per thread")
        if _held.program is not self:
            pyDatalog.Logic(self._logic)  # shares our clauses and facts; only the tables are new
            _held.program = self

    def has_model(self, name: str) -> bool:
        return name in self._models or name in self._pending

    @staticmethod
    def _assert(predicate: str, applicant: int, value: Any):
        clause = pyEngine.Clause(_literal(predicate, _const(applicant), _const(value)), [])
        pyEngine.assert_(clause)
        return clause

    @staticmethod
    def _retract(clause) -> None:
        pyEngine.retract(clause)

    def evaluate(self, facts: list[tuple[str, Any]], model: str) -> dict[str, set[Any]]:
        """Assert one applicant's facts, read the model, retract them again.

        Returns node id -> the set of values derived (normally one; two means a conflict).
        """
        self._hold()
        if model not in self._models:
            self.add_model(model, self._pending[model])
        applicant = next(_ids)
        asserted = []
        try:
            for pred, value in facts:
                asserted.append(self._assert(pred, applicant, value))
            rows = _literal(self._models[model], _const(applicant), pyEngine.Var("N"), pyEngine.Var("V")).ask()
        finally:
            for clause in asserted:
                self._retract(clause)
        values: dict[str, set[Any]] = {}
        for _, node, value in rows or ():
            values.setdefault(node, set()).add(value)
        return values
