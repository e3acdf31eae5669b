"""Compile rule declarations into three-valued Datalog clauses and a node graph.

Every predicate `p` becomes a binary relation `p(Applicant, Value)` with Value True or False; an
applicant with neither fact has `p` unknown. Kleene's connectives then need no negation as
failure: `niet p` is true where `p` is false, `alle` is false where one operand is false, and so
on. The program is positive, so it has one least model whatever the evaluation order, and an
absent fact can never be mistaken for a false one.

One part is not: which fee rule decides a form's amount for a source (`FeeChoice`) reads what
the rest of the program derives, including what it leaves open ("an exception whose
applicability is unknown does not decide, it is an alternative"). Those clauses sit on top of
everything else (nothing reads them) and use `Absent` literals: negation as failure, stratified,
so every evaluator first derives what they read and the model stays unique.

The node graph mirrors the clauses one to one; proofs walk it with the values the engine
derived. Nothing here imports pyDatalog: `engine.evaluate.datalog` turns the clauses into pyDatalog terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Sequence

from msgspec import Struct

from engine.rules.declarations import COMPARATORS, All, Any_, Atom, Compare, Expr, KnowledgeBase, Not, Source

NEGATED = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "in": "not in"}


class Lit(Struct, frozen=True):
    """`predicate(Applicant, value)`"""

    predicate: str
    value: bool


class Cmp(Struct, frozen=True):
    """`predicate(Applicant, N) & (N operator constant)`"""

    predicate: str
    operator: str
    constant: Any


class Absent(Struct, frozen=True):
    """`predicate(Applicant, value)` is not derived (negation as failure). Only the fee choice
    reads it, from above everything it reads: the program stays stratified."""

    predicate: str
    value: bool


class Clause(Struct, frozen=True):
    head: str
    value: bool
    body: tuple[Lit | Cmp | Absent, ...]


class FeeChoice(Struct, frozen=True):
    """The compiled nodes that say whether a fee rule decides its source's amount for a form.

    Each source states a tree of fee rules per form: a base amount and exceptions that override
    the rule they name (and may themselves be overridden). An exception is followed where it
    applies (its condition is true: not unknown, not also false) and no applicable sibling goes
    before it (`gaat_voor`); the walk from the base amount reaches an exception through followed
    exceptions only; a rule the walk reaches decides where none of its own exceptions is followed.
    Where it reaches several that decide with different amounts, the source states them all
    and not which applies. Every node here has only true clauses: a rule reached, chosen, ... or not.
    Whether the source speaks about the situation at all is its base rule's condition
    (`Program.fee_nodes`), read apart: these nodes hold wherever it does.
    """

    rule_id: str
    form: str
    root: str  # the base rule of this rule's source and form
    chain: tuple[str, ...]  # from the base rule down to this one
    order: tuple[int, int]  # (position of the rule it is an exception to, its own place there); a base rule (-1, 0)
    reached: str | None  # the walk reaches it; None: a base rule, always reached where its source speaks
    chosen: str | None  # reached and no exception of its own followed: it decides; None: always (a lone base rule)
    open: str | None  # the rule it is an exception to is reached and whether it applies is unknown: an alternative
    set_aside: tuple[tuple[str, str], ...] = ()  # (winner, node): reached parent, it and the winner both apply
    set_aside_leaves: tuple[tuple[str, str], ...] = ()  # (rule, node): the rules that decide below it when set aside

    @property
    def nodes(self) -> list[str]:
        found = [
            self.reached,
            self.chosen,
            self.open,
            *(n for _, n in self.set_aside),
            *(n for _, n in self.set_aside_leaves),
        ]
        return list(dict.fromkeys(n for n in found if n))


@dataclass
class Node:
    """One node of the graph the proofs walk (a fact, a comparison, a connective, a rule), with its children."""

    id: str
    kind: str  # fact quantity compare not all any consent rule exception conclusion consensus
    label: str
    children: list[str] = field(default_factory=list)
    rule_id: str | None = None
    source: Source | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # A view has no predicate of its own: its value follows from its children's (a `niet`
    # is its operand with the truth value flipped, a rule without exceptions is its
    # conditions, an exception is "applies and holds").
    # Fewer predicates is most of what makes an assessment fast in pyDatalog.
    view: bool = False


@dataclass
class Program:
    """The clauses every evaluator runs, with the node graph that mirrors them one to one."""

    clauses: list[Clause]
    nodes: dict[str, Node]
    fee_nodes: dict[str, str] = field(default_factory=dict)  # fee rule id -> node of "applies when"
    # fee rule id -> the nodes of its choice (see FeeChoice); each source's rules in preorder
    fee_choice: dict[str, FeeChoice] = field(default_factory=dict)

    def fee_roots(self, form: str) -> list[str]:
        """The nodes a form's fee reads: the conditions of its fee rules, then which of them decides."""
        choices = [c for c in self.fee_choice.values() if c.form == form]
        return [self.fee_nodes[c.rule_id] for c in choices if c.rule_id in self.fee_nodes] + list(
            dict.fromkeys(n for c in choices for n in c.nodes)
        )

    def reachable(self, roots: list[str]) -> list[str]:
        """Node ids reachable from `roots`, in a stable order."""
        seen: dict[str, None] = {}
        stack = list(reversed(roots))
        while stack:
            nid = stack.pop()
            if nid in seen:
                continue
            seen[nid] = None
            stack.extend(reversed(self.nodes[nid].children))
        return list(seen)

    def restricted_to(self, roots: Sequence[str]) -> "Program":
        """The clauses `roots` depend on, through clause bodies (the node graph leaves out the
        helper predicates of exceptions) and through the node graph (views have no clauses)."""
        by_head: dict[str, list[Clause]] = {}
        for clause in self.clauses:
            by_head.setdefault(clause.head, []).append(clause)
        reached: set[str] = set()
        stack = list(self.reachable(list(roots)))
        while stack:
            head = stack.pop()
            if head in reached:
                continue
            reached.add(head)
            for clause in by_head.get(head, ()):
                stack.extend(b.predicate for b in clause.body)
        return Program([c for c in self.clauses if c.head in reached], self.nodes, self.fee_nodes, self.fee_choice)


