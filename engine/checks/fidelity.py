"""Source fidelity: every quote occurs verbatim in the source page it names, and every amount is
one its own quote writes.

The test suite checks the same on this rule base; the audit checks it on any rule base it is given,
so that a changed copy (another amount, a retyped quote) shows up in the report an analyst reads.
The pages are the ones shipped with the rule base (`<kb>/bronnen/`); without them the report says
that nothing could be checked instead of passing silently.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Iterator

from engine.rules.model import KnowledgeBase, Source

INVENTORY_FILE = "rule-inventory.md"

# "€ 174", "€ 1.057", "€ 0,50"; "962,- euro"; "van 0 tot 962,- euro": amounts as the pages write them
_EURO_SIGN = re.compile(r"€\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{2}|-))?")
_EURO_WORD = re.compile(r"(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{2}|-))?\s*euro\b")
_RANGE = re.compile(r"\b(\d+)\s+tot\s+(\d{1,3}(?:\.\d{3})+|\d+)(?:,(?:\d{2}|-))?\s*euro\b")
# a quote that says the application costs nothing, in the words the pages use
_FREE = re.compile(r"geen kosten|niet (?:te )?betalen|gratis|kosteloos", re.IGNORECASE)


@dataclass(frozen=True)
class Citation:
    owner: str  # the declaration that quotes, as the report names it
    source: Source
    inventory_allowed: bool = False  # a reason may quote the rule inventory; a rule never


@dataclass(frozen=True)
class Amount:
    owner: str
    cents: int
    source: Source  # the quote the amount must be written in


def _cents(whole: str, part: str | None) -> int:
    return int(whole.replace(".", "")) * 100 + (int(part) if part and part != "-" else 0)


def amounts_in(quote: str) -> set[int] | None:
    """The amounts (in cents) a quote writes; {0} for a quote that says it costs nothing; None for
    a quote that names no amount at all (nothing to compare with)."""
    found = {_cents(w, p) for w, p in _EURO_SIGN.findall(quote)}
    found |= {_cents(w, p) for w, p in _EURO_WORD.findall(quote)}
    for low, high in _RANGE.findall(quote):
        found |= {_cents(low, None), _cents(high, None)}
    if not found and _FREE.search(quote):
        found = {0}
    return found or None


def citations(kb: KnowledgeBase) -> Iterator[Citation]:
    """Every quote the rule base makes, with the declaration that makes it."""
    for rule in kb.rules.values():
        if rule.assumption is None:  # an assumption cites no page: it says what it rests on instead
            yield Citation(rule.id, rule.source)
    for q in kb.quantities.values():
        if q.source:
            yield Citation(q.name, q.source)
    for fee in kb.fee_rules.values():
        yield Citation(fee.id, fee.source)
        if fee.precedence:
            yield Citation(f"{fee.id} gaat_voor", fee.precedence.reason.source, True)
    for parameter in kb.parameters.values():
        for value in parameter.values:
            yield Citation(f"{parameter.name} ({value.valid_from or 'ongedateerd'})", value.source)
    for fee_range in kb.fee_ranges.values():
        yield Citation(fee_range.id, fee_range.source)
        if fee_range.outdated:
            yield Citation(f"{fee_range.id} verouderd", fee_range.outdated.source, True)
    for form in kb.forms.values():
        yield Citation(f"formulier {form.number}", form.source)
    for assumption in kb.goal_assumptions.values():
        yield Citation(assumption.id, assumption.source)
    for precedence in kb.precedences.values():
        for source in precedence.sources:
            yield Citation(f"voorrang {precedence.id}", source, True)
    for ack in getattr(kb, "acknowledged", ()):
        for i, source in enumerate(ack.sources):
            yield Citation(f"bronverschil {ack.id} (citaat {i + 1})", source)
    for note in kb.audit_notes:
        if getattr(note, "source", None) is not None:
            yield Citation(f"verklaring {note.patterns[0]}", note.source, True)


def amounts(kb: KnowledgeBase) -> Iterator[Amount]:
    """Every amount the rule base states, with the quote that must write it."""
    for parameter in kb.parameters.values():
        for value in parameter.values:
            yield Amount(f"{parameter.name} ({value.valid_from or 'ongedateerd'})", value.value, value.source)
    for fee_range in kb.fee_ranges.values():
        yield Amount(f"{fee_range.id} (minimum)", fee_range.minimum, fee_range.source)
        yield Amount(f"{fee_range.id} (maximum)", fee_range.maximum, fee_range.source)


def closest_passage(quote: str, text: str) -> tuple[str, float]:
    """The passage of `text` most like `quote` (as many lines as the quote has, or one sentence),
    with its similarity (0..1)."""
    lines = [line.strip().lstrip("•-* ").strip() for line in text.splitlines() if line.strip()]
    size = max(1, len(quote.splitlines()))
    windows = [" ".join(lines[i : i + size]) for i in range(max(1, len(lines) - size + 1))]
    windows += [s.strip() for line in lines for s in re.split(r"(?<=[.?!])\s+", line) if s.strip()]
    best, score = "", 0.0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(quote)
    for window in windows:
        matcher.set_seq1(window)
        if matcher.real_quick_ratio() <= score or matcher.quick_ratio() <= score:
            continue
        ratio = matcher.ratio()
        if ratio > score:
            best, score = window, ratio
    return best, score


def euro(cents: int) -> str:
    whole, rest = divmod(cents, 100)
    return f"€ {whole:,}".replace(",", ".") + f",{rest:02d}"


def check(kb: KnowledgeBase, texts: dict[str, str], finding: Any) -> list[Any]:
    """The findings: a quote not verbatim in its page (`citaat`), an amount its own quote does not
    write (`bedrag`). `finding(kind, key, title, message, rules)` makes one (the audit's Finding)."""
    out = []
    seen: set[tuple[str, str, str]] = set()
    for c in citations(kb):
        name, quote = c.source.file, c.source.quote
        if (c.owner, name, quote) in seen:
            continue
        seen.add((c.owner, name, quote))
        if name == INVENTORY_FILE and not c.inventory_allowed:
            message = f"{c.owner} citeert de regelinventaris; een regel citeert een bronpagina."
        elif name not in texts:
            message = f"{c.owner} citeert '{name}', maar die bron is er niet (bronnen: {', '.join(sorted(texts))})."
        elif quote in texts[name]:
            continue
        else:
            passage, score = closest_passage(quote, texts[name])
            message = (
                f"Het citaat van {c.owner} staat niet letterlijk in {name}: “{quote}”. Dichtstbijzijnde passage "
                f"({round(score * 100)} % gelijk): “{passage}”."
            )
        out.append(
            finding(
                "citaat",
                f"citaat/{c.owner}",
                f"{c.owner}: citaat niet letterlijk in de bron",
                message,
                [{"id": c.owner, "label": c.owner, "source": {"file": name, "quote": quote}}],
            )
        )
    for a in amounts(kb):
        written = amounts_in(a.source.quote)
        if written is not None and a.cents in written:
            continue
        if written is None:
            message = (
                f"{a.owner} is {euro(a.cents)}, maar zijn citaat noemt geen bedrag: “{a.source.quote}” "
                f"({a.source.file}). Citeer de zin die het bedrag noemt."
            )
        else:
            message = (
                f"{a.owner} is {euro(a.cents)}, maar zijn citaat noemt "
                + " of ".join(euro(v) for v in sorted(written))
                + f": “{a.source.quote}” ({a.source.file})."
            )
        out.append(
            finding(
                "bedrag",
                f"bedrag/{a.owner.split(' ')[0]}",
                f"{a.owner}: bedrag niet in het eigen citaat",
                message,
                [{"id": a.owner, "label": a.owner, "source": {"file": a.source.file, "quote": a.source.quote}}],
            )
        )
    return out


def counts(kb: KnowledgeBase) -> tuple[int, int]:
    """(quotes, amounts) the check reads."""
    return len({(c.owner, c.source.file, c.source.quote) for c in citations(kb)}), sum(1 for _ in amounts(kb))


def audit_sources(kb: KnowledgeBase, kb_dir: Any, finding: Any) -> tuple[list[Any], str]:
    """The audit's part: the findings and the sentence the report says about what was checked."""
    from engine.rules.sources import source_dir, source_texts

    texts = source_texts(kb_dir) if kb_dir is not None else {}
    quotes, figures = counts(kb)
    if not texts:
        where = source_dir(kb_dir) if kb_dir is not None else "bronnen/"
        return [], (
            f"Brontrouw NIET gecontroleerd: de kennisbank heeft geen bronpagina's ({where} ontbreekt), dus is van "
            f"geen van de {quotes} citaten nagegaan of het letterlijk in zijn bron staat en van geen van de "
            f"{figures} bedragen of zijn citaat het noemt."
        )
    found = check(kb, texts, finding)
    pages = ", ".join(sorted(texts))
    return found, (
        f"Brontrouw: elk van de {quotes} citaten is letterlijk gezocht in zijn bron en elk van de {figures} bedragen "
        f"in zijn eigen citaat (bronnen: {pages}); "
        + (f"{len(found)} afwijkingen, hierboven gemeld." if found else "alles klopt.")
    )
