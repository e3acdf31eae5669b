"""The one applicant pipeline: raw data -> validated applicant -> evaluator inputs.

Parse (the vocabulary's checks), the checks against the peildatum, the quantities at the
peildatum: every path that evaluates an applicant (assess, why-not, fees, interview, batch,
probe, audit, mutation) comes through `evaluator_inputs`, so none can skip a check or compute a
quantity differently. What the evaluators then read is `engine.evaluate.engine_facts_of(inputs)`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Collection

from engine.applicant.facts import Applicant, check_against_peildatum, parse_applicant, quantity_values
from engine.rules.declarations import KnowledgeBase

Inputs = dict[str, Any]  # an applicant's facts with the quantities at the peildatum (dates as dates)


def evaluator_inputs(
    kb: KnowledgeBase,
    applicant: Applicant | Any,
    peildatum: date,
    *,
    json_values: bool = False,
    checked: bool = True,
    quantities: Collection[str] | None = None,
    quick: bool = False,
) -> tuple[Applicant, Inputs]:
    """The applicant (parsed from raw data unless it is one already) and its inputs at `peildatum`.

    `checked=False` skips the checks against the peildatum, for variants of an applicant who was
    checked already at a peildatum no later than this one (what-if questions, implied facts);
    `quantities` limits the quantities worked out to those names (a goal reads a few);
    `quick` lets plainly valid JSON take one pass that validates, converts and checks it
    (`engine.applicant.reader.row_reader`); any other row takes the full path, which words its error.
    Raises `engine.errors.InputError` naming the field.
    """
    if quick and json_values and checked and type(applicant) is dict:
        read = _row_reader(kb)
        got = read(applicant, peildatum, quantities) if read is not None else None
        if got is not None:
            return Applicant(got[0]), got[1]
    if not isinstance(applicant, Applicant):
        applicant = parse_applicant(kb, applicant, json_values=json_values, quick=quick)
    if checked:
        check_against_peildatum(kb, applicant, peildatum)
    return applicant, {**applicant.values, **quantity_values(kb, applicant, peildatum, only=quantities)}


_NO_READER = object()


def _row_reader(kb: KnowledgeBase):
    """`engine.applicant.reader.row_reader` for this knowledge base, built once and kept on it."""
    reader = getattr(kb, "_row_reader", _NO_READER)
    if reader is _NO_READER:
        from engine.applicant.reader import row_reader

        reader = row_reader(kb)
        object.__setattr__(kb, "_row_reader", reader)
    return reader
