"""English output beside Dutch (`--lang en`): the labels, questions and explanations of en.yaml put
in place of the Dutch ones, in a copy of the knowledge base and of the answers a template reads.

The Dutch text is declared once in kb/ beside each rule and fact; its English text is declared
once in en.yaml beside it (in the directory the knowledge base was read from, `--kb DIR`), keyed by
the same ids: labels, questions, and the knowledge base's own explanations (`toelichting`, and the
reason of an assumption), which are the project's words, not the law's. Quotes from the sources
are never translated: a quote is the law's own wording, and an advisor checks it against the
source. The reasons of a precedence or of setting a source aside and where the sources refer to
(`reden`, `gaat_voor`, `verouderd`, `verwijzing`) are the project's words too and read in English.
The JSON output stays Dutch in both languages. Nothing here changes what is decided, only how it reads.
"""

from __future__ import annotations

import copy
import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from msgspec import structs  # the declarations are Structs (engine.rules.declarations)

from engine.answer.proof import joined_references
from engine.errors import VerblijfsregelsError, escaped
from engine.rules.declarations import KB_DIR

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
TRANSLATED = "en"  # the one language beside Dutch; its text lives in kb/en.yaml


class MissingTranslations(VerblijfsregelsError):
    """A knowledge base read from a directory without en.yaml, asked for in English."""


def translation_file(directory: Path) -> Path:
    """Where the English text of the knowledge base in `directory` is: en.yaml beside it."""
    return Path(directory) / f"{TRANSLATED}.yaml"


def kb_directory(kb: Any) -> Path:
    """The directory `kb` was read from (`--kb DIR`), or kb/ of this program for one without it."""
    return Path(getattr(kb, "directory", None) or KB_DIR)


@lru_cache(maxsize=4)
def translations(directory: Path = KB_DIR) -> dict[str, Any]:
    """en.yaml of the knowledge base in `directory` as read: per section (feiten, regels, ...) the
    English text by id. A directory without en.yaml has no English text: that is refused in one
    line (MissingTranslations), never silently answered in Dutch under English headings."""
    path = translation_file(directory)
    if not path.is_file():
        raise MissingTranslations(
            f"--lang {TRANSLATED}: de kennisbank in {escaped(str(directory))} heeft geen {path.name} met de Engelse teksten; "
            f"voeg die toe (zoals kb/{path.name}) of kies --lang {DEFAULT}"
        )
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return data


def _text(section: dict[str, Any], key: str, field: str = "label") -> str | None:
    entry = section.get(key)
    if isinstance(entry, str):
        return entry if field == "label" else None
    if isinstance(entry, dict):
        return entry.get(field)
    return None


def choice_label(kb: Any, fact: str | None, value: str, lang: str = DEFAULT) -> str:
    """How a choice value reads: its words (underscores as spaces), or its English text."""
    if lang != DEFAULT and fact is not None:
        found = _choice_labels(kb, fact).get(value)
        if found:
            return found
    return value.replace("_", " ")


def _choice_labels(kb: Any, fact: str) -> dict[str, str]:
    return getattr(kb, "choice_labels", {}).get(fact, {})


_CACHE: dict[tuple[int, str, Path], Any] = {}


def localized(kb: Any, lang: str = DEFAULT, directory: Path | None = None) -> Any:
    """`kb` itself for Dutch; for English a copy whose labels, questions and explanations are the
    English ones, from en.yaml in `directory` (by default the one `kb` was read from). An id en.yaml
    does not name keeps its Dutch text; a test sees that kb/en.yaml misses none."""
    if lang == DEFAULT:
        return kb
    directory = Path(directory) if directory is not None else kb_directory(kb)
    key = (id(kb), lang, directory)
    if key in _CACHE:
        return _CACHE[key][1]
    t = translations(Path(directory))
    out = copy.copy(kb)

    def relabel(table: dict[str, Any], section: str, fields=(("label", "label"),)) -> dict[str, Any]:
        result = {}
        for name, item in table.items():
            changes = {}
            for attribute, field in fields:
                text = _text(t.get(section, {}), name, field)
                if text:
                    changes[attribute] = text
            result[name] = structs.replace(item, **changes) if changes else item
        return result

    out.facts = relabel(kb.facts, "feiten", (("label", "label"), ("question", "vraag")))
    out.quantities = relabel(kb.quantities, "grootheden")
    explained = (("label", "label"), ("explanation", "toelichting"))
    out.rules = {
        name: _assumption_reason(rule, _text(t.get("regels", {}), name, "reden"))
        for name, rule in relabel(kb.rules, "regels", explained + (("reference", "verwijzing"),)).items()
    }
    out.disagreements = relabel(kb.disagreements, "bronverschillen", explained)
    out.goal_assumptions = relabel(
        getattr(kb, "goal_assumptions", {}), "aanvraag_voor_doel", (("explanation", "toelichting"),)
    )
    out.goals = relabel(kb.goals, "doelen")
    out.forms = relabel(kb.forms, "formulieren")
    out.parameters = relabel(kb.parameters, "parameters")
    out.fee_rules = {
        name: _fee_precedence_reason(fee, _text(t.get("leges", {}), name, "gaat_voor"))
        for name, fee in relabel(kb.fee_rules, "leges", explained).items()
    }
    out.fee_ranges = {
        name: _outdated_reason(item, _text(t.get("leges", {}), name, "verouderd"))
        for name, item in relabel(kb.fee_ranges, "leges").items()
    }
    out.precedences = relabel(kb.precedences, "voorrang", (("reason", "reden"),))
    out.period_fields = {
        name: {**spec, "label": _text(t.get("vergunningsperiode", {}), name) or spec.get("label", name)}
        for name, spec in kb.period_fields.items()
    }
    out.sources = {  # a page keeps its own (Dutch) title; who publishes it reads in English
        name: structs.replace(page, publisher=_text(t.get("bronnen", {}), name, "uitgever") or page.publisher)
        for name, page in kb.sources.items()
    }
    out.choice_labels = {
        name: dict((t.get("feiten", {}).get(name) or {}).get("waarden") or {})
        for name, fact in kb.facts.items()
        if fact.values
    } | {
        name: dict((t.get("vergunningsperiode", {}).get(name) or {}).get("waarden") or {})
        for name, spec in kb.period_fields.items()
        if spec.get("waarden")
    }
    _CACHE[key] = (kb, out)  # the original is kept alive with it: its id stays its own
    return out


