"""Batch assessment of a caseload: every goal and its fees, per applicant, in chunks.

Rows are read lazily, parsed and validated one by one (a bad row becomes an error row naming its
number and field; the run goes on), evaluated a chunk at a time by `engine.evaluate.setwise`, formatted
as output text by the process that evaluated them, and written in input order. Workers (`jobs`)
each take whole chunks; at most two chunks per worker are in flight, so memory stays flat however
long the caseload. Nothing about an applicant is logged.
"""

from __future__ import annotations

import csv
import difflib
import gc
import io
import json
import multiprocessing
import re
import signal
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from engine.answer.assess import ELIGIBLE, NOT_ELIGIBLE, OUT_OF_SCOPE, UNDETERMINED, Engine
from engine.answer.fees import FeeCalculator
from engine.answer.proof import CONFLICT
from engine.applicant.facts import (
    MAX_DIGITS,
    MAX_FILE_BYTES,
    TOO_DEEP,
    Applicant,
    DuplicateKey,
    HugeNumber,
    decode_json,
    json_key_error,
    json_problem,
    name_kind,
    unknown_name,
)
from engine.applicant.pipeline import evaluator_inputs
from engine.errors import InputError, escaped, is_name, visible
from engine.evaluate.setwise import SetwiseEvaluator, bitmask

CHUNK = 2000
# A row holds one applicant, so it gets the limit of an applicant file (in characters); a longer
# line is skipped unread and becomes an error row, so a caseload of any length runs in flat memory.
ROW_LIMIT = MAX_FILE_BYTES
BOOL_WORDS = {"true": True, "ja": True, "false": False, "nee": False}
RESULT_FORMAT = "verblijfsregels/batch-row"
# 2: a source's amount in per_bron may be a list (it states several); 3: mogelijk_ook; 4: kb_version;
# 5: English machinery keys (row, error, outcomes, fees; per fee form, amount, sources_agree, per_source,
# chosen_source, alternative_amounts), the CSV header likewise (row, error, fees_<goal>); 6: with a
# comparison each run has its kb_version (CSV: kb_version_a, kb_version_b)
RESULT_VERSION = 6
COMPARE_FORMAT = "verblijfsregels/batch-compare"
COMPARE_VERSION = 3  # 2: fee changes per goal and form, each form's fee alone; 3: kb_versions, of run a and run b


@dataclass
class Row:
    number: (
        int  # 1-based: the record in a CSV file (header excluded, blank lines counted), the line in a JSON Lines file
    )
    data: dict[str, Any] | None
    error: str | None = None
    text: str | None = None  # a JSON Lines row not yet decoded: decoding is left to the workers

    def decoded(self) -> Row:
        if self.text is None:
            return self
        number = self.number
        try:
            return Row(number, decode_json(self.text))
        except json.JSONDecodeError as exc:
            return Row(number, None, f"rij {number}: geen geldige JSON (kolom {exc.colno}: {json_problem(exc)})")
        except (DuplicateKey, RecursionError) as exc:
            error = json_key_error(self.text, exc, "de rij")
            return Row(number, None, row_error(number, error or TOO_DEEP))


def row_error(number: int, problem: InputError | str) -> str:
    """A row's error: 'rij 3, veld 'x': …' for a field, 'rij 3: …' for the row as a whole."""
    field = isinstance(problem, InputError) and problem.field
    return f"rij {number}, {problem}" if field else f"rij {number}: {problem}"


# -- reading --------------------------------------------------------------------------------------