def comparisons_of(e: Compare) -> tuple[Cmp, Cmp]:
    """The compiled comparison of an expression and of its negation."""
    op = COMPARATORS[e.comparator]
    # dates are compared as day numbers: the engine sees them as integers
    constant = e.value.toordinal() if isinstance(e.value, date) else e.value
    return Cmp(e.name, op, constant), Cmp(e.name, NEGATED[op], constant)


def safe(rule_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", rule_id)


class _Compiler:
    def __init__(self, kb: KnowledgeBase, order: Sequence[str] = ()):
        self.kb = kb
        self.order = tuple(order)
        self.nodes: dict[str, Node] = {}
        self.clauses: list[Clause] = []

    def add(self, head: str, value: bool, *body: Lit | Cmp | Absent) -> None:
        self.clauses.append(Clause(head, value, tuple(body)))

    def lit(self, nid: str, value: bool) -> Lit:
        return Lit(nid, value)  # views are resolved once everything is compiled: `resolve_views`

    def resolve(self, lit: Lit | Cmp | Absent, seen: frozenset[str] = frozenset()) -> Lit | Cmp | Absent:
        """The literal on a real predicate that says the same as `lit`, seen through views."""
        if isinstance(lit, Cmp):
            return lit
        if isinstance(lit, Absent):  # not derived where the literal it negates is not
            found = self.resolve(Lit(lit.predicate, lit.value), seen)
            assert isinstance(found, Lit)
            return Absent(found.predicate, found.value)
        node = self.nodes[lit.predicate]
        if node.kind == "not":
            return self.resolve(Lit(node.children[0], not lit.value), seen)
        if node.view and node.kind == "rule":
            if lit.predicate in seen:
                # a cycle of rules that are nothing but each other: give one its own predicate
                node.view = False
                self.add(node.id, True, Lit(node.children[0], True))
                self.add(node.id, False, Lit(node.children[0], False))
                return lit
            return self.resolve(Lit(node.children[0], lit.value), seen | {lit.predicate})
        return lit

    def resolve_views(self) -> None:
        for node in list(self.nodes.values()):
            if node.view and node.kind == "rule":
                self.resolve(Lit(node.id, True))  # gives a rule in a cycle of views its predicate
        done = 0
        while done < len(self.clauses):  # resolving may add clauses for broken cycles
            clause = self.clauses[done]
            self.clauses[done] = Clause(clause.head, clause.value, tuple(self.resolve(b) for b in clause.body))
            done += 1

    # -- names --------------------------------------------------------------------------------

    def name(self, name: str) -> str:
        """The node of a fact, quantity or derived conclusion."""
        if name in self.nodes:
            return name
        kb = self.kb
        if name in kb.facts:
            fact = kb.facts[name]
            # free text is shown as typed; a choice value reads with spaces for underscores
            self.nodes[name] = Node(
                name, "fact", fact.label, detail={"open_norm": fact.open_norm, "free_text": fact.type == "tekst"}
            )
        elif name in kb.quantities:
            q = kb.quantities[name]
            self.nodes[name] = Node(
                name,
                "quantity",
                q.label,
                children=list(q.inputs),
                rule_id=q.rule_id,
                source=q.source,
                detail={"unit": q.unit},
            )
            for inp in q.inputs:
                self.name(inp)
        elif name in kb.disagreement_for:
            dis = kb.disagreements[kb.disagreement_for[name]]
            node = Node(name, "consensus", dis.label, rule_id=dis.id, detail={"explanation": dis.explanation})
            self.nodes[name] = node
            node.children = [self.rule(rid) for rid in dis.rule_ids]
            governing = kb.governing(dis, self.order)
            node.detail["precedence"] = _precedence_detail(kb, dis, governing)
            if governing is not None:
                # the source that goes first decides, whatever the others say; their rules stay in
                # the graph (not in these clauses) so that the answer can show what they would give
                child = node.children[dis.rule_ids.index(governing[0])]
                self.add(name, True, self.lit(child, True))
                self.add(name, False, self.lit(child, False))
            else:
                self.add(name, True, *(self.lit(c, True) for c in node.children))
                self.add(name, False, *(self.lit(c, False) for c in node.children))
        elif len(kb.rules_for[name]) == 1:
            # one rule, one predicate: the rule's node carries the conclusion's name
            self.rule(kb.rules_for[name][0])
        else:
            rule_ids = kb.rules_for[name]
            node = Node(name, "conclusion", _conclusion_label(kb, name, rule_ids))
            self.nodes[name] = node
            node.children = [self.rule(rid) for rid in rule_ids]
            for child in node.children:
                self.add(name, True, self.lit(child, True))
            self.add(name, False, *(self.lit(c, False) for c in node.children))
        return name

    # -- expressions --------------------------------------------------------------------------

    def expr(self, e: Expr, owner: str, path: str) -> str:
        if isinstance(e, Atom):
            return self.name(e.name)
        nid = f"{owner}__{path}"
        if isinstance(e, Compare):
            self.name(e.name)
            value = list(e.value) if isinstance(e.value, tuple) else e.value
            self.nodes[nid] = Node(
                nid,
                "compare",
                self.kb.label_of(e.name),
                children=[e.name],
                detail={"comparator": e.comparator, "value": value, "name": e.name},
            )
            positive, negative = comparisons_of(e)
            self.add(nid, True, positive)
            self.add(nid, False, negative)
            return nid
        if isinstance(e, Not):
            child = self.expr(e.operand, owner, f"{path}n")
            self.nodes[nid] = Node(nid, "not", "niet", children=[child], view=True)
            return nid
        children = [self.expr(op, owner, f"{path}{i}") for i, op in enumerate(e.operands)]
        if isinstance(e, All):
            self.nodes[nid] = Node(nid, "all", "alle", children=children)
            self.add(nid, True, *(self.lit(c, True) for c in children))
            for c in children:
                self.add(nid, False, self.lit(c, False))
        else:
            assert isinstance(e, Any_)
            self.nodes[nid] = Node(nid, "any", "een van", children=children)
            for c in children:
                self.add(nid, True, self.lit(c, True))
            self.add(nid, False, *(self.lit(c, False) for c in children))
        return nid

    # -- rules and exceptions -----------------------------------------------------------------

    def rule_node_id(self, rule_id: str) -> str:
        rule = self.kb.rules[rule_id]
        if rule.conclusion and len(self.kb.rules_for.get(rule.conclusion, ())) == 1:
            return rule.conclusion
        return f"rule_{safe(rule_id)}"

    def rule(self, rule_id: str) -> str:
        nid = self.rule_node_id(rule_id)
        if nid in self.nodes:
            return nid
        kb = self.kb
        rule = kb.rules[rule_id]
        detail = {
            "explanation": rule.explanation,
            "reference": rule.reference,
            "valid_from": rule.valid_from,
            "valid_until": rule.valid_until,
        }
        if rule.assumption is not None:
            # no seed states it: the proof shows the assumption, never a quote
            a = rule.assumption
            detail["assumption"] = {"basis": a.basis, "reason": a.reason}
            detail["explanation"] = " ".join(
                filter(None, (f"Aanname, geen citaat uit de bronnen ({a.basis}): {a.reason}", rule.explanation))
            )
        node = Node(
            nid,
            "rule",
            rule.label,
            rule_id=rule.id,
            source=None if rule.assumption is not None else rule.source,
            detail=detail,
        )
        self.nodes[nid] = node
        conditions = rule.conditions
        if conditions is not None and (rule.valid_from or rule.valid_until):
            # a rule in force for a period holds only for peildata inside it
            period: list[Expr] = []
            if rule.valid_from:
                period.append(Compare("peildatum", "minstens", rule.valid_from))
            if rule.valid_until:
                period.append(Compare("peildatum", "minder_dan", rule.valid_until))
            conditions = All((*period, conditions))
        base = self.expr(conditions, nid, "c") if conditions is not None else None
        exceptions = [self.exception(eid) for eid in kb.exceptions_of.get(rule_id, [])]
        if base is None:
            raise AssertionError(f"rule {rule_id} has no conditions")
        if not exceptions:
            node.children = [base]
            node.view = True  # the rule holds exactly where its conditions do
            return nid

        node.children = [base, *(e.id for e in exceptions)]
        node.detail["exceptions"] = [e.rule_id for e in exceptions]
        # An applicable exception decides. Otherwise the rule's own conditions decide -- and they
        # still do where it is unknown whether an exception applies, as long as that exception
        # would lead to the same value ("consents"). Not applying is one way to consent, so
        # "no exception applies" needs no clause of its own.
        for value in (True, False):
            consents: list[Lit] = []
            for e in exceptions:
                applies, body = e.detail["applies"], e.detail["body"]
                if body is None:
                    # without conditions of its own an exception can only make the rule hold
                    if value:
                        self.add(nid, True, self.lit(applies, True))
                    else:
                        consents.append(self.lit(applies, False))
                    continue
                self.add(nid, value, self.lit(applies, True), self.lit(body, value))
                consent = f"{e.id}__stemt_in_{'waar' if value else 'onwaar'}"
                self.nodes[consent] = Node(
                    consent, "consent", "uitzondering leidt tot dezelfde uitkomst", children=[applies, body]
                )
                self.add(consent, True, self.lit(applies, False))
                self.add(consent, True, self.lit(body, value))
                consents.append(self.lit(consent, True))
            self.add(nid, value, self.lit(base, value), *consents)
        return nid

    def exception(self, rule_id: str) -> Node:
        nid = f"exception_{safe(rule_id)}"
        rule = self.kb.rules[rule_id]
        applies = self.expr(rule.applies_when, nid, "a")
        body = self.expr(rule.conditions, nid, "v") if rule.conditions is not None else None
        node = Node(
            nid,
            "exception",
            rule.label,
            rule_id=rule.id,
            source=rule.source,
            children=[applies] + ([body] if body else []),
            detail={
                "applies": applies,
                "body": body,
                "explanation": rule.explanation,
                "exception_to": rule.exception_to,
            },
        )
        self.nodes[nid] = node
        node.view = True  # its value is "applies and (if it has conditions) they hold"
        return node


def _conclusion_label(kb: KnowledgeBase, name: str, rule_ids: list[str]) -> str:
    """A conclusion that several rules derive reads as what they share: the goal it answers, the
    pointer elsewhere of that goal, or else the rules' own labels."""
    for goal in kb.goals.values():
        if goal.conclusion == name:
            return goal.label
        if goal.out_of_scope == name:
            return f"de bronnen verwijzen naar een andere regeling dan deze ({goal.label})"
    return " of ".join(kb.rules[rid].label for rid in rule_ids)


def _precedence_detail(kb: KnowledgeBase, dis: Any, governing: tuple[str, str, Any] | None) -> dict[str, Any] | None:
    """What decides a source disagreement, for the proof: the rule whose source goes first, and why."""
    if governing is None:
        return None
    rule_id, how, what = governing
    detail: dict[str, Any] = {
        "rule_id": rule_id,
        "source_file": kb.rules[rule_id].source.file,
        "set_by": how,  # kennisbank: declared in kb (`voorrang`); voorrang: the user's --voorrang
        "declaration": None,
        "reason": None,
        "sources": [],
        "order": [],
    }
    if how == "kennisbank":
        detail.update(
            declaration=what.id,
            reason=what.reason,
            sources=[{"file": s.file, "quote": s.quote} for s in what.sources],
        )
    else:
        detail["order"] = list(what)
    return detail


def compile_knowledge_base(kb: KnowledgeBase, order: Sequence[str] = ()) -> Program:
    """The program of `kb`; `order` (the user's --voorrang) goes before the declared precedence
    where it names one of the sources of a disagreement."""
    compiler = _Compiler(kb, order)
    for rule in kb.rules.values():
        if rule.conclusion and not rule.exception_to:
            compiler.name(rule.conclusion)
    for dis in kb.disagreements.values():
        compiler.name(dis.conclusion)
    for goal in kb.goals.values():
        compiler.name(goal.conclusion)
        if goal.out_of_scope:
            compiler.name(goal.out_of_scope)
    fee_nodes = {
        fee.id: compiler.expr(fee.applies_when, f"fee_{safe(fee.id)}", "a")
        for fee in kb.fee_rules.values()
        if fee.applies_when is not None
    }
    fee_choice = _FeeChoiceCompiler(compiler, fee_nodes).compile()
    compiler.resolve_views()
    return Program(compiler.clauses, compiler.nodes, fee_nodes, fee_choice)


class _FeeChoiceCompiler:
    """The clauses of `FeeChoice`: per source and form, the walk from the base amount down every
    followed exception, as predicates over what the program derives (see `FeeChoice`)."""

    def __init__(self, compiler: _Compiler, fee_nodes: dict[str, str]):
        self.compiler = compiler
        self.kb = compiler.kb
        self.fee_nodes = fee_nodes
        self.children: dict[str, list[str]] = {}
        for fee in self.kb.fee_rules.values():
            if fee.exception_to:
                self.children.setdefault(fee.exception_to, []).append(fee.id)
        self.applicable: dict[str, str] = {}
        self.followed: dict[str, str] = {}
        self.choice: dict[str, FeeChoice] = {}

    def node(self, fee_id: str, what: str, label: str, *clauses: Sequence[Lit | Absent]) -> str:
        nid = f"fee_{safe(fee_id)}__{what}"
        reads = [b.predicate for body in clauses for b in body]
        self.compiler.nodes[nid] = Node(
            nid, "leges", label, children=list(dict.fromkeys(reads)), detail={"fee_rule": fee_id}
        )
        for body in clauses:
            self.compiler.add(nid, True, *body)
        return nid

    def compile(self) -> dict[str, FeeChoice]:
        kb = self.kb
        for fee in kb.fee_rules.values():
            if fee.exception_to:
                applies = self.fee_nodes[fee.id]
                self.applicable[fee.id] = self.node(
                    fee.id,
                    "van_toepassing",
                    f"{fee.id} is van toepassing",
                    (Lit(applies, True), Absent(applies, False)),
                )
        for fee in kb.fee_rules.values():
            if fee.exception_to:
                winners = [
                    w
                    for w in self.children[fee.exception_to]
                    if kb.fee_rules[w].precedence and fee.id in kb.fee_rules[w].precedence.over
                ]
                self.followed[fee.id] = self.node(
                    fee.id,
                    "gevolgd",
                    f"{fee.id} is van toepassing en geen uitzondering gaat ervoor",
                    (Lit(self.applicable[fee.id], True), *(Absent(self.applicable[w], True) for w in winners)),
                )
        for fee in kb.fee_rules.values():
            if not fee.exception_to:
                preorder: list[str] = []
                self.walk(fee.id, fee.id, (), None, (-1, 0), preorder)
        return self.choice

    def walk(
        self,
        fee_id: str,
        root: str,
        above: tuple[str, ...],
        reached_above: str | None,
        order: tuple[int, int],
        preorder: list[str],
    ) -> None:
        kb = self.kb
        fee = kb.fee_rules[fee_id]
        position = len(preorder)
        preorder.append(fee_id)
        kids = self.children.get(fee_id, [])
        parent_reached = (Lit(reached_above, True),) if reached_above else ()
        if fee.exception_to is None:
            reached = None
        elif reached_above is None:
            reached = self.followed[fee_id]  # an exception to the base rule: reached where it is followed
        else:
            reached = self.node(
                fee_id,
                "bereikt",
                f"de leges komen bij {fee_id}",
                (Lit(reached_above, True), Lit(self.followed[fee_id], True)),
            )
        none_below = tuple(Absent(self.followed[k], True) for k in kids)
        if not kids:
            chosen = reached
        else:
            chosen = self.node(
                fee_id, "gekozen", f"{fee_id} bepaalt de leges", ((Lit(reached, True),) if reached else ()) + none_below
            )
        open_ = set_aside = None
        leaves: list[tuple[str, str]] = []
        if fee.exception_to is not None:
            applies = self.fee_nodes[fee_id]
            open_ = self.node(
                fee_id,
                "open",
                f"of {fee_id} van toepassing is, is onbekend",
                (*parent_reached, Absent(applies, True), Absent(applies, False)),
                (*parent_reached, Lit(applies, True), Lit(applies, False)),
            )
            winners = [
                w
                for w in self.children[fee.exception_to]
                if kb.fee_rules[w].precedence and fee_id in kb.fee_rules[w].precedence.over
            ]
            set_aside = tuple(
                (
                    w,
                    self.node(
                        fee_id,
                        f"opzij_{safe(w)}",
                        f"{w} gaat voor {fee_id}",
                        (*parent_reached, Lit(self.applicable[fee_id], True), Lit(self.applicable[w], True)),
                    ),
                )
                for w in winners
            )
            if set_aside:
                aside = (
                    set_aside[0][1]
                    if len(set_aside) == 1
                    else self.node(
                        fee_id,
                        "opzij",
                        f"een andere uitzondering gaat voor {fee_id}",
                        *((Lit(n, True),) for _, n in set_aside),
                    )
                )
                leaves = self.set_aside_leaves(fee_id, aside)
        self.choice[fee_id] = FeeChoice(
            fee_id, fee.form, root, (*above, fee_id), order, reached, chosen, open_, set_aside or (), tuple(leaves)
        )
        for i, kid in enumerate(kids):
            self.walk(kid, root, (*above, fee_id), reached, (position, i), preorder)

    def set_aside_leaves(self, start: str, aside: str) -> list[tuple[str, str]]:
        """The rules that decide in the walk from `start` down (what it would have said), where it is set aside."""
        out = []
        stack: list[tuple[str, tuple[str, ...]]] = [(start, ())]
        while stack:
            fee_id, path = stack.pop()
            body = (
                Lit(aside, True),
                *(Lit(self.followed[d], True) for d in path),
                *(Absent(self.followed[k], True) for k in self.children.get(fee_id, [])),
            )
            out.append(
                (
                    fee_id,
                    self.node(
                        fee_id, f"gekozen_onder_{safe(start)}", f"{fee_id} bepaalt de leges die {start} noemt", body
                    ),
                )
            )
            stack.extend((k, (*path, k)) for k in reversed(self.children.get(fee_id, [])))
        return out
