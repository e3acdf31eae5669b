"""Dutch justifications rendered from proofs through Jinja2 templates.

One Environment with StrictUndefined: a template that asks for something a proof does not have
fails loudly instead of printing an empty string. Rule labels and sources come from the proofs,
which come from the declarations, so a new rule needs no template change.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, select_autoescape

from engine.rules.cache import cache_dir

STATIC_DIR = Path(__file__).resolve().parent / "static"  # the style sheet the web pages link to

MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
OUTCOME_WORDS = {
    "eligible": "komt in aanmerking",
    "not_eligible": "komt niet in aanmerking",
    "undetermined": "nog niet te bepalen",
    "out_of_scope": "valt buiten deze kennisbank",
}
COMPARATOR_WORDS = {
    "minstens": "is minstens",
    "meer_dan": "is meer dan",
    "hoogstens": "is hoogstens",
    "minder_dan": "is minder dan",
    "is": "is",
    "in": "is een van",
}


def dutch_date(value: date | str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def status(value: Any) -> str:
    """How a condition's truth value reads in a justification."""
    if value is True:
        return "voldaan"
    if value is False:
        return "niet voldaan"
    if value == "conflict":
        return "tegenstrijdig afgeleid"
    return "onbekend"


def fact_value(value: Any, unit: str = "", free_text: bool = False) -> str:
    """How an input fact or quantity reads; `free_text` (a fact of type tekst) exactly as given."""
    if free_text and isinstance(value, str):
        return FREE_START + value + FREE_END  # verbatim: wrap_lines leaves it whole, then unmarks it
    if value is True:
        return "ja"
    if value is False:
        return "nee"
    if value is None:
        return "onbekend"
    if isinstance(value, date):
        return dutch_date(value)
    if isinstance(value, (list, tuple)):
        return "; ".join(period(p) for p in value) or "geen"
    if unit == "jaar":
        return f"{value} jaar"
    return str(value).replace("_", " ") if isinstance(value, str) else str(value)


def period(p: Any) -> str:
    if not isinstance(p, dict):
        return str(p)
    end = dutch_date(p["tot"]) if p.get("tot") else "heden"
    parts = [f"{dutch_date(p['van'])} tot en met {end}" if p.get("tot") else f"vanaf {dutch_date(p['van'])}"]
    if p.get("verblijfsdoel"):
        parts.append(str(p["verblijfsdoel"]).replace("_", " "))
    if p.get("niet_tijdelijk") is True:
        parts.append("niet-tijdelijk doel")
    elif p.get("niet_tijdelijk") is False:
        parts.append("tijdelijk doel")
    return ", ".join(parts)


def threshold(value: Any) -> str:
    """A comparison's constant; choice values read like the fact's value (no underscores)."""
    if isinstance(value, (list, tuple)):
        return ", ".join(threshold(v) for v in value)
    if isinstance(value, date):
        return dutch_date(value)
    return str(value).replace("_", " ") if isinstance(value, str) else str(value)


def euro(cents: int | None) -> str:
    """Euro cents in Dutch notation: € 1.057,00."""
    if cents is None:
        return "geen bedrag bekend op de peildatum"
    whole, rest = divmod(cents, 100)
    return f"€ {whole:,}".replace(",", ".") + f",{rest:02d}"


def duration(value: dict[str, int]) -> str:
    ((unit, amount),) = value.items()
    singular = {"dagen": "dag", "weken": "week", "maanden": "maand", "jaren": "jaar"}
    return f"{amount} {singular[unit] if amount == 1 else unit}"


def block(text: str, indent: int = 2, width: int = 100, wrap: bool = True, hang: int = 0) -> str:
    """Text indented (and wrapped) as a block, without a trailing newline; `hang` indents a wrapped
    line's continuation further (under the text of a bullet)."""
    pad = " " * indent
    lines = []
    for line in str(text).rstrip("\n").split("\n"):
        if wrap and line.strip():
            lines.extend(
                textwrap.wrap(
                    line,
                    width - indent,
                    subsequent_indent=" " * hang,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                or [""]
            )
        else:
            lines.append(line)
    return "\n".join(pad + line if line else "" for line in lines)


def command_lines(command: str, indent: int = 4, width: int = 100) -> str:
    """A shell command indented, broken before an option with a continuation backslash where the
    line would run past `width`, so it still pastes into a shell as one command."""
    words = command.split(" ")
    lines, line = [], words[0]
    for word in words[1:]:
        if word.startswith("--") and len(line) + 1 + len(word) + indent + 2 > width:
            lines.append(line + " \\")
            line = "  " + word
        else:
            line = f"{line} {word}"
    lines.append(line)
    return "\n".join(" " * indent + part for part in lines)


LINE_WIDTH = 100  # no line of text output is longer (tests/test_short_answer.py)
_BULLET = re.compile(r"( *)((?:[-·•] |\d+\. )?)")
_HEADING = re.compile(r"[^\s:]+(?: \([^)]*\))?: ")


FREE_START, FREE_END = "\ue000", "\ue001"  # around free text in a template's output (fact_value)
_FREE = re.compile(f"{FREE_START}(.*?){FREE_END}", re.S)


def unmarked(text: str) -> str:
    """Output without the marks around free text (what a page or an unwrapped text shows)."""
    return text.replace(FREE_START, "").replace(FREE_END, "")


def wrap_lines(text: str, width: int = LINE_WIDTH) -> str:
    """Every line longer than `width` wrapped at spaces, its continuation indented under its text
    (past the bullet), so a long quote or list still reads as one item. Words are never split:
    a single word (a path, a quote without spaces) longer than the width stays whole. Free text
    of the applicant (marked by fact_value) is never wrapped: it comes out verbatim, however long."""
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(1))
        return f"\ue002{len(kept) - 1}\ue003"

    text = _FREE.sub(keep, text)
    wrapped = _wrap(text, width)
    return re.sub("\ue002(\\d+)\ue003", lambda m: kept[int(m.group(1))], wrapped)


