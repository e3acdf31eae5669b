"""Traceability: which declarations encode each row of the rule inventory (A1…G9)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from engine.errors import KnowledgeBaseError
from engine.rules.model import KB_DIR, KnowledgeBase

ROW = re.compile(r"[A-G][0-9]+")


@dataclass(frozen=True)
class InventoryRow:
    id: str
    description: str
    encoded_by: tuple[str, ...]
    not_encoded: str  # why, when nothing encodes it


def rows_of_declaration(declaration_id: str, covers: tuple[str, ...] = ()) -> list[str]:
    """`C13` -> [C13]; `A9.mensenhandel` -> [A9]; `B4+C2` -> [B4, C2]; plus what it `dekt`."""
    head = declaration_id.split(".", 1)[0]
    return sorted({*(part for part in head.split("+") if ROW.fullmatch(part)), *covers})


def inventory(kb: KnowledgeBase, directory: Path = KB_DIR) -> list[InventoryRow]:
    with (directory / "inventaris.yaml").open(encoding="utf-8") as handle:
        declared = yaml.safe_load(handle)["rijen"]
    encoders: dict[str, list[str]] = {}
    for rule in kb.rules.values():
        for row in rows_of_declaration(rule.id, rule.covers):
            encoders.setdefault(row, []).append(rule.id)
    for dis in kb.disagreements.values():
        for row in rows_of_declaration(dis.id):
            encoders.setdefault(row, []).append(dis.id)
    for fee in kb.fee_rules.values():
        for row in rows_of_declaration(fee.id, fee.covers):
            encoders.setdefault(row, []).append(fee.id)
    for fee_range in kb.fee_ranges.values():
        for row in rows_of_declaration(fee_range.id):
            encoders.setdefault(row, []).append(fee_range.id)
    for q in kb.quantities.values():
        if q.rule_id:
            encoders.setdefault(q.rule_id, []).append(f"grootheid {q.name}")
    unknown = sorted(set(encoders) - set(declared))
    if unknown:
        raise KnowledgeBaseError(f"declaraties verwijzen naar inventarisrijen die niet bestaan: {', '.join(unknown)}")
    return [
        InventoryRow(
            rid, str(spec.get("omschrijving", "")), tuple(encoders.get(rid, ())), str(spec.get("niet_gecodeerd", ""))
        )
        for rid, spec in declared.items()
    ]
