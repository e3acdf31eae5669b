"""Audit of the whole rule base for legal analysts: conflicts, gaps, dead and redundant rules,
disagreeing sources, time and structure, each with its rules, their sources and a witness.

The search is over the finite space of situations the rules can tell apart (engine.checks.audit_space):
every yes/no atom true or false, every compared fact or quantity in each class its thresholds
create. The compiled program is evaluated over all of them at once with decision diagrams. Which
combinations of the classes that come from dates are real is searched for (audit_space.DateLibrary);
a goal is called exhaustive only when every combination of its date classes was found, and the
report lists the others per goal. A finding about a
situation comes with a witness: an applicant file, built from dates the audit constructed and
made minimal by leaving out facts one at a time while the finding still reproduces, checked
with the set-at-a-time evaluator and finally with pyDatalog, the reference engine.

Nothing here names a rule of the current knowledge base: the checks read the declarations.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable

from dd.autoref import Function

from engine.answer.proof import CONFLICT, ProofBuilder, unknown_facts
from engine.checks.audit_space import AtomSpace, DateLibrary, bitwise, situation
from engine.errors import KnowledgeBaseError, VerblijfsregelsError
from engine.evaluate.datalog import DatalogEvaluator
from engine.evaluate.setwise import SetwiseEvaluator
from engine.evaluate.symbolic import SymbolicEvaluator, all_of, any_of
from engine.graph import graph_of, strongly_connected
from engine.rules.compiler import safe
from engine.rules.model import AUDIT_KINDS, Compare, Expr, FeeRule, KnowledgeBase, Rule, dependency_edges, expr_names

AUDIT_FORMAT = "verblijfsregels/audit"
AUDIT_VERSION = 4  # 2: each finding names its declarations, inventory rows and places in kb/; 3: kb_version;
# 4: the summary's keys English (errors, warnings, info, explained; they were the severities fout, waarschuwing, info)

ERROR, WARNING, INFO = "fout", "waarschuwing", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
# (category, heading) in report order; every kind of finding belongs to one category
CATEGORIES = [
    ("tegenstrijdig", "Tegenstrijdigheden"),
    ("leemte", "Leemten"),
    ("dood", "Dode regels"),
    ("overbodig", "Overbodige regels"),
    ("bronverschil", "Bronverschillen"),
    ("brontrouw", "Brontrouw"),
    ("tijd", "Tijd"),
    ("structuur", "Structuur"),
    ("aanname", "Aannames"),
]
CATEGORY_OF = {
    "tegenstrijdig": "tegenstrijdig",
    "leemte": "leemte",
    "dood": "dood",
    "nooit_van_toepassing": "dood",
    "altijd_opzij": "dood",
    "overschaduwd": "dood",
    "overbodig": "overbodig",
    "bronverschil": "bronverschil",
    "vervallen": "tijd",
    "nog_niet_geldig": "tijd",
    "parameter_overlap": "tijd",
    "parameter_gat": "tijd",
    "ongebruikt": "structuur",
    "laadfout": "structuur",
    "kringloop": "structuur",
    "vergelijking": "structuur",
    "verklaring_zonder_bevinding": "structuur",
    "aanname": "aanname",
    "citaat": "brontrouw",
    "bedrag": "brontrouw",
}
SEVERITY_OF = {
    "tegenstrijdig": ERROR,
    "leemte": ERROR,
    "laadfout": ERROR,
    "kringloop": ERROR,
    "vergelijking": ERROR,
    "bronverschil": INFO,
    "aanname": INFO,
    "citaat": ERROR,
    "bedrag": ERROR,
}
assert set(CATEGORY_OF) == set(AUDIT_KINDS)

RECOMPUTE_BUDGET = 4096  # fully known situations per goal recomputed concretely by the set-at-a-time evaluator


@dataclass
class Witness:
    label: str  # what the situation shows, in Dutch
    applicant: dict[str, Any]  # an applicant file
    command: str  # how to reproduce it
    verified: bool  # the finding reproduced with pyDatalog, the reference engine

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "applicant": self.applicant, "command": self.command, "verified": self.verified}


@dataclass
class Finding:
    kind: str
    key: str
    title: str
    message: str
    rules: list[dict[str, Any]] = field(default_factory=list)
    witnesses: list[Witness] = field(default_factory=list)
    severity: str = ""
    explained: str | None = None  # the reason the rule base gives, if the finding is known
    explained_where: str = ""
    # for review (engine.checks.locations.annotate): what it concerns and where that is written
    declarations: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    locations: list[dict[str, Any]] = field(default_factory=list)  # {id, file, line}
    explanation_location: dict[str, Any] | None = None
    fingerprint: str = ""  # of the declarations it concerns (engine.checks.explanations)
    stale: dict[str, Any] | None = None  # an explanation written for other declarations: no longer explains

    def __post_init__(self) -> None:
        self.severity = self.severity or SEVERITY_OF.get(self.kind, WARNING)

    @property
    def category(self) -> str:
        return CATEGORY_OF[self.kind]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "category": self.category,
            "severity": self.severity,
            "key": self.key,
            "title": self.title,
            "message": self.message,
            "rules": self.rules,
            "declarations": self.declarations,
            "rows": self.rows,
            "locations": self.locations,
            "witnesses": [w.to_json() for w in self.witnesses],
            "explained": None
            if self.explained is None
            else {"reason": self.explained, "where": self.explained_where, "location": self.explanation_location},
            "fingerprint": self.fingerprint,
            "stale_explanation": self.stale,
        }


@dataclass
class GoalCoverage:
    goal: str
    label: str
    yes_no_atoms: int
    compared: list[dict[str, Any]]  # {name, classes: [labels]}
    known_situations: int  # every atom known
    situations: int  # each atom may also be unknown
    recomputed: int  # fully known situations recomputed concretely by the set-at-a-time evaluator
    recompute_exhaustive: bool
    # per cluster of date facts the goal reads: which combinations of its classes dates gave
    dates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exhaustive(self) -> bool:
        """Every situation examined: every combination of the classes that come from dates was
        found with real dates (a combination without an example is neither shown possible nor
        impossible, so the situations with it are not examined)."""
        return all(not d["without_example"] for d in self.dates)

    def to_json(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "label": self.label,
            "yes_no_atoms": self.yes_no_atoms,
            "compared": self.compared,
            "situations_known": self.known_situations,
            "situations_with_unknown": self.situations,
            "examined": "all" if self.exhaustive else "all_with_dated_examples",
            "method": "symbolic",
            "exhaustive": self.exhaustive,
            "date_combinations": self.dates,
            "recomputed_concretely": self.recomputed,
            "recompute_exhaustive": self.recompute_exhaustive,
            "recompute_budget": RECOMPUTE_BUDGET,
        }


@dataclass
class AuditReport:
    peildatum: date
    findings: list[Finding]
    coverage: list[GoalCoverage] = field(default_factory=list)
    dates: list[dict[str, Any]] = field(default_factory=list)  # per cluster of date facts
    notes: list[str] = field(default_factory=list)  # what the search covers, in Dutch
    graph: str = ""  # DOT
    routes: dict[str, Any] = field(default_factory=dict)  # the search for routes open with every fact known
    unrealised: list[str] = field(default_factory=list)  # findings only combinations without dates would give
    kb_version: str = ""  # the rule base audited (KnowledgeBase.version): which rules the findings are about

    def counts(self) -> dict[str, int]:
        open_ = [f for f in self.findings if f.explained is None]
        return {
            "errors": sum(f.severity == ERROR for f in open_),
            "warnings": sum(f.severity == WARNING for f in open_),
            "info": sum(f.severity == INFO for f in open_),
            "explained": sum(f.explained is not None for f in self.findings),
        }

    @property
    def failed(self) -> bool:
        """An unexplained finding of severity error: what --strict refuses."""
        return any(f.severity == ERROR and f.explained is None for f in self.findings)

    def by_category(self) -> list[tuple[str, str, list[Finding]]]:
        return [(cat, heading, [f for f in self.findings if f.category == cat]) for cat, heading in CATEGORIES]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": AUDIT_FORMAT,
            "version": AUDIT_VERSION,
            "kb_version": self.kb_version,
            "peildatum": self.peildatum.isoformat(),
            "summary": self.counts(),
            "strict_fails": self.failed,
            "findings": [f.to_json() for f in self.findings],
            "coverage": {
                "goals": [c.to_json() for c in self.coverage],
                "dates": self.dates,
                "routes": self.routes,
                "unrealised": self.unrealised,
                "notes": self.notes,
            },
        }


def _sort(findings: list[Finding]) -> list[Finding]:
    order = {cat: i for i, (cat, _) in enumerate(CATEGORIES)}
    return sorted(findings, key=lambda f: (order[f.category], SEVERITY_ORDER[f.severity], f.key))


def euro(cents: int | None) -> str:
    if cents is None:
        return "geen bedrag"
    whole, rest = divmod(cents, 100)
    return f"€ {whole:,}".replace(",", ".") + f",{rest:02d}"


# -- entry points ------------------------------------------------------------------------------------


def audit_directory(kb_dir: Path, peildatum: date) -> AuditReport:
    """Audit the rule base in `kb_dir`; one that does not load gets every load error, and the
    audit of what loads without them (engine.checks.load_errors)."""
    from engine.answer.assess import Engine
    from engine.checks.locations import annotate

    try:
        engine = Engine(kb_dir, evaluator=SetwiseEvaluator)
    except KnowledgeBaseError as exc:
        from engine.checks.load_errors import audit_in_part

        # what loads is audited (and annotated) by this function on a copy with the same file names
        return audit_in_part(kb_dir, peildatum, exc, Finding, audit_directory, AuditReport, _sort)
    report = Auditor(engine, peildatum).run()
    annotate(report, engine.kb, kb_dir)
    return report


class Auditor:
    """The audit of one engine's rule base. Its witnesses are recomputed concretely, many at a
    time, so the engine's evaluator must be the set-at-a-time one."""

    def __init__(self, engine: Any, peildatum: date, seed: int = 0):
        if not isinstance(engine.evaluator, SetwiseEvaluator):
            raise TypeError("de audit rekent situaties set voor set na: maak de Engine met SetwiseEvaluator")
        self.engine = engine
        self.kb: KnowledgeBase = engine.kb
        self.program = engine.program
        self.peildatum = peildatum
        self.space = AtomSpace(self.kb, self.program, peildatum)
        self.bdd = self.space.bdd
        self.sym = SymbolicEvaluator(self.program).run([self.space])
        self.library = DateLibrary(self.space, seed=seed)
        self.valid = self.space.constraint & self.library.constraint
        self.derived = engine.derived
        self._reference: Any = None
        self.findings: list[Finding] = []
        self.unrealised: list[str] = []  # findings only combinations of date classes without an example give
        self._reach: dict[str, set[str]] = {}
        self.seed = seed

    # -- helpers ---------------------------------------------------------------------------------

    def rule_node(self, rule: Rule) -> str:
        if rule.conclusion and len(self.kb.rules_for.get(rule.conclusion, ())) == 1:
            return rule.conclusion
        return f"rule_{safe(rule.id)}"

    def ref(self, rid: str) -> dict[str, Any]:
        kb = self.kb
        item: Any = kb.rules.get(rid) or kb.fee_rules.get(rid) or kb.fee_ranges.get(rid)
        if item is not None:
            if getattr(item, "assumption", None) is not None:  # no seed states it: no quote to show
                return {"id": rid, "label": item.label, "source": None}
            return {"id": rid, "label": item.label, "source": {"file": item.source.file, "quote": item.source.quote}}
        if rid in kb.disagreements:
            return {"id": rid, "label": kb.disagreements[rid].label, "source": None}
        return {"id": rid, "label": kb.label_of(rid), "source": None}

    def goal_roots(self, gid: str) -> list[str]:
        goal = self.kb.goals[gid]
        roots = [goal.conclusion] + ([goal.out_of_scope] if goal.out_of_scope else [])
        roots += [r.conclusion for r in self.kb.rules.values() if r.conclusion and gid in r.goals]
        return roots

    def reach(self, gid: str) -> set[str]:
        if gid not in self._reach:
            self._reach[gid] = set(self.program.reachable(self.goal_roots(gid)))
        return self._reach[gid]

    def goal_for(self, nodes: Iterable[str]) -> str | None:
        wanted = set(nodes)
        for gid in sorted(self.kb.goals):
            if wanted <= self.reach(gid):
                return gid
        return None

    def sat(self, condition: Function, what: str | None = None) -> bool:
        """Satisfiable by a situation with dated examples. When not, but by the atoms alone (a
        combination of date classes the search found no dates for), `what` is recorded: the
        finding it would have been, had that combination been possible."""
        got = (condition & self.valid) != self.bdd.false
        if not got and what is not None and self.conceivable(condition):
            self.unrealised.append(what)
        return got

    def conceivable(self, condition: Function) -> bool:
        """Satisfiable by the atoms alone, whether or not dates can produce it."""
        return (condition & self.space.constraint) != self.bdd.false

    # -- evaluating applicant files ---------------------------------------------------------------

    def values(self, data: dict[str, Any]) -> ProofBuilder | None:
        """Every node's value for one applicant file, by the engine's (set-at-a-time) evaluator."""
        from engine.answer.assess import ALL

        try:
            _, inputs = self.engine.inputs(data, self.peildatum)
        except VerblijfsregelsError:
            return None
        return self.engine.evaluate_inputs(inputs, ALL)

    def reference(self, data: dict[str, Any], goal: str | None, form: str | None) -> ProofBuilder | None:
        """The same, by pyDatalog (the reference evaluator), through the goal's or form's model."""
        from engine.answer.assess import ALL

        if self._reference is None:
            self._reference = self.engine.with_evaluator(DatalogEvaluator)
        engine = self._reference
        try:
            applicant, _ = engine.inputs(data, self.peildatum, checked=False)
        except VerblijfsregelsError:
            return None
        model = f"form_{form}" if form else goal
        if model is None or model not in engine.models:
            model = ALL
        return engine.evaluate(applicant, model, self.peildatum)

    def witness(
        self,
        condition: Function,
        nodes: list[str],
        holds: Callable[[ProofBuilder], bool],
        label: str,
        goal: str | None = None,
        form: str | None = None,
    ) -> Witness | None:
        """A minimal applicant file for which `holds`, found among the situations in `condition`."""
        # dd's pick walks low (false) branches first and sets the support's variables off that path
        # to false: the least satisfying assignment in variable order, so witnesses are stable
        # (tests/test_audit.py pins this)
        assignment = self.bdd.pick(condition & self.valid)
        if assignment is None:
            return None
        if goal is None and form is None:
            goal = self.goal_for(nodes)
        data = situation(self.space, self.library, assignment, self.space.atoms_under(nodes))
        builder = self.values(data)
        if builder is None or not holds(builder):
            raise AuditError(f"getuige voor '{label}' reproduceert niet: {data}")
        for name in sorted(data, key=lambda n: (isinstance(data[n], list), n), reverse=True):
            trial = {k: v for k, v in data.items() if k != name}
            got = self.values(trial)
            if got is not None and holds(got):
                data = trial
            elif isinstance(data[name], list) and len(data[name]) > 1:
                for i in reversed(range(len(data[name]))):
                    shorter = {**data, name: [p for j, p in enumerate(data[name]) if j != i]}
                    got = self.values(shorter)
                    if got is not None and holds(got):
                        data = shorter
        ref = self.reference(data, goal, form)
        verified = ref is not None and holds(ref)
        if form:
            command = f"verblijfsregels fees getuige.yaml --form {form} --peildatum {self.peildatum.isoformat()}"
        elif goal:
            command = f"verblijfsregels assess getuige.yaml --goal {goal} --peildatum {self.peildatum.isoformat()}"
        else:
            command = f"verblijfsregels assess getuige.yaml --peildatum {self.peildatum.isoformat()}"
        ordered = {k: data[k] for k in sorted(data)}
        return Witness(label, ordered, command, verified)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    # -- the run ----------------------------------------------------------------------------------

    def run(self) -> AuditReport:
        from engine.checks.fidelity import audit_sources

        found, fidelity_note = audit_sources(self.kb, getattr(self.engine, "kb_dir", None), Finding)
        self.findings += found
        self.assumptions()
        self.structure()
        self.conflicts()
        self.gaps()
        self.dead()
        self.redundant()
        self.sources()
        self.fee_trees()
        from engine.checks import disagreements

        self.findings += disagreements.check(self, Finding)
        self.findings += disagreements.declared(self.kb, self.findings, Finding)
        self.time()
        coverage = [self.coverage(gid) for gid in sorted(self.kb.goals)]
        self.explain()
        report = AuditReport(self.peildatum, _sort(self.findings), coverage, kb_version=self.kb.version)
        report.dates = [
            {
                "facts": c.facts,
                "atoms": c.atoms,
                "samples": c.samples,
                "combinations": len(c.found),
                "stopped": c.stopped,
                "patience": self.library.patience,
                "max_samples": self.library.max_samples,
            }
            for c in self.library.clusters
        ]
        report.notes = self.completeness_notes() + [fidelity_note]
        report.routes = {"checked": self.route_checks, "open_with_everything_known": list(self.route_gaps)}
        report.unrealised = sorted(set(self.unrealised))
        from engine.checks.audit_graph import dot

        report.graph = dot(self.kb, report.findings)
        return report

    # -- conflicts ---------------------------------------------------------------------------------

    def conflicts(self) -> None:
        bdd, sym, nodes = self.bdd, self.sym, self.program.nodes
        both = {n: sym.true(n) & sym.false(n) for n in nodes if nodes[n].kind not in ("fact", "quantity")}
        for nid, node in nodes.items():
            if node.kind in ("fact", "quantity") or node.view or both[nid] == bdd.false:
                continue
            inherited = any_of(bdd, (both[c] for c in node.children if c in both))
            origin = both[nid] & ~inherited
            if not self.sat(origin, f"tegenstrijdig/{node.rule_id or nid}"):
                continue
            rule_id = node.rule_id or nid
            w = self.witness(
                origin, [nid], lambda b, n=nid: b.value(n) == CONFLICT, f"{node.label}: zowel waar als onwaar afgeleid"
            )
            rules = [rule_id] if node.rule_id else []
            if w is not None:
                builder = self.values(w.applicant)
                for eid in node.detail.get("exceptions", []):
                    exception = nodes[f"exception_{safe(eid)}"]
                    if builder is not None and builder.value(exception.detail["applies"]) is True:
                        rules.append(eid)
            self.add(
                Finding(
                    "tegenstrijdig",
                    f"tegenstrijdig/{rule_id}",
                    f"{rule_id}: waar én onwaar in dezelfde situatie",
                    f"Voor dezelfde situatie leidt de kennisbank '{node.label}' zowel af als waar en als onwaar"
                    + (" (twee uitzonderingen die elk iets anders zeggen)" if len(rules) > 2 else "")
                    + ".",
                    [self.ref(r) for r in rules],
                    [w] if w else [],
                )
            )
        for gid in sorted(self.kb.goals):
            goal = self.kb.goals[gid]
            if not goal.out_of_scope:
                continue
            condition = sym.true(goal.conclusion) & sym.true(goal.out_of_scope)
            if not self.sat(condition, f"tegenstrijdig/buiten_bereik/{gid}"):
                continue
            w = self.witness(
                condition,
                [goal.conclusion, goal.out_of_scope],
                lambda b, g=goal: b.value(g.conclusion) is True and b.value(g.out_of_scope) is True,
                "komt in aanmerking én valt buiten de kennisbank",
                goal=gid,
            )
            rules = self.kb.rules_for.get(goal.out_of_scope, [])
            routes = self.kb.rules_for.get(goal.conclusion, [])
            self.add(
                Finding(
                    "tegenstrijdig",
                    f"tegenstrijdig/buiten_bereik/{gid}",
                    f"{gid}: in aanmerking én buiten bereik",
                    f"Voor dezelfde situatie zeggen de regels dat de aanvrager in aanmerking komt voor '{goal.label}' "
                    "en dat de bronnen hem naar een andere regeling verwijzen. De uitkomst is dan 'valt buiten "
                    "deze kennisbank' (buiten bereik gaat voor); de voorwaarden van de route sluiten dit niet uit.",
                    [self.ref(r) for r in [*routes, *rules]],
                    [w] if w else [],
                )
            )

    # -- gaps ---------------------------------------------------------------------------------------

    def cycles(self) -> list[list[str]]:
        """Groups of conclusions that depend on each other (positive recursion; the loader refuses
        recursion through negation)."""
        kb = self.kb
        edges = dependency_edges(kb)
        nodes = kb.derived_predicates()
        out = []
        for group in strongly_connected(graph_of(nodes, ((h, b) for h, b, _ in edges))):
            component = set(group)
            if len(component) > 1 or any(h == b for h, b, _ in edges if h in component):
                if component & nodes:
                    out.append(sorted(component & nodes))
        return sorted(out)

    def cycle_rules(self, group: list[str]) -> list[str]:
        kb = self.kb
        rules = [r for name in group for r in kb.rules_for.get(name, [])]
        rules += [e for r in list(rules) for e in kb.exceptions_of.get(r, [])]
        rules += [kb.disagreements[kb.disagreement_for[n]].id for n in group if n in kb.disagreement_for]
        return rules

    def ill_typed(self) -> list[tuple[str, Compare, str]]:
        """(owner id, comparison, why) for comparisons that can be neither true nor false."""
        kb = self.kb
        out = []

        def walk(owner: str, e: Expr | None) -> None:
            if e is None:
                return
            if isinstance(e, Compare):
                why = _type_problem(kb, e)
                if why:
                    out.append((owner, e, why))
                return
            for child in getattr(e, "operands", ()) or ([e.operand] if hasattr(e, "operand") else []):
                walk(owner, child)

        for rule in kb.rules.values():
            walk(rule.id, rule.conditions)
            walk(rule.id, rule.applies_when)
        for fee in kb.fee_rules.values():
            walk(fee.id, fee.applies_when)
        return out

    def gaps(self) -> None:
        """Routes (and scopes) that stay open in a situation where every atom they read is known.

        Searched over every situation, whatever the cause (a cycle, a comparison that is never true
        or false, or anything else): each source disagreement is read as its first source says, so
        that the deliberate "the sources differ" is not a gap.
        """
        kb = self.kb
        self._cycles = self.cycles()
        self._ill_typed = self.ill_typed()
        resolved = SymbolicEvaluator(self.program, resolve_disagreements=True).run([self.space])
        self.route_checks = 0
        self.route_gaps: list[str] = []
        for gid in sorted(kb.goals):
            goal = kb.goals[gid]
            for pred, what in ((goal.conclusion, "de route"), (goal.out_of_scope, "de reikwijdte")):
                if not pred:
                    continue
                self.route_checks += 1
                t, f = resolved.pair(pred)
                open_ = ~t & ~f
                key = f"leemte/{gid}" + ("" if pred == goal.conclusion else "/buiten_bereik")
                if not self.sat(open_, key):
                    continue

                def holds(b: ProofBuilder, p: str = pred) -> bool:
                    if b.value(p) is not None:
                        return False
                    proof = b.build(p)
                    return not unknown_facts(proof) and not any(n.detail.get("sources_disagree") for n in proof.walk())

                w = self.witness(open_, [pred], holds, f"{what} blijft open terwijl alles bekend is", goal=gid)
                reach = self.program.reachable([pred])
                stuck = [r for g in self._cycles if set(g) & set(reach) for r in self.cycle_rules(g)]
                stuck += [
                    owner
                    for owner, _, _ in self._ill_typed
                    if owner in kb.rules and self.rule_node(kb.rules[owner]) in reach
                ]
                stuck = stuck or kb.rules_for.get(pred, [])
                self.route_gaps.append(key)
                self.add(
                    Finding(
                        "leemte",
                        key,
                        f"{gid}: {what} slaagt niet, faalt niet en is niet onbepaald door een onbekend feit",
                        f"In deze situatie is elk feit dat {what} leest bekend, er is geen bronverschil, en toch "
                        "leidt de kennisbank geen uitkomst af: geen vraag aan de aanvrager kan haar beslissen.",
                        [self.ref(r) for r in dict.fromkeys(stuck)],
                        [w] if w else [],
                    )
                )
        self.fee_gaps()

    # -- fees ----------------------------------------------------------------------------------------

    def _fee_tree(self) -> tuple[dict[str, list[FeeRule]], dict[str, list[FeeRule]]]:
        roots: dict[str, list[FeeRule]] = {}
        children: dict[str, list[FeeRule]] = {}
        for fee in self.kb.fee_rules.values():
            if fee.exception_to:
                children.setdefault(fee.exception_to, []).append(fee)
            else:
                roots.setdefault(fee.form, []).append(fee)
        return roots, children

    def _applies(self, fee: FeeRule) -> Function:
        return self.bdd.true if fee.applies_when is None else self.sym.expr(fee.applies_when)[0]

    def _decides(self) -> tuple[dict[str, Function], dict[str, Function]]:
        """Per fee rule: situations in which its source's walk reaches it, and in which it decides
        (no exception below it is followed), where its source speaks. Read from the compiled fee
        choice (`engine.rules.compiler.FeeChoice`), the nodes `fees` and batch read too."""
        bdd, sym = self.bdd, self.sym
        reached: dict[str, Function] = {}
        decides: dict[str, Function] = {}
        for fee_id, choice in self.program.fee_choice.items():
            speaks = self._applies(self.kb.fee_rules[choice.root])
            reached[fee_id] = speaks & (sym.true(choice.reached) if choice.reached else bdd.true)
            decides[fee_id] = speaks & (sym.true(choice.chosen) if choice.chosen else bdd.true)
        return reached, decides

    @staticmethod
    def _leaves(source: Any) -> list[str]:
        """The fee rules a source's answer ends in: the one that decided, or each it leaves open between."""
        if source.conflict is None:
            return [source.decided_by[-1]["rule_id"]]
        return [b["decided_by"][-1]["rule_id"] for b in source.conflict["branches"]]

    def amount(self, fee: FeeRule) -> int | None:
        value = self.kb.parameters[fee.parameter].at(self.peildatum)
        return value.value if value else None

    def fee_answer(self, b: ProofBuilder, form: str):
        from engine.answer.fees import FeeCalculator

        return FeeCalculator(self.kb, self.program).answer_from(b.value, None, form, self.peildatum, [])

    def fee_gaps(self) -> None:
        kb, bdd, sym = self.kb, self.bdd, self.sym
        roots, _ = self._fee_tree()
        chosen, final = self._decides()
        for gid in sorted(kb.goals):
            goal = kb.goals[gid]
            eligible = sym.true(goal.conclusion) & (sym.false(goal.out_of_scope) if goal.out_of_scope else bdd.true)
            for rule in kb.rules.values():
                if rule.kind != "gevolg" or gid not in rule.goals or not rule.form or rule.form not in kb.forms:
                    continue
                applies = sym.true(rule.conclusion) if rule.conclusion else bdd.true
                form_applies = eligible & applies
                nodes = (
                    [goal.conclusion]
                    + ([goal.out_of_scope] if goal.out_of_scope else [])
                    + ([rule.conclusion] if rule.conclusion else [])
                )

                def route(b: ProofBuilder, g: Any = goal, r: Rule = rule) -> bool:
                    return (
                        b.value(g.conclusion) is True
                        and (not g.out_of_scope or b.value(g.out_of_scope) is False)
                        and (not r.conclusion or b.value(r.conclusion) is True)
                    )

                if not roots.get(rule.form):
                    if self.sat(form_applies, f"leemte/leges/{rule.form}/{rule.id}"):
                        w = self.witness(
                            form_applies, nodes, route, f"formulier {rule.form} is van toepassing", goal=gid
                        )
                        self.add(
                            Finding(
                                "leemte",
                                f"leemte/leges/{rule.form}/{rule.id}",
                                f"formulier {rule.form}: geen legesregel",
                                f"Regel {rule.id} wijst formulier {rule.form} aan, maar geen legesregel noemt een bedrag "
                                "voor dat formulier.",
                                [self.ref(rule.id)],
                                [w] if w else [],
                            )
                        )
                    continue
                no_amount = all_of(
                    bdd,
                    (
                        ~self._applies(root)
                        | any_of(bdd, (final[f.id] for f in self._subtree(root) if self.amount(f) is None))
                        for root in roots[rule.form]
                    ),
                )
                condition = form_applies & no_amount
                if not self.sat(condition, f"leemte/leges/{rule.form}/{rule.id}"):
                    continue

                def holds(b: ProofBuilder, r: Rule = rule, route: Callable = route) -> bool:
                    if not route(b):
                        return False
                    answer = self.fee_answer(b, r.form)
                    # nothing to ask: no source that might still apply, none that gives an amount
                    return all(s.applies is True and s.amount is None for s in answer.per_source)

                nodes += [
                    self.program.fee_nodes[f.id]
                    for f in kb.fee_rules.values()
                    if f.form == rule.form and f.id in self.program.fee_nodes
                ]
                w = self.witness(condition, nodes, holds, f"formulier {rule.form} geldt, maar zonder bedrag", goal=gid)
                self.add(
                    Finding(
                        "leemte",
                        f"leemte/leges/{rule.form}/{rule.id}",
                        f"formulier {rule.form}: van toepassing zonder bedrag",
                        f"In deze situatie wijst regel {rule.id} formulier {rule.form} aan, maar geen bron geeft er op "
                        f"{self.peildatum.isoformat()} een bedrag voor.",
                        [self.ref(rule.id)] + [self.ref(r.id) for r in roots[rule.form]],
                        [w] if w else [],
                    )
                )

    def _subtree(self, fee: FeeRule) -> list[FeeRule]:
        """The fee rule and every exception below it (directly or further down), as the findings list them."""
        _, children = self._fee_tree()
        out, stack = [], [fee]
        while stack:
            f = stack.pop()
            out.append(f)
            stack.extend(children.get(f.id, []))
        return out

    def fee_trees(self) -> None:
        """Fee exceptions that never apply or never decide; two amounts from one source; sources that differ."""
        kb, bdd = self.kb, self.bdd
        roots, children = self._fee_tree()
        chosen, final = self._decides()
        for fee in kb.fee_rules.values():
            applies = self._applies(fee)
            if fee.exception_to and not self.sat(applies):
                self.add(
                    Finding(
                        "nooit_van_toepassing",
                        f"nooit_van_toepassing/{fee.id}",
                        f"{fee.id}: legesuitzondering nooit van toepassing",
                        "In geen enkele situatie is aan de voorwaarden van deze uitzondering voldaan"
                        + self._unrealised_note(applies)
                        + ".",
                        [self.ref(fee.id)],
                    )
                )
                continue
            if fee.exception_to and not self.sat(chosen[fee.id]):
                winners = [c.id for c in children[fee.exception_to] if c.precedence and fee.id in c.precedence.over]
                self.add(
                    Finding(
                        "overschaduwd",
                        f"overschaduwd/{fee.id}",
                        f"{fee.id}: bepaalt nooit het bedrag",
                        f"Telkens als deze uitzondering van toepassing is, wordt {fee.exception_to} niet bereikt "
                        "of gaat volgens de kennisbank een andere uitzondering voor (gaat_voor)"
                        + self._depends_note(chosen[fee.id])
                        + ".",
                        [self.ref(fee.id)] + [self.ref(e) for e in winners],
                    )
                )
                continue
            if children.get(fee.id) and self.sat(chosen[fee.id]) and not self.sat(final[fee.id]):
                self.add(
                    Finding(
                        "altijd_opzij",
                        f"altijd_opzij/{fee.id}",
                        f"{fee.id}: het eigen bedrag geldt nooit",
                        "Telkens als deze legesregel wordt bereikt, is een van haar uitzonderingen van "
                        "toepassing: haar eigen bedrag bepaalt nooit de leges"
                        + self._depends_note(final[fee.id])
                        + ".",
                        [self.ref(fee.id)] + [self.ref(c.id) for c in children[fee.id]],
                    )
                )
        # two amounts from one source: both exceptions apply and the source does not say which goes first
        for parent, kids in children.items():
            for i, first in enumerate(kids):
                for second in kids[i + 1 :]:
                    pairs = [
                        (l1, l2)
                        for l1 in self._subtree(first)
                        for l2 in self._subtree(second)
                        if self.amount(l1) != self.amount(l2)
                    ]
                    condition = any_of(bdd, (final[l1.id] & final[l2.id] for l1, l2 in pairs))
                    if not pairs or not self.sat(condition, f"tegenstrijdig/leges/{first.id}/{second.id}"):
                        continue
                    a, b = self.amount(first), self.amount(second)
                    form = first.form
                    nodes = [
                        self.program.fee_nodes[f.id]
                        for f in kb.fee_rules.values()
                        if f.form == form and f.id in self.program.fee_nodes
                    ]
                    mine = ({f.id for f in self._subtree(first)}, {f.id for f in self._subtree(second)})

                    def holds(bld: ProofBuilder, x: FeeRule = first, sides: tuple = mine) -> bool:
                        answer = self.fee_answer(bld, x.form)
                        return any(
                            s.conflict is not None
                            and set(self._leaves(s)) & sides[0]
                            and set(self._leaves(s)) & sides[1]
                            for s in answer.per_source
                            if s.source_file == x.source.file
                        )

                    w = self.witness(
                        condition, nodes, holds, f"{first.id} en {second.id} zijn beide van toepassing", form=form
                    )
                    self.add(
                        Finding(
                            "tegenstrijdig",
                            f"tegenstrijdig/leges/{first.id}/{second.id}",
                            f"formulier {form}: twee bedragen uit één bron",
                            f"Volgens {first.source.file.split('_')[0]} zijn {first.id} ({euro(a)}) en {second.id} "
                            f"({euro(b)}) in dezelfde situatie allebei van toepassing, met een ander bedrag; de bron zegt "
                            "niet welke voorgaat. `fees` noemt dan beide bedragen met hun citaat en kiest niet.",
                            [self.ref(first.id), self.ref(second.id)],
                            [w] if w else [],
                        )
                    )
        # different amounts from different sources for one situation
        for form, form_roots in roots.items():
            for r1, r2 in itertools.combinations(sorted(form_roots, key=lambda r: r.source.file), 2):
                if r1.source.file == r2.source.file:
                    continue
                witnesses, pairs = [], []
                for l1 in self._subtree(r1):
                    for l2 in self._subtree(r2):
                        a, b = self.amount(l1), self.amount(l2)
                        if a == b:
                            continue
                        condition = final[l1.id] & final[l2.id]
                        if not self.sat(condition, f"bronverschil/leges/{form}/{l1.id}/{l2.id}"):
                            continue
                        nodes = [
                            self.program.fee_nodes[f.id]
                            for f in kb.fee_rules.values()
                            if f.form == form and f.id in self.program.fee_nodes
                        ]

                        def holds(bld: ProofBuilder, x: FeeRule = l1, y: FeeRule = l2) -> bool:
                            ends = {
                                s.source_file: self._leaves(s)
                                for s in self.fee_answer(bld, x.form).per_source
                                if s.applies is True
                            }
                            return x.id in ends.get(x.source.file, ()) and y.id in ends.get(y.source.file, ())

                        pairs.append(f"{l1.id} {euro(a)} tegenover {l2.id} {euro(b)}")
                        w = self.witness(condition, nodes, holds, f"{l1.id}: {euro(a)}; {l2.id}: {euro(b)}", form=form)
                        if w:
                            witnesses.append(w)
                if pairs:
                    s1, s2 = r1.source.file.split("_")[0], r2.source.file.split("_")[0]
                    involved = dict.fromkeys(f.id for f in [*self._subtree(r1), *self._subtree(r2)])
                    self.add(
                        Finding(
                            "bronverschil",
                            f"bronverschil/leges/{form}/{s1}/{s2}",
                            f"formulier {form}: bron {s1} en bron {s2} noemen een ander bedrag",
                            f"Voor dezelfde situatie geven de bronnen {s1} en {s2} een ander bedrag voor formulier "
                            f"{form}: {'; '.join(pairs)}. Het antwoord toont beide; --voorrang kiest.",
                            [self.ref(i) for i in involved],
                            witnesses,
                        )
                    )
        for fee_range in kb.fee_ranges.values():
            outside = sorted(
                {
                    (p.name, v.value, v.source.file.split("_")[0])
                    for p in kb.parameters.values()
                    for v in p.values
                    if not fee_range.minimum <= v.value <= fee_range.maximum
                }
            )
            if outside:
                self.add(
                    Finding(
                        "bronverschil",
                        f"bronverschil/{fee_range.id}",
                        f"{fee_range.id}: bedragen buiten de bandbreedte van bron {fee_range.source.file.split('_')[0]}",
                        f"Bron {fee_range.source.file.split('_')[0]} noemt leges van {euro(fee_range.minimum)} tot "
                        f"{euro(fee_range.maximum)}; andere bronnen noemen "
                        + ", ".join(f"{euro(v)} ({name}, bron {s})" for name, v, s in outside)
                        + ".",
                        [self.ref(fee_range.id)],
                    )
                )

    # -- dead rules ----------------------------------------------------------------------------------

    def _unrealised_note(self, condition: Function) -> str:
        if self.conceivable(condition):
            return (
                " (de voorwaarden zijn alleen te vervullen bij een combinatie van leeftijden, termijnen of datums "
                "die de audit met geen enkele datum kon maken)"
            )
        return ""

    def _depends_note(self, condition: Function) -> str:
        """For a finding that says some situation does not exist: unless dates make it impossible."""
        if self.conceivable(condition) and not self.sat(condition):
            return (
                " (behalve bij een combinatie van leeftijden, termijnen of datums waarvoor de audit geen datums "
                "vond: daar zou het wel kunnen)"
            )
        return ""

    def dead(self) -> None:
        kb, bdd, sym = self.kb, self.bdd, self.sym
        in_cycle = {r for g in self.cycles() for r in self.cycle_rules(g)}
        for rule in kb.rules.values():
            if rule.id in in_cycle:
                continue  # reported as a cycle: nothing outside it can make these rules hold
            if rule.exception_to:
                applies = sym.expr(rule.applies_when)[0]
                if not self.sat(applies):
                    self.add(
                        Finding(
                            "nooit_van_toepassing",
                            f"nooit_van_toepassing/{rule.id}",
                            f"{rule.id}: uitzondering nooit van toepassing",
                            "In geen enkele situatie is voldaan aan 'van toepassing als' van deze uitzondering"
                            + self._unrealised_note(applies)
                            + ".",
                            [self.ref(rule.id)],
                        )
                    )
                continue
            if rule.conditions is None:
                continue
            holds = sym.expr(rule.conditions)[0]
            if not self.sat(holds):
                self.add(
                    Finding(
                        "dood",
                        f"dood/{rule.id}",
                        f"{rule.id}: voorwaarden nooit vervuld",
                        "In geen enkele situatie zijn alle voorwaarden van deze regel vervuld"
                        + self._unrealised_note(holds)
                        + ".",
                        [self.ref(rule.id)],
                    )
                )
                continue
            exceptions = kb.exceptions_of.get(rule.id, [])
            if exceptions:
                none_applies = all_of(bdd, (sym.expr(kb.rules[e].applies_when)[1] for e in exceptions))
                if not self.sat(none_applies):
                    self.add(
                        Finding(
                            "altijd_opzij",
                            f"altijd_opzij/{rule.id}",
                            f"{rule.id}: altijd opzij gezet door een uitzondering",
                            "In elke situatie is een van de uitzonderingen op deze regel van toepassing: haar "
                            "eigen voorwaarden beslissen nooit" + self._depends_note(none_applies) + ".",
                            [self.ref(rule.id)] + [self.ref(e) for e in exceptions],
                        )
                    )

    # -- redundant rules -------------------------------------------------------------------------------

    def redundant(self) -> None:
        kb, bdd, sym = self.kb, self.bdd, self.sym
        order = {rid: i for i, rid in enumerate(kb.rules)}

        def implies(a: Function, b: Function) -> bool:
            return ((a & self.valid) & ~b) == bdd.false

        for conclusion, rule_ids in kb.rules_for.items():
            if len(rule_ids) < 2:
                continue
            holds = {r: sym.true(self.rule_node(kb.rules[r])) for r in rule_ids}
            for a in rule_ids:
                if not self.sat(holds[a]):
                    continue  # dead: reported as such
                for b in rule_ids:
                    if b == a or not implies(holds[a], holds[b]):
                        continue
                    if implies(holds[b], holds[a]) and order[b] > order[a]:
                        continue  # equivalent: the later one is reported
                    self.add(
                        Finding(
                            "overbodig",
                            f"overbodig/{a}/{b}",
                            f"{a}: valt samen met of onder {b}",
                            f"Beide regels concluderen '{kb.label_of(conclusion)}'. Telkens als {a} geldt, geldt {b} ook; "
                            f"{a} voegt dus geen situatie toe" + self._depends_note(holds[a] & ~holds[b]) + ".",
                            [self.ref(a), self.ref(b)],
                        )
                    )
                    break
        for rid, exception_ids in kb.exceptions_of.items():
            for a in exception_ids:
                ra = kb.rules[a]
                applies_a = sym.expr(ra.applies_when)[0]
                if not self.sat(applies_a):
                    continue
                for b in exception_ids:
                    rb = kb.rules[b]
                    if b == a or ra.conditions != rb.conditions:
                        continue
                    applies_b = sym.expr(rb.applies_when)[0]
                    if not implies(applies_a, applies_b):
                        continue
                    if implies(applies_b, applies_a) and order[b] > order[a]:
                        continue
                    self.add(
                        Finding(
                            "overbodig",
                            f"overbodig/{a}/{b}",
                            f"{a}: valt samen met of onder {b}",
                            f"Beide zijn uitzonderingen op {rid} met hetzelfde gevolg. Telkens als {a} van toepassing "
                            f"is, is {b} dat ook" + self._depends_note(applies_a & ~applies_b) + ".",
                            [self.ref(a), self.ref(b)],
                        )
                    )
                    break

    # -- sources ---------------------------------------------------------------------------------------

    def sources(self) -> None:
        kb, sym = self.kb, self.sym
        for dis in kb.disagreements.values():
            witnesses = []
            for r1, r2 in itertools.permutations(dis.rule_ids, 2):
                n1, n2 = self.rule_node(kb.rules[r1]), self.rule_node(kb.rules[r2])
                condition = sym.true(n1) & sym.false(n2)
                if not self.sat(condition, f"bronverschil/{dis.id}/{r1}/{r2}"):
                    continue
                w = self.witness(
                    condition,
                    [n1, n2, dis.conclusion],
                    lambda b, x=n1, y=n2: b.value(x) is True and b.value(y) is False,
                    f"volgens {r1} wel, volgens {r2} niet",
                )
                if w:
                    witnesses.append(w)
            differ = bool(witnesses)
            message = dis.explanation or f"De bronnen van {', '.join(dis.rule_ids)} regelen '{dis.label}' verschillend."
            if not differ:
                message = (
                    f"Het bronverschil '{dis.label}' is gedeclareerd, maar {' en '.join(dis.rule_ids)} geven in "
                    "geen enkele situatie een andere uitkomst. " + message
                )
            governing = kb.governing(dis)
            message = message if message.endswith(".") else message + "."
            if governing is not None:
                rid, _, declared = governing
                message += (
                    f" Waar zij verschillen, volgt het antwoord bron {kb.rules[rid].source.file.split('_', 1)[0]} "
                    f"({rid}; voorrang {declared.id}) en noemt het wat de andere bron zou geven."
                )
            else:
                message += " Er is geen voorrang vastgelegd (kb/voorrang.yaml): waar zij verschillen, blijft het antwoord onbepaald."
            self.add(
                Finding(
                    "bronverschil",
                    f"bronverschil/{dis.id}",
                    f"{dis.id}: {dis.label}",
                    message,
                    [self.ref(r) for r in dis.rule_ids],
                    witnesses,
                    severity=INFO if differ else WARNING,
                )
            )
        self.undeclared_sources()

    def source_pairs(self) -> list[tuple[Rule, Rule, str]]:
        """Rules of two seed files about one matter, not joined by a source disagreement: (rule,
        rule, what they share). One matter: the same inventory row, and the same conclusion or a fact
        or quantity they both read (rows like D3 list separate cases, each with its own facts). Rules
        of different rows that conclude one predicate are separate routes to it (the four routes to
        humanitair tijdelijk: E13, F7, F8, F10), not two sources on one matter."""
        kb = self.kb
        joined = {frozenset(p) for dis in kb.disagreements.values() for p in itertools.combinations(dis.rule_ids, 2)}
        rules = sorted((r for r in kb.rules.values() if r.kind == "regel" and r.conclusion), key=lambda r: r.id)
        atoms: dict[str, set[str]] = {}

        def reads(rule: Rule) -> set[str]:
            if rule.id not in atoms:
                atoms[rule.id] = set(self.space.atoms_under([self.rule_node(rule)]))
            return atoms[rule.id]

        out = []
        for r1, r2 in itertools.combinations(rules, 2):
            if r1.source.file == r2.source.file or frozenset((r1.id, r2.id)) in joined:
                continue
            if r1.id.split(".")[0] != r2.id.split(".")[0]:
                continue
            if r1.conclusion == r2.conclusion:
                out.append((r1, r2, f"beide concluderen '{kb.label_of(r1.conclusion)}'"))
            elif reads(r1) & reads(r2):
                shared = sorted(reads(r1) & reads(r2))
                out.append(
                    (
                        r1,
                        r2,
                        f"beide coderen inventarisrij {r1.id.split('.')[0]} en lezen "
                        + ", ".join(f"'{a}'" for a in shared),
                    )
                )
        return out

    def undeclared_sources(self) -> None:
        """Two seed files that state one matter differently without a `bronverschillen` entry."""
        sym = self.sym
        for r1, r2, shared in self.source_pairs():
            n1, n2 = self.rule_node(r1), self.rule_node(r2)
            key = f"bronverschil/ongedeclareerd/{r1.id}/{r2.id}"
            witnesses = []
            for a, b, na, nb in ((r1, r2, n1, n2), (r2, r1, n2, n1)):
                condition = sym.true(na) & sym.false(nb)
                if not self.sat(condition, key):
                    continue
                w = self.witness(
                    condition,
                    [na, nb],
                    lambda bld, x=na, y=nb: bld.value(x) is True and bld.value(y) is False,
                    f"volgens {a.id} (bron {a.source.file.split('_')[0]}) wel, volgens {b.id} "
                    f"(bron {b.source.file.split('_')[0]}) niet",
                )
                if w:
                    witnesses.append(w)
            if not witnesses:
                continue  # two sources, one matter, the same answer in every situation
            s1, s2 = r1.source.file.split("_")[0], r2.source.file.split("_")[0]
            self.add(
                Finding(
                    "bronverschil",
                    key,
                    f"{r1.id} (bron {s1}) en {r2.id} (bron {s2}): verschil zonder bronverschil",
                    f"De regels komen uit verschillende bronnen en gaan over hetzelfde ({shared}), maar geven in "
                    "dezelfde situatie een andere uitkomst, en geen bronverschil (sectie 'bronverschillen') verbindt ze: "
                    "het bewijs laat het verschil niet zien. Verbind ze met een bronverschil als de bronnen hetzelfde "
                    "verschillend regelen, of verklaar in kb/audit.yaml waarom niet.",
                    [self.ref(r1.id), self.ref(r2.id)],
                    witnesses,
                    severity=WARNING,
                )
            )

    # -- time ------------------------------------------------------------------------------------------

    def time(self) -> None:
        kb, p = self.kb, self.peildatum
        for rule in kb.rules.values():
            start, end = rule.valid_from, rule.valid_until
            if start and end and start >= end:
                self.add(
                    Finding(
                        "dood",
                        f"dood/{rule.id}",
                        f"{rule.id}: lege geldigheidsperiode",
                        f"De regel geldt van {start.isoformat()} tot {end.isoformat()}: op geen enkele peildatum.",
                        [self.ref(rule.id)],
                    )
                )
            elif end and end <= p:
                self.add(
                    Finding(
                        "vervallen",
                        f"vervallen/{rule.id}",
                        f"{rule.id}: vervallen sinds {end.isoformat()}",
                        f"De regel geldt tot {end.isoformat()} (niet meer op de peildatum {p.isoformat()}); "
                        "voor een latere peildatum zegt het bewijs dat zij vervallen is.",
                        [self.ref(rule.id)],
                    )
                )
            elif start and start > p:
                self.add(
                    Finding(
                        "nog_niet_geldig",
                        f"nog_niet_geldig/{rule.id}",
                        f"{rule.id}: geldt pas vanaf {start.isoformat()}",
                        f"De regel geldt vanaf {start.isoformat()}, na de peildatum {p.isoformat()}.",
                        [self.ref(rule.id)],
                    )
                )
        used = {f.parameter for f in kb.fee_rules.values()}
        for param in kb.parameters.values():
            starts: dict[date | None, list] = {}
            for v in param.values:
                starts.setdefault(v.valid_from, []).append(v)
            for start, values in starts.items():
                if len(values) > 1:
                    when = start.isoformat() if start else "ongedateerd"
                    self.add(
                        Finding(
                            "parameter_overlap",
                            f"parameter_overlap/{param.name}/{when}",
                            f"{param.name}: {len(values)} bedragen die tegelijk ingaan ({when})",
                            f"'{param.label}' heeft {len(values)} waarden met dezelfde begindatum ({when}): "
                            + ", ".join(f"{euro(v.value)} (bron {v.source.file.split('_')[0]})" for v in values)
                            + "; welke geldt is niet bepaald.",
                            [],
                        )
                    )
            if None not in starts and param.name in used:
                first = min(starts)
                hole = f"Vóór {first.isoformat()} heeft '{param.label}' geen bedrag"
                self.add(
                    Finding(
                        "parameter_gat",
                        f"parameter_gat/{param.name}",
                        f"{param.name}: geen bedrag vóór {first.isoformat()}",
                        hole
                        + (
                            f", ook niet op de peildatum {p.isoformat()}."
                            if p < first
                            else "; voor een eerdere peildatum geven de leges geen bedrag."
                        ),
                        [],
                    )
                )

    # -- structure -------------------------------------------------------------------------------------

    def structure(self) -> None:
        kb = self.kb
        read: set[str] = set()
        for rule in kb.rules.values():
            read.update(n for n, _ in expr_names(rule.conditions))
            read.update(n for n, _ in expr_names(rule.applies_when))
            if rule.start:
                read.add(rule.start)
        for fee in kb.fee_rules.values():
            read.update(n for n, _ in expr_names(fee.applies_when))
        for q in kb.quantities.values():
            if q.name in read:
                read.update(q.inputs)
        for goal in kb.goals.values():
            read.update(n for n in (goal.conclusion, goal.out_of_scope) if n)
        for dis in kb.disagreements.values():
            read.update(kb.rules[r].conclusion for r in dis.rule_ids if kb.rules[r].conclusion)
        consequences = {r.conclusion for r in kb.rules.values() if r.kind in ("gevolg", "termijn") and r.conclusion}
        for name, fact in kb.facts.items():
            if name not in read:
                self.add(
                    Finding(
                        "ongebruikt",
                        f"ongebruikt/{name}",
                        f"feit '{name}' wordt door geen regel gelezen",
                        f"Het feit '{fact.label}' staat in de woordenlijst, maar geen regel, legesregel of "
                        "grootheid leest het: een antwoord erop verandert geen uitkomst.",
                        [],
                    )
                )
        for name, q in kb.quantities.items():
            if name not in read and q.inputs:
                self.add(
                    Finding(
                        "ongebruikt",
                        f"ongebruikt/{name}",
                        f"grootheid '{name}' wordt door geen regel gelezen",
                        f"De grootheid '{q.label}' wordt berekend, maar geen regel vergelijkt haar.",
                        [],
                    )
                )
        for name in sorted(kb.derived_predicates()):
            if name in read or name in consequences:
                continue
            rules = kb.rules_for.get(name, [])
            self.add(
                Finding(
                    "ongebruikt",
                    f"ongebruikt/{name}",
                    f"conclusie '{name}' wordt nergens gebruikt",
                    f"'{kb.label_of(name)}' wordt afgeleid, maar geen doel, regel of legesregel leest het.",
                    [self.ref(r) for r in rules],
                )
            )
        forms_used = {r.form for r in kb.rules.values() if r.form} | {f.form for f in kb.fee_rules.values()}
        for number, form in kb.forms.items():
            if number not in forms_used:
                self.add(
                    Finding(
                        "ongebruikt",
                        f"ongebruikt/formulier/{number}",
                        f"formulier {number} wordt nergens genoemd",
                        f"Formulier {number} ({form.label}) is gedeclareerd, maar geen gevolg wijst het aan en "
                        "geen legesregel noemt een bedrag ervoor.",
                        [],
                    )
                )
        params_used = {f.parameter for f in kb.fee_rules.values()}
        for name, param in kb.parameters.items():
            if name not in params_used:
                self.add(
                    Finding(
                        "ongebruikt",
                        f"ongebruikt/parameter/{name}",
                        f"parameter '{name}' wordt nergens gebruikt",
                        f"'{param.label}' heeft een bedrag, maar geen legesregel gebruikt het.",
                        [],
                    )
                )
        for group in self.cycles():
            rules = self.cycle_rules(group)
            self.add(
                Finding(
                    "kringloop",
                    "kringloop/" + "+".join(sorted(rules or group)),
                    "regels die elkaar als voorwaarde hebben",
                    "Deze conclusies hangen in een kring van elkaar af ("
                    + " -> ".join(kb.label_of(n) for n in group)
                    + "). Niets buiten de kring kan ze waar maken, zodat de regels nooit gelden en de "
                    "uitkomst open kan blijven terwijl elk feit bekend is.",
                    [self.ref(r) for r in rules],
                )
            )
        for owner, e, why in self.ill_typed():
            self.add(
                Finding(
                    "vergelijking",
                    f"vergelijking/{owner}/{e.name}",
                    f"{owner}: vergelijking met '{e.name}' is nooit waar of onwaar",
                    f"De regel vergelijkt '{e.name}' met {e.value!r}: {why}. Zo'n vergelijking is voor elke "
                    "aanvrager onbekend.",
                    [self.ref(owner)],
                )
            )

    # -- assumptions -----------------------------------------------------------------------------------

    def assumptions(self) -> None:
        """Every declaration that no seed states (`aanname`), with its basis and what rests on it."""
        kb = self.kb
        for rule in kb.rules.values():
            if rule.assumption is None:
                continue
            users = [
                r.id
                for r in kb.rules.values()
                if rule.conclusion in {n for e in (r.conditions, r.applies_when) for n, _ in expr_names(e)}
            ]
            users += [
                f.id for f in kb.fee_rules.values() if rule.conclusion in {n for n, _ in expr_names(f.applies_when)}
            ]
            self.add(
                Finding(
                    "aanname",
                    f"aanname/{rule.id}",
                    f"{rule.id}: {rule.label}",
                    f"Geen citaat uit de bronnen: een aanname. Grondslag: {rule.assumption.basis}. "
                    f"{rule.assumption.reason} Berust erop: {', '.join(users) if users else 'geen regel'}.",
                    [self.ref(rule.id)] + [self.ref(u) for u in users],
                )
            )

    # -- explanations ----------------------------------------------------------------------------------

    def explain(self) -> None:
        from engine.checks.explanations import apply

        self.findings += apply(self.kb, self.peildatum, self.findings, Finding)

    # -- completeness ----------------------------------------------------------------------------------

    def coverage(self, gid: str) -> GoalCoverage:
        """How many situations the goal's rules tell apart, and a concrete recomputation of them."""
        space = self.space
        roots = self.goal_roots(gid)
        atoms = space.atoms_under(roots)
        known, with_unknown = space.size(atoms)
        compared = [{"name": a, "classes": space.domains[a].labels} for a in atoms if a in space.domains]
        yes_no = sum(1 for a in atoms if a in space.bool_vars)
        recomputed, exhaustive = self.recompute(gid, atoms, known)
        return GoalCoverage(
            gid,
            self.kb.goals[gid].label,
            yes_no,
            compared,
            known,
            with_unknown,
            recomputed,
            exhaustive,
            self.date_coverage(atoms),
        )

    def date_coverage(self, atoms: list[str]) -> list[dict[str, Any]]:
        """Per cluster of date facts: how many combinations of the classes of `atoms` it makes,
        how many the dated situations gave, and the others as a short list of patterns."""
        space, out = self.space, []
        for c in self.library.clusters:
            names, sizes, seen = self.library.projection(c, atoms)
            if not names:
                continue
            classes = [[False, True] if a in space.bool_vars else list(range(n)) for a, n in zip(names, sizes)]
            missing = [combo for combo in itertools.product(*classes) if combo not in seen]
            out.append(
                {
                    "facts": c.facts,
                    "atoms": names,
                    "combinations": math.prod(sizes),
                    "with_example": math.prod(sizes) - len(missing),
                    "without_example": [
                        {a: self.class_label(a, v) for a, v in zip(names, cube) if v is not None}
                        for cube in cube_cover(classes, missing)
                    ],
                    "search": c.stopped,
                    "samples": c.samples,
                }
            )
        return out

    def class_label(self, atom: str, value: Any) -> str:
        if atom in self.space.bool_vars:
            return "ja" if value else "nee"
        return self.space.domains[atom].labels[value]

    def recompute(self, gid: str, atoms: list[str], known: int) -> tuple[int, bool]:
        """Recompute fully known situations with the set-at-a-time evaluator and compare every derived node.

        All of them when there are at most RECOMPUTE_BUDGET, otherwise a seeded sample of that
        many. A difference means the audit's reading of the program is wrong: AuditError.
        """
        space, bdd = self.space, self.bdd
        classes = [[False, True] if a in space.bool_vars else list(range(len(space.domains[a].reps))) for a in atoms]
        if known <= RECOMPUTE_BUDGET:
            combos = list(itertools.product(*classes))
            exhaustive = True
        else:
            rng = random.Random(f"{self.seed}/{gid}")
            combos = [tuple(rng.choice(c) for c in classes) for _ in range(RECOMPUTE_BUDGET)]
            exhaustive = False
        constants = [(n, v) for n, v in space.constants.items()]
        rows = []
        columns: dict[str, int] = {}
        for i, combo in enumerate(combos):
            facts = list(constants)
            for a, cls in zip(atoms, combo):
                if a in space.bool_vars:
                    facts.append((a, cls))
                    if cls:
                        columns[space.bool_vars[a]] = columns.get(space.bool_vars[a], 0) | (1 << i)
                else:
                    d = space.domains[a]
                    facts.append((a, d.reps[cls]))
                    for j, v in enumerate(d.vars, start=1):
                        if cls >= j:
                            columns[v] = columns.get(v, 0) | (1 << i)
            rows.append(facts)
        derived = set(self.derived)
        nodes = [n for n in self.program.reachable(self.goal_roots(gid)) if n in derived]
        chunk = self.engine.evaluator.run_facts(rows, nodes)
        full = (1 << len(combos)) - 1
        wanted = [self.sym.pair(n)[k] for n in nodes for k in (0, 1)]
        got = bitwise(bdd, wanted, columns, full)
        for n in nodes:
            for k, value in ((0, True), (1, False)):
                symbolic = got[self.sym.pair(n)[k]]
                concrete = chunk.masks.get((n, value), 0)
                if symbolic != concrete:
                    raise AuditError(f"de audit leest {n}={value} anders dan de setwise-evaluator ({gid})")
        return len(combos), exhaustive

    def completeness_notes(self) -> list[str]:
        notes = [
            "Per doel zijn alle situaties onderzocht die de regels van dat doel uit elkaar kunnen houden: elk "
            "ja/nee-feit en elke ja/nee-grootheid waar of onwaar, elk vergeleken feit en elke vergeleken grootheid in "
            "elke klasse die de drempels van de regels maken (bij getallen en datums: onder, op en boven elke "
            "drempel; bij keuzes: elke genoemde waarde en 'een andere waarde'). Het onderzoek is symbolisch "
            "(beslisdiagrammen over het gecompileerde programma). Uitputtend heet het voor een doel als bovendien "
            "elke combinatie van de klassen die uit datums komen (leeftijden, termijnen, vergunningen) met echte "
            "datums is gevonden. Anders staan bij het doel de combinaties zonder voorbeeld: situaties met zo'n "
            "combinatie zijn alleen symbolisch bekeken, en een bevinding die alleen daar zou optreden, wordt niet "
            "gemeld (er is geen getuige) maar onderaan genoemd.",
            "'Onbekend' hoeft niet apart te worden onderzocht: het programma is positief (driewaardig, zonder "
            "negatie als falen), dus een feit invullen voegt alleen afleidingen toe. Wat in een situatie met "
            "onbekende feiten wordt afgeleid (waar, onwaar of allebei), wordt ook afgeleid in elke situatie die "
            "ze invult, en die zijn onderzocht.",
            "Ter controle is per doel een deel van die situaties (alle, als het er hoogstens "
            f"{RECOMPUTE_BUDGET} zijn, anders een vaste steekproef van {RECOMPUTE_BUDGET}) concreet nagerekend met "
            "de setwise-evaluator; elke afgeleide waarde kwam overeen.",
        ]
        lib = self.library
        for c in lib.clusters:
            stop = (
                f"na {lib.patience} situaties op rij zonder nieuwe combinatie"
                if c.stopped == "geen nieuwe combinatie"
                else f"bij het maximum van {lib.max_samples} situaties"
            )
            combined = (
                f", en in {c.combined} situaties die de vergunningsperioden van twee gevonden situaties "
                f"samennemen (iemand die beide had; {c.combined_new} gaven een nieuwe combinatie)"
                if c.combined
                else ""
            )
            notes.append(
                f"Datums ({', '.join(c.facts)}): welke combinaties van klassen van {', '.join(c.atoms)} echte datums "
                f"opleveren, is gezocht in {c.samples} gemaakte situaties op een raster rond de drempels (één dag "
                f"ervoor en erna; gestopt: {stop}){combined}: {len(c.found)} combinaties gevonden. Zoeken bewijst "
                "niet dat een andere combinatie onmogelijk is; bij elk doel staat welke combinaties die het "
                "onderscheidt niet gevonden zijn. Getuigen komen alleen uit gevonden combinaties."
            )
        unrealised = sorted(set(self.unrealised))
        notes.append(
            "Bevindingen die alleen bij een combinatie van datumklassen zonder voorbeeld zouden optreden "
            "(niet gemeld, want zonder getuige): "
            + (f"{len(unrealised)}: {', '.join(unrealised)}." if unrealised else "geen.")
        )
        found = len(self.route_gaps)
        notes.append(
            f"Leemten in routes: voor elk doel is gezocht naar een situatie waarin elk feit bekend is en de route "
            f"(of de reikwijdte) toch slaagt noch faalt, met elk bronverschil gelezen zoals de eerste bron het zegt "
            f"({self.route_checks} routes en reikwijdten, symbolisch); "
            + (
                "geen gevonden: elke route slaagt, faalt of is onbepaald met een onbekend feit of een bronverschil als "
                "reden."
                if not found
                else f"gevonden bij {found}, elk hierboven gemeld als leemte met een getuige."
            )
        )
        return notes


