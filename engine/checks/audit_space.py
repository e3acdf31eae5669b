"""The finite space of situations the rules can tell apart, and the program evaluated over all of it.

The rules read *atoms*: yes/no facts and quantities (`Lit`), and comparisons of a fact or quantity
with a constant (`Cmp`). Two situations that give every atom the same value get the same answer,
so the audit examines atoms, not applicants:

- a yes/no atom is true or false;
- a compared fact or quantity falls in one of the classes its constants cut it into (for numbers
  and dates: below, at and above each constant; for choices: each value named, and "another
  value"), one representative value per class;
- a quantity without inputs (the peildatum) is fixed.

"Unknown" needs no separate examination: the compiled program is positive (three-valued, no
negation as failure), so making a fact known only ever adds derived values. Whatever holds of a
situation with unknowns -- a value derived, two values derived -- holds of every situation that
fills them in, and the audit examines all of those. (An answer that stays open with everything
known -- a gap -- is a property of fully known situations by definition.)

`engine.evaluate.symbolic.SymbolicEvaluator` evaluates the compiled clauses once over that whole
space with binary decision diagrams (the `dd` library): per literal a diagram of the situations
that derive it, exactly what the set-at-a-time evaluator computes per applicant as bits, here for
all situations at once.

Quantities come from dates. Which combinations of their classes real dates can produce is found
by `DateLibrary`: it builds dated situations (birth dates, arrival dates, permit periods) on a
grid around the thresholds, one day either side, computes the quantities with engine.tijd like
the engine does, and keeps one applicant per combination found. Witnesses are taken only from
those combinations, so each can be written as an applicant file and assessed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from dd.autoref import BDD, Function

from engine import tijd
from engine.applicant.facts import check_against_peildatum, parse_applicant
from engine.errors import VerblijfsregelsError
from engine.evaluate import engine_value, holds
from engine.evaluate.symbolic import all_of, any_of
from engine.rules.compiler import Cmp, Program, comparisons_of
from engine.rules.model import All, Atom, Compare, Expr, KnowledgeBase, Not


def _shifted(day: date, days: int) -> date:
    """`day` moved by `days`, but not past either end of the calendar (a peildatum may be 9999-12-31)."""
    return date.fromordinal(min(max(day.toordinal() + days, 1), date.max.toordinal()))


def _walk(e: Expr | None) -> list[Expr]:
    """Every subexpression of `e`, itself first."""
    out: list[Expr] = []
    stack = [e] if e is not None else []
    while stack:
        item = stack.pop()
        out.append(item)
        if isinstance(item, Not):
            stack.append(item.operand)
        elif not isinstance(item, (Atom, Compare)):
            stack.extend(reversed(item.operands))
    return out


# -- atoms ---------------------------------------------------------------------------------------


@dataclass
class Domain:
    """A compared fact or quantity: one representative value per class its comparisons tell apart.

    Encoded in order: variable j (1 <= j < k) says "the class index is at least j".
    """

    predicate: str
    kind: str  # number | date | choice | bool
    reps: list[Any]
    cmps: list[Cmp]
    vars: list[str] = field(default_factory=list)  # names of its BDD variables
    labels: list[str] = field(default_factory=list)
    _index: dict[tuple[bool, ...], int] = field(default_factory=dict)
    _memo: dict[Any, int | None] = field(default_factory=dict)

    def signature(self, value: Any) -> tuple[bool, ...]:
        return tuple(holds(c.operator, value, c.constant) for c in self.cmps)

    def index_of(self, value: Any) -> int | None:
        if not self._index:
            self._index = {self.signature(rep): i for i, rep in enumerate(self.reps)}
        try:
            return self._memo[value]
        except KeyError:
            got = self._memo[value] = self._index.get(self.signature(value))
            return got
        except TypeError:  # not hashable
            return self._index.get(self.signature(value))


def _representatives(kind: str, cmps: list[Cmp], choices: tuple[str, ...]) -> list[Any]:
    constants: list[Any] = []
    for c in cmps:
        constants.extend(c.constant if isinstance(c.constant, tuple) else (c.constant,))
    if kind == "bool":
        candidates: list[Any] = [False, True]
    elif kind in ("number", "date"):
        numbers = sorted({c for c in constants if isinstance(c, int) and not isinstance(c, bool)}) or [0]
        candidates = sorted({n + d for n in numbers for d in (-1, 0, 1)})
        candidates += sorted({c for c in constants if not (isinstance(c, int) and not isinstance(c, bool))}, key=repr)
    else:
        named = sorted({c for c in constants}, key=repr)
        others = [v for v in choices if v not in named]
        candidates = named + (others[:1] if choices else ["(een andere waarde)"])
    reps: list[Any] = []
    seen: set[tuple[bool, ...]] = set()
    for value in candidates:
        signature = tuple(holds(c.operator, value, c.constant) for c in cmps)
        if signature not in seen:
            seen.add(signature)
            reps.append(value)
    return reps


class AtomSpace:
    """The atoms the compiled program reads, as BDD variables, with their domain constraint."""

    def __init__(self, kb: KnowledgeBase, program: Program, peildatum: date):
        self.kb, self.program, self.peildatum = kb, program, peildatum
        self.bdd = BDD()
        # Levels stay in creation order: sizes and the witnesses `pick` returns (the least
        # satisfying assignment in that order) must not depend on when dd would reorder.
        self.bdd.configure(reordering=False)
        # dd's pure-Python manager checks, when it is freed, that no diagram still refers to it.
        # Freed by reference counting the diagrams always go first; freed by the cycle collector
        # together with diagrams, in any order, it prints an error. So diagrams (and the objects
        # holding them) are kept out of reference cycles: loops instead of recursive closures.
        base = set(kb.facts) | set(kb.quantities)
        self.constants: dict[str, Any] = {}
        for q in kb.quantities.values():
            if not q.inputs:
                value = tijd.FUNCTIONS[q.function](peildatum, **dict(q.parameters))
                self.constants[q.name] = engine_value(value)
        cmps: dict[str, dict[Cmp, None]] = {}
        read_as_literal: set[str] = set()
        for clause in program.clauses:
            for item in clause.body:
                if isinstance(item, Cmp):
                    cmps.setdefault(item.predicate, {})[item] = None
                elif item.predicate in base:
                    read_as_literal.add(item.predicate)
        for node in program.nodes.values():
            if node.kind not in ("quantity", "compare"):
                read_as_literal.update(c for c in node.children if c in base)
        # a fee rule whose condition is one yes/no fact reads that fact itself
        read_as_literal.update(n for n in program.fee_nodes.values() if n in base)
        for goal in kb.goals.values():
            read_as_literal.update(n for n in (goal.conclusion, goal.out_of_scope) if n in base)
        # The constraints (kb `beperkingen`) read atoms too: their comparisons cut classes, and what
        # they read is in the space (after everything the program reads, so the variable order of
        # the rules' atoms stays as it was), so that only possible situations are searched.
        constrained: list[str] = []
        for c in kb.constraints.values():
            for e in _walk(c.impossible):
                if isinstance(e, Compare) and e.name in base:
                    for cmp in comparisons_of(e):
                        cmps.setdefault(e.name, {})[cmp] = None
                    constrained.append(e.name)
                elif isinstance(e, Atom) and e.name in base:
                    read_as_literal.add(e.name)
                    constrained.append(e.name)
        self.order = program.reachable(self.roots()) + sorted(program.nodes) + constrained
        self.bool_vars: dict[str, str] = {}  # atom -> its BDD variable
        self.domains: dict[str, Domain] = {}
        for name in dict.fromkeys(self.order):
            if name not in base or name in self.constants:
                continue
            if name in cmps:
                kind = self._kind(name)
                domain = Domain(name, kind, [], list(cmps[name]))
                choices = kb.facts[name].values if name in kb.facts else ()
                domain.reps = _representatives(kind, domain.cmps, choices)
                domain.vars = [f"{name}>={j}" for j in range(1, len(domain.reps))]
                self.bdd.declare(*domain.vars)
                domain.labels = self._labels(domain)
                self.domains[name] = domain
            elif name in read_as_literal:
                self.bdd.declare(name)
                self.bool_vars[name] = name
        self.constraint = all_of(
            self.bdd,
            (self._y(d, j) | ~self._y(d, j + 1) for d in self.domains.values() for j in range(1, len(d.reps) - 1)),
        )
        self._cmp_cache: dict[Cmp, Function] = {}
        # the situations no constraint rules out: part of the domain constraint, so every search
        # (and every witness) stays among possible situations
        self.possible = all_of(
            self.bdd, (~self.expr_true(c.impossible) for c in kb.constraints.values() if c.impossible)
        )
        self.constraint &= self.possible

    def expr_true(self, e: Expr) -> Function:
        """The situations where an expression over atoms is true in Kleene's logic (an atom the
        space does not hold is unknown: neither true nor false)."""
        return self._expr(e)[0]

    def _expr(self, e: Expr) -> tuple[Function, Function]:
        # (situations where it is true, where it is false)
        bdd = self.bdd
        if isinstance(e, Atom):
            return self.literal(e.name, True), self.literal(e.name, False)
        if isinstance(e, Compare):
            positive, negative = comparisons_of(e)
            return self.compare(positive), self.compare(negative)
        if isinstance(e, Not):
            t, f = self._expr(e.operand)
            return f, t
        parts = [self._expr(op) for op in e.operands]
        if isinstance(e, All):
            return all_of(bdd, (t for t, _ in parts)), any_of(bdd, (f for _, f in parts))
        return any_of(bdd, (t for t, _ in parts)), all_of(bdd, (f for _, f in parts))

    def roots(self) -> list[str]:
        """Goal conclusions, their out-of-scope predicates and consequences, then fee conditions."""
        kb = self.kb
        roots: list[str] = []
        for gid in sorted(kb.goals):
            goal = kb.goals[gid]
            roots.append(goal.conclusion)
            if goal.out_of_scope:
                roots.append(goal.out_of_scope)
            roots += [r.conclusion for r in kb.rules.values() if r.conclusion and gid in r.goals]
        roots += [n for n in self.program.fee_nodes.values()]
        return [r for r in roots if r in self.program.nodes]

    def _kind(self, name: str) -> str:
        kb = self.kb
        declared = kb.facts[name].type if name in kb.facts else kb.quantities[name].type
        return {"bool": "bool", "datum": "date", "getal": "number", "bedrag": "number"}.get(declared, "choice")

    def _labels(self, d: Domain) -> list[str]:
        """How each class reads: the values that share its representative's comparisons."""
        if d.kind not in ("number", "date"):
            word = lambda v: ("ja" if v else "nee") if isinstance(v, bool) else str(v).replace("_", " ")  # noqa: E731
            declared = self.kb.facts[d.predicate].values if d.predicate in self.kb.facts else ()
            if not declared:
                return [word(v) for v in d.reps]
            return [
                " / ".join(word(v) for v in declared if d.signature(v) == d.signature(rep)) or word(rep)
                for rep in d.reps
            ]
        points = sorted(
            {
                c + k
                for cmp in d.cmps
                for c in (cmp.constant if isinstance(cmp.constant, tuple) else (cmp.constant,))
                if isinstance(c, int)
                for k in (0, 1)
            }
        )
        show = (lambda n: date.fromordinal(n).isoformat()) if d.kind == "date" else str
        labels = []
        edges = [None, *points, None]
        for rep in d.reps:
            if not points or not isinstance(rep, int) or isinstance(rep, bool):
                labels.append(repr(rep) if not isinstance(rep, int) else "elk getal")
                continue
            signature = d.signature(rep)
            # the integer intervals between consecutive change points with this class's comparisons,
            # adjoining ones joined
            runs: list[list[Any]] = []
            for lo, hi in zip(edges, edges[1:]):
                probe = lo if lo is not None else hi - 1
                if d.signature(probe) != signature:
                    continue
                if runs and runs[-1][1] == lo:
                    runs[-1][1] = hi
                else:
                    runs.append([lo, hi])
            parts = []
            for lo, hi in runs:
                top = None if hi is None else hi - 1
                if lo is None:
                    parts.append(f"< {show(hi)}")
                elif top is None:
                    parts.append(f">= {show(lo)}")
                elif lo == top:
                    parts.append(show(lo))
                else:
                    parts.append(f"{show(lo)} .. {show(top)}")
            labels.append(" of ".join(parts) or show(rep))
        return labels

    # -- diagrams ----------------------------------------------------------------------------

    def _y(self, d: Domain, j: int) -> Function:
        if j <= 0:
            return self.bdd.true
        if j >= len(d.reps):
            return self.bdd.false
        return self.bdd.var(d.vars[j - 1])

    def in_classes(self, d: Domain, indices: Iterable[int]) -> Function:
        """Situations where the domain's class is one of `indices`."""
        out = self.bdd.false
        run: list[int] = []
        for i in sorted(set(indices)) + [None]:  # type: ignore[list-item]
            if run and (i is None or i != run[-1] + 1):
                out |= self._y(d, run[0]) & ~self._y(d, run[-1] + 1)
                run = []
            if i is not None:
                run.append(i)
        return out

    def literal(self, predicate: str, value: bool) -> Function:
        bdd = self.bdd
        if predicate in self.constants:
            return bdd.true if self.constants[predicate] is value else bdd.false
        if predicate in self.bool_vars:
            v = bdd.var(self.bool_vars[predicate])
            return v if value else ~v
        if predicate in self.domains:
            d = self.domains[predicate]
            return self.in_classes(d, [i for i, rep in enumerate(d.reps) if rep is value])
        return bdd.false  # read by nothing: never asserted

    def compare(self, cmp: Cmp) -> Function:
        out = self._cmp_cache.get(cmp)
        if out is None:
            if cmp.predicate in self.constants:
                out = (
                    self.bdd.true
                    if holds(cmp.operator, self.constants[cmp.predicate], cmp.constant)
                    else self.bdd.false
                )
            elif cmp.predicate in self.domains:
                d = self.domains[cmp.predicate]
                out = self.in_classes(d, [i for i, rep in enumerate(d.reps) if holds(cmp.operator, rep, cmp.constant)])
            else:
                out = self.bdd.false
            self._cmp_cache[cmp] = out
        return out

    # -- situations ----------------------------------------------------------------------------

    def atoms_under(self, nodes: Iterable[str]) -> list[str]:
        """The atoms (in variable order) that the nodes read, directly or through rules."""
        reach = set(self.program.reachable(list(nodes)))
        return [a for a in self.atom_order() if a in reach]

    def atom_order(self) -> list[str]:
        out = []
        for name in dict.fromkeys(self.order):
            if name in self.bool_vars or name in self.domains:
                out.append(name)
        return out

    def variables_of(self, atoms: Iterable[str]) -> list[str]:
        out = []
        for a in atoms:
            if a in self.bool_vars:
                out.append(self.bool_vars[a])
            elif a in self.domains:
                out.extend(self.domains[a].vars)
        return out

    def value_in(self, atom: str, assignment: dict[str, bool]) -> Any:
        """The atom's engine value in an assignment (absent variables count as false)."""
        if atom in self.bool_vars:
            return assignment.get(self.bool_vars[atom], False)
        d = self.domains[atom]
        index = 0
        for j, v in enumerate(d.vars, start=1):
            if assignment.get(v, False):
                index = j
        return d.reps[index]

    def class_in(self, atom: str, assignment: dict[str, bool]) -> Any:
        """True/False for a yes/no atom, the class index for a compared one."""
        if atom in self.bool_vars:
            return assignment.get(self.bool_vars[atom], False)
        d = self.domains[atom]
        return sum(1 for v in d.vars if assignment.get(v, False))

    def cube(self, atom: str, cls: Any) -> Function:
        if atom in self.bool_vars:
            return self.literal(atom, bool(cls))
        return self.in_classes(self.domains[atom], [cls])

    def size(self, atoms: Iterable[str]) -> tuple[int, int]:
        """(situations with every atom known, situations where each may also be unknown)."""
        known, with_unknown = 1, 1
        for a in atoms:
            n = 2 if a in self.bool_vars else len(self.domains[a].reps)
            known *= n
            with_unknown *= n + 1
        return known, with_unknown


