"""What a change to the rule base changes: findings, declarations and, symbolically, answers.

`verblijfsregels audit --against DIR|GITREV` compares the rule base being audited (the "after")
with another one (the "before"): a directory, or the `kb/` of a git revision of this checkout,
read with `git archive` into a temporary directory (never run: a rule base is data).

Answers are compared over one space of situations for both versions: an `AtomSpace` built over
the clauses of both programs, so that every threshold of either cuts the compared facts into
classes (C4's age 13 in one version and 12 in the other give the classes below 12, 12, and 13
or more). Each program is evaluated over that space with decision diagrams; for every goal and
form in both, the situations where the outcome goes from one value to another are one diagram
per transition. Each transition is described by the facts that separate it (the paths of its
diagram, as classes of the facts) and comes with one example applicant from the dated
situations (`DateLibrary`), recomputed concretely with both versions: the file reproduces with
`assess` or `fees`, with `--kb` for the before.

As in the audit, situations are fully known ones: the program is positive, so what a version
derives with facts unknown it also derives once they are filled in.
"""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterator

from dd.autoref import Function

from engine.checks.audit_space import AtomSpace, DateLibrary, situation
from engine.errors import VerblijfsregelsError
from engine.evaluate.symbolic import SymbolicValues, all_of, any_of
from engine.rules.compiler import Program
from engine.rules.model import KnowledgeBase, declaration_fields

DIFF_FORMAT = "verblijfsregels/audit-diff"
DIFF_VERSION = 2  # 2: kb_versions, the rule-base version of the before and of the after

ELIGIBLE, NOT_ELIGIBLE, UNDETERMINED, OUT_OF_SCOPE = "eligible", "not_eligible", "undetermined", "out_of_scope"
OUTCOME_WORDS = {
    ELIGIBLE: "komt in aanmerking",
    NOT_ELIGIBLE: "komt niet in aanmerking",
    UNDETERMINED: "nog niet te bepalen",
    OUT_OF_SCOPE: "valt buiten de kennisbank",
}
SILENT, SEVERAL, NO_AMOUNT = "spreekt_niet", "meer_bedragen", "geen_bedrag"
MAX_PATTERNS = 8  # patterns shown per change; the count of all is given
MAX_PATHS = 400  # paths walked per change before the description says it is cut short


class DiffError(VerblijfsregelsError):
    """The other rule base cannot be found or read (a bad --against)."""


# -- the other rule base -------------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, timeout=60)