def _assumption_reason(rule: Any, reason: str | None) -> Any:
    if not reason or getattr(rule, "assumption", None) is None:
        return rule
    return structs.replace(rule, assumption=structs.replace(rule.assumption, reason=reason))


def _reason_text(reason: Any, text: str | None) -> Any:
    return structs.replace(reason, text=text) if text and reason is not None else reason


def _fee_precedence_reason(fee: Any, text: str | None) -> Any:
    if not text or fee.precedence is None:
        return fee
    return structs.replace(
        fee, precedence=structs.replace(fee.precedence, reason=_reason_text(fee.precedence.reason, text))
    )


def _outdated_reason(fee_range: Any, text: str | None) -> Any:
    if not text or fee_range.outdated is None:
        return fee_range
    return structs.replace(fee_range, outdated=_reason_text(fee_range.outdated, text))


def rule_explanation(rule: Any) -> str:
    """What a proof says to explain a rule, in English: the assumption it is, with its reason, then
    the rule's own explanation (as engine.rules.compiler says it in Dutch)."""
    if rule.assumption is None:
        return rule.explanation
    said = f"Assumption, not a quote from the sources ({rule.assumption.basis}): {rule.assumption.reason}"
    return " ".join(filter(None, (said, rule.explanation)))


def node_explanation(node: Any, kb: Any) -> str:
    """The explanation of a proof node in the language of `kb` (a localized knowledge base)."""
    if not node.explanation:
        return node.explanation
    if node.kind in ("rule", "exception") and node.rule_id in kb.rules:
        return rule_explanation(kb.rules[node.rule_id])
    if node.kind == "consensus" and node.rule_id in kb.disagreements:
        return kb.disagreements[node.rule_id].explanation
    return node.explanation


STRUCTURE = {"all": "all", "any": "one of", "not": "not", "consent": "exception leads to the same outcome"}


def node_label(node: Any, kb: Any) -> str:
    """The label of a proof node in the language of `kb` (a localized knowledge base)."""
    kind = node.kind
    if kind in STRUCTURE:
        return STRUCTURE[kind]
    if kind in ("rule", "exception") and node.rule_id in kb.rules:
        return kb.rules[node.rule_id].label
    if kind == "consensus" and node.rule_id in kb.disagreements:
        return kb.disagreements[node.rule_id].label
    if kind == "compare":
        return kb.label_of(node.detail.get("name", node.node))
    if kind in ("fact", "quantity"):
        return kb.label_of(node.node)
    if kind == "leges":
        fee = kb.fee_rules.get(node.detail.get("fee_rule", ""))
        return fee.label if fee is not None else node.label
    if kind == "conclusion":
        for goal in kb.goals.values():
            if goal.conclusion == node.node:
                return goal.label
            if goal.out_of_scope == node.node:
                return f"the sources refer to another scheme than this one ({goal.label})"
        rules = kb.rules_for.get(node.node, [])
        if rules:
            return " or ".join(kb.rules[r].label for r in rules)
    return node.label


def _quantity_labels(kb: Any, name: str) -> dict[str, str]:
    """The English words of the values a text quantity can have: those of the choices it reads
    (for permits, the choices of a permit period, such as its purpose of stay)."""
    quantity = kb.quantities.get(name)
    labels: dict[str, str] = {}
    for fact in quantity.inputs if quantity is not None else ():
        labels |= _choice_labels(kb, fact)
        if fact in kb.facts and kb.facts[fact].type == "vergunningen":
            for field in kb.period_fields:
                labels |= _choice_labels(kb, field)
    return labels