# -- the program over all situations -------------------------------------------------------------

# -- dates: which combinations of quantity classes real dates produce ---------------------------


@dataclass
class Cluster:
    """Facts that feed the same quantities, and the atoms computed from them."""

    facts: list[str]
    atoms: list[str]
    samples: int = 0
    found: dict[tuple, dict[str, Any]] = field(default_factory=dict)  # classes -> applicant data
    raw: dict[tuple, dict[str, Any]] = field(default_factory=dict)  # classes -> the same data, as dates
    score: dict[tuple, tuple[int, int]] = field(default_factory=dict)  # classes -> how odd that data reads
    stopped: str = ""
    combined: int = 0  # situations made from the permits of two found ones (DateLibrary._combine)
    combined_new: int = 0  # of which gave a combination of classes not found before


class DateLibrary:
    """Dated situations on a grid around the thresholds, one per combination of atom classes."""

    def __init__(
        self, space: AtomSpace, seed: int = 0, max_samples: int = 20000, patience: int = 4000, max_combined: int = 10000
    ):
        self.space = space
        kb = space.kb
        self.max_samples, self.patience, self.max_combined = max_samples, patience, max_combined
        self._reader_cache: dict[int, list[tuple]] = {}
        atoms = set(space.atom_order())
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        members: dict[str, list[str]] = {}
        for name in space.atom_order():
            q = kb.quantities.get(name)
            if q is not None and q.inputs:
                for other in q.inputs[1:]:
                    parent[find(other)] = find(q.inputs[0])
                members.setdefault(q.inputs[0], []).append(name)
            elif name in kb.facts and kb.facts[name].type in ("datum", "vergunningen"):
                members.setdefault(name, []).append(name)
        groups: dict[str, Cluster] = {}
        for anchor, names in members.items():
            root = find(anchor)
            cluster = groups.setdefault(root, Cluster([], []))
            cluster.atoms.extend(n for n in names if n not in cluster.atoms)
        for cluster in groups.values():
            inputs: set[str] = set()
            for a in cluster.atoms:
                inputs.update(kb.quantities[a].inputs if a in kb.quantities else (a,))
            order = {n: i for i, n in enumerate(kb.facts)}
            rank = {"datum": 0, "vergunningen": 1}
            cluster.facts = sorted(inputs, key=lambda n: (rank.get(kb.facts[n].type, 2), order[n]))
            cluster.atoms = [a for a in space.atom_order() if a in cluster.atoms]
        self.clusters = list(groups.values())
        self.realised = set(a for c in self.clusters for a in c.atoms) & atoms
        rng = random.Random(seed)
        for cluster in self.clusters:
            self._explore(cluster, rng)
            self._combine(cluster, rng)
        bdd = space.bdd
        self.constraint = all_of(bdd, (self._union(c.atoms, list(c.found)) for c in self.clusters))

    def _union(self, atoms: list[str], keys: list[tuple], depth: int = 0) -> Function:
        """The situations whose classes of `atoms` are one of `keys`, built along the variable
        order like a trie (an OR of thousands of cubes one by one is many times slower)."""
        bdd = self.space.bdd
        if depth == len(atoms):
            return bdd.true if keys else bdd.false
        groups: dict[Any, list[tuple]] = {}
        for key in keys:
            groups.setdefault(key[depth], []).append(key)
        out = bdd.false
        for cls in sorted(groups, key=int):
            out |= self.space.cube(atoms[depth], cls) & self._union(atoms, groups[cls], depth + 1)
        return out

    # -- generation ------------------------------------------------------------------------------

    def _grid(self, cluster: Cluster) -> tuple[list[int], list[date], dict[str, list[Any]]]:
        space, kb = self.space, self.space.kb
        numbers: set[int] = {0, 1}
        dates: set[date] = set()
        mentioned: set[str] = set()
        for a in cluster.atoms:
            d = space.domains.get(a)
            if d is not None:
                for cmp in d.cmps:
                    for c in cmp.constant if isinstance(cmp.constant, tuple) else (cmp.constant,):
                        if d.kind == "date" and isinstance(c, int):
                            dates.add(date.fromordinal(c))
                        elif isinstance(c, int) and not isinstance(c, bool) and abs(c) < 150:
                            numbers.add(abs(c))
                        elif isinstance(c, str):
                            mentioned.add(c)
            q = kb.quantities.get(a)
            for _, value in q.parameters if q else ():
                for v in value if isinstance(value, tuple) else (value,):
                    if isinstance(v, int) and not isinstance(v, bool) and abs(v) < 150:
                        numbers.add(abs(v))
                    elif isinstance(v, str):
                        mentioned.add(v)
        sums = numbers | {a + b for a in numbers for b in numbers}
        years = sorted({n + d for n in sums for d in (-1, 0, 1) if 0 <= n + d <= 100})
        around = sorted({_shifted(d, k) for d in dates for k in (-1, 0, 1)})
        choices: dict[str, list[Any]] = {}
        for name, spec in kb.period_fields.items():
            if spec.get("type") == "keuze":
                values = [str(v) for v in spec.get("waarden", ())]
                named = [v for v in values if v in mentioned]
                rest = [v for v in values if v not in mentioned]
                other = ["anders"] if "anders" in rest else rest[:1]
                choices[name] = (named + other) if named else values
            elif spec.get("type") == "bool":
                choices[name] = [True, False]
        return years, around, choices

    def _date(self, rng: random.Random, anchors: list[date], years: list[int], around: list[date]) -> date:
        peildatum = self.space.peildatum
        if around and rng.random() < 0.15:
            return rng.choice(around)
        anchor = rng.choice([peildatum, peildatum, *anchors])
        y = rng.choice(years)
        if anchor is peildatum:
            y = y if rng.random() < 0.1 else -y
        try:
            day = tijd.add_years(anchor, y)
        except OverflowError:  # a peildatum near an end of the calendar: stay at that end
            day = date.max if y > 0 else date.min
        return _shifted(day, rng.choice((-1, 0, 0, 1)))

    def _sample(self, cluster: Cluster, rng: random.Random, grid: tuple) -> dict[str, Any]:
        years, around, choices = grid
        kb = self.space.kb
        data: dict[str, Any] = {}
        anchors: list[date] = []
        for name in cluster.facts:
            fact = kb.facts[name]
            if fact.type == "datum":
                data[name] = self._date(rng, anchors, years, around)
                anchors.append(data[name])
            elif fact.type == "vergunningen":
                periods = []
                for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
                    start = self._date(rng, anchors, years, around)
                    period: dict[str, Any] = {"van": start}
                    if rng.random() < 0.5:
                        end = (
                            self._date(rng, [start], years, around)
                            if rng.random() < 0.7
                            else _shifted(self.space.peildatum, rng.choice((-1, 0, 1)))
                        )
                        # a period has a length (the constraint vergunning_heeft_duur): it ends after it begins
                        period["tot"] = max(end, _shifted(start, 1))
                    for fname, spec in kb.period_fields.items():
                        if fname in ("van", "tot"):
                            continue
                        if fname in choices:
                            period[fname] = rng.choice(choices[fname])
                        elif spec.get("type") == "datum":
                            period[fname] = self._date(rng, anchors, years, around)
                    periods.append(period)
                data[name] = periods
            elif fact.type == "bool":
                data[name] = rng.choice((True, False))
            elif fact.type == "keuze":
                data[name] = rng.choice(fact.values)
            elif fact.type == "bedrag":
                d = self.space.domains.get(name)
                data[name] = rng.choice([r for r in d.reps if r >= 0] or [0]) if d else 0
            else:
                data[name] = "tekst"
        return data

    def classes(self, cluster: Cluster, values: dict[str, Any]) -> tuple | None:
        """The atom classes a dated situation gives, or None when one stays unknown."""
        key = []
        for atom, function, inputs, parameters, domain in self._readers(cluster):
            value = (
                function(self.space.peildatum, *(values[i] for i in inputs), **parameters)
                if function
                else values.get(atom)
            )
            if value is None:
                return None
            if isinstance(value, date):
                value = value.toordinal()
            if domain is None:
                if not isinstance(value, bool):
                    return None
                key.append(value)
            else:
                index = domain.index_of(value)
                if index is None:
                    return None
                key.append(index)
        return tuple(key)

    def _readers(self, cluster: Cluster) -> list[tuple]:
        got = self._reader_cache.get(id(cluster))
        if got is None:
            kb = self.space.kb
            got = []
            for a in cluster.atoms:
                q = kb.quantities.get(a)
                function = tijd.FUNCTIONS[q.function] if q is not None else None
                got.append(
                    (a, function, q.inputs if q else (), dict(q.parameters) if q else {}, self.space.domains.get(a))
                )
            self._reader_cache[id(cluster)] = got
        return got

    def _consider(self, cluster: Cluster, data: dict[str, Any]) -> bool:
        """Keep a dated situation if it is the first, or the plainest, valid applicant for the
        classes it gives; True when those classes are new."""
        try:
            key = self.classes(cluster, data)
        except (TypeError, ValueError, KeyError):
            return False
        if key is None:
            return False
        score = self._oddness(data)
        if key in cluster.found and score >= cluster.score[key]:
            return False
        plain = applicant_file(data)
        try:
            applicant = parse_applicant(self.space.kb, plain)
            check_against_peildatum(self.space.kb, applicant, self.space.peildatum)
        except VerblijfsregelsError:
            return False
        if self.classes(cluster, applicant.values) != key:
            return False
        new = key not in cluster.found
        cluster.found[key] = plain
        cluster.raw[key] = data
        cluster.score[key] = score
        return new

    def _explore(self, cluster: Cluster, rng: random.Random) -> None:
        grid = self._grid(cluster)
        since_new = 0
        while cluster.samples < self.max_samples:
            if since_new >= self.patience:
                cluster.stopped = "geen nieuwe combinatie"
                return
            cluster.samples += 1
            since_new += 1
            if self._consider(cluster, self._sample(cluster, rng, grid)):
                since_new = 0
        cluster.stopped = "maximum bereikt"

    def _combine(self, cluster: Cluster, rng: random.Random) -> None:
        """The permit periods of two situations found, together: someone who had both. Whether a
        permit for a purpose was ever held, and the years for it, add up this way, so situations
        with more purposes than one sample draws periods come within reach."""
        kb = self.space.kb
        names = [n for n in cluster.facts if kb.facts[n].type == "vergunningen"]
        if not names or len(cluster.found) < 2:
            return
        name = names[0]
        keys = list(cluster.found)
        since_new = 0
        while cluster.combined < self.max_combined and since_new < self.patience:
            cluster.combined += 1
            since_new += 1
            first, second = cluster.raw[rng.choice(keys)], cluster.raw[rng.choice(keys)]
            data = {k: ([dict(p) for p in v] if isinstance(v, list) else v) for k, v in first.items()}
            extra = [dict(p) for p in second.get(name) or () if rng.random() < 0.7]
            data[name] = sorted([*(data.get(name) or ()), *extra], key=lambda p: p["van"])
            before = len(cluster.found)
            if self._consider(cluster, data):
                since_new = 0
                cluster.combined_new += 1
                keys.extend(list(cluster.found)[before:])

    def projection(self, cluster: Cluster, atoms: Iterable[str]) -> tuple[list[str], list[int], set[tuple]]:
        """The cluster's atoms among `atoms`, the number of classes of each, and the combinations of
        their classes that the dated situations gave."""
        wanted = set(atoms)
        names = [a for a in cluster.atoms if a in wanted]
        index = [cluster.atoms.index(a) for a in names]
        sizes = [2 if a in self.space.bool_vars else len(self.space.domains[a].reps) for a in names]
        return names, sizes, {tuple(key[i] for i in index) for key in cluster.found}

    def _oddness(self, data: dict[str, Any]) -> tuple[int, int]:
        """How unlikely a situation reads: dates after the peildatum, then the number of periods.

        Of the situations that give the same classes, the plainest is kept as the witness.
        """
        peildatum = self.space.peildatum
        future, parts = 0, 0
        for value in data.values():
            if isinstance(value, list):
                parts += len(value)
                future += sum(1 for p in value for v in p.values() if isinstance(v, date) and v > peildatum)
            elif isinstance(value, date) and value > peildatum:
                future += 1
        return future, parts

    def situation_for(self, cluster: Cluster, assignment: dict[str, bool]) -> dict[str, Any]:
        key = tuple(self.space.class_in(a, assignment) for a in cluster.atoms)
        return dict(cluster.found[key])