def input_format(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise InputError(
        "INPUT", f"kan het formaat van {visible(path.name)} niet afleiden; gebruik .csv of .jsonl, of --input-format"
    )


class _Lines:
    """The physical lines of a caseload, each read with a bound, so that a bad line spoils its own
    row only: a line longer than ROW_LIMIT is skipped unread (it is handed on as an empty line),
    and bytes that are no UTF-8 arrive as lone surrogates (errors="surrogateescape").

    `take_problem` says what was wrong with the lines handed out since it was last called.
    """

    def __init__(self, handle: Any):
        self.handle = handle
        self.problem: str | None = None
        self.size = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._readline()
        if not line:
            raise StopIteration
        if len(line) > ROW_LIMIT:
            while line and not line.endswith(("\n", "\r")):
                line = self._readline()
            self.problem = self.problem or f"langer dan {ROW_LIMIT} tekens; een rij is één aanvrager"
            return "\n"
        self.size += len(line)
        if not line.isascii() and not _utf8(line):
            self.problem = self.problem or "geen UTF-8-tekst"
        return line

    def _readline(self) -> str:
        try:
            return self.handle.readline(ROW_LIMIT + 1)
        except OSError as exc:  # a disk or device that fails halfway: the whole run stops
            raise InputError(
                "INPUT", f"kan {escaped(str(self.handle.name))} niet verder lezen: {exc.strerror}"
            ) from None

    def take_problem(self) -> str | None:
        problem = self.problem or (
            f"langer dan {ROW_LIMIT} tekens; een rij is één aanvrager" if self.size > ROW_LIMIT else None
        )
        self.problem, self.size = None, 0
        return problem


def _utf8(line: str) -> bool:
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: a byte that was no UTF-8
        return False
    return True


def read_rows(kb: Any, path: Path, fmt: str) -> Iterator[Row]:
    """Every row of the caseload, in order; problems with one row stay with that row."""
    shown = escaped(str(path))
    try:
        # utf-8-sig: a byte order mark, as spreadsheets write, is not part of the first column's name
        handle = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
    except FileNotFoundError:
        raise InputError("INPUT", f"bestand niet gevonden: {shown}") from None
    except IsADirectoryError:
        raise InputError("INPUT", f"{shown} is een map, geen bestand") from None
    except OSError as exc:
        raise InputError("INPUT", f"kan {shown} niet lezen: {exc.strerror}") from None
    with handle:
        lines = _Lines(handle)
        if fmt == "csv":
            yield from _csv_rows(kb, lines, path)
        else:
            yield from _jsonl_rows(lines)


# What the csv module reports, in Dutch; the rest is named as a broken CSV line.
CSV_PROBLEMS = {
    "field larger than field limit": f"een cel is langer dan {csv.field_size_limit()} tekens",
    "unexpected end of data": "een aanhalingsteken gaat open en sluit niet op deze regel (alleen vrije tekst mag "
    "over meer regels lopen)",
    "',' expected after '\"'": "tekst na het sluitende aanhalingsteken van een cel",
    "new-line character seen in unquoted field": "een regeleinde midden in een cel zonder aanhalingstekens",
}


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    return next(
        (dutch for english, dutch in CSV_PROBLEMS.items() if text.startswith(english)), "geen geldige CSV-regel"
    )


class _Taken:
    """The physical lines csv.reader takes for one record, each with what was wrong with it, so a
    record can be traced back to its lines."""

    def __init__(self, lines: _Lines):
        self.lines = lines
        self.taken: list[tuple[str, str | None]] = []

    def __iter__(self) -> _Taken:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.taken.append((line, self.lines.take_problem()))
        return line

    def take(self) -> list[tuple[str, str | None]]:
        taken, self.taken = self.taken, []
        return taken


def _one_line(line: str) -> tuple[list[str] | None, str | None]:
    """A physical line as a record of its own, parsed strictly: a malformed cell is an error, never
    silently mended."""
    try:
        return next(csv.reader((line,), strict=True), []), None
    except csv.Error as exc:
        return None, _csv_problem(exc)


def _csv_records(
    lines: _Lines, accept: Callable[[list[str]], bool] = lambda cells: False
) -> Iterator[tuple[list[str] | None, str | None]]:
    """(cells, None) per record, or (None, what is wrong with it).

    A record is one line. A quoted cell may run over several lines only where `accept` says the
    whole record makes sense that way (the caller: a newline only inside free text, and as many
    cells as the header). Anything else the csv module reads over several lines (a stray quote
    that opens and closes lines later, or never) is split back into its lines, each a record of
    its own: the stray quote spoils its own line only, instead of swallowing the applicants on the
    lines after it."""
    source = _Taken(lines)
    reader = csv.reader(source)
    while True:
        try:
            cells, problem = next(reader), None
        except StopIteration:
            for line, line_problem in source.take():  # lines the reader took without a record
                yield (None, line_problem) if line_problem else _one_line(line)
            return
        except csv.Error as exc:
            cells, problem = None, _csv_problem(exc)
        taken = source.take()
        if len(taken) == 1:
            line, line_problem = taken[0]
            if line_problem or problem:
                yield None, line_problem or problem
            else:  # parsed once more, strictly, where a quote could hide a malformed cell
                yield _one_line(line) if '"' in line else (cells, None)
            continue
        if problem is None and not any(p for _, p in taken) and cells is not None and accept(cells):
            yield cells, None
            continue
        for line, line_problem in taken:
            yield (None, line_problem) if line_problem else _one_line(line)


def _check_header(kb: Any, header: list[str], name: str) -> None:
    """Every column is a fact, once. A column that is not named like a fact is named by its number:
    a file without a header has an applicant's cells there."""
    facts = list(kb.facts)
    if header and not any(c in kb.facts or (is_name(c) and difflib.get_close_matches(c, facts, n=1)) for c in header):
        raise InputError(
            "INPUT",
            f"de eerste regel van {name} is geen kop: geen kolom heeft de naam van een feit; "
            "de eerste regel noemt de feiten (verblijfsregels schema)",
        )
    first_of: dict[str, int] = {}
    for number, column in enumerate(header, start=1):
        shown = f"kolom {number} ('{column}')" if is_name(column) else f"kolom {number}"
        if column in first_of:
            raise InputError(
                "INPUT",
                f"{shown} van {name} staat twee keer in de kop (ook kolom {first_of[column]}); geef elk feit één keer",
            )
        first_of[column] = number
        if column not in kb.facts:
            if is_name(column):
                raise InputError("INPUT", f"{shown} van {name}: {unknown_name(column, facts, 'feit')}")
            raise InputError(
                "INPUT",
                f"{shown} van {name} is geen feit uit de woordenlijst ({name_kind(column)}); "
                "kolommen heten naar de feiten (verblijfsregels schema)",
            )


def _over_lines(kb: Any, header: list[str]) -> Callable[[list[str]], bool]:
    """Whether a record the csv module read over several lines is one applicant: as many cells as
    the header, and a line break only inside free text (no other kind of value holds one)."""

    def accept(cells: list[str]) -> bool:
        return len(cells) == len(header) and all(
            kb.facts[column].type == "tekst" or ("\n" not in cell and "\r" not in cell)
            for column, cell in zip(header, cells)
        )

    return accept


def _header_and_records(kb: Any, lines: _Lines) -> tuple[tuple[list[str] | None, str | None] | None, Iterator]:
    """The first record (the header; None for an empty file) and the records after it, which may
    run over several lines where the header's columns allow it (`_over_lines`)."""
    accept: list[Callable[[list[str]], bool]] = []  # known once the header is read
    records = _csv_records(lines, lambda cells: bool(accept) and accept[0](cells))
    first = next(records, None)
    if first is not None and first[0] is not None:
        accept.append(_over_lines(kb, first[0]))
    return first, records


def _csv_rows(kb: Any, lines: _Lines, path: Path) -> Iterator[Row]:
    first, records = _header_and_records(kb, lines)
    if first is None:
        return
    header, problem = first
    name = visible(path.name)
    if header is None:
        raise InputError("INPUT", f"de kop van {name}: {problem}")
    _check_header(kb, header, name)
    for number, (cells, problem) in enumerate(records, start=1):
        if cells is None:
            yield Row(number, None, f"rij {number}: {problem}")
            continue
        if not cells:  # a blank line holds no applicant (it keeps its number, as in JSON Lines)
            continue
        if len(cells) != len(header):
            yield Row(number, None, f"rij {number}: {len(cells)} waarden, de kop heeft {len(header)} kolommen")
            continue
        try:
            yield Row(number, _csv_values(kb, dict(zip(header, cells))))
        except InputError as exc:
            yield Row(number, None, row_error(number, exc))


def _csv_values(kb: Any, cells: dict[str, str]) -> dict[str, Any]:
    """CSV text to the values an applicant file holds; an empty cell is an unknown fact.

    A message names the column and what is allowed, never the cell: it ends up in the output.
    """
    data: dict[str, Any] = {}
    for name, text in cells.items():
        kind = kb.facts[name].type
        if kind != "tekst":  # spaces around a cell are layout, as spreadsheets pad them; free text keeps them
            text = text.strip()
        if text.strip() == "":
            continue
        if kind == "bool":
            word = text.lower()
            if word not in BOOL_WORDS:
                raise InputError(name, "kreeg een andere tekst; toegestaan: true, false, ja, nee (leeg = onbekend)")
            data[name] = BOOL_WORDS[word]
        elif kind == "bedrag":
            digits = text
            if not (digits.isascii() and digits.isdigit()):  # int() would also take '١٢', '1_000' and ' +5'
                raise InputError(
                    name, "kreeg een tekst die geen geheel getal is; een bedrag is een geheel aantal eurocenten"
                )
            data[name] = int(digits) if len(digits) <= MAX_DIGITS else HugeNumber(len(digits))
        elif kind == "vergunningen":
            try:
                data[name] = decode_json(text)
            except (json.JSONDecodeError, DuplicateKey, RecursionError):
                raise InputError(
                    name,
                    "verwacht een JSON-lijst van perioden, zoals "
                    '[{"van": "2019-01-01", "verblijfsdoel": "familie_of_gezinslid"}]',
                ) from None
        else:
            data[name] = text
    return data


def _jsonl_rows(lines: _Lines) -> Iterator[Row]:
    for number, line in enumerate(lines, start=1):
        problem = lines.take_problem()
        if problem:
            yield Row(number, None, f"rij {number}: {problem}")
        elif line.strip():  # a blank line holds no applicant
            yield Row(number, None, text=line)


def count_rows(kb: Any, path: Path, fmt: str) -> int:
    """Rows in the caseload, for the progress bar only: it reads the file once more, so only for a
    regular file (a pipe would lose what this reads)."""
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        lines = _Lines(handle)
        if fmt == "csv":
            first, records = _header_and_records(kb, lines)
            return 0 if first is None else sum(1 for cells, _ in records if cells != [])  # blank lines are no rows
        # a row per line with something on it, and per line with a problem (an over-long line is
        # handed on empty, but still becomes an error row)
        return sum(1 for line in lines if lines.take_problem() or line.strip())


# -- evaluating -----------------------------------------------------------------------------------

_NO_FEES: tuple = ()  # a goal of an applicant without fees (its route is closed, or no form applies)
_OPEN_CODE = re.compile("[02]")  # eligible or undetermined: a goal whose fees are shown
_OUTCOME_OF_CODE = {"0": UNDETERMINED, "1": OUT_OF_SCOPE, "2": ELIGIBLE, "4": NOT_ELIGIBLE}


class CaseloadEvaluator:
    """Outcome of every goal, and the fee of every form a goal points to, for chunks of applicants."""

    def __init__(
        self,
        engine: Engine,
        peildatum: date,
        precedence: Iterable[str] = (),
        *,
        goals: Iterable[str] | None = None,
        fees: bool = True,
    ):
        """`goals` (default every goal) and `fees` limit what is worked out: the program is then
        restricted to the clauses those nodes read (benchmarks/bench_batch.py measures one goal)."""
        engine = engine.with_precedence(list(precedence))  # --voorrang decides disagreements too
        self.engine = engine
        self.kb = kb = engine.kb
        self.peildatum = peildatum
        self.precedence = list(precedence)
        if not isinstance(engine.evaluator, SetwiseEvaluator):
            raise TypeError("een caseload wordt set voor set geëvalueerd: maak de Engine met SetwiseEvaluator")
        self.evaluator = engine.evaluator
        self.goals = sorted(kb.goals if goals is None else goals)
        self.forms_of_goal = {
            goal: [
                (r.conclusion, r.form)
                for r in kb.rules.values()
                if fees and r.kind == "gevolg" and goal in r.goals and r.form in kb.forms
            ]
            for goal in self.goals
        }
        self.fees = FeeCalculator(kb, engine.program)
        needed: dict[str, None] = {}
        for goal in self.goals:
            spec = kb.goals[goal]
            needed[spec.conclusion] = None
            if spec.out_of_scope:
                needed[spec.out_of_scope] = None
            for conclusion, _ in self.forms_of_goal[goal]:
                if conclusion:
                    needed[conclusion] = None
        # the nodes each form's fee reads: the conditions of its fee rules and which of them decides
        self.form_nodes = {form: engine.program.fee_roots(form) for form in kb.forms}
        if any(self.forms_of_goal.values()):
            for form in kb.forms:
                needed.update(dict.fromkeys(self.form_nodes[form]))
        self.needed = list(needed)
        self.fee_forms = list(dict.fromkeys(form for g in self.goals for _, form in self.forms_of_goal[g]))
        if goals is not None:
            self.evaluator = self.evaluator.restricted(self.needed)
        self._fees: dict[str, dict[str, dict[str, Any]]] = {}
        # What applying for a goal says about the application (`aanvraag_voor_doel`) fills facts the
        # applicant left open, for that goal's fees only, as `fees --goal` does; goals that imply the
        # same facts share one extra evaluation per chunk.
        implied: dict[str, dict[str, Any]] = {}
        for assumption in kb.goal_assumptions.values():
            for goal in assumption.goals:
                implied.setdefault(goal, {})[assumption.fact] = assumption.value
        # facts a quantity reads: filling one in means working the quantities out again
        self.quantity_inputs = {name for q in kb.quantities.values() for name in q.inputs}
        self.implied_groups: dict[tuple[tuple[str, Any], ...], list[str]] = {}
        for goal in self.goals:
            if implied.get(goal) and self.forms_of_goal[goal]:
                self.implied_groups.setdefault(tuple(sorted(implied[goal].items())), []).append(goal)
        # a group's fees read only the clauses under its forms' fee rules: evaluate just those
        self.implied_forms = {
            facts: list(dict.fromkeys(form for g in goals for _, form in self.forms_of_goal[g]))
            for facts, goals in self.implied_groups.items()
        }
        self.implied_roots = {
            facts: sorted({n for form in forms for n in self.form_nodes[form]})
            for facts, forms in self.implied_forms.items()
        }
        self.implied_evaluators = {
            facts: self.evaluator.restricted(roots) for facts, roots in self.implied_roots.items()
        }
        # the quantities some evaluation reads: the others are not worked out
        read = set(self.evaluator.reads(self.needed))
        for facts, roots in self.implied_roots.items():
            read.update(self.implied_evaluators[facts].reads(roots))
        self.quantities = frozenset(read & set(kb.quantities))

    def parse(self, row: Row) -> tuple[Applicant, dict[str, Any]] | str:
        """The applicant of a row and its inputs at the peildatum, or the row's error line."""
        if row.error is not None:
            return row.error
        try:
            return evaluator_inputs(
                self.kb, row.data, self.peildatum, json_values=True, quantities=self.quantities, quick=True
            )
        except InputError as exc:
            return row_error(row.number, exc)

    def evaluate(self, rows: list[Row]) -> list[dict[str, Any]]:
        rows = [row.decoded() for row in rows]
        parsed = [self.parse(row) for row in rows]
        applicants = [(i, p[0]) for i, p in enumerate(parsed) if not isinstance(p, str)]
        inputs = [p[1] for p in parsed if not isinstance(p, str)]
        values = self.evaluator.run(inputs, self.needed)
        columns, situation = self._columns(values)
        # goal -> (columns of the applicants whose fees for it read implied facts, their fee keys
        # (see _fee_keys), position -> index there, or None when indexed like the chunk)
        implied_keys: dict[
            str, tuple[dict[str, tuple[str, str]], dict[str, list[tuple[str, ...]]], dict[int, int] | None]
        ] = {}
        codes_of = {goal: codes for goal, codes, _ in situation}
        open_masks: dict[str, int] = {}  # implied fact -> the applicants who left it open
        for facts, goals in self.implied_groups.items():
            if self.quantity_inputs.isdisjoint(f for f, _ in facts):
                # every applicant at once, from the input literals of the run above: an applicant
                # with none of the facts open gets the values of that run, so every applicant's fee
                # for these goals may be read from this evaluation
                filled = []
                for fact, value in facts:
                    if fact not in open_masks:
                        open_masks[fact] = bitmask(
                            (k for k, (_, a) in enumerate(applicants) if a.values.get(fact) is None), len(applicants)
                        )
                    filled.append((fact, value, open_masks[fact]))
                roots = self.implied_roots[facts]
                implied_values = self.implied_evaluators[facts].run_filled(values, filled, roots)
                if implied_values is not None:
                    implied_columns = self._node_columns(implied_values, roots)
                    forms = self.implied_forms[facts]
                    fee_keys_of = self._fee_keys(implied_columns, len(applicants), forms)
                    implied_keys.update(dict.fromkeys(goals, (implied_columns, fee_keys_of, None)))
                    continue
            # only where a fee is shown (the goal is open: eligible or undetermined) and a fact is open
            open_to = sorted({m.start() for g in goals for m in _OPEN_CODE.finditer(codes_of[g])})
            chosen = [
                (position, filled)
                for position in open_to
                if (filled := self._with_implied(applicants[position][1], inputs[position], facts)) is not None
            ]
            if chosen:
                # only the nodes these goals' fees read are evaluated and turned into columns
                roots = self.implied_roots[facts]
                implied_values = self.implied_evaluators[facts].run([f for _, f in chosen], roots)
                implied_columns = self._node_columns(implied_values, roots)
                index = {position: k for k, (position, _) in enumerate(chosen)}
                forms = self.implied_forms[facts]
                implied_keys.update(
                    dict.fromkeys(goals, (implied_columns, self._fee_keys(implied_columns, len(chosen), forms), index))
                )
        results: list[dict[str, Any]] = [
            {"row": row.number, "error": p if isinstance(p, str) else None, "outcomes": {}, "fees": {}}
            for row, p in zip(rows, parsed)
        ]
        # per applicant, read across the columns at once (zip runs in C): the outcome code of every
        # goal, and per form the values of the nodes its fee reads (the key of a fee situation)
        width = len(applicants)
        codes = list(zip(*[c for _, c, _ in situation])) if situation else [()] * width
        fee_keys = self._fee_keys(columns, width, self.fee_forms)
        with_forms = [(k, goal, forms) for k, (goal, _, forms) in enumerate(situation) if forms]
        outcomes_of: dict[tuple[str, ...], dict[str, str]] = {}
        for position, (i, _) in enumerate(applicants):
            key = codes[position]
            outcomes = outcomes_of.get(key)
            if outcomes is None:  # shared, read-only, by the rows of this chunk in the same situation
                outcomes = outcomes_of[key] = {goal: _OUTCOME_OF_CODE[c] for goal, c in zip(self.goals, key)}
            results[i]["outcomes"] = outcomes
        if any(index is not None for _, _, index in implied_keys.values()):
            for position, (i, _) in enumerate(applicants):
                results[i]["fees"] = self._fees_of(
                    position, codes[position], with_forms, columns, fee_keys, implied_keys
                )
            return results
        fee_columns: dict[int, dict[str, list[Any]]] = {}  # per set of fee keys (main, implied): per form
        per_goal = [
            self._goal_fees(k, goal, forms, situation, columns, fee_keys, implied_keys, fee_columns)
            for k, goal, forms in with_forms
        ]
        goal_names = [goal for _, goal, _ in with_forms]
        # shared, read-only, by the rows of this chunk with the same fees for every goal
        fees_of: dict[tuple[int, ...], dict[str, list[dict[str, Any]]]] = {}
        for (i, _), fees_per_goal in zip(applicants, zip(*per_goal)):
            key = tuple(map(id, fees_per_goal))
            fees = fees_of.get(key)
            if fees is None:
                fees = fees_of[key] = {g: f for g, f in zip(goal_names, fees_per_goal) if f is not _NO_FEES}
            results[i]["fees"] = fees
        return results

    def _goal_fees(
        self,
        k: int,
        goal: str,
        forms: list[tuple[str, str]],
        situation: list[tuple[str, str, list[tuple[str, str]]]],
        columns: dict[str, tuple[str, str]],
        fee_keys: dict[str, list[tuple[str, ...]]],
        implied_keys: dict[str, Any],
        fee_columns: dict[int, dict[str, list[Any]]],
    ) -> list[Any]:
        """`_fees_of` for one goal and the whole chunk: per applicant the fees of the forms it may
        apply with, or _NO_FEES. Applicants whose outcome code, forms that may apply and fee per
        form are the same share one list: each distinct situation is worked out once."""
        implied = implied_keys.get(goal)
        if implied is not None:
            columns, fee_keys = implied[0], implied[1]
        fees_cache = fee_columns.setdefault(id(fee_keys), {})  # the chunk's own dicts: ids stay valid
        per_form = {}
        for form, _ in forms:
            if form not in per_form:
                found = fees_cache.get(form)
                if found is None:
                    found = fees_cache[form] = self._fee_column(form, fee_keys[form], columns)
                per_form[form] = found
        codes = situation[k][1]
        parts: list[Iterable[Any]] = [codes]
        for form, may_apply in forms:
            parts += [may_apply, map(id, per_form[form])]
        keys = list(zip(*parts))
        known: dict[tuple[Any, ...], Any] = {}
        got = list(map(known.get, keys))
        for i, found in enumerate(got):
            if found is None:
                key = keys[i]
                found = known.get(key)
                if found is None:
                    chosen = dict.fromkeys(form for form, may_apply in forms if may_apply[i] == "1")
                    if codes[i] in "02" and chosen:
                        found = [per_form[form][i] for form in chosen]
                    else:
                        found = _NO_FEES
                    known[key] = found
                got[i] = found
        return got

    def _fee_column(self, form: str, keys: list[tuple[str, ...]], columns: dict[str, tuple[str, str]]) -> list[Any]:
        """The fee of `form` for every applicant of the chunk (`_fee`), each situation worked out once."""
        memo = self._fees.setdefault(form, {})
        got = list(map(memo.get, keys))
        if None in got:
            local: dict[tuple[str, ...], dict[str, Any]] = {}
            for i, found in enumerate(got):
                if found is None:
                    key = keys[i]
                    found = local.get(key)
                    if found is None:
                        found = local[key] = self._fee(form, key, i, columns)
                    got[i] = found
        return got

    def _with_implied(
        self, applicant: Applicant, inputs: dict[str, Any], facts: tuple[tuple[str, Any], ...]
    ) -> dict[str, Any] | None:
        """The inputs with the implied facts the applicant left open filled in; None if none was open
        (a value the applicant gave always stays)."""
        open_facts = {fact: value for fact, value in facts if applicant.values.get(fact) is None}
        if not open_facts:
            return None
        if self.quantity_inputs.isdisjoint(open_facts):
            return {**inputs, **open_facts}
        return evaluator_inputs(
            self.kb,
            Applicant({**applicant.values, **open_facts}),
            self.peildatum,
            checked=False,
            quantities=self.quantities,
        )[1]

    def _mask_reader(self, values: Any) -> Callable[[str], tuple[int, int]]:
        """The true and false mask of a node: derived, or worked out through views."""
        nodes = self.engine.program.nodes
        memo: dict[str, tuple[int, int]] = {}
        everyone = (1 << values.size) - 1

        def masks(nid: str) -> tuple[int, int]:
            if nid in memo:
                return memo[nid]
            node = nodes[nid]
            if node.view and node.kind == "not":
                true, false = masks(node.children[0])
                out = (false, true)
            elif node.view and node.kind == "rule":
                out = masks(node.children[0])
            elif node.view:  # an exception: it applies and its own conditions hold (Kleene and)
                true, false = everyone, 0
                for child in node.children:
                    t, f = masks(child)
                    true &= t
                    false |= f
                out = (true, false)
            else:
                out = (values.masks.get((nid, True), 0), values.masks.get((nid, False), 0))
            memo[nid] = out
            return out

        return masks

    def _columns(self, values: Any) -> tuple[dict[str, tuple[str, str]], list[str]]:
        """Per needed node its true and false column ('0'/'1' per applicant); and the situation
        columns: per goal a column of outcome codes, per form a goal points to a column saying
        whether it may apply. Outcomes and forms are read from the situation columns alone."""
        masks = self._mask_reader(values)
        everyone = (1 << values.size) - 1
        width = values.size

        def column(mask: int) -> str:
            return format(mask, f"0{width}b")[::-1] if width else ""

        situation = []
        for goal in self.goals:
            spec = self.kb.goals[goal]
            ct, cf = masks(spec.conclusion)
            st, sf = masks(spec.out_of_scope) if spec.out_of_scope else (0, everyone)
            # engine.answer.assess.decide for a whole chunk at once (a value both true and false is a
            # conflict): one hex digit per applicant, '1' out of scope, '2' eligible, '4' not eligible
            # (every route fails and no referral is known to apply, whatever the open ones turn out to
            # be), '0' undetermined; the '0'/'1' columns read as hex add digit by digit without carries
            out_of_scope = st & ~sf
            in_scope = sf & ~st
            codes = (
                int(column(out_of_scope) or "0", 16)
                + 2 * int(column(in_scope & ct & ~cf) or "0", 16)
                + 4 * int(column(~out_of_scope & cf & ~ct) or "0", 16)
            )
            forms = []
            for conclusion, form in self.forms_of_goal[goal]:
                if conclusion:
                    t, f = masks(conclusion)
                    forms.append((form, column(everyone & ~(f & ~t))))  # not false (a conflict is not false)
                else:
                    forms.append((form, "1" * width))
            situation.append((goal, format(codes, f"0{width}x") if width else "", forms))
        return {nid: tuple(column(m) for m in masks(nid)) for nid in self.needed}, situation

    def _node_columns(self, values: Any, nodes: list[str]) -> dict[str, tuple[str, str]]:
        """Per node its true and false column ('0'/'1' per applicant)."""
        width = values.size
        masks = self._mask_reader(values)

        def column(mask: int) -> str:
            return format(mask, f"0{width}b")[::-1] if width else ""

        return {n: tuple(column(m) for m in masks(n)) for n in nodes}

    def _fee_keys(
        self, columns: dict[str, tuple[str, str]], width: int, forms: Iterable[str] | None = None
    ) -> dict[str, list[tuple[str, ...]]]:
        """Per form (of `forms`, or every one), per applicant: the true and false value of every
        node the form's fee reads."""
        out = {}
        for form in self.form_nodes if forms is None else forms:
            nodes = self.form_nodes[form]
            parts = [column for n in nodes for column in columns[n]]
            out[form] = list(zip(*parts)) if parts else [()] * width
        return out

    def _fees_of(
        self,
        i: int,
        codes: tuple[str, ...],
        with_forms: list[tuple[int, str, list[tuple[str, str]]]],
        columns: dict[str, tuple[str, str]],
        fee_keys: dict[str, list[tuple[str, ...]]],
        implied_keys: dict[
            str, tuple[dict[str, tuple[str, str]], dict[str, list[tuple[str, ...]]], dict[int, int] | None]
        ],
    ) -> dict[str, list[dict[str, Any]]]:
        """The fees of the forms applicant `i` may apply with, for each goal open to it (eligible or
        undetermined)."""
        fees: dict[str, list[dict[str, Any]]] = {}
        for k, goal, forms in with_forms:
            if codes[k] not in "02":
                continue
            chosen = dict.fromkeys(form for form, may_apply in forms if may_apply[i] == "1")
            if not chosen:
                continue
            implied = implied_keys.get(goal)
            if implied is not None and (implied[2] is None or i in implied[2]):  # fees read facts the goal implies
                j = i if implied[2] is None else implied[2][i]
                fees[goal] = [self._fee(form, implied[1][form][j], j, implied[0]) for form in chosen]
            else:
                fees[goal] = [self._fee(form, fee_keys[form][i], i, columns) for form in chosen]
        return fees

    def _value(self, nid: str, i: int, columns: dict[str, tuple[str, str]]) -> Any:
        true, false = columns[nid]
        t, f = true[i] == "1", false[i] == "1"
        if t and f:
            return CONFLICT
        return True if t else (False if f else None)

    def _fee(self, form: str, key: tuple[str, ...], i: int, columns: dict[str, tuple[str, str]]) -> dict[str, Any]:
        # A form's fee follows from the nodes of that form's fee rules alone (`key`): applicants in
        # the same situation share one answer (read-only), so each is worked out once per form.
        memo = self._fees.setdefault(form, {})
        found = memo.get(key)
        if found is None:
            answer = self.fees.answer_from(
                lambda nid: self._value(nid, i, columns), None, form, self.peildatum, self.precedence
            )
            found = {
                "form": form,
                "amount": answer.amount,
                "sources_agree": answer.agreed,
                # a source that states several amounts and not which applies: all of them
                "per_source": {
                    s.source_file: s.amount if s.conflict is None else s.stated_amounts for s in answer.applicable
                },
                "chosen_source": answer.chosen_source if not answer.agreed else None,
                # what the fee may turn out to be instead, depending on facts still unknown
                # ("kan anders zijn" in assess); [] when nothing unknown can change it
                "alternative_amounts": answer.open_alternatives,
            }
            if len(memo) < 20_000:  # bounded; in practice a form has a few hundred situations
                memo[key] = found
        return found


# -- writing --------------------------------------------------------------------------------------


def _cents_text(cents: int | list[int | None] | None) -> str:
    if isinstance(cents, list):  # the source states each of these and not which applies
        return "/".join(_cents_text(c) for c in cents)
    return "onbekend" if cents is None else str(cents)


POSSIBLY = "~"  # before each amount the fee may turn out to be instead (alternative_amounts)


def amount_text(fee: dict[str, Any]) -> str:
    """One form's fee, without the form: '105700'; sources that disagree: '001_...:105700|002_...:20700';
    a source that states two amounts and not which: '001_...:5800/39100'; none known: 'onbekend'.
    Each amount it may turn out to be instead, depending on facts still unknown, follows with '~'
    before it: '105700~16800~17400~39100' (ascending; a settled fee has none)."""
    if fee["amount"] is not None:
        amount = str(fee["amount"])
    elif fee["per_source"]:
        amount = "|".join(f"{src}:{_cents_text(cents)}" for src, cents in sorted(fee["per_source"].items()))
    else:
        amount = "onbekend"
    return amount + "".join(POSSIBLY + _cents_text(c) for c in fee.get("alternative_amounts", ()))


def fee_text(fees: list[dict[str, Any]]) -> str:
    """The fee of every form, '7027=105700;7018=17400~0~6800' (see amount_text)."""
    return ";".join(f"{fee['form']}={amount_text(fee)}" for fee in fees)


def goals_with_fees(kb: Any) -> list[str]:
    """The goals that point to a form with a fee: each gets a column `fees_<goal>`."""
    return sorted(
        g
        for g in kb.goals
        if any(r.kind == "gevolg" and g in r.goals and r.form in kb.forms for r in kb.rules.values())
    )


@dataclass(frozen=True)
class RowFormat:
    """How result rows are written: CSV or JSON Lines. Picklable: each worker formats its own chunks,
    so the main process only reads rows and writes text.

    `goals` are those of every run (two rule bases may differ); a goal a run does not have
    leaves its cell empty."""

    fmt: str
    goals: tuple[str, ...]
    fee_goals: tuple[str, ...]
    suffixes: tuple[str, ...] = ("",)
    kb_version: str = ""  # of the (first) rule base, in every JSON Lines row
    # with a comparison, the rule base of each run (equal with --compare-peildatum): each run of a
    # row says which rules made it, in `runs` and in a CSV column of its own
    run_kb_versions: tuple[str, ...] = ()

    def _versions(self) -> list[str]:
        if len(self.suffixes) == 1:
            return [self.kb_version]
        return list(self.run_kb_versions) or [self.kb_version] * len(self.suffixes)

    def header(self) -> str:
        if self.fmt != "csv":
            return ""
        header = ["row", "error"]
        for suffix in self.suffixes:
            header += [f"{g}{suffix}" for g in self.goals] + [f"fees_{g}{suffix}" for g in self.fee_goals]
        # last: each row says which rules made it
        versions = ["kb_version"] if len(self.suffixes) == 1 else [f"kb_version{s}" for s in self.suffixes]
        return self._csv_text([header + versions])

    def text(self, results: list[dict[str, Any]]) -> str:
        if self.fmt == "jsonl":
            versions = self._versions()
            return "".join(
                json.dumps(
                    {
                        "format": RESULT_FORMAT,
                        "version": RESULT_VERSION,
                        "kb_version": self.kb_version,
                        **result,
                        **(
                            {"runs": [{**run, "kb_version": v} for run, v in zip(result["runs"], versions)]}
                            if "runs" in result
                            else {}
                        ),
                    },
                    ensure_ascii=False,
                    sort_keys=True,
                )
                + "\n"
                for result in results
            )
        texts: dict[tuple[int, ...], str] = {}  # rows of one chunk share their fee answers (see _fee)

        def text_of(fees: list[dict[str, Any]]) -> str:
            key = tuple(map(id, fees))
            found = texts.get(key)
            if found is None:
                found = texts[key] = fee_text(fees)
            return found

        # The cells after a row's number and error follow from its outcomes and fees alone, which
        # rows in the same situation share (CaseloadEvaluator.evaluate): written once per situation.
        # Each cell is quoted on its own, so a row is its head's text and that text joined.
        tails: dict[tuple[int, ...], str] = {}
        parts: dict[int, str] = {}  # the cells of an outcomes or a fees object, each ',' and its cell
        goals, fee_goals = self.goals, self.fee_goals
        end = self._cells_text(self._versions()) + "\n"
        lines = []
        for result in results:
            runs = result["runs"] if "runs" in result else [result]
            key = tuple(id(part) for run in runs for part in (run["outcomes"], run["fees"]))
            tail = tails.get(key)
            if tail is None:
                pieces = []
                for run in runs:
                    outcomes, fees = run["outcomes"], run["fees"]
                    text = parts.get(id(outcomes))
                    if text is None:
                        text = parts[id(outcomes)] = self._cells_text([outcomes.get(g, "") for g in goals])
                    pieces.append(text)
                    text = parts.get(id(fees))
                    if text is None:
                        text = parts[id(fees)] = self._cells_text(
                            [text_of(fees[g]) if g in fees else "" for g in fee_goals]
                        )
                    pieces.append(text)
                tail = tails[key] = "".join(pieces) + end
            error = result["error"]
            if error:
                lines.append(self._csv_text([[result["row"], error]])[:-1] + tail)
            else:
                lines.append(f"{result['row']},{tail}")
        return "".join(lines)

    @classmethod
    def _cells_text(cls, cells: list[Any]) -> str:
        """Cells as the csv module writes them inside a row: each with the comma before it."""
        if not cells:
            return ""
        joined = "," + ",".join(map(str, cells))
        # the csv module quotes a cell only for a comma, a quote or a line break in it
        if joined.count(",") == len(cells) and '"' not in joined and "\n" not in joined and "\r" not in joined:
            return joined
        return cls._csv_text([["", *cells]])[:-1]  # a first cell: no row of one empty cell ('""')

    @staticmethod
    def _csv_text(rows: list[list[Any]]) -> str:
        buffer = io.StringIO(newline="")
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue()


@dataclass(frozen=True)
class Done:
    """A chunk's results as the main process gets them back: the text to write, how many rows
    it holds and how many failed, and the results themselves only when a comparison needs them."""

    text: str
    rows: int
    failed: int
    results: list[dict[str, Any]] | None


class Writer:
    """The header, then each chunk's text, to an open text handle (opened with newline="")."""

    def __init__(self, handle: Any, row_format: RowFormat):
        self.handle = handle
        self.handle.write(row_format.header())

    def write(self, done: Done) -> None:
        self.handle.write(done.text)


# -- running --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What every worker needs: how to build its evaluators, how to write rows, and whether the
    results go back too (a comparison counts them in the main process)."""

    evaluators: Callable[[], list[CaseloadEvaluator]]
    row_format: RowFormat
    keep_results: bool = False


_worker: list[Any] = []  # (job, evaluators) in a worker process


def _init_worker(job: Job) -> None:
    # Ctrl-C on a terminal reaches every process of the group: the main process stops the run and
    # the pool; a worker that also took it would print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker[:] = [job, job.evaluators()]
    _tune_gc()


# A chunk makes a few hundred thousand small containers that die young and hold no cycles: the
# collector's default thresholds would walk them (and the evaluators) a thousand times per chunk
# for nothing. Raised for the run, and what was built before it is frozen out of collection;
# memory stays flat (tests: the peak per quarter in benchmarks/bench_batch.py).
GC_THRESHOLDS = (100_000, 50, 100)


def _tune_gc() -> tuple[int, int, int]:
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return before


@contextmanager
def _gc_for_run() -> Iterator[None]:
    before = _tune_gc()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _work(rows: list[Row]) -> Done:
    job, evaluators = _worker
    return _finish(job, evaluators, rows)


def _finish(job: Job, evaluators: list[CaseloadEvaluator], rows: list[Row]) -> Done:
    rows = [row.decoded() for row in rows]  # once, for both runs of a comparison
    results = _combine(rows, [e.evaluate(rows) for e in evaluators])
    return Done(
        job.row_format.text(results),
        len(results),
        sum(1 for r in results if r["error"]),
        results if job.keep_results else None,
    )


def finish_chunk(job: Job, evaluators: list[CaseloadEvaluator], rows: list[Row]) -> Done:
    """A chunk evaluated and formatted as the local run does it: also what a Dask worker does with
    a chunk (engine.answer.cluster), so a cluster writes the local run's bytes."""
    return _finish(job, evaluators, rows)


def _combine(rows: list[Row], runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    if len(runs) == 1:
        return runs[0]
    return [
        {
            "row": row.number,
            "error": _run_errors(per_run),
            "runs": [{"outcomes": r["outcomes"], "fees": r["fees"]} for r in per_run],
        }
        for row, per_run in zip(rows, zip(*runs))
    ]


def _run_errors(per_run: tuple[dict[str, Any], ...]) -> str | None:
    """A row's error in a comparison: the same in both runs (a bad input), or named per run when
    only one run refuses it (e.g. a birth date after the second peildatum only)."""
    errors = [r["error"] for r in per_run]
    if len(set(errors)) == 1:
        return errors[0]
    return "; ".join(f"run {'AB'[i]}: {e}" for i, e in enumerate(errors) if e)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_batch(
    rows: Iterable[Row], job: Job, jobs: int, on_chunk: Callable[[Done], None], chunk_size: int = CHUNK
) -> None:
    """Evaluate every row with each of the job's evaluators (one, or two to compare) and hand each
    chunk on, formatted, in order."""
    chunks = _chunks(rows, chunk_size)
    if jobs <= 1:
        local = job.evaluators()
        with _gc_for_run():
            for chunk in chunks:
                on_chunk(_finish(job, local, chunk))
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with _workers_ignoring_ctrl_c():
        pool = context.Pool(jobs, initializer=_init_worker, initargs=(job,))
    with pool:  # on any exception, Ctrl-C too, the pool is terminated: no worker outlives the run
        pending: list[Any] = []
        for chunk in chunks:
            pending.append(pool.apply_async(_work, (chunk,)))
            if len(pending) >= 2 * jobs:  # bounded: memory stays flat on long caseloads
                on_chunk(pending.pop(0).get())
        for result in pending:
            on_chunk(result.get())


@contextmanager
def _workers_ignoring_ctrl_c() -> Iterator[None]:
    """Processes started in this block ignore SIGINT from their first instruction on (the worker
    initializer does so too, but only once it runs); the main process keeps its own handling."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; its handling is what workers inherit anyway
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


NO_FEE = "-"  # a form's fee not shown in a run: the route is not open there, or the form does not apply


@dataclass
class Comparison:
    """How outcomes and fees change between run A and run B.

    Fees are compared per goal and per form: a change in the fee of one form is counted apart
    from the other forms the goal points to, with that form's fee alone before and after
    (`amount_text`, or NO_FEE where the run shows no fee for it)."""

    labels: tuple[str, str]
    kb_versions: tuple[str, str]  # the rule-base version of run a and of run b (equal with --compare-peildatum)
    rows: int = 0
    errors: int = 0

    def __post_init__(self) -> None:
        self.outcomes: dict[str, Counter] = {}
        self.fees: dict[str, dict[str, Counter]] = {}  # goal -> form -> (before, after) -> applicants
        self.examples: dict[tuple[str, ...], list[int]] = {}

    def add(self, result: dict[str, Any]) -> None:
        self.rows += 1
        if result["error"]:
            self.errors += 1
            return
        a, b = result["runs"]
        # a goal of only one rule base is reported too, with outcome "" (no such goal) in the other run
        for goal in a["outcomes"].keys() | b["outcomes"].keys():  # counted per goal; the report sorts
            before, after = a["outcomes"].get(goal, ""), b["outcomes"].get(goal, "")
            self.outcomes.setdefault(goal, Counter())[(before, after)] += 1
            if before != after:
                self._example(("outcome", goal, before, after), result["row"])
        for goal in a["fees"].keys() | b["fees"].keys():
            fees_a = {fee["form"]: fee for fee in a["fees"].get(goal, ())}
            fees_b = {fee["form"]: fee for fee in b["fees"].get(goal, ())}
            per_form = self.fees.setdefault(goal, {})
            for form in fees_a.keys() | fees_b.keys():
                changes = per_form.setdefault(form, Counter())
                fee_a, fee_b = fees_a.get(form), fees_b.get(form)
                before = amount_text(fee_a) if fee_a is not None else NO_FEE
                after = amount_text(fee_b) if fee_b is not None else NO_FEE
                if before != after:
                    changes[(before, after)] += 1
                    self._example(("fee", goal, form, before, after), result["row"])

    def _example(self, key: tuple[str, ...], row: int) -> None:
        rows = self.examples.setdefault(key, [])
        if len(rows) < 5:
            rows.append(row)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": COMPARE_FORMAT,
            "version": COMPARE_VERSION,
            "a": self.labels[0],
            "b": self.labels[1],
            "kb_versions": {"a": self.kb_versions[0], "b": self.kb_versions[1]},
            "rows": self.rows,
            "error_rows": self.errors,
            "outcomes": {
                goal: [
                    {
                        "from": f,
                        "to": t,
                        "count": n,
                        "example_rows": self.examples.get(("outcome", goal, f, t), []) if f != t else [],
                    }
                    for (f, t), n in sorted(counter.items())
                ]
                for goal, counter in sorted(self.outcomes.items())
            },
            # per goal, every form whose fee either run shows, with the applicants whose fee for it changed
            # ([] where none did)
            "fees": {
                goal: {
                    form: [
                        {"from": f, "to": t, "count": n, "example_rows": self.examples[("fee", goal, form, f, t)]}
                        for (f, t), n in sorted(counter.items())
                    ]
                    for form, counter in sorted(per_form.items())
                }
                for goal, per_form in sorted(self.fees.items())
            },
        }


@dataclass(frozen=True)
class Evaluators:
    """What each worker builds: one evaluator per run (two when comparing). Picklable for `spawn`."""

    runs: tuple[tuple[str | None, date], ...]  # (kb directory or None for kb/, peildatum)
    precedence: tuple[str, ...] = ()

    def __call__(self) -> list[CaseloadEvaluator]:
        from engine.rules.model import KB_DIR

        engines: dict[str | None, Engine] = {}
        out = []
        for kb_dir, peildatum in self.runs:
            if kb_dir not in engines:
                engines[kb_dir] = Engine(Path(kb_dir) if kb_dir else KB_DIR, evaluator=SetwiseEvaluator)
            out.append(CaseloadEvaluator(engines[kb_dir], peildatum, self.precedence))
        return out
