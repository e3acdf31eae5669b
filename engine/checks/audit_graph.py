"""The rule dependency graph as Graphviz DOT: goals, rules, exceptions, source disagreements, facts,
forms and fee rules, with what reads what. Rules with an open finding of the audit are coloured."""

from __future__ import annotations

import re
import textwrap
from typing import Any, Iterable

from engine.rules.model import KnowledgeBase, expr_names

FILL = {"fout": "#f4c7c3", "waarschuwing": "#fce8b2"}


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(*lines: str) -> str:
    out = []
    for line in lines:
        out.extend(textwrap.wrap(line, 34)[:3] or [""])
    return "\\n".join(s.replace("\\", "\\\\").replace('"', '\\"') for s in out)


def _id(prefix: str, name: str) -> str:
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


def goal_part(kb: KnowledgeBase, gid: str) -> set[str]:
    """The graph node ids of one goal: its routes and referrals, what they read down to the facts,
    its consequences and terms, the forms they point to and those forms' fee rules."""
    goal = kb.goals[gid]
    keep = {_id("doel", gid)}
    names = [n for n in (goal.conclusion, goal.out_of_scope) if n]
    rules = [r for r in kb.rules.values() if r.kind in ("gevolg", "termijn") and gid in r.goals]
    seen: set[str] = set()
    forms: set[str] = set()
    while names or rules:
        if rules:
            rule = rules.pop()
            if rule.id in seen:
                continue
            seen.add(rule.id)
            keep.add(_id("r", rule.id))
            names.extend(n for e in (rule.conditions, rule.applies_when) for n, _ in expr_names(e))
            names.extend([rule.start] if rule.start else [])
            rules.extend(kb.rules[e] for e in kb.exceptions_of.get(rule.id, []))
            if rule.form:
                forms.add(rule.form)
            continue
        name = names.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in kb.facts or name in kb.quantities:
            keep.add(_id("f", name))
            if name in kb.quantities:
                names.extend(kb.quantities[name].inputs)
        elif name in kb.disagreement_for:
            dis = kb.disagreements[kb.disagreement_for[name]]
            keep.add(_id("bv", dis.id))
            rules.extend(kb.rules[r] for r in dis.rule_ids)
        else:
            rules.extend(kb.rules[r] for r in kb.rules_for.get(name, []))
    for number in forms:
        keep.add(_id("form", number))
        for fee in kb.fee_rules.values():
            if fee.form == number:
                keep.add(_id("l", fee.id))
                for name, _ in expr_names(fee.applies_when):
                    if name in kb.facts or name in kb.quantities:
                        keep.add(_id("f", name))
                    else:
                        keep.update(_id("r", r) for r in kb.rules_for.get(name, []))
    return keep


