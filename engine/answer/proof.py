"""Proof trees built from the node graph and the values the engine derived.

A proof keeps what explains the value of its root: for a true conjunction every condition, for
a false one the failing conditions, for a false disjunction every alternative, for an unknown
node the unknown parts. Leaves are input facts; every inner node is a declared rule, exception,
source disagreement or a connective inside one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.rules.compiler import Node, Program
from engine.tijd import iso_text

CONFLICT = "conflict"


@dataclass(slots=True)
class ProofNode:
    node: str
    kind: str
    label: str
    value: Any  # True, False, None (unknown), CONFLICT, or a fact's / quantity's value
    rule_id: str | None = None
    source: Mapping[str, str] | None = None
    explanation: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)
    children: list["ProofNode"] = field(default_factory=list)
    # what the program says of the node whatever the applicant (`_NodeStatic`), where a builder made it
    static: _NodeStatic | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        value = self.value
        out: dict[str, Any] = {
            "node": self.node,
            "kind": self.kind,
            "label": self.label,
            "value": value if value is None or type(value) in _PLAIN else _json_value(value),
        }
        if self.rule_id:
            out["rule_id"] = self.rule_id
        if self.source:
            out["source"] = dict(self.source)
        if self.explanation:
            out["explanation"] = self.explanation
        detail = self.detail
        if detail:
            static = self.static
            if static is not None and detail is static.detail and static.json_detail is not None:
                # the program's own detail, unchanged: its JSON was written once
                out["detail"] = static.json_detail.copy()
            else:
                out["detail"] = {k: _json_value(v) for k, v in sorted(detail.items())}
        out["children"] = [c.to_json() for c in self.children]
        return out

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def joined_references(children: list[ProofNode]) -> str:
    """Where a conclusion several rules conclude refers to: the pointers of the rules that hold,
    each once, in order ('' where none holds or none has one)."""
    found = [c.detail["reference"] for c in children if c.value is True and c.detail.get("reference")]
    return " ".join(dict.fromkeys(found))


def _json_value(value: Any) -> Any:
    return iso_text(value, sort_keys=True)


_PLAIN = frozenset((str, bool, int, float))  # written as they are (iso_text leaves them alone)


@dataclass(frozen=True, slots=True)
class _NodeStatic:
    """What every proof node of one program node shows whatever the applicant, made once per
    program: most of a proof node is this, so building one per answer costs a tuple, not a dict
    merge and a source dict. `detail` and `source` are read-only views: every proof of the
    program shares them, and a proof that changes its detail puts a new mapping in its place."""

    kind: str
    label: str
    rule_id: str | None
    source: Mapping[str, str] | None
    explanation: str
    detail: Mapping[str, Any]
    # the JSON of `detail` where it holds no mapping or list (those are written afresh per answer,
    # so no two answers share a mutable part); None otherwise
    json_detail: dict[str, Any] | None
    # how its value is found: an input (the applicant's facts and quantities), a view (from its
    # children), or derived (what the evaluator found)
    source_of_value: int
    # of a rule: its exceptions, each with the node that says whether it applies
    exceptions: tuple[tuple[str, str], ...]
    period: bool  # a rule with a period of validity: the peildatum may lie outside it


_INPUT, _VIEW, _DERIVED = 0, 1, 2


_SHOWN_DETAIL = (
    "precedence",
    "unit",
    "comparator",
    "name",
    "open_norm",
    "free_text",
    "reference",
    "valid_from",
    "valid_until",
    "assumption",
)


class _ProgramCache:
    """What proofs of one program share whatever the applicant, kept on the program (not one of its
    fields). It pickles empty: a cached or copied program works it out again when first asked."""

    def __init__(self) -> None:
        self.details: dict[str, dict[str, Any]] | None = None
        self.nodes: dict[str, _NodeStatic] | None = None
        self.exception_routes: dict[tuple[str, ...], list[tuple[str, str, str]]] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_ProgramCache, ())


def _program_cache(program: Program) -> _ProgramCache:
    found = program.__dict__.get("_proof_cache")
    if found is None:
        found = program.__dict__["_proof_cache"] = _ProgramCache()
    return found


def _static_details(program: Program) -> dict[str, dict[str, Any]]:
    """Per node, the detail a proof shows whatever the applicant: worked out once per program."""
    cache = _program_cache(program)
    if cache.details is None:
        details = {}
        for nid, node in program.nodes.items():
            merged = {k: v for k, v in node.detail.items() if k in _SHOWN_DETAIL and v}
            if node.kind == "compare":
                merged["threshold"] = node.detail["value"]
            details[nid] = merged
        cache.details = details
    return cache.details


def _exception_routes(program: Program, roots: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Every exception reachable from `roots`, once, in the order of the node graph, with the node
    that says whether it applies and the label of the rule it belongs to: the same for every
    applicant, so worked out once per program and set of roots instead of walking the graph per answer."""
    routes = _program_cache(program).exception_routes
    found = routes.get(roots)
    if found is None:
        seen: dict[str, tuple[str, str, str]] = {}
        for nid in program.reachable(list(roots)):
            node = program.nodes[nid]
            if node.kind == "rule":
                for eid in node.children[1:]:
                    if eid not in seen:
                        seen[eid] = (eid, program.nodes[eid].detail["applies"], node.label)
        found = routes[roots] = list(seen.values())
    return found


