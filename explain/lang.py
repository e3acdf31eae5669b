"""English output beside Dutch (`--lang en`): the labels and questions of kb/en.yaml put in place
of the Dutch ones, in a copy of the knowledge base and of the answers a template reads.

The Dutch labels are declared once in kb/ beside each rule and fact; their English text is
declared once in kb/en.yaml, keyed by the same ids. Quotes from the sources and the
explanations (`toelichting`) are never translated: a quote is the law's own wording, and an
advisor checks it against the source. Nothing here changes what is decided, only how it reads.
"""

from __future__ import annotations

import copy
import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from engine.rules.model import KB_DIR

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
TRANSLATED = "en"  # the one language beside Dutch; its text lives in kb/en.yaml


@lru_cache(maxsize=4)
def translations(directory: Path = KB_DIR) -> dict[str, Any]:
    """kb/en.yaml as read: per section (feiten, regels, ...) the English text by id."""
    path = Path(directory) / f"{TRANSLATED}.yaml"
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


def localized(kb: Any, lang: str = DEFAULT, directory: Path = KB_DIR) -> Any:
    """`kb` itself for Dutch; for English a copy whose labels and questions are the English ones
    (an id kb/en.yaml does not name keeps its Dutch text; a test sees that none is missing)."""
    if lang == DEFAULT:
        return kb
    key = (id(kb), lang, Path(directory))
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
            result[name] = dataclasses.replace(item, **changes) if changes else item
        return result

    out.facts = relabel(kb.facts, "feiten", (("label", "label"), ("question", "vraag")))
    out.quantities = relabel(kb.quantities, "grootheden")
    out.rules = relabel(kb.rules, "regels")
    out.disagreements = relabel(kb.disagreements, "bronverschillen")
    out.goals = relabel(kb.goals, "doelen")
    out.forms = relabel(kb.forms, "formulieren")
    out.parameters = relabel(kb.parameters, "parameters")
    out.fee_rules = relabel(kb.fee_rules, "leges")
    out.fee_ranges = relabel(kb.fee_ranges, "leges")
    out.period_fields = {
        name: {**spec, "label": _text(t.get("vergunningsperiode", {}), name) or spec.get("label", name)}
        for name, spec in kb.period_fields.items()
    }
    out.sources = {  # a page keeps its own (Dutch) title; who publishes it reads in English
        name: dataclasses.replace(page, publisher=_text(t.get("bronnen", {}), name, "uitgever") or page.publisher)
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
    if proof.kind == "fact" and isinstance(proof.value, str):  # a choice value reads in words
        out.value = _choice_labels(kb, proof.node).get(proof.value, proof.value)
    elif proof.kind == "quantity" and isinstance(proof.value, str):  # a value of what it reads
        out.value = _quantity_labels(kb, proof.node).get(proof.value, proof.value)
    out.detail = dict(proof.detail)
    if "exception_to_label" in out.detail and proof.detail.get("exception_to") in kb.rules:
        out.detail["exception_to_label"] = kb.rules[proof.detail["exception_to"]].label
    out.children = [localized_proof(c, kb) for c in proof.children]
    return out


def _rule_labels(items: list[dict[str, Any]], kb: Any) -> list[dict[str, Any]]:
    out = []
    for item in items:
        item = dict(item)
        if item.get("rule_id") in kb.rules:
            item["label"] = kb.rules[item["rule_id"]].label
        if "start" in item and item.get("start"):
            item["start_label"] = kb.label_of(item["start"])
        out.append(item)
    return out


def localized_fee(answer: Any, kb: Any) -> Any:
    out = copy.copy(answer)
    if answer.form in kb.forms:
        out.form_label = kb.forms[answer.form].label
    out.assumptions = [
        {**a, "label": kb.facts[a["fact"]].label} if a.get("fact") in kb.facts else a for a in answer.assumptions
    ]
    return out


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
