"""Evaluators: the one compiled clause list (`engine.rules.compiler.Program`), three ways to run it.

- `engine.evaluate.datalog.DatalogEvaluator`: pyDatalog, the reference, one applicant per query;
- `engine.evaluate.setwise.SetwiseEvaluator`: set at a time, a bit per applicant, for many at once;
- `engine.evaluate.symbolic.SymbolicEvaluator`: binary decision diagrams over every situation the
  rules can tell apart, for the audit.

Each is made once, from the program, by the one who makes an `engine.answer.assess.Engine` (the CLI
edge, the audit, mutation): `factory(program, base_predicates, input_names)`. Each runs as
`run(rows, nodes)`: the values of `nodes` for every row. A row of the first two is one applicant's
inputs (facts and quantities as `engine.applicant.pipeline.evaluator_inputs` makes them, dates as dates); a
row of the symbolic one is a space of situations (`engine.checks.audit_space.AtomSpace`).

The program is positive (three-valued, no negation as failure) but for the fee choice on top of it,
which reads what the rest derives through `engine.rules.compiler.Absent` (stratified negation):
evaluating each strongly connected group of predicates to its fixpoint, in dependency order, gives
the one model.
"""

from __future__ import annotations

from engine.evaluate.base import (
    OPERATORS,
    Evaluator,
    EvaluatorFactory,
    Values,
    engine_facts_of,
    engine_value,
    holds,
    strata,
)

__all__ = [
    "OPERATORS",
    "Evaluator",
    "EvaluatorFactory",
    "Values",
    "engine_facts_of",
    "engine_value",
    "holds",
    "strata",
    "evaluator_named",
]


def evaluator_named(name: str) -> EvaluatorFactory:
    """The evaluator a command-line option names ("setwise", "datalog"); pyDatalog is imported
    only when asked for."""
    if name == "datalog":
        from engine.evaluate.datalog import DatalogEvaluator

        return DatalogEvaluator
    if name == "setwise":
        from engine.evaluate.setwise import SetwiseEvaluator

        return SetwiseEvaluator
    raise ValueError(f"onbekende evaluator '{name}'; toegestaan: datalog, setwise")
