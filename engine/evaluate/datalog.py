"""The one module that talks to pyDatalog.

Clauses arrive as `engine.rules.compiler.Clause` objects and become pyDatalog engine literals and
clauses as Python objects; no text is ever handed to `pyDatalog.load` or `ask`, so applicant data
can never be read as program code. Applicant values enter only as constants in asserted facts.

We build `pyEngine` literals directly with the same constructors pyDatalog's own parser calls
(`Term_of`, `Var`, `Literal`, `Clause`, `assert_`). The parser's operator-overloading objects
cost about 0.1 s for this rule base, which is most of a cold start.

A program belongs to the thread that built it. pyDatalog keeps its `Logic` per thread, and a
switch to another thread's logic is a shallow copy that shares its predicates (and so every
fact asserted into them): two threads querying one program raise "dictionary changed size
during iteration" or find a model half added by the other thread. `DatalogEvaluator` keeps
one program per thread; here a program refuses to be used from any other thread.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Iterable, Sequence

from pyDatalog import pyDatalog, pyEngine

from engine.evaluate.base import engine_facts_of
from engine.rules.compiler import Absent, Clause, Cmp, Lit, Program

_OPERATORS = {
    ">=": ">=",
    ">": ">",
    "<=": "<=",
    "<": "<",
    "==": "==",
    "!=": "!=",
    "in": "_pyD_in",
    "not in": "_pyD_not_in",
}
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
                elif isinstance(lit, Absent):
                    # pyDatalog's negation: the applicant is bound by every query, and the
                    # predicate is known (a derived one has clauses, a base one was declared)
                    body.append(_literal("~" + lit.predicate, applicant, consts[lit.value]))
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


class DictValues:
    """`engine.evaluate.Values` of one evaluation per row, as pyDatalog returns them."""

    def __init__(self, rows: list[dict[str, set[Any]]]):
        self.rows = rows

    def values_of(self, index: int, nodes: Iterable[str] | None = None) -> dict[str, set[Any]]:
        values = self.rows[index]
        if nodes is None:
            return values
        return {n: values[n] for n in nodes if n in values}


class DatalogEvaluator:
    """`engine.evaluate.Evaluator` by pyDatalog, the reference: one query per applicant.

    A set of nodes asked for becomes a query predicate (a model) on its first use; the pyDatalog
    program itself is built on first use in each thread (about 10 ms), one per thread.
    """

    name = "datalog"

    def __init__(self, program: Program, base_predicates: Sequence[str], input_names: frozenset[str]):
        self.clauses = program.clauses
        self.base_predicates = base_predicates
        self.input_names = input_names
        self._models: dict[tuple[str, ...], str] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    @property
    def program(self) -> DatalogProgram:
        """This thread's pyDatalog program."""
        program = getattr(self._local, "program", None)
        if program is None:
            program = self._local.program = DatalogProgram(self.clauses, {}, self.base_predicates)
        return program

    def _model(self, nodes: Sequence[str]) -> str:
        key = tuple(nodes)
        name = self._models.get(key)
        if name is None:
            with self._lock:
                name = self._models.setdefault(key, f"m{len(self._models)}")
        program = self.program
        if not program.has_model(name):
            program.add_model(name, list(key))
        return name

    def run(self, rows: Sequence[dict[str, Any]], nodes: Sequence[str]) -> DictValues:
        return self.run_facts([engine_facts_of(inputs, self.input_names) for inputs in rows], nodes)

    def run_facts(self, rows: Sequence[Sequence[tuple[str, Any]]], nodes: Sequence[str]) -> DictValues:
        """Rows of engine facts, where a fact may have several values at once (what-if questions)."""
        model = self._model(nodes)
        return DictValues([self.program.evaluate(list(facts), model) for facts in rows])

    def restricted(self, roots: Sequence[str]) -> DatalogEvaluator:
        """pyDatalog evaluates top down: a query reads only the clauses its nodes need already."""
        return self
