"""Set-at-a-time evaluation of the compiled program, for caseloads.

The same `engine.rules.compiler` clauses pyDatalog runs, evaluated for a whole chunk of applicants at
once: every literal `p(A, v)` is one Python integer whose bit i says that it holds for applicant
i, so a clause body is a handful of big-integer ANDs for the chunk instead of a tabled query per
applicant. The program is positive (three-valued, no negation as failure), so evaluating each
strongly connected group of predicates to its fixpoint, in dependency order, gives the same least
model pyDatalog computes. pyDatalog stays the reference: tests/test_batch.py compares both on
2,000 generated applicants (in CI), node by node and goal by goal.

`SetwiseEvaluator` is the `engine.evaluate.Evaluator` over this; `SetwiseProgram` is the
machinery, also run on rows of engine facts that give one fact several values (`engine.answer.probe`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Sequence

from engine.evaluate.base import OPERATORS, strata
from engine.rules.compiler import Absent, Clause, Cmp, Lit, Program

_MISSING = object()  # no such input (None is a value a comparison could still read)


def bitmask(indices: Sequence[int] | Iterable[int], size: int) -> int:
    """The bitmask of applicant indices (each below `size`)."""
    # concrete types, not the Sequence ABC: its isinstance check costs more than a small mask
    if not isinstance(indices, (list, tuple, range)) or len(indices) * 16 < size:
        buffer = bytearray((size + 7) // 8)
        for i in indices:
            buffer[i >> 3] |= 1 << (i & 7)
        return int.from_bytes(buffer, "little")
    # many: a '1' digit per applicant, read as one binary number (each step a plain store, not a
    # read, shift and or; the conversion from base 2 is linear)
    digits = bytearray(b"0") * size
    for i in indices:
        digits[i] = 49
    return int(digits[::-1], 2) if size else 0


@dataclass
class ChunkValues:
    """The derived literals of one chunk: `(predicate, value) -> bitmask over applicants`."""

    size: int
    masks: dict[tuple[str, bool], int]
    nodes: Sequence[str] = field(default=())  # what values_of reads when not told
    # the input literals and comparisons the chunk's inputs made true, before derivation, and the
    # input names they were read from: another program can start from them (`run_filled`)
    base: dict[Any, int] | None = None
    base_read: frozenset[str] = frozenset()

    def column(self, predicate: str, value: bool) -> str:
        """'0'/'1' per applicant, applicant 0 first: cheap to index for a whole chunk."""
        mask = self.masks.get((predicate, value), 0)
        return format(mask, f"0{self.size}b")[::-1] if self.size else ""

    def values_of(self, index: int, predicates: Iterable[str] | None = None) -> dict[str, set[bool]]:
        """The shape `DatalogProgram.evaluate` returns, for one applicant of the chunk."""
        if predicates is None:
            predicates = self.nodes
        out: dict[str, set[bool]] = {}
        if self.size == 1:  # one applicant: read the few derived literals instead of every predicate
            wanted = set(predicates)
            for (predicate, truth), mask in sorted(self.masks.items()):
                if mask and predicate in wanted:
                    out.setdefault(predicate, set()).add(truth)
            return out
        for predicate in predicates:
            for truth in (True, False):
                if self.masks.get((predicate, truth), 0) >> index & 1:
                    out.setdefault(predicate, set()).add(truth)
        return out


class SetwiseProgram:
    def __init__(self, program: Program, base_predicates: Iterable[str]):
        base = set(base_predicates)
        by_head: dict[str, list[Clause]] = {}
        for clause in program.clauses:
            by_head.setdefault(clause.head, []).append(clause)
            for item in clause.body:
                if isinstance(item, Cmp) and item.predicate not in base:
                    raise ValueError(f"vergelijking op afgeleid predicaat {item.predicate}")
        self.base = base
        self.base_literals = sorted(
            {
                (i.predicate, i.value)
                for c in program.clauses
                for i in c.body
                if isinstance(i, Lit) and i.predicate in base
            }
        )
        self._literal_set = set(self.base_literals)
        comparisons: dict[str, dict[Cmp, None]] = {}
        for clause in program.clauses:
            for item in clause.body:
                if isinstance(item, Cmp):
                    comparisons.setdefault(item.predicate, {})[item] = None
        self._comparisons = {p: [(c, OPERATORS[c.operator], c.constant) for c in cs] for p, cs in comparisons.items()}
        self._groups = [
            [
                (head, value, tuple(self._key(b) for b in body))
                for head in group
                for (value, body) in ((c.value, c.body) for c in by_head[head])
            ]
            for group in strata(by_head)
        ]
        # per group, the literals it reads as not derived: complemented once the groups they belong to are done
        self._absent = [
            list(dict.fromkeys(k for _, _, body in g for k in body if isinstance(k, Absent))) for g in self._groups
        ]
        self._keys_of: dict[tuple[str, Any], tuple] = {}
        self._read: dict[tuple[frozenset[str], tuple[str, ...]], tuple[str, ...]] = {}
        self._input_keys_of: dict[tuple[str, Any], tuple] = {}
        self._recursive = [
            len({h for h, _, _ in g}) > 1 or any((h, True) in b or (h, False) in b for h, _, b in g)
            for g in self._groups
        ]

    def _fact_keys(self, predicate: str, value: Any) -> tuple:
        """The literals and comparisons one input fact makes true; the same for every applicant
        with that fact, so they are worked out once per distinct (predicate, value)."""
        keys: list[Any] = []
        if type(value) is bool:  # every yes/no input, also one a view reads directly
            keys.append((predicate, value))
        for cmp, test, constant in self._comparisons.get(predicate, ()):
            try:
                ok = test(value, constant)
            except TypeError:  # pyDatalog finds no match for incomparable values either
                ok = False
            if ok:
                keys.append(cmp)
        return tuple(keys)

    @staticmethod
    def _key(item: Lit | Cmp | Absent) -> Any:
        return (item.predicate, item.value) if isinstance(item, Lit) else item

    def run(self, chunk: Sequence[Sequence[tuple[str, Any]]]) -> ChunkValues:
        """Evaluate the program for every applicant's engine facts (`engine.evaluate.engine_facts_of`)."""
        size = len(chunk)
        hits: dict[Any, list[int]] = {}
        for i, facts in enumerate(chunk):
            for fact in facts:
                for key in self._cached_keys(self._keys_of, fact):
                    hits.setdefault(key, []).append(i)
        return self._derive(size, hits)

    def _cached_keys(self, cache: dict[tuple[str, Any], tuple], fact: tuple[str, Any]) -> tuple:
        keys = cache.get(fact)
        if keys is None:
            keys = self._fact_keys(*fact)
            if len(cache) < 20_000:  # bounded: memory stays flat in a long-running process
                cache[fact] = keys
        return keys

    def run_inputs(
        self, chunk: Sequence[dict[str, Any]], names: frozenset[str], extra: Iterable[str] = ()
    ) -> ChunkValues:
        """Like `run`, from each applicant's input values and quantities as they are (dates as
        dates): only `names` are read, and a value is turned into its engine fact once per distinct
        value instead of once per applicant (batch runs).

        Of `names`, only those a clause body reads (and those in `extra`, e.g. nodes the caller
        reads back) are looked at: any other input makes no literal that could matter, and a
        program restricted to a few goals reads a tenth of an applicant's facts."""
        size = len(chunk)
        read = self._read_names(names, extra)
        values = self._derive(size, self._hits_by_applicant(chunk, read))
        values.base_read = frozenset(read)
        return values

    def _hits_by_applicant(self, chunk: Sequence[dict[str, Any]], read: tuple[str, ...]) -> dict[Any, list[int]]:
        """The applicants (indices) each input literal and comparison holds for."""
        hits: dict[Any, list[int]] = {}
        # yes/no, choices and whole numbers take few distinct values: the applicants are grouped by
        # value first, so each group is added to the literals of that value at once
        by_fact: dict[tuple[str, Any], list[int]] = {}
        read_set = frozenset(read)
        missing = _MISSING
        width = len(read)
        fact_keys = self._fact_keys
        for i, inputs in enumerate(chunk):
            # whichever is shorter: the applicant's inputs, or the names the program reads
            if len(inputs) < width:
                pairs: Iterable[tuple[str, Any]] = inputs.items()
                every = False
            else:
                get = inputs.get
                pairs = [(name, value) for name in read if (value := get(name, missing)) is not missing]
                every = True
            for fact in pairs:
                name, value = fact
                if not every and name not in read_set:
                    continue
                if type(value) is date:
                    # dates are nearly all distinct across a caseload: grouping or caching them
                    # would only cost (a cache would grow with every applicant)
                    for key in fact_keys(name, value.toordinal()):
                        hits.setdefault(key, []).append(i)
                else:
                    group = by_fact.get(fact)
                    if group is None:
                        by_fact[fact] = [i]
                    else:
                        group.append(i)
        for fact, group in by_fact.items():
            for key in self._cached_keys(self._input_keys_of, fact):
                found = hits.get(key)
                if found is None:
                    hits[key] = group[:]  # a copy: another value may add to this literal too
                else:
                    found += group
        return hits

    @property
    def read_predicates(self) -> frozenset[str]:
        """The input predicates some clause body reads, as a literal or in a comparison."""
        return frozenset({p for p, _ in self.base_literals} | set(self._comparisons))

    def _read_names(self, names: frozenset[str], extra: Iterable[str]) -> tuple[str, ...]:
        extra = tuple(extra)
        key = (names, extra)
        read = self._read.get(key)
        if read is None:
            used = self.read_predicates | set(extra)
            read = tuple(sorted(used & names))
            if len(self._read) < 64:
                self._read[key] = read
        return read

    def run_filled(
        self, values: ChunkValues, filled: Iterable[tuple[str, Any, int]], names: frozenset[str], extra: Iterable[str]
    ) -> ChunkValues | None:
        """Like `run_inputs` on the inputs `values` was derived from, with each `(name, value,
        mask)` of `filled` added to the inputs of the applicants in `mask` (who must not have that
        input): the input literals are those of `values`, so no applicant's inputs are read again.
        None when this program reads an input the run of `values` did not read.

        Each applicant is one bit of every mask, derived on its own: so the answer for an applicant
        is that of `run_inputs` on its own inputs with those facts filled in."""
        read = self._read_names(names, extra)
        if values.base is None or not values.base_read.issuperset(read):
            return None
        read_set = frozenset(read)
        # only the inputs this program reads, as its own run would have them
        masks = {
            key: mask
            for key, mask in values.base.items()
            if (key[0] if type(key) is tuple else key.predicate) in read_set
        }
        for name, value, mask in filled:
            if not mask or name not in read_set:
                continue
            if type(value) is date:
                keys = self._fact_keys(name, value.toordinal())
            else:
                keys = self._cached_keys(self._input_keys_of, (name, value))
            for key in keys:
                masks[key] = masks.get(key, 0) | mask
        return self._derive_masks(values.size, masks)

    def _derive(self, size: int, hits: dict[Any, list[int]]) -> ChunkValues:
        return self._derive_masks(size, {key: bitmask(indices, size) for key, indices in hits.items()})

    def _derive_masks(self, size: int, base: dict[Any, int]) -> ChunkValues:
        masks = dict(base)
        get = masks.get
        everyone = (1 << size) - 1
        for group, recursive, absent in zip(self._groups, self._recursive, self._absent):
            for key in absent:
                masks[key] = everyone & ~get((key.predicate, key.value), 0)
            changed = True
            while changed:
                changed = False
                for head, value, body in group:
                    derived = -1
                    for key in body:
                        derived &= get(key, 0)
                        if not derived:
                            break
                    if derived == -1:  # an empty body holds for everyone in the chunk
                        derived = (1 << size) - 1
                    if derived:
                        old = get((head, value), 0)
                        new = old | derived
                        if new != old:
                            masks[(head, value)] = new
                            changed = recursive
        return ChunkValues(size, {k: v for k, v in masks.items() if isinstance(k, tuple)}, base=base)


