"""Every row of the rule inventory is encoded by a declaration, or says why it is not."""

from __future__ import annotations

import re

import yaml

from engine.rules.inventory import inventory
from tests.conftest import ROOT, SEEDS

INVENTORY = SEEDS / "rule-inventory.md"  # shipped with the rule base


def test_every_inventory_id_is_listed_in_the_knowledge_base():
    ids = re.findall(r"^\| ([A-G][0-9]+) \|", INVENTORY.read_text(encoding="utf-8"), flags=re.M)
    listed = yaml.safe_load((ROOT / "kb" / "inventaris.yaml").read_text(encoding="utf-8"))["rijen"]
    assert ids and sorted(set(ids) - set(listed)) == []
    assert sorted(set(listed) - set(ids)) == []


def test_every_row_is_encoded_or_says_why_not(kb):
    for row in inventory(kb):
        assert bool(row.encoded_by) != bool(row.not_encoded), (
            f"{row.id}: gecodeerd door {row.encoded_by} maar ook 'niet_gecodeerd: {row.not_encoded}'"
            if row.encoded_by
            else f"{row.id}: niet gecodeerd en geen reden"
        )


def test_rows_b_and_c_of_the_foundation_are_all_encoded(kb):
    rows = {r.id: r for r in inventory(kb)}
    for rid in [f"B{i}" for i in range(1, 10)] + [f"C{i}" for i in range(1, 21)] + ["A8", "A9"]:
        assert rows[rid].encoded_by, rid
