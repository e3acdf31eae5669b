"""Every rule cites its source verbatim: the quote must occur in the seed file it names."""

from __future__ import annotations

import pytest

from engine.rules.sources import SHIPPED, source_texts
from tests.conftest import ROOT, SEEDS, SHARED_SEEDS


def _citations(kb):
    for rule in kb.rules.values():
        if rule.assumption is None:  # an assumption cites no seed: see the test below
            yield rule.id, rule.source
    for q in kb.quantities.values():
        if q.source:
            yield q.name, q.source
    # fees: the rules, every dated value of every amount, the ranges and the forms cite their source too
    for fee in kb.fee_rules.values():
        yield fee.id, fee.source
    for parameter in kb.parameters.values():
        for value in parameter.values:
            yield f"{parameter.name} ({value.valid_from or 'ongedateerd'})", value.source
    for fee_range in kb.fee_ranges.values():
        yield fee_range.id, fee_range.source
    for form in kb.forms.values():
        yield f"formulier {form.number}", form.source
    for assumption in kb.goal_assumptions.values():
        yield assumption.id, assumption.source
    # a constraint cites a source where one says so (kb/beperkingen.yaml)
    for constraint in kb.constraints.values():
        if constraint.source is not None:
            yield f"beperking {constraint.id}", constraint.source


def _reasons(kb):
    """Why the knowledge base settles what the sources leave open: quoting a seed or the rule inventory."""
    for fee in kb.fee_rules.values():
        if fee.precedence:
            yield f"{fee.id} gaat_voor", fee.precedence.reason.source
    for fee_range in kb.fee_ranges.values():
        if fee_range.outdated:
            yield f"{fee_range.id} verouderd", fee_range.outdated.source
    for precedence in kb.precedences.values():
        for source in precedence.sources:
            yield f"voorrang {precedence.id}", source


def test_every_rule_cites_a_seed_file_by_name(kb):
    for rid, source in _citations(kb):
        assert source.file.endswith(".txt") and source.quote, rid


def test_every_quote_occurs_verbatim_in_its_seed(kb):
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    missing = [
        f"{rid}: {source.file}: {source.quote!r}"
        for rid, source in _citations(kb)
        if source.file not in texts or source.quote not in texts[source.file]
    ]
    assert missing == []


def test_a_declaration_without_a_seed_quote_is_an_explicit_assumption_with_a_legal_basis(kb):
    """Only `aanname.*` declarations go without a quote, and each says what it rests on instead."""
    assumptions = {rid: r for rid, r in kb.rules.items() if r.assumption is not None}
    assert all(rid.startswith("aanname.") for rid in assumptions)
    assert all(r.assumption.basis and r.assumption.reason and r.source.file == "aanname" for r in assumptions.values())
    # 'minderjarig': the seeds use the word without defining it; 18 is the age of majority (art. 1:233 BW)
    minderjarig = kb.rules[kb.rules_for["minderjarig"][0]]
    assert minderjarig.id == "aanname.minderjarig" and "1:233 BW" in minderjarig.assumption.basis


def test_every_reason_quotes_its_seed_or_the_rule_inventory_verbatim(kb):
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    texts["rule-inventory.md"] = (SEEDS / "rule-inventory.md").read_text(encoding="utf-8")
    reasons = list(_reasons(kb))
    assert any(source.file == "rule-inventory.md" for _, source in reasons)  # G9: the range of 004 is out of date
    missing = [
        f"{rid}: {source.file}: {source.quote!r}"
        for rid, source in reasons
        if source.file not in texts or source.quote not in texts[source.file]
    ]
    assert missing == []


def test_the_rule_base_ships_the_five_source_pages_and_the_inventory():
    """The quote checks above never skip: the pages travel with the rule base (and its package data)."""
    assert SEEDS == SHIPPED == ROOT / "kb" / "bronnen"
    names = sorted(source_texts())
    assert len([n for n in names if n.endswith(".txt")]) == 5 and "rule-inventory.md" in names
    package_data = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"bronnen/*.txt", "bronnen/*.md"' in package_data


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason="../shared is not beside the checkout: nothing to compare with")
def test_the_shipped_sources_are_identical_to_the_shared_ones():
    shared = {p.name: p.read_bytes() for p in SHARED_SEEDS.glob("*.txt")}
    shared["rule-inventory.md"] = (SHARED_SEEDS.parent / "rule-inventory.md").read_bytes()
    shipped = {p.name: p.read_bytes() for p in SEEDS.iterdir()}
    assert shipped == shared