def cube_cover(classes: list[list[Any]], combinations: list[tuple]) -> list[tuple]:
    """A short list of patterns (None: any class) that covers exactly `combinations`: each
    combination widened, one position at a time, as far as it stays inside them, then a greedy
    choice of the widest patterns until every combination is covered."""
    inside = set(combinations)

    def members(cube: tuple) -> list[tuple]:
        return list(itertools.product(*[cls if v is None else [v] for v, cls in zip(cube, classes)]))

    primes: dict[tuple, None] = {}
    for combo in combinations:
        cube = combo
        for i in range(len(cube)):
            wider = cube[:i] + (None,) + cube[i + 1 :]
            if all(m in inside for m in members(wider)):
                cube = wider
        primes[cube] = None
    chosen, left = [], set(inside)
    while left:
        best = max(primes, key=lambda c: (len(left.intersection(members(c))), sum(v is None for v in c)))
        chosen.append(best)
        left.difference_update(members(best))
    return chosen


class AuditError(VerblijfsregelsError):
    """The audit contradicts the engine: a defect of the audit, never of the rule base."""


def _type_problem(kb: KnowledgeBase, e: Compare) -> str:
    declared = kb.facts[e.name].type if e.name in kb.facts else kb.quantities[e.name].type
    values = e.value if isinstance(e.value, tuple) else (e.value,)
    ordering = e.comparator in ("minstens", "meer_dan", "hoogstens", "minder_dan")
    for v in values:
        if declared == "datum" and not isinstance(v, date):
            return "een datum wordt met iets anders dan een datum vergeleken"
        if declared in ("getal", "bedrag") and (isinstance(v, bool) or not isinstance(v, int)):
            return "een getal wordt met iets anders dan een getal vergeleken"
        if declared in ("keuze", "tekst") and not isinstance(v, str):
            return "een keuze of tekst wordt met iets anders dan tekst vergeleken"
        if declared == "bool" and not isinstance(v, bool):
            return "een ja/nee-waarde wordt met iets anders dan ja of nee vergeleken"
    if ordering and declared in ("keuze", "tekst", "bool"):
        return "een keuze, tekst of ja/nee-waarde heeft geen volgorde"
    return ""


FLOW_WIDTH = 80  # a flow mapping's text; with its indent and braces the line stays within 100


def witness_yaml(w: Witness) -> str:
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    class _Line(dict):
        pass

    def _line(dumper: Any, data: dict) -> Any:
        return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)

    _Dumper.add_representer(_Line, _line)
    data = {
        k: (date.fromisoformat(v) if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) else v)
        for k, v in w.applicant.items()
    }
    data = {
        k: (
            [
                {
                    kk: (
                        date.fromisoformat(vv) if isinstance(vv, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", vv) else vv
                    )
                    for kk, vv in p.items()
                }
                for p in v
            ]
            if isinstance(v, list)
            else v
        )
        for k, v in data.items()
    }
    # permits one per line read best, unless one of them would run past the report's width:
    # then the whole list in blocks, so the periods still line up
    for k, v in data.items():
        if isinstance(v, list) and all(
            isinstance(p, dict) and "van" in p and not any(isinstance(x, (dict, list)) for x in p.values()) for p in v
        ):
            if all(len(", ".join(f"{kk}: {vv}" for kk, vv in p.items())) <= FLOW_WIDTH for p in v):
                data[k] = [_Line(p) for p in v]
    if not data:
        return "{}\n"
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=120)