def _node_statics(program: Program) -> dict[str, _NodeStatic]:
    cache = _program_cache(program)
    if cache.nodes is None:
        details = _static_details(program)
        statics = {}
        for nid, node in program.nodes.items():
            detail = details[nid]
            plain = all(not isinstance(v, (dict, list, tuple)) for v in detail.values())
            statics[nid] = _NodeStatic(
                kind=node.kind,
                label=node.label,
                rule_id=node.rule_id,
                source=MappingProxyType({"file": node.source.file, "quote": node.source.quote})
                if node.source
                else None,
                explanation=node.detail.get("explanation", ""),
                detail=MappingProxyType(detail),
                json_detail={k: _json_value(v) for k, v in sorted(detail.items())} if plain else None,
                source_of_value=_INPUT if node.kind in ("fact", "quantity") else _VIEW if node.view else _DERIVED,
                exceptions=tuple((e, program.nodes[e].detail["applies"]) for e in node.children[1:])
                if node.kind == "rule"
                else (),
                period=bool(node.detail.get("valid_from") or node.detail.get("valid_until")),
            )
        cache.nodes = statics
    return cache.nodes


class ProofBuilder:
    def __init__(
        self, program: Program, values: dict[str, set[Any]], inputs: dict[str, Any], every_failure: bool = False
    ):
        self.program = program
        self.nodes = program.nodes
        # why-not: every condition that is not met on every route, also the false alternatives of
        # an `een_van` (or of a goal's routes) whose outcome is still open, and every exception
        # of a rule that does not hold
        self.every_failure = every_failure
        self.values = values
        self.inputs = inputs
        self._static = _node_statics(program)
        self._shown: set[str] = set()  # rules and disagreements already expanded in this proof

    def value(self, nid: str) -> Any:
        way = self._static[nid].source_of_value
        if way == _DERIVED:
            found = self.values.get(nid)
            if not found:
                return None
            if len(found) > 1:
                return CONFLICT
            for only in found:
                return only
        if way == _INPUT:
            return self.inputs.get(nid)
        return self._view_value(self.nodes[nid])

    def _view_value(self, node: Node) -> Any:
        if node.kind == "not":
            child = self.value(node.children[0])
            return (not child) if child in (True, False) else child
        if node.kind == "rule":
            return self.value(node.children[0])
        # an exception: it applies and, if it has conditions of its own, they hold (Kleene and)
        parts = [self.value(c) for c in node.children]
        if any(p is False for p in parts):
            return False
        if all(p is True for p in parts):
            return True
        return CONFLICT if CONFLICT in parts else None

    def _make(
        self, node: Node, value: Any, children: list[ProofNode], extra: dict[str, Any] | None = None
    ) -> ProofNode:
        s = self._static[node.id]
        detail = {**s.detail, **extra} if extra else s.detail
        return ProofNode(node.id, s.kind, s.label, value, s.rule_id, s.source, s.explanation, detail, children, s)

    def build(self, nid: str) -> ProofNode:
        """The proof rooted at `nid`; a rule is worked out once per proof, later mentions refer back."""
        self._shown = set()
        return self._build(nid)

    def _build(self, nid: str) -> ProofNode:
        node = self.nodes[nid]
        kind = node.kind
        if kind == "fact":
            s = self._static[nid]
            return ProofNode(
                nid, kind, s.label, self.inputs.get(nid), s.rule_id, s.source, s.explanation, s.detail, [], s
            )
        v = self.value(nid)
        if kind == "quantity":
            return self._make(node, v, [self._make(self.nodes[i], self.inputs.get(i), []) for i in node.children])
        if kind == "compare":
            return self._make(node, v, [self._build(node.children[0])])
        if kind == "conclusion" and len(node.children) == 1:
            return self._build(node.children[0])
        if kind in ("rule", "consensus") and nid in self._shown:
            return self._make(node, v, [], {"shown_above": True})
        if kind in ("rule", "consensus"):
            self._shown.add(nid)
        if kind == "rule":
            return self._rule(node, v)
        if kind == "exception":
            applies = self._build(node.detail["applies"])
            kids = [applies]
            if node.detail["body"] and applies.value is not False:
                kids.append(self._build(node.detail["body"]))
            return self._make(node, v, kids, {"exception_to": node.detail["exception_to"]})
        if kind == "consensus":
            kids = [self._build(c) for c in node.children]
            disagree = len({k.value for k in kids}) > 1
            precedence = node.detail.get("precedence")
            if precedence is None:
                return self._make(node, v, kids, {"sources_disagree": disagree})
            # the source that goes first decides; beside it, what every other source would give
            others = [
                {"rule_id": k.rule_id, "source_file": k.source["file"] if k.source else None, "value": k.value}
                for k in kids
                if k.rule_id != precedence["rule_id"]
            ]
            return self._make(node, v, kids, {"sources_disagree": disagree, "other_sources": others})
        kids = [self._build(c) for c in self._relevant(node, v)]
        if kind == "conclusion":
            # several rules conclude it: the pointers elsewhere of those that hold are its own
            references = joined_references(kids)
            if references:
                return self._make(node, v, kids, {"reference": references})
        return self._make(node, v, kids)

    def _relevant(self, node: Node, v: Any) -> list[str]:
        kids = node.children
        if node.kind == "not":
            return kids
        conjunctive = node.kind == "all"
        if v is True:
            return kids if conjunctive else [c for c in kids if self.value(c) is True]
        if v is False or self.every_failure:
            # the failing conditions, and beside them what is still unknown (it would matter
            # once the failing ones are repaired)
            return [c for c in kids if self.value(c) is not True] if conjunctive else kids
        return [c for c in kids if self.value(c) not in (True, False)] or kids

    def applied_exceptions(self, roots: list[str | None]) -> list[ProofNode]:
        """Every exception on the way to `roots` that applies, whatever a proof keeps of it.

        An exception that applies sets its rule aside (a ground of refusal that does not hold, an
        exemption used). A proof of an open or failing goal keeps only what is open or fails, so
        this list is what says, in any outcome, which rules were set aside and by which quote. In
        the order of the node graph from the roots; each exception once, with the proof of why it
        applies and the rule it sets aside (`detail.exception_to_label`).
        """
        out = []
        for eid, applies, rule_label in _exception_routes(self.program, tuple(r for r in roots if r)):
            if self.value(applies) is True:
                proof = self.build(eid)
                proof.detail = {**proof.detail, "exception_to_label": rule_label}
                out.append(proof)
        return out

    def _period(self, node: Node) -> dict[str, Any]:
        """Whether the peildatum lies outside the rule's period: lapsed, or not yet in force."""
        peildatum = self.inputs.get("peildatum")
        start, end = node.detail.get("valid_from"), node.detail.get("valid_until")
        if peildatum is None:
            return {}
        if end and peildatum >= end:
            return {"lapsed_since": end}
        if start and peildatum < start:
            return {"not_yet_since": start}
        return {}

    def _rule(self, node: Node, v: Any) -> ProofNode:
        exceptions = self._static[node.id].exceptions
        applied = [e for e, applies in exceptions if self.value(applies) is True] if exceptions else []
        kids: list[ProofNode] = []
        if not applied:
            base = self._build(node.children[0])
            # a rule's own list of conditions reads better without an extra "alle" level
            kids.extend(base.children if base.kind == "all" else [base])
        if applied:
            kids.extend(self._build(e) for e in applied)
        elif v is not True:
            # a false rule shows why no exception saves it; an unknown one, which might
            kids.extend(
                self._build(e)
                for e, applies in exceptions
                if v is False or self.every_failure or self.value(applies) is not False
            )
        extra = self._period(node) if self._static[node.id].period else {}
        if exceptions:
            extra["overridden"] = bool(applied)
        return self._make(node, v, kids, extra)