def dot(kb: KnowledgeBase, findings: Iterable[Any] = (), goal: str | None = None) -> str:
    """The graph of the whole rule base, or of one goal's part of it (`goal_part`)."""
    worst: dict[str, str] = {}
    rank = {"fout": 0, "waarschuwing": 1, "info": 2}
    for f in findings:
        if f.explained is not None:
            continue
        for r in f.rules:
            old = worst.get(r["id"])
            if old is None or rank[f.severity] < rank[old]:
                worst[r["id"]] = f.severity

    title = "Afhankelijkheden tussen de regels" + (f" van doel {goal}" if goal else "")
    keep = goal_part(kb, goal) if goal else None
    lines = [
        "digraph regels {",
        f'  graph [rankdir=LR, fontname="Helvetica", fontsize=10, label={_q(title)}, labelloc=t];',
        '  node [fontname="Helvetica", fontsize=9, shape=box, style="rounded,filled", fillcolor=white];',
        '  edge [fontname="Helvetica", fontsize=8, color="#555555"];',
    ]

    def node(nid: str, label: str, rule_id: str | None = None, **attrs: str) -> None:
        if keep is not None and nid not in keep:
            return
        if rule_id and worst.get(rule_id) in FILL:
            attrs["fillcolor"] = _q(FILL[worst[rule_id]])
        extra = "".join(f", {k}={v}" for k, v in attrs.items())
        lines.append(f'  {nid} [label="{label}"{extra}];')

    def edge(a: str, b: str, **attrs: str) -> None:
        if keep is not None and not (a in keep and b in keep):
            return
        extra = ", ".join(f"{k}={v}" for k, v in attrs.items())
        lines.append(f"  {a} -> {b}" + (f" [{extra}]" if extra else "") + ";")

    def targets(name: str) -> list[str]:
        if name in kb.facts or name in kb.quantities:
            return [_id("f", name)]
        if name in kb.disagreement_for:
            return [_id("bv", kb.disagreement_for[name])]
        return [_id("r", r) for r in kb.rules_for.get(name, [])]

    def reads(source: str, expr: Any, **attrs: str) -> None:
        seen = set()
        for name, positive in expr_names(expr):
            for target in targets(name):
                if (target, positive) in seen:
                    continue
                seen.add((target, positive))
                style = dict(attrs)
                if not positive:
                    style.update(style="dashed", label='"niet"')
                edge(source, target, **style)

    for gid in sorted(kb.goals):
        goal = kb.goals[gid]
        node(_id("doel", gid), _label(gid, goal.label), shape="doubleoctagon", fillcolor='"#dbe8f7"')
        for target in targets(goal.conclusion):
            edge(_id("doel", gid), target, label='"route"', penwidth="1.5")
        if goal.out_of_scope:
            for target in targets(goal.out_of_scope):
                edge(_id("doel", gid), target, label='"buiten bereik"', style="dotted")
        for rule in kb.rules.values():
            if rule.kind in ("gevolg", "termijn") and gid in rule.goals:
                edge(_id("doel", gid), _id("r", rule.id), label=f'"{rule.kind}"', style="dotted")
    for rule in kb.rules.values():
        shape = "box"
        attrs: dict[str, str] = {}
        if rule.exception_to:
            attrs["style"] = '"rounded,filled,dashed"'
        if rule.kind in ("gevolg", "termijn"):
            shape = "note"
        node(_id("r", rule.id), _label(rule.id, rule.label), rule.id, shape=shape, **attrs)
        reads(_id("r", rule.id), rule.conditions)
        if rule.exception_to:
            edge(
                _id("r", rule.id),
                _id("r", rule.exception_to),
                label='"uitzondering op"',
                color='"#b03a2e"',
                fontcolor='"#b03a2e"',
            )
            reads(_id("r", rule.id), rule.applies_when)
        if rule.form:
            edge(_id("r", rule.id), _id("form", rule.form), label='"formulier"', style="dotted")
        if rule.start:
            for target in targets(rule.start):
                edge(_id("r", rule.id), target, label='"vanaf"', style="dotted")
    for dis in kb.disagreements.values():
        node(_id("bv", dis.id), _label(dis.id, dis.label), dis.id, shape="diamond", fillcolor='"#e8def8"')
        for rid in dis.rule_ids:
            edge(_id("bv", dis.id), _id("r", rid), label=f'"bron {kb.rules[rid].source.file[:3]}"', color='"#6a3d9a"')
    for name, fact in kb.facts.items():
        node(_id("f", name), _label(name), name, shape="ellipse", fillcolor='"#f2f2f2"')
    for name, q in kb.quantities.items():
        node(_id("f", name), _label(name, "(berekend)"), name, shape="ellipse", fillcolor='"#e6f2e6"')
        for inp in q.inputs:
            edge(_id("f", name), _id("f", inp), style="dotted", arrowhead="none")
    for number, form in kb.forms.items():
        node(
            _id("form", number),
            _label(f"formulier {number}", form.label),
            f"formulier/{number}",
            shape="tab",
            fillcolor='"#fff7d6"',
        )
    for fee in kb.fee_rules.values():
        node(
            _id("l", fee.id),
            _label(fee.id, fee.label),
            fee.id,
            shape="box",
            style='"rounded,filled,dashed"' if fee.exception_to else '"rounded,filled"',
        )
        if fee.exception_to:
            edge(
                _id("l", fee.id),
                _id("l", fee.exception_to),
                label='"uitzondering op"',
                color='"#b03a2e"',
                fontcolor='"#b03a2e"',
            )
        else:
            edge(_id("form", fee.form), _id("l", fee.id), label=f'"leges {fee.source.file[:3]}"')
        reads(_id("l", fee.id), fee.applies_when)
    lines.append("}")
    return "\n".join(lines) + "\n"


def svg(dot_text: str) -> str | None:
    """The graph as SVG through the `dot` binary, or None when Graphviz is not installed."""
    import shutil
    import subprocess

    binary = shutil.which("dot")
    if binary is None:
        return None
    try:
        done = subprocess.run(
            [binary, "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True, timeout=120, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.decode("utf-8", errors="replace")
    start = text.find("<svg")  # drop the XML declaration and doctype: the SVG goes inline in HTML
    return text[start:] if start >= 0 else None
