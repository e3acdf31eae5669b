"""Where each finding of the audit is declared: the declarations it concerns (its rules, and what
its key names), the inventory rows they encode, and the `kb/` file and line of each declaration.

Lines come from the YAML parser's own marks (`yaml.compose` keeps where every node starts), never
from searching the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from engine.rules.inventory import rows_of_declaration
from engine.rules.model import KnowledgeBase, declaration_files

# sections whose declarations are a mapping by name, and those that are a list of items with an id
NAMED_SECTIONS = ("feiten", "grootheden", "doelen", "formulieren", "parameters")
LISTED_SECTIONS = ("regels", "bronverschillen", "leges", "leges_bandbreedte", "aanvraag_voor_doel", "voorrang")


def declaration_lines(kb_dir: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Where each declaration starts ({id: {file, line}}), and each audit explanation by its first
    key. Names are unique across sections (the loader refuses a name declared twice within one);
    the first place wins where a fact and a rule would share one."""
    found: dict[str, dict[str, Any]] = {}
    notes: dict[str, dict[str, Any]] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in declaration_files(kb_dir):
        try:
            with path.open(encoding="utf-8") as handle:
                root = yaml.compose(handle, Loader=loader)
        except (OSError, yaml.YAMLError):
            continue  # the load error is a finding of its own
        if not isinstance(root, yaml.MappingNode):
            continue
        name = f"{kb_dir.name}/{path.relative_to(kb_dir).as_posix()}"
        for key_node, section in root.value:
            if key_node.value in NAMED_SECTIONS and isinstance(section, yaml.MappingNode):
                for k, _ in section.value:
                    found.setdefault(str(k.value), {"file": name, "line": k.start_mark.line + 1})
            elif key_node.value in LISTED_SECTIONS and isinstance(section, yaml.SequenceNode):
                for item in section.value:
                    ident = _scalar(item, "id")
                    if ident is not None:
                        found.setdefault(ident, {"file": name, "line": item.start_mark.line + 1})
                        explained = _child(item, "audit")
                        if explained is not None:
                            notes.setdefault(f"rule:{ident}", {"file": name, "line": explained.start_mark.line + 1})
            elif key_node.value == "audit" and isinstance(section, yaml.SequenceNode):
                for item in section.value:
                    keys = _child(item, "sleutel")
                    first = keys.value[0] if isinstance(keys, yaml.SequenceNode) and keys.value else keys
                    if isinstance(first, yaml.ScalarNode):
                        notes.setdefault(first.value, {"file": name, "line": item.start_mark.line + 1})
    return found, notes


def _child(node: Any, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def _scalar(node: Any, key: str) -> str | None:
    got = _child(node, key)
    return str(got.value) if isinstance(got, yaml.ScalarNode) else None


def declarations_of(finding: Any, kb: KnowledgeBase) -> list[str]:
    """The declarations a finding concerns: its rules, then what the parts of its key name."""
    known = (
        set(kb.rules)
        | set(kb.fee_rules)
        | set(kb.fee_ranges)
        | set(kb.disagreements)
        | set(kb.facts)
        | set(kb.quantities)
        | set(kb.goals)
        | set(kb.forms)
        | set(kb.parameters)
    )
    out = [r["id"] for r in finding.rules]
    for part in finding.key.split("/")[1:]:
        out.extend(p for p in part.split("+") if p in known)
    return list(dict.fromkeys(out))


def annotate(report: Any, kb: KnowledgeBase | None, kb_dir: Path) -> None:
    """Give every finding its declarations, inventory rows and places in `kb/`."""
    lines, notes = declaration_lines(kb_dir)
    for f in report.findings:
        f.declarations = declarations_of(f, kb) if kb is not None else []
        rows: set[str] = set()
        for d in f.declarations:
            item = None if kb is None else (kb.rules.get(d) or kb.fee_rules.get(d))
            rows.update(rows_of_declaration(d, getattr(item, "covers", ())))
        f.rows = sorted(rows, key=lambda r: (r[0], int(r[1:]) if r[1:].isdigit() else 0))
        f.locations = [{"id": d, **lines[d]} for d in f.declarations if d in lines]
        if f.explained is not None:
            where = _explanation_place(f, notes)
            f.explanation_location = where


def _explanation_place(f: Any, notes: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    # `where` names the first key of the explanation (kb/audit.yaml [key]) or the rule it stands in
    where = f.explained_where
    if "[" in where:
        key = where.split("[", 1)[1].split("]", 1)[0]
        if key in notes:
            return notes[key]
        if f"rule:{key}" in notes:
            return notes[f"rule:{key}"]
    for d in f.declarations:
        if f"rule:{d}" in notes:
            return notes[f"rule:{d}"]
    return None