def _governing_rule(p: ProofNode) -> str | None:
    """Of a source disagreement that precedence decides, the rule of the source that goes first."""
    if p.kind != "consensus":
        return None
    precedence = p.detail.get("precedence")
    return precedence["rule_id"] if precedence else None


def open_disagreements(proof: ProofNode) -> list[str]:
    """The source disagreements (bronverschillen) under an undecided node whose sources differ
    here, in proof order: what keeps the node open besides unknown facts."""
    found: dict[str, None] = {}

    def walk(p: ProofNode, undecided: bool) -> None:
        if (
            p.kind == "consensus"
            and undecided
            and p.rule_id
            and p.value not in (True, False)
            and {True, False} <= {c.value for c in p.children}
        ):
            found[p.rule_id] = None
        open_here = undecided and p.value not in (True, False)
        for child in p.children:
            walk(child, open_here)

    walk(proof, proof.value is None or proof.value == CONFLICT)
    return list(found)


def unknown_facts(proof: ProofNode) -> list[str]:
    """Input facts that are unknown somewhere under an undecided node, in proof order.

    A node that is decided (true or false) stays so whatever its unknown parts turn out to be
    (the logic is monotone), so the walk collects nothing below it: under a bronverschil whose
    sources disagree, a source that is already false does not make its open facts deciding.
    """
    found: dict[str, None] = {}

    def walk(p: ProofNode, undecided: bool) -> None:
        # `undecided`: the parent's value is still open
        if p.kind == "fact":
            if p.value is None and undecided:
                found[p.node] = None
            return
        if p.kind == "quantity" and p.value is None:
            if not undecided:
                return
            for child in p.children:
                if child.value is None:
                    found[child.node] = None
            if all(child.value is not None for child in p.children):
                # every input is known but the rule needs a detail inside one of them
                for child in p.children:
                    found[child.node] = None
            return
        open_here = undecided and p.value not in (True, False)
        governing = _governing_rule(p)
        for child in p.children:
            # under a disagreement that precedence decides, only the source that goes first can decide
            walk(child, open_here and (governing is None or child.rule_id == governing))

    walk(proof, proof.value is None or proof.value == CONFLICT)
    return list(found)


def failing_conditions(proof: ProofNode, scope: ProofNode | None = None) -> list[ProofNode]:
    """The rules on the way to the goal that fail or are unknown: what why-not lists.

    Under a `niet` a rule that does not hold is what is wanted, so polarity flips there; an
    exception that does not apply is not a failure of its own. A scope rule that sends the
    applicant elsewhere is a reason too.
    """
    out: list[ProofNode] = []

    def walk(node: ProofNode, positive: bool) -> None:
        if node.kind == "not":
            positive = not positive
        elif node.kind in ("rule", "consensus", "compare") and not node.detail.get("shown_above"):
            wanted = True if positive else False
            if node.value is not wanted:
                out.append(node)
        if node.kind == "exception":
            return
        governing = _governing_rule(node)
        for child in node.children:
            if governing is None or child.rule_id == governing:  # another source's rule decides nothing
                walk(child, positive)

    walk(proof, True)
    if scope is not None and scope.value is not False:
        out.extend(n for n in scope.walk() if n.kind == "rule" and n.value is not False)
    return out