def _wrap(text: str, width: int) -> str:
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent, bullet = _BULLET.match(line).groups()
        body = line[len(indent) + len(bullet) :]
        # a heading line such as "C11: label" or "Conclusie: …" hangs its continuation four deep,
        # below the lines of its entry (two deep), so a listing's next entry still starts at the
        # margin; an indented line without a bullet (a quote or note under an entry) hangs two
        # deeper: its continuation is never read as the entry's next line
        if bullet:
            hang = " " * len(bullet)
        elif indent:
            hang = "  "
        else:
            hang = "    " if _HEADING.match(line) else ""
        out.extend(
            textwrap.wrap(
                body,
                width,
                initial_indent=indent + bullet,
                subsequent_indent=indent + hang,
                break_long_words=False,
                break_on_hyphens=False,
                replace_whitespace=False,
            )
            or [line]
        )
    return "\n".join(out)


def getal(n: int) -> str:
    """A whole number with Dutch thousands separators: 9.663.676.416."""
    return f"{n:,}".replace(",", ".")


def source_file(name: str) -> str:
    """Seed files are cited by their three-digit number, as the inventory does."""
    return name.split("_", 1)[0]


def source_name(name: str) -> str:
    """How a cited file reads in a sentence: "bron 001", or "de regelinventaris" (shared/rule-inventory.md)."""
    return "de regelinventaris" if name == "rule-inventory.md" else f"bron {source_file(name)}"


def euros(amounts: list[int | None]) -> str:
    """Amounts as alternatives: "€ 391,00 of € 174,00"."""
    words = [euro(a) for a in amounts]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " of " + words[-1]


# -- English (--lang en): the same filters with English words; the Dutch ones above stay as they are

MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
OUTCOME_WORDS_EN = {
    "eligible": "is eligible",
    "not_eligible": "is not eligible",
    "undetermined": "cannot be determined yet",
    "out_of_scope": "falls outside this knowledge base",
}
COMPARATOR_WORDS_EN = {
    "minstens": "is at least",
    "meer_dan": "is more than",
    "hoogstens": "is at most",
    "minder_dan": "is less than",
    "is": "is",
    "in": "is one of",
}
# what Python adds to a text beside the templates, per language
WORDS = {
    "nl": {
        "or": " of ",
        "all": "alle",
        "any": "een van",
        "not": "niet",
        "conditions": "Voorwaarden",
        "condition": "Voorwaarde",
        "applies_when": "Van toepassing als",
        "no_route": "geen van de routes is vervuld",
        "not_met": "niet voldaan",
        "disagreement": "bronverschil",
        "source": "bron",
        "contradicting": "tegenstrijdige afleidingen",
    },
    "en": {
        "or": " or ",
        "all": "all",
        "any": "one of",
        "not": "not",
        "conditions": "Conditions",
        "condition": "Condition",
        "applies_when": "Applies when",
        "no_route": "none of the routes is met",
        "not_met": "not met",
        "disagreement": "source disagreement",
        "source": "source",
        "contradicting": "contradictory derivations",
    },
}