def localized_proof(proof: Any, kb: Any) -> Any:
    """A copy of a proof with every label in the language of `kb`."""
    if proof is None:
        return None
    out = copy.copy(proof)
    out.label = node_label(proof, kb)
    out.explanation = node_explanation(proof, kb)
    if proof.kind == "fact" and isinstance(proof.value, str):  # a choice value reads in words
        out.value = _choice_labels(kb, proof.node).get(proof.value, proof.value)
    elif proof.kind == "quantity" and isinstance(proof.value, str):  # a value of what it reads
        out.value = _quantity_labels(kb, proof.node).get(proof.value, proof.value)
    out.detail = dict(proof.detail)
    rule = kb.rules.get(proof.rule_id or "")
    if isinstance(out.detail.get("assumption"), dict) and rule is not None and rule.assumption is not None:
        out.detail["assumption"] = {**out.detail["assumption"], "reason": rule.assumption.reason}
    if "exception_to_label" in out.detail and proof.detail.get("exception_to") in kb.rules:
        out.detail["exception_to_label"] = kb.rules[proof.detail["exception_to"]].label
    out.children = [localized_proof(c, kb) for c in proof.children]
    precedence = out.detail.get("precedence")
    if isinstance(precedence, dict) and precedence.get("declaration") in kb.precedences:
        out.detail["precedence"] = {**precedence, "reason": kb.precedences[precedence["declaration"]].reason}
    if out.detail.get("reference"):
        out.detail["reference"] = _reference(out, kb)
    return out


def _reference(proof: Any, kb: Any) -> str:
    """Where the sources refer to, in English: a rule's own `verwijzing`; for a conclusion several
    rules conclude, those of its (localized) rules that hold, joined as the proof joins them."""
    if proof.rule_id in kb.rules and proof.kind in ("rule", "exception"):
        return kb.rules[proof.rule_id].reference or proof.detail["reference"]
    if proof.kind == "conclusion":
        return joined_references(proof.children) or proof.detail["reference"]
    return proof.detail["reference"]


def _rule_labels(items: list[dict[str, Any]], kb: Any) -> list[dict[str, Any]]:
    out = []
    for item in items:
        item = dict(item)
        if item.get("rule_id") in kb.rules:
            item["label"] = kb.rules[item["rule_id"]].label
            if item.get("explanation"):
                item["explanation"] = kb.rules[item["rule_id"]].explanation
        if "start" in item and item.get("start"):
            item["start_label"] = kb.label_of(item["start"])
        out.append(item)
    return out


def localized_fee(answer: Any, kb: Any) -> Any:
    out = copy.copy(answer)
    if answer.form in kb.forms:
        out.form_label = kb.forms[answer.form].label
    out.assumptions = [_goal_assumption(a, kb) for a in answer.assumptions]
    if answer.declaration and answer.declaration.get("declaration") in kb.precedences:
        out.declaration = {**answer.declaration, "reason": kb.precedences[answer.declaration["declaration"]].reason}
    out.ranges = [_range_note(r, kb) for r in answer.ranges]
    out.per_source = [_source_fee(s, kb) for s in answer.per_source]
    return out


def _range_note(note: dict[str, Any], kb: Any) -> dict[str, Any]:
    fee_range = kb.fee_ranges.get(note.get("rule_id", ""))
    if fee_range is None:
        return note
    out = {**note, "label": fee_range.label}
    if note.get("outdated") and fee_range.outdated is not None:
        out["outdated"] = {**note["outdated"], "reason": fee_range.outdated.text}
    return out


def _source_fee(fee: Any, kb: Any) -> Any:
    """A source's fee with the reasons of a declared precedence (`gaat_voor`) in English."""
    if not fee.declared_precedence:
        return fee
    declared = []
    for item in fee.declared_precedence:
        winner = kb.fee_rules.get(item.get("rule_id", ""))
        if winner is not None and winner.precedence is not None:
            item = {**item, "reason": winner.precedence.reason.text}
        declared.append(item)
    return dataclasses.replace(fee, declared_precedence=declared)


def _goal_assumption(note: dict[str, Any], kb: Any) -> dict[str, Any]:
    """What applying for a goal implies (`aanvraag_voor_doel`), its labels and explanation in English."""
    note = dict(note)
    if note.get("fact") in kb.facts:
        note["label"] = kb.facts[note["fact"]].label
    declared = getattr(kb, "goal_assumptions", {}).get(note.get("rule_id", ""))
    if declared is not None and note.get("explanation"):
        note["explanation"] = declared.explanation
    return note


def localized_assessment(assessment: Any, kb: Any) -> Any:
    """A copy of an assessment whose labels read in the language of `kb`."""
    goal = kb.goals.get(assessment.goal)
    return dataclasses.replace(
        assessment,
        goal_label=goal.label if goal is not None else assessment.goal_label,
        proof=localized_proof(assessment.proof, kb),
        scope=localized_proof(assessment.scope, kb),
        exceptions_applied=[localized_proof(e, kb) for e in assessment.exceptions_applied],
        elsewhere_if=_rule_labels(assessment.elsewhere_if, kb),
        consequences=_rule_labels(assessment.consequences, kb),
        terms=_rule_labels(assessment.terms, kb),
        fees=[localized_fee(f, kb) for f in assessment.fees],
    )
