"""The symbolic evaluator: the compiled program over every situation at once, with BDDs.

A row is a space of situations (`engine.checks.audit_space.AtomSpace`: one BDD variable per atom the
rules read). Per derived literal the result is a binary decision diagram of the situations that
derive it: what the set-at-a-time evaluator computes per applicant as bits, here for all
situations the rules can tell apart. The audit reads its findings from these diagrams.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from dd.autoref import BDD, Function

from engine.evaluate.base import strata
from engine.rules.compiler import Absent, Clause, Cmp, Lit, Program, comparisons_of
from engine.rules.model import All, Any_, Atom, Compare, Expr, Not

Pair = tuple[Function, Function]  # (situations where a node is derived true, where it is derived false)


# dd's operators are binary; these fold a sequence and stop as soon as the result is settled,
# which keeps the fixpoint and the long conjunctions of the checks cheap.
def all_of(bdd: BDD, fs: Iterable[Function]) -> Function:
    out = bdd.true
    for f in fs:
        out &= f
        if out == bdd.false:
            break
    return out


def any_of(bdd: BDD, fs: Iterable[Function]) -> Function:
    out = bdd.false
    for f in fs:
        out |= f
        if out == bdd.true:
            break
    return out


class SymbolicValues:
    """Per node of the compiled program: the situations deriving it true, and deriving it false."""

    def __init__(self, program: Program, space: Any, resolve_disagreements: bool = False):
        self.space = space
        self.bdd = space.bdd
        self.nodes = program.nodes
        bdd = self.bdd
        by_head: dict[str, list[Clause]] = {}
        for clause in program.clauses:
            by_head.setdefault(clause.head, []).append(clause)
        if resolve_disagreements:
            # read each source disagreement as its first source says (one that a precedence decides
            # has only the governing source in its clauses already): what stays open then is
            # not the deliberate "the sources differ" but a gap
            for head, clauses in by_head.items():
                if self.nodes[head].kind == "consensus":
                    by_head[head] = [Clause(head, c.value, c.body[:1]) for c in clauses]
        masks: dict[Any, Function] = {}

        def get(key: Any) -> Function:
            got = masks.get(key)
            if got is None:
                if isinstance(key, Absent):  # its group is done (strata): the situations not deriving it
                    # (no call of `get` itself here: a recursive closure is a reference cycle, see audit_space)
                    lit = (key.predicate, key.value)
                    negated = masks.get(lit)
                    if negated is None:
                        negated = bdd.false if key.predicate in by_head else space.literal(*lit)
                    return ~negated
                if isinstance(key, Cmp):
                    got = space.compare(key)
                elif key[0] in by_head:
                    return bdd.false
                else:
                    got = space.literal(*key)
                masks[key] = got
            return got

        for group in strata(by_head):
            rules = [
                (head, c.value, tuple((b.predicate, b.value) if isinstance(b, Lit) else b for b in c.body))
                for head in group
                for c in by_head[head]
            ]
            changed = True
            while changed:  # a positive program: the least fixpoint, reached from below
                changed = False
                for head, value, body in rules:
                    derived = all_of(bdd, (get(k) for k in body))
                    old = masks.get((head, value), bdd.false)
                    new = old | derived
                    if new != old:
                        masks[(head, value)] = new
                        changed = True
        self.masks = masks
        self.heads = set(by_head)
        self._views: dict[str, Pair] = {}

    def pair(self, nid: str) -> Pair:
        node = self.nodes[nid]
        if node.kind in ("fact", "quantity"):
            return self.space.literal(nid, True), self.space.literal(nid, False)
        if not node.view:
            return self.masks.get((nid, True), self.bdd.false), self.masks.get((nid, False), self.bdd.false)
        got = self._views.get(nid)
        if got is None:
            bdd = self.bdd
            if node.kind == "not":
                t, f = self.pair(node.children[0])
                got = (f, t)
            elif node.kind == "rule":
                got = self.pair(node.children[0])
            else:  # an exception: it applies and its own conditions (if any) hold
                parts = [self.pair(c) for c in node.children]
                got = (all_of(bdd, (t for t, _ in parts)), any_of(bdd, (f for _, f in parts)))
            self._views[nid] = got
        return got

    def true(self, nid: str) -> Function:
        return self.pair(nid)[0]

    def false(self, nid: str) -> Function:
        return self.pair(nid)[1]

    def expr(self, e: Expr) -> Pair:
        """An expression from the declarations, in Kleene's logic, over all situations."""
        bdd = self.bdd
        if isinstance(e, Atom):
            return self.pair(e.name)
        if isinstance(e, Compare):
            positive, negative = comparisons_of(e)
            return self.space.compare(positive), self.space.compare(negative)
        if isinstance(e, Not):
            t, f = self.expr(e.operand)
            return f, t
        parts = [self.expr(op) for op in e.operands]
        if isinstance(e, All):
            return all_of(bdd, (t for t, _ in parts)), any_of(bdd, (f for _, f in parts))
        assert isinstance(e, Any_)
        return any_of(bdd, (t for t, _ in parts)), all_of(bdd, (f for _, f in parts))


class SymbolicEvaluator:
    """`engine.evaluate.Evaluator` over spaces of situations; `resolve_disagreements` reads each
    source disagreement as its first source says (what stays open then is a gap, not the
    deliberate "the sources differ")."""

    name = "symbolic"

    def __init__(
        self,
        program: Program,
        base_predicates: Sequence[str] = (),
        input_names: frozenset[str] = frozenset(),
        resolve_disagreements: bool = False,
    ):
        self.program = program
        self.resolve_disagreements = resolve_disagreements

    def run(self, rows: Sequence[Any], nodes: Sequence[str] = ()) -> SymbolicValues:
        """The diagrams of every node over the one space in `rows` (all nodes: the audit asks for
        any of them, and the fixpoint computes them together anyway)."""
        (space,) = rows
        return SymbolicValues(self.program, space, self.resolve_disagreements)
