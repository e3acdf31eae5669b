"""Strongly connected groups of a directed graph: the one Tarjan the rule base and the evaluators share."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence


def strongly_connected(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The strongly connected groups of `graph` (node -> successors), each sorted, each emitted
    after every group it reaches: the order in which to evaluate predicates that read each other.

    Iterative, so a long chain of rules cannot exhaust Python's recursion limit; roots are
    visited in sorted order, so the result is the same for any order of declarations.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, ()))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    out.append(sorted(group))
    return out


def graph_of(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """node -> successors from (from, to) pairs; every endpoint becomes a node."""
    graph: dict[str, list[str]] = {n: [] for n in nodes}
    for head, body in edges:
        graph.setdefault(head, []).append(body)
        graph.setdefault(body, [])
    return graph
