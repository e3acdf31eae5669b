"""Disagreements between sources that do not sit in one inventory row: compared symbolically over
every situation the audit examines.

- **Fees across forms**: fee rules of two sources for two forms that read the same facts (the same
  category of person) and, in one situation, both decide with a different amount.
- **Across rows**: rules of two sources that conclude the same (a goal's route or any conclusion),
  read a fact in common, and say something else in one situation; and two sources' consequences
  naming a form for one goal under different conditions.
- **A route another source governs**: a rule of one source that speaks about a goal (its `doelen`
  or its `verwijzing` names it) whose routes another source states, compared with the rules of
  that source that read a fact in common.

Each finding cites both rules with their quotes and gives a witness per direction. What the
sources really disagree on is declared in `kb/bronverschillen.yaml`: a `bronverschil` joining two
rules (the answer then says the sources differ), or an entry of `erkende_bronverschillen` naming
the finding with both quotes; a declared finding is information, an undeclared one a warning.
Nothing here names a rule of the current rule base.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from engine.rules.model import Rule, expr_names

# the audit's severities (engine.checks.audit registers this module, so it cannot import them here)
INFO, WARNING = "info", "waarschuwing"


def _src(rule: Any) -> str:
    return rule.source.file.split("_")[0]


def _reads(e: Any) -> set[str]:
    return {n for n, _ in expr_names(e)}


def acknowledged(kb: Any) -> dict[str, Any]:
    """Finding key -> the declared disagreement (`erkende_bronverschillen`) that names it."""
    return {key: ack for ack in getattr(kb, "acknowledged", ()) for key in ack.findings}


def _fee_reads(auditor: Any, fee: Any) -> set[str]:
    """The facts a fee rule's walk reads: its own condition and those of the rules above it."""
    kb, out = auditor.kb, set()
    while fee is not None:
        out |= _reads(fee.applies_when)
        fee = kb.fee_rules.get(fee.exception_to) if fee.exception_to else None
    return out


def _decides(auditor: Any, b: Any, fee: Any) -> bool:
    """In this applicant's values, the fee rule's source speaks and the rule decides the amount
    (the nodes the compiled fee choice gives, as `fees` reads them)."""
    choice = auditor.program.fee_choice[fee.id]
    root = auditor.kb.fee_rules[choice.root]
    speaks = root.applies_when is None or b.value(auditor.program.fee_nodes[root.id]) is True
    return speaks and (choice.chosen is None or b.value(choice.chosen) is True)


def fees_across_forms(auditor: Any, finding: Any) -> list[Any]:
    kb = auditor.kb
    _, final = auditor._decides()
    fees = sorted(kb.fee_rules.values(), key=lambda f: f.id)
    out = []
    for f1, f2 in itertools.combinations(fees, 2):
        if f1.form == f2.form or f1.source.file == f2.source.file:
            continue  # one form: the leges check; one source pricing two forms is no disagreement
        shared = _fee_reads(auditor, f1) & _fee_reads(auditor, f2)
        if not shared:
            continue
        a, b = auditor.amount(f1), auditor.amount(f2)
        if a == b:
            continue
        key = f"bronverschil/formulieren/{f1.id}/{f2.id}"
        condition = final[f1.id] & final[f2.id]
        if not auditor.sat(condition, key):
            continue
        nodes = [auditor.program.fee_nodes[f.id] for f in (f1, f2) if f.id in auditor.program.fee_nodes]

        def holds(b: Any, x: Any = f1, y: Any = f2) -> bool:
            return _decides(auditor, b, x) and _decides(auditor, b, y)

        w = auditor.witness(condition, nodes, holds, f"{f1.id}: {_euro(a)}; {f2.id}: {_euro(b)}", form=f1.form)
        if w is not None:  # each form has its own model in the reference engine: check each there
            refs = [auditor.reference(w.applicant, None, f.form) for f in (f1, f2)]
            w.verified = all(r is not None and _decides(auditor, r, f) for r, f in zip(refs, (f1, f2)))
        out.append(
            finding(
                "bronverschil",
                key,
                f"{f1.id} (bron {_src(f1)}, formulier {f1.form}) en {f2.id} (bron {_src(f2)}, formulier {f2.form}): "
                "ander bedrag voor dezelfde aanvrager",
                f"De legesregels lezen hetzelfde over de aanvrager ({', '.join(sorted(shared))}) en bepalen in dezelfde "
                f"situatie allebei het bedrag: bron {_src(f1)} {_euro(a)} voor formulier {f1.form}, bron {_src(f2)} "
                f"{_euro(b)} voor formulier {f2.form}. Gaat het om dezelfde aanvraag, dan verschillen de bronnen.",
                [auditor.ref(f1.id), auditor.ref(f2.id)],
                [w] if w else [],
            )
        )
    return out