class SetwiseEvaluator:
    """`engine.evaluate.Evaluator` set at a time: rows are applicants' inputs (facts and
    quantities, dates as dates), evaluated together."""

    name = "setwise"

    def __init__(self, program: Program, base_predicates: Sequence[str], input_names: frozenset[str]):
        self.compiled = program
        self.base_predicates = base_predicates
        self.input_names = input_names
        self.program = SetwiseProgram(program, base_predicates)
        self._restricted: dict[tuple[str, ...], SetwiseEvaluator] = {}
        self._reachable: dict[tuple[str, ...], tuple[str, ...]] = {}

    def run(self, rows: Sequence[dict[str, Any]], nodes: Sequence[str]) -> ChunkValues:
        values = self.program.run_inputs(rows, self.input_names, self._read_back(nodes))
        values.nodes = nodes
        return values

    def run_filled(
        self, values: ChunkValues, filled: Iterable[tuple[str, Any, int]], nodes: Sequence[str]
    ) -> ChunkValues | None:
        """`run` on the rows `values` came from (by any evaluator of the same input names), with
        facts filled in per applicant (`SetwiseProgram.run_filled`); None where this evaluator
        reads an input that run did not."""
        got = self.program.run_filled(values, filled, self.input_names, self._read_back(nodes))
        if got is not None:
            got.nodes = nodes
        return got

    def reads(self, nodes: Sequence[str]) -> tuple[str, ...]:
        """The input names `run` reads when the caller reads back `nodes`: what a row needs."""
        return self.program._read_names(self.input_names, self._read_back(nodes))

    def _read_back(self, nodes: Sequence[str]) -> tuple[str, ...]:
        """What a caller may read of `nodes`: they and the nodes under them through views (which
        have no clauses, so an input fact there is read from its own literal)."""
        key = tuple(nodes)
        found = self._reachable.get(key)
        if found is None:
            found = tuple(self.compiled.reachable([n for n in key if n in self.compiled.nodes]) + list(key))
            if len(self._reachable) < 64:
                self._reachable[key] = found
        return found

    def run_facts(self, rows: Sequence[Sequence[tuple[str, Any]]], nodes: Sequence[str]) -> ChunkValues:
        """Rows of engine facts (`engine.evaluate.engine_facts_of`), where a fact may be given
        several values at once (what-if questions: `engine.answer.probe`)."""
        values = self.program.run(rows)
        values.nodes = nodes
        return values

    def restricted(self, roots: Sequence[str]) -> SetwiseEvaluator:
        """An evaluator of only the clauses `roots` depend on, built once per set of roots: a goal
        reads a fifth of the program, and evaluating only that is as much faster."""
        key = tuple(sorted(roots))
        got = self._restricted.get(key)
        if got is None:
            got = self._restricted[key] = SetwiseEvaluator(
                self.compiled.restricted_to(key), self.base_predicates, self.input_names
            )
        return got