@contextmanager
def other_rule_base(spec: str, kb_dir: Path) -> Iterator[tuple[Path, str]]:
    """The directory of the rule base `spec` names, and how the report names it.

    A directory is used as it is; anything else is a git revision of the checkout that holds
    `kb_dir` (or, for a copy outside any checkout, of this program's kb/), whose copy of that
    directory is extracted to a temporary directory for as long as the comparison runs."""
    path = Path(spec)
    if path.is_dir():
        yield path, f"map {spec}"
        return
    if not spec or spec.startswith("-") or not re.fullmatch(r"[\w./~^@{}:+-]+", spec):
        raise DiffError(f"--against: '{spec}' is geen map en geen git-revisie")
    top = _git(kb_dir, "rev-parse", "--show-toplevel")
    if top.returncode != 0:  # a copy outside any checkout: the revision is one of this program's kb/
        from engine.rules.model import KB_DIR

        kb_dir = KB_DIR
        top = _git(kb_dir, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise DiffError(f"--against: '{spec}' is geen map, en {kb_dir} ligt niet in een git-checkout")
    prefix = _git(kb_dir, "rev-parse", "--show-prefix").stdout.decode().strip().rstrip("/")
    commit = _git(kb_dir, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
    if commit.returncode != 0:
        raise DiffError(f"--against: '{spec}' is geen map en geen git-revisie van deze checkout")
    sha = commit.stdout.decode().strip()
    root = Path(top.stdout.decode().strip())
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", sha, "--", prefix or "."], capture_output=True, timeout=120
    )
    if archive.returncode != 0:
        raise DiffError(f"--against: revisie {sha[:12]} heeft geen map '{prefix or '.'}'")
    with tempfile.TemporaryDirectory(prefix="verblijfsregels-kb-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / prefix, f"git-revisie {spec} ({sha[:12]})"


# -- declarations and findings ---------------------------------------------------------------------

# (section of KnowledgeBase, how the report names one)
SECTIONS = [
    ("facts", "feit"),
    ("quantities", "grootheid"),
    ("rules", "regel"),
    ("disagreements", "bronverschil"),
    ("goals", "doel"),
    ("forms", "formulier"),
    ("parameters", "parameter"),
    ("fee_rules", "legesregel"),
    ("fee_ranges", "bandbreedte"),
    ("goal_assumptions", "aanvraag_voor_doel"),
    ("precedences", "voorrang"),
]
# where a declaration is written is no part of what it says
IGNORED_FIELDS = {"file", "where"}


def _fields(item: Any) -> dict[str, Any]:
    names = declaration_fields(item)
    if names is not None:
        return {n: getattr(item, n) for n in names if n not in IGNORED_FIELDS}
    return {"value": item}


def declaration_changes(before: KnowledgeBase, after: KnowledgeBase) -> dict[str, list[dict[str, Any]]]:
    """Declarations added, removed and changed, by id, with the fields that changed."""
    out: dict[str, list[dict[str, Any]]] = {"added": [], "removed": [], "changed": []}
    for section, kind in SECTIONS:
        old, new = getattr(before, section), getattr(after, section)
        for key in sorted(set(old) | set(new)):
            if key not in old:
                out["added"].append({"kind": kind, "id": key})
            elif key not in new:
                out["removed"].append({"kind": kind, "id": key})
            else:
                a, b = _fields(old[key]), _fields(new[key])
                changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                if changed:
                    out["changed"].append({"kind": kind, "id": key, "fields": changed})
    old_notes = {tuple(n.patterns): n for n in before.audit_notes}
    new_notes = {tuple(n.patterns): n for n in after.audit_notes}
    for key in sorted(set(old_notes) | set(new_notes)):
        name = " of ".join(key)
        if key not in old_notes:
            out["added"].append({"kind": "verklaring", "id": name})
        elif key not in new_notes:
            out["removed"].append({"kind": "verklaring", "id": name})
        elif _fields(old_notes[key]) != _fields(new_notes[key]):
            a, b = _fields(old_notes[key]), _fields(new_notes[key])
            out["changed"].append({"kind": "verklaring", "id": name, "fields": sorted(k for k in a if a[k] != b[k])})
    return out


def _finding_content(f: dict[str, Any]) -> dict[str, Any]:
    # not the witnesses: they are examples, taken from the dated situations, which move with
    # every threshold anywhere in the rule base; a finding is the same finding with another example
    return {
        "severity": f["severity"],
        "title": f["title"],
        "message": f["message"],
        "rules": [r["id"] for r in f["rules"]],
        "explained": f["explained"]["reason"] if f["explained"] else None,
    }


def finding_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Findings (of two audit JSON reports) added, removed and changed, by key."""
    old = {f["key"]: f for f in before["findings"]}
    new = {f["key"]: f for f in after["findings"]}
    out: dict[str, list[dict[str, Any]]] = {"added": [], "removed": [], "changed": []}
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out["added"].append(_finding_summary(new[key]))
        elif key not in new:
            out["removed"].append(_finding_summary(old[key]))
        else:
            a, b = _finding_content(old[key]), _finding_content(new[key])
            changed = sorted(k for k in a if a[k] != b[k])
            if changed:
                item = _finding_summary(new[key])
                item["fields"] = changed
                item["before"] = {k: a[k] for k in changed}
                item["after"] = {k: b[k] for k in changed}
                out["changed"].append(item)
    return out


def _finding_summary(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": f["key"],
        "kind": f["kind"],
        "severity": f["severity"],
        "title": f["title"],
        "explained": f["explained"] is not None,
    }


# -- one space for both versions --------------------------------------------------------------------


def _merged(before: Any, after: Any) -> tuple[KnowledgeBase, Program]:
    """A rule base and program whose atoms are those of both versions (the after's declaration
    where both declare a name), only to build the shared space of situations."""
    kb_a, kb_b = before.kb, after.kb
    kb = KnowledgeBase(
        facts={**kb_a.facts, **kb_b.facts},
        period_fields={**kb_a.period_fields, **kb_b.period_fields},
        quantities={**kb_a.quantities, **kb_b.quantities},
        rules={**kb_a.rules, **kb_b.rules},
        disagreements={**kb_a.disagreements, **kb_b.disagreements},
        goals={**kb_a.goals, **kb_b.goals},
        forms={**kb_a.forms, **kb_b.forms},
        parameters={**kb_a.parameters, **kb_b.parameters},
        fee_rules={**kb_a.fee_rules, **kb_b.fee_rules},
        fee_ranges={**kb_a.fee_ranges, **kb_b.fee_ranges},
    )
    kb.index()
    nodes = dict(before.program.nodes)
    for nid, node in after.program.nodes.items():
        if nid in nodes:
            children = list(dict.fromkeys([*node.children, *nodes[nid].children]))
            node = dataclasses.replace(node, children=children)
        nodes[nid] = node
    program = Program(
        before.program.clauses + after.program.clauses,
        nodes,
        {**before.program.fee_nodes, **after.program.fee_nodes},
        {},
    )
    return kb, program


def goal_outcomes(sym: SymbolicValues, kb: KnowledgeBase, gid: str) -> dict[str, Function]:
    """The situations of each outcome of a goal, as `engine.answer.assess.decide` gives it."""
    bdd = sym.bdd
    goal = kb.goals[gid]
    gt, gf = sym.pair(goal.conclusion)
    if goal.out_of_scope:
        st, sf = sym.pair(goal.out_of_scope)
        scope_true, scope_false = st & ~sf, sf & ~st
    else:
        scope_true, scope_false = bdd.false, bdd.true
    refused = ~scope_true & gf & ~gt
    eligible = ~scope_true & gt & ~gf & scope_false
    return {
        OUT_OF_SCOPE: scope_true,
        NOT_ELIGIBLE: refused,
        ELIGIBLE: eligible,
        UNDETERMINED: ~scope_true & ~refused & ~eligible,
    }


def fee_outcomes(sym: SymbolicValues, engine: Any, form: str, peildatum: date) -> dict[str, dict[str, Function]]:
    """Per source of a form's fees: the situations in which it is silent, states one amount
    (by amount), or several. Read from the compiled fee choice as the audit reads it."""
    kb, program, bdd = engine.kb, engine.program, sym.bdd
    per_source: dict[str, dict[Any, Function]] = {}
    speaks: dict[str, Function] = {}
    for fee_id, choice in program.fee_choice.items():
        if choice.form != form:
            continue
        fee = kb.fee_rules[fee_id]
        root = kb.fee_rules[choice.root]
        source = fee.source.file
        said = bdd.true if root.applies_when is None else sym.expr(root.applies_when)[0]
        speaks[source] = said
        decides = said & (sym.true(choice.chosen) if choice.chosen else bdd.true)
        value = kb.parameters[fee.parameter].at(peildatum)
        amount = value.value if value else None
        amounts = per_source.setdefault(source, {})
        amounts[amount] = amounts.get(amount, bdd.false) | decides
    out: dict[str, dict[str, Function]] = {}
    for source in sorted(speaks):
        amounts = per_source.get(source, {})
        said = speaks[source]
        classes = {SILENT: ~said}
        some = any_of(bdd, amounts.values())
        several = bdd.false
        for amount, where in amounts.items():
            others = any_of(bdd, (w for a, w in amounts.items() if a != amount))
            several |= where & others
            classes[_amount_key(amount)] = said & where & ~others
        classes[SEVERAL] = said & several
        classes[NO_AMOUNT] = said & ~some
        out[source] = classes
    return out


def _amount_key(amount: int | None) -> str:
    return NO_AMOUNT if amount is None else f"bedrag:{amount}"


def fee_word(key: str) -> str:
    from engine.checks.audit import euro

    if key.startswith("bedrag:"):
        return euro(int(key.split(":", 1)[1]))
    return {SILENT: "noemt geen bedrag voor deze situatie", SEVERAL: "noemt meer bedragen", NO_AMOUNT: "geen bedrag"}[
        key
    ]


def source_word(file: str) -> str:
    return f"bron {file.split('_', 1)[0]}"


# -- describing a set of situations -------------------------------------------------------------------


def _cofactor(space: AtomSpace, f: Function, var: str, value: bool) -> Function:
    return space.bdd.let({var: value}, f)


def paths(space: AtomSpace, f: Function, limit: int = MAX_PATHS) -> tuple[list[dict[str, bool]], bool]:
    """The paths of `f` to true (disjoint partial assignments covering exactly it), and whether all
    were walked. A loop, not recursion: diagrams stay out of reference cycles (audit_space)."""
    bdd = space.bdd
    out: list[dict[str, bool]] = []
    stack: list[tuple[Function, dict[str, bool]]] = [(f, {})]
    while stack:
        u, fixed = stack.pop()
        if u == bdd.false:
            continue
        if u == bdd.true:
            out.append(fixed)
            if len(out) >= limit:
                return out, not stack
            continue
        var = u.var
        stack.append((_cofactor(space, u, var, True), {**fixed, var: True}))
        stack.append((_cofactor(space, u, var, False), {**fixed, var: False}))
    return out, True


def pattern(space: AtomSpace, fixed: dict[str, bool]) -> dict[str, str]:
    """A path as the classes of the facts it fixes: {fact: 'ja' | 'nee' | class labels}."""
    out: dict[str, str] = {}
    for atom in space.atom_order():
        if atom in space.bool_vars:
            var = space.bool_vars[atom]
            if var in fixed:
                out[atom] = "ja" if fixed[var] else "nee"
            continue
        d = space.domains[atom]
        if not any(v in fixed for v in d.vars):
            continue
        classes = [
            i
            for i in range(len(d.reps))
            if all((i >= j) == fixed[v] for j, v in enumerate(d.vars, start=1) if v in fixed)
        ]
        if classes and len(classes) < len(d.reps):
            out[atom] = " of ".join(d.labels[i] for i in classes)
    return out


def _cube(space: AtomSpace, fixed: dict[str, bool]) -> Function:
    bdd = space.bdd
    return all_of(bdd, (bdd.var(v) if b else ~bdd.var(v) for v, b in fixed.items()))


def _atom_vars(space: AtomSpace, atom: str) -> list[str]:
    return [space.bool_vars[atom]] if atom in space.bool_vars else list(space.domains[atom].vars)


def describe(space: AtomSpace, where: Function, valid: Function) -> dict[str, Any]:
    """The situations of `where` (the possible ones: within `valid`) as a short list of patterns
    of fact classes: each path of the diagram, widened fact by fact as far as it stays inside
    (among possible situations), duplicates dropped. What every pattern shares is said once
    (`common`); each pattern then names only the rest."""
    bdd = space.bdd
    found, complete = paths(space, where)
    inside = where | ~valid
    patterns: list[dict[str, str]] = []
    seen: set[tuple] = set()
    atoms = space.atom_order()
    for fixed in found:
        if (_cube(space, fixed) & valid) == bdd.false:
            continue  # a path only impossible situations take
        for atom in atoms:
            names = _atom_vars(space, atom)
            if not any(v in fixed for v in names):
                continue
            wider = {v: b for v, b in fixed.items() if v not in names}
            if (_cube(space, wider) & ~inside) == bdd.false:
                fixed = wider
        p = pattern(space, fixed)
        key = tuple(sorted(p.items()))
        if key not in seen:
            seen.add(key)
            patterns.append(p)
    facts = sorted({a for p in patterns for a in p}, key=atoms.index)
    common = {a: c for a, c in (patterns[0].items() if patterns else ()) if all(p.get(a) == c for p in patterns)}
    return {
        "facts": facts,
        "common": common,
        "patterns": [{a: c for a, c in p.items() if a not in common} for p in patterns[:MAX_PATTERNS]],
        "patterns_total": len(patterns),
        "complete": complete,
    }


# -- the comparison ----------------------------------------------------------------------------------


@dataclass
class Change:
    subject: str  # goal id or form number
    kind: str  # doel | leges
    source: str | None  # fee source file, for a fee change
    before: str  # an outcome, or a fee class key
    after: str
    description: dict[str, Any]
    example: dict[str, Any] | None  # applicant file
    example_before: Any = None  # what the before gives for it, concretely
    example_after: Any = None
    commands: list[str] = field(default_factory=list)
    note: str = ""

    def words(self, value: str) -> str:
        return OUTCOME_WORDS.get(value, value) if self.kind == "doel" else fee_word(value)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "source": self.source,
            "before": self.before,
            "after": self.after,
            "before_text": self.words(self.before),
            "after_text": self.words(self.after),
            "separating_facts": self.description["separating"],
            "facts": self.description["facts"],
            "common": self.description["common"],
            "patterns": self.description["patterns"],
            "patterns_total": self.description["patterns_total"],
            "patterns_complete": self.description["complete"],
            "example": None
            if self.example is None
            else {
                "applicant": self.example,
                "before": self.example_before,
                "after": self.example_after,
                "before_text": None if self.example_before is None else self.words(self.example_before),
                "after_text": None if self.example_after is None else self.words(self.example_after),
                "commands": self.commands,
            },
            "note": self.note,
        }


@dataclass
class DiffReport:
    peildatum: date
    before_name: str
    after_name: str
    declarations: dict[str, list[dict[str, Any]]]
    findings: dict[str, list[dict[str, Any]]]
    changes: list[Change]
    compared_goals: list[str]
    compared_forms: list[str]
    notes: list[str]
    answers_compared: bool = True
    after_fails: bool = False  # the audit of the after fails --strict
    # the rule-base version (engine.rules.cache.content_key) of the before and of the after
    kb_versions: tuple[str, str] = ("", "")

    @property
    def answers_unchanged(self) -> bool:
        return self.answers_compared and not self.changes

    def to_json(self) -> dict[str, Any]:
        return {
            "format": DIFF_FORMAT,
            "version": DIFF_VERSION,
            "peildatum": self.peildatum.isoformat(),
            "before": self.before_name,
            "after": self.after_name,
            "kb_versions": {"before": self.kb_versions[0], "after": self.kb_versions[1]},
            "declarations": self.declarations,
            "findings": self.findings,
            "answers": {
                "compared": self.answers_compared,
                "unchanged": self.answers_unchanged,
                "goals": self.compared_goals,
                "forms": self.compared_forms,
                "changes": [c.to_json() for c in self.changes],
            },
            "notes": self.notes,
            "after_strict_fails": self.after_fails,
        }


class AnswerDiff:
    """Both versions over one space of situations; the transitions of every goal's outcome and
    every source's fee, each with an example applicant checked with both versions."""

    def __init__(self, before: Any, after: Any, peildatum: date, declarations: dict[str, Any], seed: int = 0):
        self.before, self.after, self.peildatum = before, after, peildatum
        self.touched = touched_names(before.kb, after.kb, declarations)
        kb, program = _merged(before, after)
        self.space = AtomSpace(kb, program, peildatum)
        self.bdd = self.space.bdd
        self.sym_before = SymbolicValues(before.program, self.space)
        self.sym_after = SymbolicValues(after.program, self.space)
        self.library = DateLibrary(self.space, seed=seed)
        self.valid = self.space.constraint & self.library.constraint
        self.conceivable_only = 0  # transitions only combinations of date classes without an example give

    def goals(self) -> list[str]:
        return sorted(set(self.before.kb.goals) & set(self.after.kb.goals))

    def forms(self) -> list[str]:
        return sorted(set(self.before.kb.forms) & set(self.after.kb.forms))

    def roots(self, gid: str) -> list[str]:
        out: list[str] = []
        for engine in (self.before, self.after):
            goal = engine.kb.goals[gid]
            out += [goal.conclusion] + ([goal.out_of_scope] if goal.out_of_scope else [])
        return [r for r in dict.fromkeys(out) if r in self.space.program.nodes]

    def fee_roots(self, form: str) -> list[str]:
        out = self.before.program.fee_roots(form) + self.after.program.fee_roots(form)
        return [r for r in dict.fromkeys(out) if r in self.space.program.nodes]

    def changes(self) -> list[Change]:
        out: list[Change] = []
        for gid in self.goals():
            old = goal_outcomes(self.sym_before, self.before.kb, gid)
            new = goal_outcomes(self.sym_after, self.after.kb, gid)
            for a, fa in old.items():
                for b, fb in new.items():
                    if a != b:
                        change = self._change(fa & fb, gid, "doel", None, a, b, self.roots(gid))
                        if change:
                            out.append(change)
        for form in self.forms():
            old_fees = fee_outcomes(self.sym_before, self.before, form, self.peildatum)
            new_fees = fee_outcomes(self.sym_after, self.after, form, self.peildatum)
            for source in sorted(set(old_fees) | set(new_fees)):
                old = old_fees.get(source, {SILENT: self.bdd.true})
                new = new_fees.get(source, {SILENT: self.bdd.true})
                for a, fa in old.items():
                    for b, fb in new.items():
                        if a != b:
                            change = self._change(fa & fb, form, "leges", source, a, b, self.fee_roots(form))
                            if change:
                                out.append(change)
        return out

    def _change(
        self, where: Function, subject: str, kind: str, source: str | None, a: str, b: str, roots: list[str]
    ) -> Change | None:
        bdd = self.bdd
        if where == bdd.false:
            return None
        if (where & self.valid) == bdd.false:
            if (where & self.space.constraint) != bdd.false:
                self.conceivable_only += 1
            return None
        description = describe(self.space, where, self.valid)
        # first the facts the changed declarations read: what separates the versions; then the rest of
        # the situation (the other conditions of the route, the same in both)
        order = self.space.atom_order().index
        description["facts"] = sorted(description["facts"], key=lambda a: (a not in self.touched, order(a)))
        description["separating"] = [a for a in description["facts"] if a in self.touched]
        change = Change(subject, kind, source, a, b, description, None)
        self._example(change, where, roots)
        return change

    # -- examples --------------------------------------------------------------------------------------

    def _answer(self, engine: Any, change: Change, data: dict[str, Any]) -> str | None:
        """What one version gives for the applicant: the goal's outcome, or the source's fee class."""
        from engine.answer.fees import fees_for
        from engine.applicant.facts import parse_applicant

        known = {k: v for k, v in data.items() if k in engine.kb.facts}
        try:
            applicant = parse_applicant(engine.kb, known)
            if change.kind == "doel":
                return engine.assess(applicant, change.subject, self.peildatum).outcome
            answer = fees_for(engine, applicant, change.subject, self.peildatum)
        except VerblijfsregelsError:
            return None
        for s in answer.per_source:
            if s.source_file == change.source:
                if s.applies is not True:
                    return SILENT
                amounts = [s.amount] if s.conflict is None else sorted({x["amount"] for x in s.conflict["branches"]})
                return SEVERAL if len(amounts) > 1 else _amount_key(amounts[0])
        return SILENT

    def _reproduces(self, change: Change, data: dict[str, Any]) -> bool:
        return (
            self._answer(self.before, change, data) == change.before
            and self._answer(self.after, change, data) == change.after
        )

    def _example(self, change: Change, where: Function, roots: list[str]) -> None:
        assignment = self.bdd.pick(where & self.valid)
        if assignment is None:
            return
        data = situation(self.space, self.library, assignment, self.space.atoms_under(roots))
        if not self._reproduces(change, data):
            change.note = (
                "Het voorbeeld uit de beslisdiagrammen geeft concreet niet deze verandering; het staat er "
                "ter controle bij."
            )
        else:
            # leave facts out one at a time while the change still reproduces: what is left decides it
            for name in sorted(data, key=lambda n: (isinstance(data[n], list), n), reverse=True):
                trial = {k: v for k, v in data.items() if k != name}
                if self._reproduces(change, trial):
                    data = trial
        change.example = {k: data[k] for k in sorted(data)}
        change.example_before = self._answer(self.before, change, data)
        change.example_after = self._answer(self.after, change, data)
        if change.kind == "doel":
            cmd = f"verblijfsregels assess voorbeeld.yaml --goal {change.subject} --peildatum {self.peildatum}"
        else:
            cmd = f"verblijfsregels fees voorbeeld.yaml --form {change.subject} --peildatum {self.peildatum}"
        change.commands = [f"{cmd} --kb VOOR", cmd]
        left_out = sorted(k for k in data if k not in self.before.kb.facts or k not in self.after.kb.facts)
        if left_out:
            change.note = (change.note + " " if change.note else "") + (
                f"Een versie kent {', '.join(left_out)} niet; die versie leest het bestand zonder."
            )


def touched_names(before: KnowledgeBase, after: KnowledgeBase, declarations: dict[str, Any]) -> set[str]:
    """The facts and quantities the declarations that changed (or came or went) read or are."""
    names: set[str] = set()
    sections = {kind: section for section, kind in SECTIONS}
    for item in [*declarations["added"], *declarations["removed"], *declarations["changed"]]:
        section = sections.get(item["kind"])
        if section is None:
            continue
        for kb in (before, after):
            decl = getattr(kb, section).get(item["id"])
            if decl is None:
                continue
            if item["kind"] in ("feit", "grootheid"):
                names.add(item["id"])
                names.update(getattr(decl, "inputs", ()))
        old = getattr(before, section).get(item["id"]) if section else None
        new = getattr(after, section).get(item["id"]) if section else None
        for attr in ("conditions", "applies_when"):
            a = _leaves(getattr(old, attr, None))
            b = _leaves(getattr(new, attr, None))
            # what one version reads and the other does not (C4's age 13 against 12); where only the
            # structure changed, everything it reads
            differ = a ^ b or (a | b if getattr(old, attr, None) != getattr(new, attr, None) else set())
            names.update(leaf[1] for leaf in differ)
    quantities = {**before.quantities, **after.quantities}
    for name in list(names):  # a quantity read is read through its inputs, too
        if name in quantities:
            names.update(quantities[name].inputs)
    return names


def _leaves(e: Any, positive: bool = True) -> set[tuple]:
    """The atoms and comparisons an expression reads, each with whether it is read under a `niet`."""
    from engine.rules.model import Atom, Compare, Not

    if e is None:
        return set()
    if isinstance(e, Atom):
        return {("atom", e.name, positive)}
    if isinstance(e, Compare):
        return {("cmp", e.name, e.comparator, repr(e.value), positive)}
    if isinstance(e, Not):
        return _leaves(e.operand, not positive)
    return set().union(*(_leaves(op, positive) for op in e.operands))


def compare(before_dir: Path, after_dir: Path, peildatum: date, before_name: str, after_name: str) -> DiffReport:
    """The diff of two rule bases: findings (both audited), declarations and answers."""
    from engine.answer.assess import Engine
    from engine.checks.audit import audit_directory
    from engine.errors import KnowledgeBaseError
    from engine.evaluate.setwise import SetwiseEvaluator
    from engine.rules.cache import content_key

    # of the files, so also of a rule base that does not load (what Engine sets as KnowledgeBase.version)
    versions = (content_key(before_dir), content_key(after_dir))
    audits = [audit_directory(d, peildatum).to_json() for d in (before_dir, after_dir)]
    findings = finding_changes(*audits)
    notes: list[str] = []
    try:
        engines = [Engine(d, evaluator=SetwiseEvaluator) for d in (before_dir, after_dir)]
    except KnowledgeBaseError as exc:
        notes.append(f"Antwoorden niet vergeleken: een van de kennisbanken laadt niet ({exc}).")
        empty = {"added": [], "removed": [], "changed": []}
        return DiffReport(
            peildatum,
            before_name,
            after_name,
            empty,
            findings,
            [],
            [],
            [],
            notes,
            False,
            audits[1]["strict_fails"],
            versions,
        )
    before, after = engines
    declarations = declaration_changes(before.kb, after.kb)
    diff = AnswerDiff(before, after, peildatum, declarations)
    changes = diff.changes()
    only = sorted(set(before.kb.goals) ^ set(after.kb.goals))
    if only:
        notes.append("Doelen in één van de versies (niet vergeleken, zie de declaraties): " + ", ".join(only) + ".")
    notes.append(
        "Vergeleken zijn de situaties die de regels van beide versies uit elkaar houden, met elk feit bekend "
        "(elke drempel van elk van beide versies maakt klassen); alleen situaties met een combinatie van "
        "datumklassen die met echte datums is gevonden. "
        + (
            f"{diff.conceivable_only} verandering(en) zouden alleen optreden bij een combinatie zonder voorbeeld "
            "en zijn niet gemeld."
            if diff.conceivable_only
            else "Geen verandering zou alleen optreden bij een combinatie zonder voorbeeld."
        )
    )
    return DiffReport(
        peildatum,
        before_name,
        after_name,
        declarations,
        findings,
        changes,
        diff.goals(),
        diff.forms(),
        notes,
        True,
        audits[1]["strict_fails"],
        versions,
    )
