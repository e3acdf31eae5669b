"""The declarations of a rule base as every command reads them: facts, quantities, rules, goals,
fees, and the expressions their conditions are made of.

Every rule is declared once, as data; evaluation, proofs, why-not answers and listings are all
derived from these objects. Nothing here knows about pyDatalog. Reading them from YAML and
checking them is `engine.rules.model`, which offers these names too: a command that answers
from the cache (engine.rules.cache) unpickles these objects and never imports the YAML reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any, Sequence, Union

from msgspec import Struct

# the rule base of this program; every command reads another with --kb DIR
KB_DIR = Path(__file__).resolve().parents[2] / "kb"

DURATION_UNITS = ("dagen", "weken", "maanden", "jaren")
ASSUMPTION_FILE = "aanname"  # Rule.source.file of an assumption: never a seed file
FACT_TYPES = ("bool", "datum", "tekst", "keuze", "bedrag", "vergunningen")
COMPARATORS = {
    "minstens": ">=",
    "meer_dan": ">",
    "hoogstens": "<=",
    "minder_dan": "<",
    "is": "==",
    "in": "in",
}


# -- expressions ------------------------------------------------------------------------------

# The frozen declarations are msgspec Structs, not dataclasses: every command unpickles them from
# the cache, and a Struct class is made in C when its module is imported, where a frozen dataclass
# compiles six generated methods (on Python 3.11 about 0.7 ms a class, most of a cold `assess`'s
# own import time). They compare, hash, print and pickle as the dataclasses did; read their
# fields with `msgspec.structs` (`declaration_fields` below), not `dataclasses`.


class Atom(Struct, frozen=True):
    name: str


class Not(Struct, frozen=True):
    operand: "Expr"


class All(Struct, frozen=True):
    operands: tuple["Expr", ...]


class Any_(Struct, frozen=True):
    operands: tuple["Expr", ...]


class Compare(Struct, frozen=True):
    name: str
    comparator: str  # a key of COMPARATORS
    value: Any


Expr = Union[Atom, Not, All, Any_, Compare]


# -- declarations -----------------------------------------------------------------------------


class Source(Struct, frozen=True):
    file: str
    quote: str


class SourcePage(Struct, frozen=True):
    """A source file as a reader knows it: the title of its page, and who publishes it where the
    knowledge base knows (section `bronnen`, kb/bronnen.yaml)."""

    file: str
    title: str
    publisher: str = ""


class Assumption(Struct, frozen=True):
    """What a declaration rests on when no seed states it: a legal basis and why it is needed.

    Declared as `aanname: {grondslag, reden}` instead of `bron`; proofs show it as an assumption,
    never as a quote, and `verblijfsregels audit` lists every one."""

    basis: str  # e.g. "art. 1:233 BW"
    reason: str  # why the seeds need it (they use a word without defining it, ...)


class Fact(Struct, frozen=True):
    name: str
    type: str
    label: str
    question: str
    changeable: bool
    open_norm: bool = False
    values: tuple[str, ...] = ()
    not_before: tuple[str, ...] = ()  # `niet_voor`: date facts this date cannot precede
    messages: tuple[tuple[str, str], ...] = ()  # `melding`: (fact of not_before, refusal text)
    not_after: tuple[str, ...] = ()  # `niet_na`: PEILDATUM when this date cannot lie after it
    role: str | None = None  # `rol`: what the strategies and the caseload generator read it as


class Quantity(Struct, frozen=True):
    name: str
    type: str  # getal | bool
    label: str
    function: str
    inputs: tuple[str, ...]
    parameters: tuple[tuple[str, Any], ...] = ()
    unit: str = ""
    rule_id: str | None = None
    source: Source | None = None


class Rule(Struct, frozen=True):
    id: str
    label: str
    source: Source
    conclusion: str | None = None
    conditions: Expr | None = None
    exception_to: str | None = None
    applies_when: Expr | None = None
    kind: str = "regel"  # regel | uitzondering | gevolg
    goals: tuple[str, ...] = ()
    explanation: str = ""
    reference: str = ""
    file: str = ""
    valid_from: date | None = None  # a rule with a period holds only for peildata inside it
    valid_until: date | None = None  # exclusive
    start: str | None = None  # a term (soort: termijn) runs from this date fact or quantity ...
    duration: tuple[str, int] | None = None  # ... for this long: ("dagen" | "weken" | "maanden" | "jaren", n)
    covers: tuple[str, ...] = ()  # further inventory rows this declaration encodes
    form: str | None = None  # the application form a consequence points to
    audit: "AuditNote | None" = None  # a finding of the audit this rule is known to give, with why
    # set for a declaration no seed states (`aanname` instead of `bron`); its `source` is then
    # Source(ASSUMPTION_FILE, basis); proofs, `rules` and the audit show the assumption instead
    assumption: Assumption | None = None


class Disagreement(Struct, frozen=True):
    id: str
    label: str
    conclusion: str
    rule_ids: tuple[str, ...]
    explanation: str


class AcknowledgedDisagreement(Struct, frozen=True):
    """What two sources really disagree on, found by the audit across rows or forms and declared
    (`erkende_bronverschillen`): the findings it covers, by key, and a quote from each source. It
    changes no answer (a `bronverschil` joining two rules does that); the audit lists its findings
    as declared information instead of a warning."""

    id: str
    label: str
    findings: tuple[str, ...]
    sources: tuple[Source, ...]
    explanation: str
    where: str


class SourcePrecedence(Struct, frozen=True):
    """Where sources disagree, which goes first (`voorrang`): declared once, with its reason and the
    quotes it rests on. `first` goes before every file in `after`."""

    id: str
    first: str
    after: tuple[str, ...]
    reason: str
    sources: tuple[Source, ...]
    file: str = ""


class Form(Struct, frozen=True):
    number: str
    label: str
    source: Source


class ParameterValue(Struct, frozen=True):
    valid_from: date | None  # None: the source is undated; the value holds until a dated one
    value: int  # euro cents
    source: Source


class Parameter(Struct, frozen=True):
    name: str
    label: str
    values: tuple[ParameterValue, ...]

    def at(self, peildatum: date) -> ParameterValue | None:
        """The value in force on the peildatum: the latest one that started on or before it."""
        candidates = [v for v in self.values if v.valid_from is None or v.valid_from <= peildatum]
        if not candidates:
            return None
        return max(candidates, key=lambda v: v.valid_from or date.min)


class Reason(Struct, frozen=True):
    """Why the knowledge base settles something the sources leave open, with where that is written."""

    text: str
    source: Source


class FeePrecedence(Struct, frozen=True):
    """A fee exception that goes before sibling exceptions of the same source (`gaat_voor`)."""

    over: tuple[str, ...]
    reason: Reason


class FeeRule(Struct, frozen=True):
    """One amount for one form according to one source; exceptions override the rule they name.

    Two sibling exceptions that both apply with different amounts leave the source's amount open,
    unless one declares `gaat_voor` over the other with a cited reason.
    """

    id: str
    form: str
    label: str
    source: Source
    parameter: str
    applies_when: Expr | None = None
    exception_to: str | None = None
    explanation: str = ""
    file: str = ""
    covers: tuple[str, ...] = ()
    audit: "AuditNote | None" = None
    precedence: FeePrecedence | None = None


class FeeRange(Struct, frozen=True):
    id: str
    label: str
    minimum: int
    maximum: int
    source: Source
    outdated: Reason | None = None  # `verouderd`: the stated amounts go before this range, and why


class GoalAssumption(Struct, frozen=True):
    """What applying for a goal says about the application (`aanvraag_voor_doel`): a fact's value.

    Used where the question is asked for one of `goals` and the applicant left `fact` unknown;
    a value the applicant gave is never overridden.
    """

    id: str
    goals: tuple[str, ...]
    fact: str
    value: Any
    source: Source
    explanation: str = ""


class Goal(Struct, frozen=True):
    id: str
    label: str
    conclusion: str
    out_of_scope: str | None
    # `geldt_voor_elk_doel`: this goal's conclusion is the general conditions every other goal reads
    # (004: every temporary permit), with the sentence that says so
    every_goal_reads: Source | None = None
    # `zonder_algemene_voorwaarden`: why this goal's routes do not read those general conditions
    without_general_conditions: Reason | None = None


# Kinds of audit finding (`verblijfsregels audit`); a finding's key is "<kind>/<ids...>".
AUDIT_KINDS = (
    "tegenstrijdig",
    "leemte",
    "dood",
    "nooit_van_toepassing",
    "altijd_opzij",
    "overschaduwd",
    "overbodig",
    "bronverschil",
    "vervallen",
    "nog_niet_geldig",
    "parameter_overlap",
    "parameter_gat",
    "ongebruikt",
    "laadfout",
    "kringloop",
    "vergelijking",
    "verklaring_zonder_bevinding",
    "aanname",
    "citaat",
    "bedrag",
)


class AuditNote(Struct, frozen=True):
    """A finding the audit gives that is known and explained: it is listed as explained.

    It names exactly one finding key (no patterns: a pattern would absorb a future defect) and is
    pinned to the content of the declarations involved (`vingerafdruk`, engine.checks.explanations):
    when they change, it no longer explains and the finding shows again with the old reason.
    Each says why (`reden`), the quote that rests on (`bron`) and when (`datum`); `where` says
    where it was declared.
    A finding that only occurs at some peildata (a rule that has ended, or not yet begun) is
    explained for those: `peildata: {vanaf, tot}` (from inclusive, until exclusive, like
    `geldig_van`/`geldig_tot`). At another peildatum the note neither explains nor is missed.
    """

    patterns: tuple[str, ...]  # exactly one finding key (the name is kept for the readers of old reports)
    reason: str
    where: str
    from_: date | None = None
    until: date | None = None
    source: Source | None = None  # the quote the reason rests on (`bron`)
    written: date | None = None  # when the explanation was written (`datum`)
    fingerprint: str = ""  # `vingerafdruk`: the content of the declarations it was written for

    @property
    def key(self) -> str:
        return self.patterns[0]

    def covers(self, peildatum: date) -> bool:
        return (self.from_ is None or self.from_ <= peildatum) and (self.until is None or peildatum < self.until)

    def dates(self) -> str:
        """The peildata it covers, in Dutch ('' for all)."""
        if self.from_ and self.until:
            return f"peildata van {self.from_.isoformat()} tot {self.until.isoformat()}"
        if self.from_:
            return f"peildata vanaf {self.from_.isoformat()}"
        if self.until:
            return f"peildata vóór {self.until.isoformat()}"
        return ""


class Constraint(Struct, frozen=True):
    """A combination of facts that cannot hold together (`beperkingen`): a situation, not a
    condition for a permit. Either `impossible`, an expression over facts and quantities that no
    applicant makes true (read in Kleene's logic: unknown facts never break it), or `period`,
    (later field, earlier field) of one permit period: the first lies after the second.

    The loader refuses an applicant that breaks one (engine.applicant.constraints), the
    strategies and the caseload generator never make one, the interview does not ask what one
    settles and the audit searches only the situations that break none."""

    id: str
    label: str
    reason: str
    file: str
    source: Source | None = None
    impossible: Expr | None = None
    period: tuple[str, str] | None = None


@dataclass
class KnowledgeBase:
    """Every declaration of a rule base by id, with the indexes `index()` derives from them."""

    facts: dict[str, Fact]
    period_fields: dict[str, dict[str, str]]
    quantities: dict[str, Quantity]
    rules: dict[str, Rule]
    disagreements: dict[str, Disagreement]
    goals: dict[str, Goal]
    forms: dict[str, Form] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    fee_rules: dict[str, FeeRule] = field(default_factory=dict)
    fee_ranges: dict[str, FeeRange] = field(default_factory=dict)
    audit_notes: list[AuditNote] = field(default_factory=list)  # section `audit` of any file
    goal_assumptions: dict[str, GoalAssumption] = field(default_factory=dict)  # section `aanvraag_voor_doel`
    precedences: dict[str, SourcePrecedence] = field(default_factory=dict)  # section `voorrang`
    acknowledged: list[AcknowledgedDisagreement] = field(default_factory=list)  # `erkende_bronverschillen`
    constraints: dict[str, Constraint] = field(default_factory=dict)  # section `beperkingen`
    sources: dict[str, SourcePage] = field(default_factory=dict)  # section `bronnen`, by file name
    # the rule-base version every JSON answer carries: engine.rules.cache.content_key, set by Engine
    version: str = ""
    # the directory it was read from, whose en.yaml has its English text (explain.lang): set by
    # load_knowledge_base, and by Engine for a base read back from the cache (the same content)
    directory: Path | None = field(default=None, compare=False)
    # derived indexes, filled by `index()`
    rules_for: dict[str, list[str]] = field(default_factory=dict)
    exceptions_of: dict[str, list[str]] = field(default_factory=dict)
    disagreement_for: dict[str, str] = field(default_factory=dict)

    def index(self) -> None:
        self.rules_for = {}
        self.exceptions_of = {}
        for rule in self.rules.values():
            if rule.exception_to:
                self.exceptions_of.setdefault(rule.exception_to, []).append(rule.id)
            elif rule.conclusion:
                self.rules_for.setdefault(rule.conclusion, []).append(rule.id)
        self.disagreement_for = {d.conclusion: d.id for d in self.disagreements.values()}

    def declared_precedence(self, first: str, other: str) -> SourcePrecedence | None:
        """The declaration that puts source file `first` before `other`, if any."""
        return next((p for p in self.precedences.values() if p.first == first and other in p.after), None)

    def governing(self, dis: Disagreement, order: Sequence[str] = ()) -> tuple[str, str, Any] | None:
        """The rule of `dis` whose source goes first: (rule id, how, what), how `voorrang` with the
        user's order (`--voorrang`, file names or three-digit numbers) where it names one of the
        sources, else `kennisbank` with the declaration (`voorrang`) that puts that source before
        every other; None where neither settles it (then the sources must agree)."""

        def rank(file: str) -> int:
            return next((i for i, p in enumerate(order) if file == p or file.split("_", 1)[0] == p), len(order))

        files = {rid: self.rules[rid].source.file for rid in dis.rule_ids}
        named = sorted((rank(f), rid) for rid, f in files.items() if rank(f) < len(order))
        if named and (len(named) == 1 or named[0][0] < named[1][0]):
            return named[0][1], "voorrang", list(order)
        for rid, f in files.items():
            found = [self.declared_precedence(f, o) for r, o in files.items() if r != rid]
            if found and all(found):
                return rid, "kennisbank", found[0]
        return None

    def conclusion_of(self, rule: Rule) -> str | None:
        if rule.exception_to:
            return self.rules[rule.exception_to].conclusion
        return rule.conclusion

    def derived_predicates(self) -> set[str]:
        return set(self.rules_for) | set(self.disagreement_for)

    def label_of(self, name: str) -> str:
        if name in self.facts:
            return self.facts[name].label
        if name in self.quantities:
            return self.quantities[name].label
        if name in self.disagreement_for:
            return self.disagreements[self.disagreement_for[name]].label
        rules = self.rules_for.get(name, [])
        if rules:
            return self.rules[rules[0]].label
        return name.replace("_", " ")


PEILDATUM = "peildatum"  # what `niet_na` names: the day an assessment is for


def period_not_before(spec: dict[str, Any]) -> tuple[str, ...]:
    """The `niet_voor` of a permit-period field: the date facts it cannot precede."""
    declared = spec.get("niet_voor") or ()
    return (declared,) if isinstance(declared, str) else tuple(declared)


def period_messages(spec: dict[str, Any]) -> dict[str, str]:
    """The `melding` of a permit-period field, as `_messages` reads it for a fact."""
    return {k: " ".join(v.split()) for k, v in (spec.get("melding") or {}).items()}


def requires(kb: KnowledgeBase, expr: Expr | None, target: str, _seen: frozenset[str] = frozenset()) -> bool:
    """Whether `expr` can only hold where `target` holds, read from the declarations: `target` is
    one of its conditions (in an `alle`, in every alternative of an `een_van`), or a conclusion
    every rule of which requires it (a source disagreement: one of its sources does). Exceptions,
    which set a rule aside, are not followed."""
    if expr is None:
        return False
    if isinstance(expr, Atom):
        name = expr.name
        if name == target:
            return True
        if name in _seen:
            return False
        seen = _seen | {name}
        if name in kb.disagreement_for:
            rule_ids = kb.disagreements[kb.disagreement_for[name]].rule_ids
            return any(requires(kb, Atom(kb.rules[r].conclusion), target, seen) for r in rule_ids if r in kb.rules)
        routes = kb.rules_for.get(name, [])
        return bool(routes) and all(requires(kb, kb.rules[r].conditions, target, seen) for r in routes)
    if isinstance(expr, All):
        return any(requires(kb, op, target, _seen) for op in expr.operands)
    if isinstance(expr, Any_):
        return all(requires(kb, op, target, _seen) for op in expr.operands)
    return False  # `niet`, a comparison


def fact_with_role(kb: KnowledgeBase, role: str) -> str | None:
    """The fact that declares `rol: <role>`, or None."""
    roles = kb.__dict__.get("_roles")
    if roles is None:  # kept on the knowledge base, like date_order
        roles = {f.role: name for name, f in kb.facts.items() if f.role is not None}
        object.__setattr__(kb, "_roles", roles)
    return roles.get(role)


def date_order(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Per date fact, every date fact it cannot precede (its `niet_voor`, followed through), the
    nearest first; the date facts in an order where each comes after those it cannot precede
    (ties by name). Applicant validation, the strategies and the caseload read the order here."""
    cached = kb.__dict__.get("_date_order")
    if cached is not None:
        return cached
    dates = sorted(n for n, f in kb.facts.items() if f.type == "datum")
    before: dict[str, tuple[str, ...]] = {}

    def earlier(name: str) -> tuple[str, ...]:
        if name not in before:
            out: list[str] = list(kb.facts[name].not_before)
            for other in kb.facts[name].not_before:
                out += [n for n in earlier(other) if n not in out]
            before[name] = tuple(out)
        return before[name]

    ordered: dict[str, tuple[str, ...]] = {}
    remaining = list(dates)
    while remaining:  # no cycle: the loader refused it
        ready = [n for n in remaining if all(o in ordered for o in earlier(n))]
        for name in ready:
            ordered[name] = earlier(name)
        remaining = [n for n in remaining if n not in ordered]
    object.__setattr__(kb, "_date_order", ordered)
    return ordered


def declaration_fields(item: Any) -> tuple[str, ...] | None:
    """The names of the fields of a declaration (a Struct, or a dataclass like KnowledgeBase) in the
    order they are declared; None for any other value (also for a class)."""
    if isinstance(item, Struct):
        return item.__struct_fields__
    if is_dataclass(item) and not isinstance(item, type):
        return tuple(f.name for f in fields(item))
    return None


def expr_names(expr: Expr | None) -> list[tuple[str, bool]]:
    """(name, positive) for every name an expression reads; `positive` is False under a `niet`."""
    out: list[tuple[str, bool]] = []

    def walk(e: Expr | None, positive: bool) -> None:
        if e is None:
            return
        if isinstance(e, Atom):
            out.append((e.name, positive))
        elif isinstance(e, Compare):
            out.append((e.name, positive))
        elif isinstance(e, Not):
            walk(e.operand, not positive)
        else:
            for op in e.operands:
                walk(op, positive)

    walk(expr, True)
    return out


def dependency_edges(kb: KnowledgeBase) -> list[tuple[str, str, bool]]:
    """(head, body predicate, positive) for every dependency the declarations create.

    An exception overrides its rule: the rule's conclusion holds only where the exception does
    not apply, so the exception's applicability is a negative dependency.
    """
    edges: list[tuple[str, str, bool]] = []
    for rule in kb.rules.values():
        head = kb.conclusion_of(rule)
        if head is None:
            continue
        for name, positive in expr_names(rule.conditions):
            edges.append((head, name, positive))
        for name, _ in expr_names(rule.applies_when):
            edges.append((head, name, False))
    for dis in kb.disagreements.values():
        for rid in dis.rule_ids:
            rule = kb.rules[rid]
            for name, positive in expr_names(rule.conditions):
                edges.append((dis.conclusion, name, positive))
    return edges