def applicant_file(data: dict[str, Any]) -> dict[str, Any]:
    """Values as an applicant file holds them: dates as ISO text, periods in order."""
    return {k: tijd.iso_text(v) for k, v in data.items()}


def situation(
    space: AtomSpace, library: DateLibrary, assignment: dict[str, bool], atoms: Iterable[str]
) -> dict[str, Any]:
    """An applicant file that gives `atoms` the values of `assignment` (absent variables: false)."""
    kb = space.kb
    wanted = list(atoms)
    data: dict[str, Any] = {}
    for cluster in library.clusters:
        if any(a in cluster.atoms for a in wanted):
            data.update(library.situation_for(cluster, assignment))
    for a in wanted:
        if a in library.realised or a not in kb.facts:
            continue
        value = space.value_in(a, assignment)
        fact = kb.facts[a]
        if fact.type == "datum" and isinstance(value, int):
            value = date.fromordinal(value).isoformat()
        data[a] = value
    return data


def bitwise(bdd: BDD, roots: list[Function], columns: dict[str, int], full: int) -> dict[Function, int]:
    """Each diagram evaluated for many assignments at once: bit i is its value for assignment i.

    `columns` maps a variable to the assignments (bits) in which it is true. dd has no evaluation
    of one diagram under many assignments, and one `let` per assignment would rebuild diagrams
    for each of thousands of rows; one walk over the shared nodes does them all.
    """
    memo: dict[Function, int] = {bdd.false: 0, bdd.true: full}
    return {r: _bits(r, memo, columns, full) for r in roots}


def _bits(u: Function, memo: dict[Function, int], columns: dict[str, int], full: int) -> int:
    # a module function, not a recursive closure: diagrams must not sit in a reference cycle (AtomSpace)
    got = memo.get(u)
    if got is None:
        column = columns.get(u.var, 0)
        got = (column & _bits(u.high, memo, columns, full)) | (~column & full & _bits(u.low, memo, columns, full))
        # dd keeps f and not-f as one node: low and high are those of the stored node, and a
        # negated edge to it stands for its complement
        if u.negated:
            got ^= full
        memo[u] = got
    return got