def english_date(value: date | str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"


def status_en(value: Any) -> str:
    if value is True:
        return "met"
    if value is False:
        return "not met"
    if value == "conflict":
        return "derived contradictorily"
    return "unknown"


def period_en(p: Any) -> str:
    if not isinstance(p, dict):
        return str(p)
    parts = [
        f"{english_date(p['van'])} up to and including {english_date(p['tot'])}"
        if p.get("tot")
        else f"from {english_date(p['van'])}"
    ]
    if p.get("verblijfsdoel"):
        parts.append(str(p["verblijfsdoel"]).replace("_", " "))
    if p.get("niet_tijdelijk") is True:
        parts.append("non-temporary purpose")
    elif p.get("niet_tijdelijk") is False:
        parts.append("temporary purpose")
    return ", ".join(parts)


def fact_value_en(value: Any, unit: str = "", free_text: bool = False) -> str:
    if free_text and isinstance(value, str):
        return FREE_START + value + FREE_END  # verbatim, as in Dutch (fact_value)
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "unknown"
    if isinstance(value, date):
        return english_date(value)
    if isinstance(value, (list, tuple)):
        return "; ".join(period_en(p) for p in value) or "none"
    if unit == "jaar":
        return f"{value} {'year' if value == 1 else 'years'}"
    return str(value).replace("_", " ") if isinstance(value, str) else str(value)


def threshold_en(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(threshold_en(v) for v in value)
    if isinstance(value, date):
        return english_date(value)
    return str(value).replace("_", " ") if isinstance(value, str) else str(value)


def euro_en(cents: int | None) -> str:
    """Euro cents in English notation: € 1,057.00."""
    if cents is None:
        return "no amount known at the reference date"
    whole, rest = divmod(cents, 100)
    return f"€ {whole:,}.{rest:02d}"


def euros_en(amounts: list[int | None]) -> str:
    words = [euro_en(a) for a in amounts]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def duration_en(value: dict[str, int]) -> str:
    ((unit, amount),) = value.items()
    words = {"dagen": "day", "weken": "week", "maanden": "month", "jaren": "year"}[unit]
    return f"{amount} {words if amount == 1 else words + 's'}"


def source_name_en(name: str) -> str:
    return "the rule inventory" if name == "rule-inventory.md" else f"source {source_file(name)}"


def getal_en(n: int) -> str:
    return f"{n:,}"


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    directory = cache_dir()
    if directory is None:
        return None
    (directory / "jinja").mkdir(exist_ok=True)
    return FileSystemBytecodeCache(str(directory / "jinja"))


_ENV = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
    bytecode_cache=_bytecode_cache(),  # compiling the templates is most of a cold start's render
    auto_reload=False,  # the templates ship with the code: no stat of each template per render
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    # only the HTML report is escaped: every other template writes plain text
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
)
_ENV.filters.update(
    dutch_date=dutch_date,
    status=status,
    fact_value=fact_value,
    threshold=threshold,
    source_file=source_file,
    source_name=source_name,
    duration=duration,
    euro=euro,
    euros=euros,
    block=block,
    command_lines=command_lines,
    getal=getal,
    place=lambda loc: f"{loc['file']}:{loc['line']} ({loc['id']})",
)


def status_class(value: Any) -> str:
    """The class a truth value is coloured by on a page (beside its words, never instead)."""
    return "ja" if value is True else "nee" if value is False else "open"


def euro_input(cents: Any) -> str:
    """An amount as an advisor types it back: euros with a decimal comma."""
    if not isinstance(cents, int) or isinstance(cents, bool):
        return ""
    whole, rest = divmod(cents, 100)
    return f"{whole},{rest:02d}" if rest else str(whole)


_ENV.filters.update(status_class=status_class, euro_input=euro_input)
_ENV.globals.update(outcome_words=OUTCOME_WORDS, comparator_words=COMPARATOR_WORDS)

# English: its own templates (explain/templates/en/), the same filter names with English words
_ENV_EN = _ENV.overlay(loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates" / "en")))
_ENV_EN.filters = dict(_ENV.filters)
_ENV_EN.filters.update(
    dutch_date=english_date,  # the name templates use for "a date as it reads"
    status=status_en,
    fact_value=fact_value_en,
    threshold=threshold_en,
    source_name=source_name_en,
    duration=duration_en,
    euro=euro_en,
    euros=euros_en,
    getal=getal_en,
)
_ENV_EN.globals = dict(_ENV.globals)
_ENV_EN.globals.update(outcome_words=OUTCOME_WORDS_EN, comparator_words=COMPARATOR_WORDS_EN)
ENVIRONMENTS = {"nl": _ENV, "en": _ENV_EN}


def _env(lang: str) -> Environment:
    return ENVIRONMENTS[lang]


def _in(lang: str, kb: Any) -> Any:
    """The knowledge base whose labels and questions are in `lang` (kb itself for Dutch)."""
    if lang == "nl":
        return kb  # without importing explain.lang, which reads en.yaml
    from explain.lang import localized

    return localized(kb, lang)


def _assessment_in(lang: str, assessment: Any, kb: Any) -> Any:
    if lang == "nl":
        return assessment
    from explain.lang import localized_assessment

    return localized_assessment(assessment, kb)


def _text(name: str, lang: str = "nl", **context: Any) -> str:
    """A text template in `lang` rendered, every line at most LINE_WIDTH characters."""
    return wrap_lines(_env(lang).get_template(name).render(**context))


def _shown_exceptions(assessment: Any, why_not: bool = False) -> set[str]:
    """The exceptions the justification already works out in its proof or scope (not as a pointer
    back). Why-not shows neither for an eligible applicant ("Er ontbreekt niets")."""
    if why_not and assessment.outcome == "eligible":
        return set()
    shown = []
    if assessment.outcome != "out_of_scope":
        shown.append(assessment.proof)
    if assessment.scope is not None and (assessment.outcome == "out_of_scope" or assessment.scope.value is not False):
        shown.append(assessment.scope)
    return {
        p.node
        for part in shown
        for p in part.walk()
        if p.kind == "exception" and not p.detail.get("shown_above") and p.children[0].value is True
    }


def _lang_of(kb: Any) -> str:
    return "en" if hasattr(kb, "choice_labels") else "nl"  # explain.lang.localized sets it


def _cited_files(assessment: Any) -> set[str]:
    parts = [assessment.proof] + ([assessment.scope] if assessment.scope else []) + assessment.exceptions_applied
    files = {n.source["file"] for part in parts for n in part.walk() if n.source}
    files |= {c["source"]["file"] for c in assessment.consequences + assessment.terms if c.get("source")}
    return {f for f in files if f != "aanname"}


def _context(assessment: Any, kb: Any) -> dict[str, Any]:
    return {
        "sources": source_pages(kb, _cited_files(assessment)),
        "goal_label": assessment.goal_label,
        "peildatum": assessment.peildatum,
        "outcome": assessment.outcome,
        "proof": assessment.proof,
        "scope": assessment.scope,
        "elsewhere_if": assessment.elsewhere_if,
        "exceptions_applied": assessment.exceptions_applied,
        "exceptions_shown": _shown_exceptions(assessment),
        "consequences": assessment.consequences,
        "terms": assessment.terms,
        "fees": [fee_view(f, kb, _lang_of(kb)) for f in assessment.fees],
        "unknown_facts": [
            {
                "fact": n,
                "label": kb.facts[n].label,
                "question": kb.facts[n].question,
                "open_norm": kb.facts[n].open_norm,
            }
            for n in assessment.unknown_facts
        ],
    }


def render_assessment(assessment: Any, kb: Any, lang: str = "nl") -> str:
    """The justification of one assessment: conclusion first, then the reasons."""
    kb = _in(lang, kb)
    return _text("assessment.txt.j2", lang, **_context(_assessment_in(lang, assessment, kb), kb))


def _sources_of(node: Any, kb: Any) -> list[str]:
    """The files a condition cites: its own source, or for a source disagreement (which has none)
    the sources of the rules it weighs (from the declarations: a node shown above has no children)."""
    if node.source:
        return [node.source["file"]]
    dis = kb.disagreements.get(node.rule_id or "")
    return sorted({kb.rules[r].source.file for r in dis.rule_ids}) if dis else []


def _facts_under(node: Any, lang: str = "nl") -> list[dict[str, Any]]:
    """The input facts and computed values a condition was decided on, each once, in proof order."""
    seen: dict[str, dict[str, Any]] = {}
    shown = fact_value if lang == "nl" else fact_value_en

    def walk(n: Any) -> None:
        if n.kind in ("fact", "quantity"):
            if n.node not in seen:
                unit = n.detail.get("unit", "")
                free = n.detail.get("free_text", False)
                seen[n.node] = {
                    "label": n.label,
                    "value": shown(n.value, unit, free),
                    "known": n.value is not None,
                }
            return
        for c in n.children:
            walk(c)

    walk(node)
    return list(seen.values())


def _condition(node: Any, kb: Any, lang: str = "nl") -> dict[str, Any]:
    files = _sources_of(node, kb)
    return {
        "rule_id": node.rule_id or "",
        "label": node.label,
        "value": node.value,
        "sources": [source_file(f) for f in files],
        "files": files,
        "facts": _facts_under(node, lang),
        "disagreement": (node.rule_id or "") in kb.disagreements,
    }


def _deepest(nodes: list[Any]) -> list[Any]:
    """Of conditions that fail, those that no other one among them explains (none below them fails)."""
    ids = {id(n) for n in nodes}
    out, seen = [], set()
    for n in nodes:
        below = [d for c in n.children for d in c.walk()]
        if any(id(d) in ids for d in below) or n.rule_id in seen:
            continue
        seen.add(n.rule_id)
        out.append(n)
    return out


def _replacing_exceptions(proof: Any) -> list[Any]:
    """The exceptions that apply to the applicant (their first part holds) and put their own
    requirement in place of the rule's conditions, where that requirement is not met."""
    return [
        c
        for c in proof.children
        if c.kind == "exception" and c.value is False and len(c.children) > 1 and c.children[0].value is True
    ]


def short_answer_view(assessment: Any, kb: Any, lang: str = "nl") -> dict[str, Any]:
    """What the short answer says, as data (text and web page render it, all wording in templates):
    the conclusion, the conditions that decide it, the fee per form, the next step, the sources.
    `kb` and `assessment` are in `lang` already (explain.lang.localized); values read in it too."""
    from engine.answer.proof import failing_conditions

    a = assessment
    decisive: list[Any] = []
    if a.outcome == "out_of_scope":
        roots = a.scope.children if a.scope.kind == "conclusion" else [a.scope]
        decisive = [n for n in roots if n.rule_id and n.value is True]
    elif a.outcome == "eligible":
        route = a.proof
        if route.kind == "conclusion":
            route = next(c for c in route.children if c.value is True)
        decisive = [c for c in route.children if c.rule_id and c.kind in ("rule", "consensus")] or [route]
    else:
        wanted = False if a.outcome == "not_eligible" else None
        found = [n for n in failing_conditions(a.proof) if n.rule_id and n.value is wanted]
        # the goal itself is no reason of its own: where an exception replaces its conditions, the
        # exception whose own requirement is not met decides (born here: only public order refuses)
        decisive = [n for n in _deepest(found) if n is not a.proof]
        if a.outcome == "not_eligible":
            decisive = decisive or _replacing_exceptions(a.proof) or [a.proof]
    conditions, seen = [], set()
    for n in decisive:
        if n.rule_id not in seen:
            seen.add(n.rule_id)
            condition = _condition(n, kb, lang)
            if n.kind == "exception":  # decided on what its requirement reads, not on when it applies
                condition["facts"] = [f for c in n.children[1:] for f in _facts_under(c, lang)]
            conditions.append(condition)
    forms = [c for c in a.consequences if c["form"]]
    cited = sorted(
        {f for c in conditions for f in c["files"]}
        | {r["source"]["file"] for r in a.elsewhere_if if r.get("source")}
        | {c["source"]["file"] for c in forms}
        | {e.source["file"] for e in a.exceptions_applied if e.source}
    )
    return {
        "goal": a.goal,
        "goal_label": a.goal_label,
        "peildatum": a.peildatum,
        "outcome": a.outcome,
        "conditions": conditions,
        "routes_hold": a.proof.value is True,
        "elsewhere_if": [
            {**r, "sources": [source_file(r["source"]["file"])] if r.get("source") else []} for r in a.elsewhere_if
        ],
        "reference": a.scope.detail.get("reference", "") if a.scope is not None else "",
        "unknown_facts": [
            {"label": kb.facts[n].label, "question": kb.facts[n].question, "open_norm": kb.facts[n].open_norm}
            for n in a.unknown_facts
        ],
        "exceptions": [
            {
                "label": e.label,
                "sets_aside": e.detail.get("exception_to_label", ""),
                "sources": [source_file(e.source["file"])] if e.source else [],
            }
            for e in a.exceptions_applied
        ],
        "fees": [fee_view(f, kb, lang) for f in a.fees],
        "forms": [
            {"form": c["form"], "applies": c["applies"], "label": c["label"], "rule_id": c["rule_id"]} for c in forms
        ],
        "sources": [_source_page(f, kb) for f in cited],
    }


def _source_page(file: str, kb: Any) -> dict[str, str]:
    page = kb.sources.get(file)
    return {
        "number": source_file(file),
        "file": file,
        "title": page.title if page else "",
        "publisher": page.publisher if page else "",
    }


def source_pages(kb: Any, files: Any) -> list[dict[str, str]]:
    """The cited files with their page titles (kb/bronnen.yaml), in file order."""
    return [_source_page(f, kb) for f in sorted(set(files))]


def render_short_answer(
    assessment: Any, kb: Any, repairs: Any = None, command: str = "assess", lang: str = "nl"
) -> str:
    """The short answer to one goal: conclusion, the conditions that decide it, the fee, the next
    step, and each cited source by its page title. With `repairs` (why-not) what would help too;
    `command` is what the next step points back to (`assess` or `why-not`). The full tree is
    `render_assessment` / `render_why_not` (`--detail`)."""
    kb = _in(lang, kb)
    assessment = _assessment_in(lang, assessment, kb)
    return _text(
        "short_answer.txt.j2",
        lang,
        **short_answer_view(assessment, kb, lang),
        repairs=_repairs_view(repairs, kb, lang),
        command=command,
    )


def _either(values: list[Any], lang: str = "nl") -> str:
    """Values as they read, joined Dutch style: "A2, B1 of C2"."""
    words = [(fact_value if lang == "nl" else fact_value_en)(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + WORDS[lang]["or"] + words[-1]


def _grouped_repairs(repairs: list[Any], kb: Any, lang: str = "nl") -> list[dict[str, Any]]:
    """Repairs that differ only in which value one choice fact gets read as one: "A2, B1 of C2"."""
    groups: dict[tuple, dict[str, Any]] = {}
    for r in repairs:
        choice = [c for c in r.changes if kb.facts[c.fact].type == "keuze"]
        varying = choice[0] if len(choice) == 1 else None
        key = (
            r.certain,
            r.from_date,
            tuple((c.fact, str(c.value)) for c in r.changes if c is not varying),
            varying.fact if varying else None,
            tuple((c.fact, c.needed) for c in r.conditions),
        )
        group = groups.get(key)
        if group is None:
            groups[key] = group = {
                "changes": [
                    {"label": kb.facts[c.fact].label, "value": [c.value], "old": c.old, "fact": c.fact}
                    for c in r.changes
                ],
                "from_date": r.from_date,
                "fulfilled_by_time": r.fulfilled_by_time,
                "certain": r.certain,
                "conditions": [
                    {
                        "label": kb.facts[c.fact].label,
                        "needed": _either(list(c.needed), lang) if c.needed is not None else None,
                    }
                    for c in r.conditions
                ],
            }
        elif varying is not None:
            for change in group["changes"]:
                if change["fact"] == varying.fact:
                    change["value"].append(varying.value)
    for group in groups.values():
        for change in group["changes"]:
            change["value"] = _either(change["value"], lang)
    return list(groups.values())


def _repairs_view(repairs: Any, kb: Any, lang: str = "nl") -> dict[str, Any] | None:
    if repairs is None:
        return None
    return {
        "items": _grouped_repairs(repairs.repairs, kb, lang),
        "candidates": [kb.facts[c].label for c in repairs.candidates],
        "not_tried": [kb.facts[c].label for c in repairs.not_tried],
        "max_changes": repairs.searched_up_to,
        "exhaustive": repairs.exhaustive,
        "larger_exist": repairs.larger_exist,
        "nothing_helps": repairs.nothing_helps,
        "horizon": repairs.horizon,
        "assumed_in_scope": repairs.assumed_in_scope,
        "needs_no_change": repairs.needs_no_change,
    }


def render_why_not(assessment: Any, kb: Any, repairs: Any = None, lang: str = "nl") -> str:
    """Every route to the goal with what fails or is unknown on it, then what would help."""
    kb = _in(lang, kb)
    assessment = _assessment_in(lang, assessment, kb)
    context = _context(assessment, kb)
    context["exceptions_shown"] = _shown_exceptions(assessment, why_not=True)
    context["repairs"] = _repairs_view(repairs, kb, lang)
    return _text("why_not.txt.j2", lang, **context)


def _first_failure(proof: Any, lang: str = "nl") -> str:
    """One line why a goal fails: down the first failing rule to the deepest one that fails."""
    if proof.kind == "conclusion":
        return WORDS[lang]["no_route"]
    path, node = [], proof
    while True:
        if node.rule_id:
            path.append(node.rule_id)
        failing = [c for c in node.children if c.value is False and c.kind in ("rule", "consensus", "all", "any")]
        if not failing:
            break
        node = failing[0]
    deepest = next((n for n in reversed(list(_chain(proof, path))) if n.rule_id), proof)
    return f"{' > '.join(path)}: {deepest.label} — {WORDS[lang]['not_met']}"


def _chain(proof: Any, path: list[str]):
    node = proof
    yield node
    while True:
        failing = [c for c in node.children if c.value is False and c.kind in ("rule", "consensus", "all", "any")]
        if not failing:
            return
        node = failing[0]
        yield node


def render_overview(assessments: list[Any], kb: Any, lang: str = "nl") -> str:
    """Every goal in one list: what the person may apply for, what not and why, what is open."""
    kb = _in(lang, kb)
    assessments = [_assessment_in(lang, a, kb) for a in assessments]
    items = [
        {
            "goal": a.goal,
            "goal_label": a.goal_label,
            "outcome": a.outcome,
            "reason": _first_failure(a.proof, lang) if a.outcome == "not_eligible" else "",
            # what decides a refusal, in the words of the short answer (no chain of rule ids)
            "failing": short_answer_view(a, kb, lang)["conditions"] if a.outcome == "not_eligible" else [],
            "deciding": [kb.facts[n].label for n in a.unknown_facts] or [WORDS[lang]["contradicting"]],
            "reference": a.scope.detail.get("reference", "") if a.scope is not None else "",
            "elsewhere": [r["label"] for r in a.elsewhere_if],
            "routes_hold": a.proof.value is True,
            # the fee beside each route that is open, as `fees --goal` gives it; a form whose
            # consequence may still not apply is marked
            "fees": [
                {
                    **fee_view(f, kb, lang),
                    "form_certain": any(c["form"] == f.form and c["applies"] is True for c in a.consequences),
                }
                for f in a.fees
            ],
        }
        for a in assessments
    ]
    peildatum = assessments[0].peildatum if assessments else date.today()
    return _text("overview.txt.j2", lang, items=items, peildatum=peildatum)


def condition_lines(expr: Any, kb: Any, depth: int = 0, lang: str = "nl") -> list[tuple[int, str]]:
    """A declared condition as indented lines in the fact and rule labels: (depth, text).

    `alle` and `een van` open a list one level deeper; a single condition is one line."""
    from engine.rules.declarations import All, Any_, Atom, Compare, Not

    if isinstance(expr, Atom):
        return [(depth, kb.label_of(expr.name))]
    if isinstance(expr, Compare):
        words = (COMPARATOR_WORDS if lang == "nl" else COMPARATOR_WORDS_EN)[expr.comparator]
        value = (threshold if lang == "nl" else threshold_en)(expr.value)
        return [(depth, f"{kb.label_of(expr.name)} {words} {value}")]
    word = WORDS[lang]
    if isinstance(expr, Not):
        inner = condition_lines(expr.operand, kb, depth + 1, lang)
        if len(inner) == 1:
            return [(depth, f"{word['not']}: {inner[0][1]}")]
        return [(depth, f"{word['not']}:"), *inner]
    assert isinstance(expr, (All, Any_))
    lines = [(depth, f"{word['all']}:" if isinstance(expr, All) else f"{word['any']}:")]
    for operand in expr.operands:
        lines.extend(condition_lines(operand, kb, depth + 1, lang))
    return lines


def condition_block(
    expr: Any, kb: Any, title: str, title_one: str | None = None, lang: str = "nl"
) -> dict[str, Any] | None:
    """A condition under a heading: one line when it is one condition, else the heading says
    whether all or one of the listed conditions must hold, and the lines follow (depth, text)."""
    if expr is None:
        return None
    lines = condition_lines(expr, kb, lang=lang)
    if len(lines) == 1:
        return {"head": f"{title_one or title}: {lines[0][1]}", "lines": []}
    if lines[0][1] in (f"{WORDS[lang]['all']}:", f"{WORDS[lang]['any']}:"):
        return {"head": f"{title} ({lines[0][1][:-1]}):", "lines": [(d - 1, t) for d, t in lines[1:]]}
    return {"head": f"{title}:", "lines": lines}


def _rule_view(rule: Any, kb: Any, lang: str = "nl") -> dict[str, Any]:
    """A rule as `rules` lists it: the declaration, its conditions and the exceptions to it."""
    word = WORDS[lang]
    return {
        "r": rule,
        "label": rule.label,
        "conditions": condition_block(rule.conditions, kb, word["conditions"], word["condition"], lang),
        "applies_when": condition_block(rule.applies_when, kb, word["applies_when"], lang=lang),
        "exceptions": [{"id": e, "label": kb.rules[e].label} for e in kb.exceptions_of.get(rule.id, ())],
    }


def render_rules(kb: Any, lang: str = "nl") -> str:
    """Every rule: id, label, source, its conditions in the labels of what they read, its exceptions."""
    kb = _in(lang, kb)
    rules = sorted(kb.rules.values(), key=lambda r: _rule_order(r.id))
    fee_rules = sorted(kb.fee_rules.values(), key=lambda f: _rule_order(f.id))
    goal_assumptions = [
        {"id": a.id, "goals": a.goals, "label": kb.facts[a.fact].label, "value": a.value, "source": a.source}
        for a in kb.goal_assumptions.values()
    ]
    return _text(
        "rules.txt.j2",
        lang,
        rules=[_rule_view(r, kb, lang) for r in rules],
        disagreements=[
            {"d": d, "governing": (g := kb.governing(d)), "file": kb.rules[g[0]].source.file if g else None}
            for d in kb.disagreements.values()
        ],
        precedences=list(kb.precedences.values()),
        fee_rules=[
            {
                "f": f,
                "applies_when": condition_block(f.applies_when, kb, WORDS[lang]["applies_when"], lang=lang),
            }
            for f in fee_rules
        ],
        fee_ranges=list(kb.fee_ranges.values()),
        goal_assumptions=goal_assumptions,
    )


def declaration_label(kb: Any, declaration_id: str) -> str:
    """The label of a declaration an inventory row names: a rule, a fee rule or range, a quantity."""
    for table in (kb.rules, kb.fee_rules, kb.fee_ranges, kb.quantities, kb.parameters):
        found = table.get(declaration_id)
        if found is not None and getattr(found, "label", ""):
            return found.label
    if declaration_id.startswith("grootheid "):
        return kb.label_of(declaration_id.split(" ", 1)[1])
    return ""


def _fee_labels(data: Any, kb: Any) -> None:
    """Every label and explanation of a fee rule in a fee answer's JSON as `kb` (a localized base)
    has it."""
    if isinstance(data, dict):
        rule = kb.fee_rules.get(data.get("rule_id", "")) or kb.fee_ranges.get(data.get("rule_id", ""))
        if rule is not None and "label" in data:
            data["label"] = rule.label
        if rule is not None and data.get("explanation") and getattr(rule, "explanation", ""):
            data["explanation"] = rule.explanation
        for value in data.values():
            _fee_labels(value, kb)
    elif isinstance(data, list):
        for value in data:
            _fee_labels(value, kb)


def fee_view(answer: Any, kb: Any, lang: str = "nl") -> dict[str, Any]:
    """A fee answer's JSON with what the templates read besides: fact labels, the amounts each source
    states (those it leaves open between, or its one amount), and the sources that apply."""
    data = answer.to_json()
    if lang != "nl":
        _fee_labels(data, kb)
    data["peildatum"] = answer.peildatum
    labels = lambda names: [kb.facts[n].label if n in kb.facts else n for n in names]  # noqa: E731
    for source in data["per_source"]:
        source["unknown_labels"] = labels(source["unknown_facts"])
        for alternative in source["alternatives"]:
            alternative["unknown_labels"] = labels(alternative["unknown_facts"]) + [
                f"{WORDS[lang]['disagreement']} {d} ({kb.disagreements[d].label}): "
                + ", ".join(
                    f"{WORDS[lang]['source']} {kb.rules[r].source.file[:3]} “{kb.rules[r].source.quote}”"
                    for r in kb.disagreements[d].rule_ids
                )
                for d in alternative.get("open_disagreements", ())
            ]
        for reduction in source.get("reductions", ()):
            reduction["unknown_labels"] = labels(reduction["unknown_facts"])
            for change in reduction["changes"]:
                change["label"] = kb.label_of(change["fact"])
        conflict = source["conflict"]
        source["open_amounts"] = (
            sorted({b["amount"] for b in conflict["branches"]}, key=lambda a: (a is None, a))
            if conflict
            else [source["amount"]]
        )
    data["applicable"] = [s for s in data["per_source"] if s["applies"] is True]
    data["standing_ranges"] = [r for r in data["range_notes"] if r["outdated"] is None]
    return data


def render_fees(answer: Any, kb: Any, lang: str = "nl") -> str:
    """Which amount a form costs, per source, with the exception that decided it."""
    kb = _in(lang, kb)
    if lang != "nl":
        from explain.lang import localized_fee

        answer = localized_fee(answer, kb)
    return _text("fees.txt.j2", lang, **fee_view(answer, kb, lang))


def render_no_form(goal_label: str, lang: str = "nl") -> str:
    """`fees --goal` where the sources name no application form for the goal in this situation."""
    return _text("no_form.txt.j2", lang, goal_label=goal_label)


def render_comparison(report: dict[str, Any]) -> str:
    """What changes per goal between two batch runs (two peildata or two rule bases)."""
    # every fee text a change names: the report explains a mark once, only where one is shown
    fee_texts = sorted(
        {
            c[end]
            for forms in report["fees"].values()
            for changes in forms.values()
            for c in changes
            for end in ("from", "to")
        }
    )
    return _text("comparison.txt.j2", **report, fee_texts=fee_texts)


def render_inventory(rows: list[Any], kb: Any, lang: str = "nl") -> str:
    """Every inventory row, its text from the inventory, and the declarations that encode it (with
    their labels), or why none does."""
    kb = _in(lang, kb)
    views = [
        {
            "id": r.id,
            "description": r.description,
            "encoded_by": [{"id": d, "label": declaration_label(kb, d)} for d in r.encoded_by],
            "not_encoded": r.not_encoded,
        }
        for r in rows
    ]
    return _text("inventory.txt.j2", lang, rows=views)


def _audit_context(report: Any) -> dict[str, Any]:
    from engine.checks.audit import CATEGORIES, witness_yaml

    data = report.to_json()
    for finding, raw in zip(data["findings"], report.findings):
        for w, witness in zip(finding["witnesses"], raw.witnesses):
            w["yaml"] = witness_yaml(witness)
    categories = [
        {"id": cat, "heading": heading, "findings": [f for f in data["findings"] if f["category"] == cat]}
        for cat, heading in CATEGORIES
    ]
    return {
        "peildatum": report.peildatum,
        "summary": data["summary"],
        "strict_fails": data["strict_fails"],
        "categories": categories,
        "coverage": data["coverage"]["goals"],
        "notes": data["coverage"]["notes"],
        "dot": report.graph,
    }


def render_audit(report: Any) -> str:
    """The audit of the rule base as Dutch text: findings per kind, then what the search covered."""
    return _text("audit.txt.j2", **_audit_context(report))


def render_audit_html(report: Any, kb: Any = None) -> str:
    """The audit as one HTML page: a table per kind of finding, and the rule graph of each goal
    (SVG where Graphviz is installed, else DOT text), each folded away until opened."""
    from markupsafe import Markup

    from engine.checks.audit_graph import dot, svg

    graphs = []
    if kb is not None:
        for gid in sorted(kb.goals):
            text = dot(kb, report.findings, gid)
            drawn = svg(text)
            graphs.append(
                {"goal": gid, "label": kb.goals[gid].label, "dot": text, "svg": Markup(drawn) if drawn else None}
            )
    return _ENV.get_template("audit.html.j2").render(**_audit_context(report), graphs=graphs)


def _diff_context(report: Any) -> dict[str, Any]:
    from engine.checks.audit import Witness, witness_yaml

    data = report.to_json()
    for change in data["answers"]["changes"]:
        if change["example"]:
            change["example"]["yaml"] = witness_yaml(Witness("", change["example"]["applicant"], "", True))
    return data


def render_audit_diff(report: Any) -> str:
    """`audit --against` as Dutch text: declarations, findings, and every answer that changes, for whom."""
    return _text("audit_diff.txt.j2", **_diff_context(report))


def render_audit_diff_html(report: Any) -> str:
    return _ENV.get_template("audit_diff.html.j2").render(**_diff_context(report))


def _rule_order(rule_id: str) -> tuple:
    import re

    parts = re.split(r"(\d+)", rule_id)
    return tuple(int(p) if p.isdigit() else p for p in parts)


def _page(name: str, meta: dict[str, Any], **context: Any) -> str:
    """A web page: `meta` holds the peildatum, the knowledge-base version and the report date."""
    return unmarked(_ENV.get_template(f"web/{name}.html.j2").render(**meta, **context))


def render_start_page(kb: Any, meta: dict[str, Any], goal: str | None = None, error: str = "") -> str:
    """The first page of an interview: the goal, the peildatum, or an applicant file to go on with."""
    goals = [{"id": g.id, "label": g.label} for g in sorted(kb.goals.values(), key=lambda g: g.label)]
    return _page("start", meta, title="Nieuw gesprek", goals=goals, goal=goal, error=error)


def _summary(assessments: list[Any]) -> list[dict[str, Any]]:
    return [{"goal": a.goal, "goal_label": a.goal_label, "outcome": a.outcome} for a in assessments]


def render_question_page(
    kb: Any,
    meta: dict[str, Any],
    question: Any,
    state: str,
    assessments: list[Any],
    answered: list[dict[str, Any]],
    current: Any = None,
    periods: list[dict[str, Any]] | None = None,
    error: str = "",
) -> str:
    """One question, the outcomes so far per goal, and the answers given (each can be changed)."""
    return _page(
        "question",
        meta,
        title=question.question,
        question=question,
        state=state,
        summary=_summary(assessments),
        answered=answered,
        current=current,
        periods=periods or [{}],
        error=error,
    )


def render_decision_page(kb: Any, meta: dict[str, Any], assessments: list[Any], repairs: dict[str, Any]) -> str:
    """The report an advisor prints: per goal the outcome, why, what would help, the fees, and the tree."""
    items = []
    for a in assessments:
        found = repairs.get(a.goal)
        items.append(
            {
                "goal": a.goal,
                "goal_label": a.goal_label,
                "outcome": a.outcome,
                "reason": _first_failure(a.proof) if a.outcome == "not_eligible" else "",
                "questions": [kb.facts[n].question for n in a.unknown_facts],
                "reference": a.scope.detail.get("reference", "") if a.scope is not None else "",
                "fees": [fee_view(f, kb) for f in a.fees],
                "repairs": _grouped_repairs(found.repairs, kb) if found else [],
                "nothing_helps": bool(found and found.nothing_helps),
                "max_changes": found.searched_up_to if found else 0,
                "proof": a.proof,
                "scope": a.scope,
                "short": short_answer_view(a, kb),  # what the short answer says, as the text gives it
            }
        )
    return _page("decision", meta, title="Beslissing", items=items)


def render_rules_page(meta: dict[str, Any], declarations: list[dict[str, Any]], rows: list[Any], query: str) -> str:
    """The rules browser: each declaration with its quote, its inventory rows, what it uses and what uses it."""
    return _page("rules", meta, title="Regels", declarations=declarations, rows=rows, query=query)
