"""Every rule cites its source verbatim: the quote must occur in the seed file it names."""

from __future__ import annotations

import pytest

from tests.conftest import SEEDS


def _citations(kb):
    for rule in kb.rules.values():
        yield rule.id, rule.source
    for q in kb.quantities.values():
        if q.source:
            yield q.name, q.source


def test_every_rule_cites_a_seed_file_by_name(kb):
    for rid, source in _citations(kb):
        assert source.file.endswith(".txt") and source.quote, rid


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds is not beside the checkout")
def test_every_quote_occurs_verbatim_in_its_seed(kb):
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    missing = [
        f"{rid}: {source.file}: {source.quote!r}"
        for rid, source in _citations(kb)
        if source.file not in texts or source.quote not in texts[source.file]
    ]
    assert missing == []


def test_the_committed_applicant_validator_matches_the_vocabulary(kb):
    from engine import aanvrager_validator
    from engine.facts import schema_digest, validation_schema

    assert aanvrager_validator.SCHEMA_DIGEST == schema_digest(validation_schema(kb)), (
        "kb/feiten.yaml changed: regenerate with "
        "python -c \"import engine.facts as f; f.write_validator()\""
    )
