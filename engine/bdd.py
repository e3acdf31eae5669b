"""A small reduced ordered binary decision diagram (ROBDD) package, for the audit.

A BDD represents a boolean function of numbered variables as a shared graph; equal functions get
the same node, so "is this formula satisfiable" is "is it not node 0" and "does A imply B" is
"is A and not B node 0". The audit builds one per derived literal of the compiled program over
the atoms the rules read, which examines every situation the rules can tell apart at once.

Nodes are integers: 0 is false, 1 is true; an inner node is (variable, low, high) where low is
the function when the variable is false. Variables are ordered by number (the order they were
created in); the audit creates them in the order a depth-first walk from the goals meets them,
which keeps the diagrams of rules that read few facts small.
"""

from __future__ import annotations

from typing import Iterable

FALSE = 0
TRUE = 1


class BDD:
    def __init__(self) -> None:
        self._var: list[int] = [-1, -1]  # per node: its variable (terminals: -1)
        self._low: list[int] = [0, 1]
        self._high: list[int] = [0, 1]
        self._unique: dict[tuple[int, int, int], int] = {}
        self._and: dict[tuple[int, int], int] = {}
        self._or: dict[tuple[int, int], int] = {}
        self._not: dict[int, int] = {0: 1, 1: 0}
        self.names: list[str] = []  # what each variable stands for

    # -- construction -----------------------------------------------------------------------

    def new_var(self, name: str) -> int:
        """A fresh variable (after all existing ones in the order); returns its number."""
        self.names.append(name)
        return len(self.names) - 1

    def var(self, index: int) -> int:
        return self._mk(index, FALSE, TRUE)

    def nvar(self, index: int) -> int:
        return self._mk(index, TRUE, FALSE)

    def _mk(self, var: int, low: int, high: int) -> int:
        if low == high:
            return low
        key = (var, low, high)
        node = self._unique.get(key)
        if node is None:
            node = len(self._var)
            self._var.append(var)
            self._low.append(low)
            self._high.append(high)
            self._unique[key] = node
        return node

    def not_(self, f: int) -> int:
        out = self._not.get(f)
        if out is None:
            out = self._mk(self._var[f], self.not_(self._low[f]), self.not_(self._high[f]))
            self._not[f] = out
            self._not[out] = f
        return out

    def and_(self, f: int, g: int) -> int:
        if f == FALSE or g == FALSE:
            return FALSE
        if f == TRUE:
            return g
        if g == TRUE or f == g:
            return f
        if f > g:
            f, g = g, f
        key = (f, g)
        out = self._and.get(key)
        if out is None:
            vf, vg = self._var[f], self._var[g]
            v = min(vf, vg)
            f0, f1 = (self._low[f], self._high[f]) if vf == v else (f, f)
            g0, g1 = (self._low[g], self._high[g]) if vg == v else (g, g)
            out = self._mk(v, self.and_(f0, g0), self.and_(f1, g1))
            self._and[key] = out
        return out

    def or_(self, f: int, g: int) -> int:
        if f == TRUE or g == TRUE:
            return TRUE
        if f == FALSE:
            return g
        if g == FALSE or f == g:
            return f
        if f > g:
            f, g = g, f
        key = (f, g)
        out = self._or.get(key)
        if out is None:
            vf, vg = self._var[f], self._var[g]
            v = min(vf, vg)
            f0, f1 = (self._low[f], self._high[f]) if vf == v else (f, f)
            g0, g1 = (self._low[g], self._high[g]) if vg == v else (g, g)
            out = self._mk(v, self.or_(f0, g0), self.or_(f1, g1))
            self._or[key] = out
        return out

    def all_(self, fs: Iterable[int]) -> int:
        out = TRUE
        for f in fs:
            out = self.and_(out, f)
            if out == FALSE:
                break
        return out

    def any_(self, fs: Iterable[int]) -> int:
        out = FALSE
        for f in fs:
            out = self.or_(out, f)
            if out == TRUE:
                break
        return out

    def implies(self, f: int, g: int) -> bool:
        """Every assignment that satisfies f satisfies g."""
        return self.and_(f, self.not_(g)) == FALSE

    # -- reading ----------------------------------------------------------------------------

    def support(self, f: int) -> set[int]:
        """The variables f depends on."""
        seen: set[int] = set()
        out: set[int] = set()
        stack = [f]
        while stack:
            n = stack.pop()
            if n <= TRUE or n in seen:
                continue
            seen.add(n)
            out.add(self._var[n])
            stack.append(self._low[n])
            stack.append(self._high[n])
        return out

    def sat_one(self, f: int, prefer: dict[int, bool] | None = None) -> dict[int, bool] | None:
        """One satisfying assignment of the variables on its path (others are free), or None.

        At each variable the preferred value is taken when it leads to a solution (default: false).
        """
        if f == FALSE:
            return None
        prefer = prefer or {}
        out: dict[int, bool] = {}
        while f > TRUE:
            v = self._var[f]
            want = prefer.get(v, False)
            first, second = (self._high[f], self._low[f]) if want else (self._low[f], self._high[f])
            if first != FALSE:
                out[v] = want
                f = first
            else:
                out[v] = not want
                f = second
        return out

    def evaluate(self, f: int, assignment: dict[int, bool]) -> bool:
        """The value of f for a full assignment (a missing variable counts as false)."""
        while f > TRUE:
            f = self._high[f] if assignment.get(self._var[f], False) else self._low[f]
        return f == TRUE

    def count(self, f: int, variables: list[int]) -> int:
        """The number of assignments of `variables` (which must include f's support) satisfying f."""
        order = sorted(variables)
        position = {v: i for i, v in enumerate(order)}
        memo: dict[int, int] = {}

        def level(n: int) -> int:
            return len(order) if n <= TRUE else position[self._var[n]]

        def walk(n: int) -> int:  # satisfying assignments of the variables from n's level on
            if n == FALSE:
                return 0
            if n == TRUE:
                return 1
            got = memo.get(n)
            if got is None:
                here = level(n)
                got = 0
                for child in (self._low[n], self._high[n]):
                    got += walk(child) << (level(child) - here - 1)
                memo[n] = got
            return got

        return walk(f) << level(f)

    def size(self) -> int:
        return len(self._var)