def _euro(cents: int | None) -> str:
    if cents is None:
        return "geen bedrag"
    whole, rest = divmod(cents, 100)
    return f"€ {whole:,}".replace(",", ".") + f",{rest:02d}"


def _differ(auditor: Any, r1: Rule, r2: Rule, key: str, finding: Any, title: str, message: str) -> Any | None:
    """A finding with a witness per direction in which r1 and r2 give another answer, or None."""
    sym = auditor.sym
    n1, n2 = auditor.rule_node(r1), auditor.rule_node(r2)
    witnesses = []
    for a, b, na, nb in ((r1, r2, n1, n2), (r2, r1, n2, n1)):
        condition = sym.true(na) & sym.false(nb)
        if not auditor.sat(condition, key):
            continue
        w = auditor.witness(
            condition,
            [na, nb],
            lambda bld, x=na, y=nb: bld.value(x) is True and bld.value(y) is False,
            f"volgens {a.id} (bron {_src(a)}) wel, volgens {b.id} (bron {_src(b)}) niet",
        )
        if w:
            witnesses.append(w)
    if not witnesses:
        return None
    return finding("bronverschil", key, title, message, [auditor.ref(r1.id), auditor.ref(r2.id)], witnesses)


def _joined(kb: Any) -> set[frozenset]:
    return {frozenset(p) for dis in kb.disagreements.values() for p in itertools.combinations(dis.rule_ids, 2)}


def across_rows(auditor: Any, finding: Any) -> list[Any]:
    kb = auditor.kb
    joined = _joined(kb)
    rules = sorted((r for r in kb.rules.values() if r.kind == "regel" and r.conclusion), key=lambda r: r.id)
    out = []
    for r1, r2 in itertools.combinations(rules, 2):
        if r1.source.file == r2.source.file or frozenset((r1.id, r2.id)) in joined:
            continue
        if r1.id.split(".")[0] == r2.id.split(".")[0] or r1.conclusion != r2.conclusion:
            continue  # one row: the undeclared-disagreement check compares those
        shared = _reads(r1.conditions) & _reads(r2.conditions)
        if not shared:
            continue  # separate routes to one conclusion, each for its own people
        f = _differ(
            auditor,
            r1,
            r2,
            f"bronverschil/rijen/{r1.id}/{r2.id}",
            finding,
            f"{r1.id} (bron {_src(r1)}) en {r2.id} (bron {_src(r2)}): één conclusie, andere voorwaarden",
            f"De regels komen uit verschillende bronnen en inventarisrijen, concluderen allebei "
            f"'{kb.label_of(r1.conclusion)}' en lezen hetzelfde ({', '.join(sorted(shared))}), maar geven in "
            "dezelfde situatie een andere uitkomst.",
        )
        if f:
            out.append(f)
    # consequences: two sources naming a form for one goal, under different conditions
    forms = sorted((r for r in kb.rules.values() if r.kind == "gevolg" and r.form and r.conclusion), key=lambda r: r.id)
    for r1, r2 in itertools.combinations(forms, 2):
        common = sorted(set(r1.goals) & set(r2.goals))
        if r1.source.file == r2.source.file or not common:
            continue
        same = r1.form == r2.form
        key = f"bronverschil/gevolgen/{r1.id}/{r2.id}"
        if same:
            f = _differ(
                auditor,
                r1,
                r2,
                key,
                finding,
                f"{r1.id} (bron {_src(r1)}) en {r2.id} (bron {_src(r2)}): formulier {r1.form} onder andere voorwaarden",
                f"Voor {', '.join(common)} wijzen beide bronnen formulier {r1.form} aan, maar in een andere situatie.",
            )
        else:
            condition = auditor.sym.true(auditor.rule_node(r1)) & auditor.sym.true(auditor.rule_node(r2))
            f = None
            if auditor.sat(condition, key):
                n1, n2 = auditor.rule_node(r1), auditor.rule_node(r2)
                w = auditor.witness(
                    condition,
                    [n1, n2],
                    lambda b, x=n1, y=n2: b.value(x) is True and b.value(y) is True,
                    f"{r1.id}: formulier {r1.form}; {r2.id}: formulier {r2.form}",
                )
                f = finding(
                    "bronverschil",
                    key,
                    f"{r1.id} (bron {_src(r1)}) en {r2.id} (bron {_src(r2)}): een ander formulier",
                    f"Voor {', '.join(common)} wijst bron {_src(r1)} in dezelfde situatie formulier {r1.form} aan en "
                    f"bron {_src(r2)} formulier {r2.form}.",
                    [auditor.ref(r1.id), auditor.ref(r2.id)],
                    [w] if w else [],
                )
        if f:
            out.append(f)
    return out


def governed_by_another(auditor: Any, finding: Any) -> list[Any]:
    kb = auditor.kb
    joined = _joined(kb)
    governing: dict[str, set[str]] = {}
    for gid, goal in kb.goals.items():
        governing[gid] = {kb.rules[r].source.file for r in kb.rules_for.get(goal.conclusion, ())}
    out = []
    for rule in sorted(kb.rules.values(), key=lambda r: r.id):
        if rule.kind != "regel" or not rule.conclusion or rule.assumption is not None:
            continue
        named = set(rule.goals) | {g for g in kb.goals if re.search(rf"\b{re.escape(g)}\b", rule.reference)}
        for gid in sorted(named):
            if not governing.get(gid) or rule.source.file in governing[gid]:
                continue
            reach = auditor.reach(gid)
            others = [
                r
                for r in kb.rules.values()
                if r.kind == "regel"
                and r.conclusion
                and r.source.file in governing[gid]
                and auditor.rule_node(r) in reach
                and _reads(r.conditions) & _reads(rule.conditions)
                and frozenset((r.id, rule.id)) not in joined
            ]
            for other in sorted(others, key=lambda r: r.id):
                f = _differ(
                    auditor,
                    rule,
                    other,
                    f"bronverschil/andere_bron/{rule.id}/{other.id}",
                    finding,
                    f"{rule.id} (bron {_src(rule)}) over {gid}, dat bron {_src(other)} regelt ({other.id})",
                    f"Bron {_src(rule)} zegt iets over '{kb.goals[gid].label}', dat bron {_src(other)} regelt; "
                    f"beide lezen {', '.join(sorted(_reads(rule.conditions) & _reads(other.conditions)))}, maar in "
                    "dezelfde situatie zeggen zij iets anders.",
                )
                if f:
                    out.append(f)
    return out


def check(auditor: Any, finding: Any) -> list[Any]:
    """Every finding of the three comparisons (severity set by `declared`)."""
    return fees_across_forms(auditor, finding) + across_rows(auditor, finding) + governed_by_another(auditor, finding)


COMPARED = ("bronverschil/formulieren/", "bronverschil/rijen/", "bronverschil/gevolgen/", "bronverschil/andere_bron/")


def declared(kb: Any, findings: list[Any], finding: Any) -> list[Any]:
    """A disagreement the rule base declares (`erkende_bronverschillen`) is information, with its
    explanation; one of the comparisons above or of fees (`bronverschil/leges/`) that it does not
    declare is a warning. A declaration whose finding the audit does not give is reported."""
    acks = acknowledged(kb)
    for f in findings:
        ack = acks.get(f.key)
        if f.kind != "bronverschil":
            continue
        if ack is not None:
            f.severity = INFO
            quotes = "; ".join(f"bron {s.file.split('_')[0]}: “{s.quote}”" for s in ack.sources)
            f.message += f" Gedeclareerd als bronverschil {ack.id} ({ack.label}): {ack.explanation} ({quotes})"
        elif f.key.startswith(COMPARED + ("bronverschil/leges/",)):
            f.severity = WARNING
            f.message += (
                " Geen bronverschil verklaart dit: verklaar het in kb/bronverschillen.yaml (erkende_bronverschillen, "
                "met een citaat van elke bron), of herstel de codering als de bronnen hier niet echt verschillen."
            )
    keys = {f.key for f in findings}
    out = []
    for key, ack in sorted(acks.items()):
        if key not in keys:
            out.append(
                finding(
                    "verklaring_zonder_bevinding",
                    f"verklaring_zonder_bevinding/{key}",
                    f"bronverschil zonder bevinding: {key}",
                    f"{ack.where} verklaart '{key}', maar de audit vindt dat verschil niet (meer). Verwijder het "
                    "of pas de sleutel aan.",
                    [],
                )
            )
    return out
