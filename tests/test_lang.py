"""English output beside Dutch (issue 22): every label, question and explanation of kb/ has its
English text in kb/en.yaml, the English templates exist beside the Dutch ones, and `--lang en`
reads in English while every quote stays verbatim Dutch."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from engine.rules.model import KB_DIR
from tests.conftest import ROOT, flat

EXAMPLE = ROOT / "voorbeelden" / "aanvrager.yaml"
# the example with an asylum permit: out of scope, and the sources refer to another page (C15.asiel)
ASYLUM = "ASYLUM"
# what an entry of en.yaml may give: its label and the project's own words beside it
ENTRY_KEYS = {"label", "toelichting", "reden", "verwijzing", "verouderd", "gaat_voor"}
GOAL = "onbepaalde_tijd_regulier"
TEMPLATES = ROOT / "explain" / "templates"
# the templates --lang en renders; the audit, comparison and web pages are for other audiences
TRANSLATED_TEMPLATES = (
    "assessment.txt.j2",
    "short_answer.txt.j2",
    "no_form.txt.j2",
    "overview.txt.j2",
    "why_not.txt.j2",
    "fees.txt.j2",
    "rules.txt.j2",
    "inventory.txt.j2",
    "_proof.j2",
    "_conclusion.j2",
    "_fees.j2",
    "_repairs.j2",
    "_sources.j2",
)
# words of the Dutch templates that an English text never has
DUTCH_WORDS = re.compile(
    r"\b(Conclusie|Motivering|Bron|Bronnen|bron|voldaan|Peildatum|Leges|Toelichting|aanvrager|formulier|Antwoord"
    r"|Volgende stap|BESTAND|derde partij)\b"
)


@pytest.fixture(scope="module")
def english():
    return yaml.safe_load((KB_DIR / "en.yaml").read_text(encoding="utf-8"))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def label(entry) -> str:
    """The English label of an entry of kb/en.yaml: the text itself, or its `label` beside an
    explanation (`toelichting`)."""
    return entry if isinstance(entry, str) else entry["label"]


# per section of kb/en.yaml, the declarations of kb/ whose explanation (`toelichting`) it translates
EXPLAINED = {
    "regels": lambda kb: kb.rules,
    "leges": lambda kb: kb.fee_rules,
    "bronverschillen": lambda kb: kb.disagreements,
    "aanvraag_voor_doel": lambda kb: kb.goal_assumptions,
}


def test_every_fact_has_an_english_label_and_question_and_every_choice_value_its_english_words(engine, english):
    kb = engine.kb
    assert set(english["feiten"]) == set(kb.facts), "kb/en.yaml names exactly the facts of kb/"
    for name, fact in kb.facts.items():
        entry = english["feiten"][name]
        assert entry.get("label") and entry.get("vraag"), name
        words = entry.get("waarden") or {}
        assert set(words) <= set(fact.values), name
        for value in fact.values:
            # a level or code (A2, B1) reads the same in English; a word needs its English one
            assert re.fullmatch(r"[A-Z0-9]+", value) or words.get(value), (name, value)
    periods = english["vergunningsperiode"]
    assert set(periods) == set(kb.period_fields)
    purposes = periods["verblijfsdoel"]["waarden"]
    assert set(purposes) == set(kb.period_fields["verblijfsdoel"]["waarden"])


@pytest.mark.parametrize(
    "section,table",
    [
        ("grootheden", lambda kb: kb.quantities),
        ("regels", lambda kb: kb.rules),
        ("bronverschillen", lambda kb: kb.disagreements),
        ("doelen", lambda kb: kb.goals),
        ("formulieren", lambda kb: kb.forms),
        ("parameters", lambda kb: kb.parameters),
        ("leges", lambda kb: {**kb.fee_rules, **kb.fee_ranges}),
    ],
)
def test_every_declaration_with_a_label_has_its_english_label_and_no_other(engine, english, section, table):
    declared = table(engine.kb)
    given = {str(k): v for k, v in english[section].items()}
    assert set(given) == set(map(str, declared)), section
    for key, entry in given.items():
        assert isinstance(entry, str) or set(entry) <= ENTRY_KEYS, (section, key)
        assert isinstance(label(entry), str) and label(entry).strip(), (section, key)


@pytest.mark.parametrize("section", sorted(EXPLAINED))
def test_every_explanation_has_its_english_text_and_no_declaration_without_one_has(engine, english, section):
    """The knowledge base's own explanations (`toelichting`) are its words, not the law's: each has
    an English text, which is not the Dutch one, and en.yaml explains nothing kb/ leaves unexplained."""
    declared = EXPLAINED[section](engine.kb)
    explained = {k: d.explanation for k, d in declared.items() if d.explanation}
    assert len(explained) >= (5 if section == "bronverschillen" else 7), section  # they are there to translate
    given = {
        str(k): " ".join(v["toelichting"].split())
        for k, v in english[section].items()
        if isinstance(v, dict) and "toelichting" in v
    }
    assert set(given) == set(explained), section
    for key, dutch in explained.items():
        words = re.sub(r"\b[A-G][0-9]*\.\w+", "", given[key])  # rule ids (F10.formulier) are no words
        assert given[key] != dutch and not DUTCH_WORDS.search(words), (section, key, given[key])


def test_every_assumption_has_its_reason_in_english(engine, english):
    assumed = {k: r.assumption.reason for k, r in engine.kb.rules.items() if r.assumption is not None}
    assert assumed, "kb/regels/aannames.yaml declares assumptions"
    reasons = {k: v["reden"] for k, v in english["regels"].items() if isinstance(v, dict) and "reden" in v}
    assert set(reasons) == set(assumed)
    assert all(reasons[k].strip() and " ".join(reasons[k].split()) != assumed[k] for k in assumed)


def test_the_localized_knowledge_base_has_the_english_explanations_and_the_original_keeps_the_dutch(engine, english):
    from explain.lang import localized

    kb = localized(engine.kb, "en")
    assert kb.rules["C1"].explanation == " ".join(english["regels"]["C1"]["toelichting"].split())
    assert kb.fee_rules["G8"].explanation == " ".join(english["leges"]["G8"]["toelichting"].split())
    assert kb.disagreements["B4+C2"].explanation.startswith("Source 004 (a third party, older) requires")
    reason = english["aanvraag_voor_doel"]["E12.aanvraag_na_geweld"]["toelichting"]
    assert kb.goal_assumptions["E12.aanvraag_na_geweld"].explanation == " ".join(reason.split())
    assert kb.rules["aanname.minderjarig"].assumption.reason.startswith("The sources use 'minderjarig'")
    assert engine.kb.rules["C1"].explanation.startswith("Bron 003 noemt de algemene voorwaarden niet")


def test_every_source_page_with_a_publisher_has_it_in_english_and_keeps_its_own_title(engine, english):
    published = {name for name, page in engine.kb.sources.items() if page.publisher}
    assert set(english["bronnen"]) == published
    assert all(set(entry) == {"uitgever"} and entry["uitgever"].strip() for entry in english["bronnen"].values())


def test_every_translated_template_has_its_english_version():
    for name in TRANSLATED_TEMPLATES:
        assert (TEMPLATES / name).exists() and (TEMPLATES / "en" / name).exists(), name
        english = (TEMPLATES / "en" / name).read_text(encoding="utf-8")
        assert not DUTCH_WORDS.search(re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", english)), name


def _written(*keys: str) -> list[str]:
    """What kb/ (en.yaml aside) writes in Dutch under `keys`, each once, longest first."""
    texts: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in keys and isinstance(value, str):
                    texts.add(" ".join(value.split()))
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(KB_DIR.rglob("*.yaml")):
        if path.name != "en.yaml":
            walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return sorted(texts, key=len, reverse=True)


@lru_cache(maxsize=1)
def _reasons() -> list[str]:
    """The Dutch reasons of kb/: of a precedence, of setting a source aside or of a fee exception
    going first (reden, verouderd, gaat_voor), and where the sources refer to (verwijzing)."""
    return _written("reden", "verwijzing")


def _declared(section: dict, key: str) -> list[str]:
    """The ids of a kb/ section (a list of declarations) that declare `key`."""
    return sorted(str(item["id"]) for item in section if isinstance(item, dict) and item.get(key))


def _kb_sections() -> dict[str, list]:
    found: dict[str, list] = {}
    for path in sorted(KB_DIR.rglob("*.yaml")):
        if path.name != "en.yaml":
            for name, items in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
                if isinstance(items, list):
                    found.setdefault(name, []).extend(items)
    return found


def test_every_reason_and_referral_has_its_english_text(engine, english):
    sections = _kb_sections()
    referring = _declared(sections["regels"], "verwijzing")
    assert referring, "kb/ declares rules that refer elsewhere"
    assert sorted(r for r in referring if (english["regels"].get(r) or {}).get("verwijzing")) == referring
    precedences = _declared(sections["voorrang"], "reden")
    assert precedences and sorted(english["voorrang"]) == precedences
    outdated = _declared(sections["leges_bandbreedte"], "verouderd")
    assert outdated and [r for r in outdated if english["leges"][r].get("verouderd")] == outdated
    first = _declared(sections["leges"], "gaat_voor")
    assert [r for r in first if (english["leges"].get(r) or {}).get("gaat_voor")] == first
    # and each reads in English, never as the Dutch one
    assert not [text for text in _reasons() if text in flat(yaml.safe_dump(english, allow_unicode=True, width=10**6))]


def test_the_localized_knowledge_base_has_the_english_reasons_and_referrals(engine, english):
    from explain.lang import localized

    en = localized(engine.kb, "en")
    assert en.rules["C15.asiel"].reference == " ".join(english["regels"]["C15.asiel"]["verwijzing"].split())
    assert engine.kb.rules["C15.asiel"].reference.startswith("Met een asielvergunning")
    precedence = "ind_pagina_2024_voor_oudere_pagina_derde_partij"
    assert en.precedences[precedence].reason == " ".join(english["voorrang"][precedence]["reden"].split())
    assert en.fee_ranges["G9"].outdated.text == english["leges"]["G9"]["verouderd"]
    assert en.fee_ranges["G9"].outdated.source == engine.kb.fee_ranges["G9"].outdated.source  # the quote stays


@lru_cache(maxsize=1)
def _explanations() -> list[str]:
    """The Dutch explanations of kb/ (toelichting) and the reasons of its assumptions: an English
    text has each in English, never in Dutch."""
    kb_texts = _written("toelichting")
    reasons = [
        " ".join(str(rule["aanname"]["reden"]).split())
        for path in sorted((KB_DIR / "regels").glob("*.yaml"))
        for rule in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("regels") or ()
        if isinstance(rule.get("aanname"), dict)
    ]
    return kb_texts + reasons


def _quotes(text: str) -> list[str]:
    """Every quote, its words as the source has them (a long quote may wrap at another space)."""
    return [" ".join(q.split()) for q in re.findall(r"“([^”]*)”", text)]


def _titles(text: str) -> list[str]:
    """The page title of every source a text names in its legend ("Bronnen:", "Sources:")."""
    return re.findall(r"^- (?:bron|source) \d+: ‘([^’]*)’", text, re.M)


@pytest.mark.parametrize(
    "command",
    [
        ["assess", EXAMPLE, "--goal", GOAL],
        ["assess", EXAMPLE, "--goal", GOAL, "--detail"],
        ["assess", EXAMPLE, "--goal", "huiselijk_geweld"],
        ["assess", EXAMPLE],
        ["why-not", EXAMPLE, "--goal", "huiselijk_geweld"],
        ["why-not", EXAMPLE, "--goal", "huiselijk_geweld", "--detail"],
        ["fees", EXAMPLE, "--form", "7027"],
        ["fees", EXAMPLE, "--goal", GOAL],
        ["rules"],
        ["rules", "--inventory"],
        ["assess", ASYLUM, "--goal", GOAL],
        ["assess", ASYLUM],
        ["fees", EXAMPLE, "--form", "7024"],
    ],
    ids=[
        "assess-goal",
        "assess-goal-detail",
        "assess-refused",
        "assess-overview",
        "why-not",
        "why-not-detail",
        "fees",
        "fees-no-form",
        "rules",
        "inventory",
        "assess-out-of-scope",
        "assess-overview-out-of-scope",
        "fees-range-set-aside",
    ],
)
def test_lang_en_reads_in_english_with_the_same_quotes_verbatim_in_dutch(command, engine, english, tmp_path):
    if ASYLUM in command:
        facts = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")) | {"heeft_asielvergunning": True}
        asylum = tmp_path / "asiel.yaml"
        asylum.write_text(yaml.safe_dump(facts, allow_unicode=True), encoding="utf-8")
        command = [str(asylum) if part == ASYLUM else part for part in command]
    dutch = run(*command, "--peildatum", "2026-11-22") if command[0] != "rules" else run(*command)
    before = ["--lang", "en"]
    result = run(*before, *command, "--peildatum", "2026-11-22") if command[0] != "rules" else run(*before, *command)
    assert dutch.exit_code == 0 and result.exit_code == 0, result.output
    assert result.stdout != dutch.stdout
    assert _quotes(result.stdout) == _quotes(dutch.stdout)  # every quote, in Dutch, in the same place
    # a source page is named by its own title, which is Dutch: the same in both
    assert _titles(result.stdout) == _titles(dutch.stdout)
    # quotes, page titles (quoted or named, ‘…’) and rule ids (E13.formulier) aside
    unquoted = re.sub(r"“[^”]*”|‘[^’]*’|\b[A-G][0-9]*\.\w+", "", result.stdout, flags=re.M)
    unquoted = flat(unquoted)
    # no explanation, reason or referral of the knowledge base is in Dutch: each reads in English
    assert not [text for text in _explanations() + _reasons() if text in flat(result.stdout)]
    assert "Aanname, geen citaat" not in unquoted and "in Dutch" not in flat(result.stdout)
    assert not DUTCH_WORDS.search(unquoted), DUTCH_WORDS.search(unquoted)
    # the same option after the command gives the same text
    after = run(*command, "--lang", "en", *(["--peildatum", "2026-11-22"] if command[0] != "rules" else []))
    assert after.stdout == result.stdout


def test_lang_en_gives_the_english_referral_and_the_english_reason_a_range_is_set_aside(english, tmp_path):
    facts = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")) | {"heeft_asielvergunning": True}
    asylum = tmp_path / "asiel.yaml"
    asylum.write_text(yaml.safe_dump(facts, allow_unicode=True), encoding="utf-8")
    out = run("--lang", "en", "assess", str(asylum), "--goal", GOAL, "--peildatum", "2026-11-22")
    assert "Where the sources refer to: " + english["regels"]["C15.asiel"]["verwijzing"] in flat(out.stdout)
    fees = run("--lang", "en", "fees", str(EXAMPLE), "--form", "7024", "--peildatum", "2026-11-22")
    said = "The knowledge base does not follow source 004 in this: " + english["leges"]["G9"]["verouderd"]
    assert said in flat(fees.stdout)


def test_lang_en_uses_the_english_labels_of_kb_en_yaml(english):
    short = run("--lang", "en", "assess", EXAMPLE, "--goal", GOAL, "--peildatum", "2026-11-22").stdout
    goal = english["doelen"][GOAL]
    assert short.startswith(f"{goal[:1].upper()}{goal[1:]} — reference date 22 November 2026\n\n")
    assert "\nAnswer: yes, the applicant is eligible.\n" in short
    assert f"- {label(english['regels']['C1'])} (source 003) - " in flat(short)  # a decisive condition, cited
    # a source page keeps its own (Dutch) title; who publishes it reads in English
    assert "- source 004: ‘Voorwaarden om in aanmerking te komen voor een verblijfsvergunning’ (a third party)" in short
    result = run("--lang", "en", "assess", EXAMPLE, "--goal", GOAL, "--peildatum", "2026-11-22", "--detail")
    assert result.stdout.startswith(f"Assessment: {goal}\nReference date: 22 November 2026\n")
    assert f"C1: {label(english['regels']['C1'])} — met" in result.stdout
    # the knowledge base's own explanation reads in English, as kb/en.yaml has it
    explanation = " ".join(english["regels"]["C1"]["toelichting"].split())
    assert f"Explanation: {explanation}" in flat(result.stdout)
    assert "(Dutch)" not in result.stdout
    assert f"· {english['feiten']['heeft_zorgverzekering']['label']}: yes" in result.stdout
    assert (
        "Source 003: “Voor de verblijfsvergunning voor onbepaalde tijd gelden de volgende voorwaarden:”"
        in result.stdout
    )


def test_the_interview_in_english_asks_the_english_questions_and_ends_as_assess_does(tmp_path, english):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data.pop("inburgeringsexamen_gehaald_niveau")
    path = tmp_path / "antwoorden.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    saved = tmp_path / "opgeslagen.yaml"
    args = [
        "--lang",
        "en",
        "interview",
        "--goal",
        GOAL,
        "--answers",
        path,
        "--save",
        saved,
        "--peildatum",
        "2026-11-22",
    ]
    result = CliRunner().invoke(main, [str(a) for a in args], input="none\nno\n\n")
    assert result.exit_code == 0, result.output
    question = english["feiten"]["inburgeringsexamen_gehaald_niveau"]["vraag"]
    assert f"{question} [number or name, ? if you do not know]" in result.output
    assert "  1. none\n  2. A1\n" in result.output
    assert "Question 1 (at most 1 more after this one)" in result.output and "Your answers:" in result.output
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["inburgeringsexamen_gehaald_niveau"] == "geen"
    assess = run("--lang", "en", "assess", saved, "--goal", GOAL, "--peildatum", "2026-11-22")
    assert result.output.endswith("\n\n" + assess.stdout)
    # without the exam and without exemption the civic integration requirement (C12, source 003)
    # is not met, and the short answer says so in English with what it was decided on
    assert "\nAnswer: no, the applicant is not eligible.\n" in assess.stdout
    assert f"- {label(english['regels']['C12'])} (source 003)\n" in assess.stdout
    level = english["feiten"]["inburgeringsexamen_gehaald_niveau"]["label"]
    exempt = english["feiten"]["vrijgesteld_van_inburgeringsexamen"]["label"]
    assert f"    {level}: none\n    {exempt}: no\n" in assess.stdout


def test_an_unknown_language_is_refused_in_one_line():
    result = run("--lang", "fr", "rules")
    assert result.exit_code == 2
    assert result.stderr.strip() == "fout: --lang: kreeg 'fr'; toegestaan: nl, en"


def test_the_translations_sit_beside_the_rule_base(engine):
    assert Path(KB_DIR / "en.yaml").exists()


def test_a_proof_that_follows_the_declared_precedence_gives_its_reason_in_english(engine, english):
    from engine.answer.proof import ProofNode
    from explain.lang import localized, localized_proof

    declaration = "ind_pagina_2024_voor_oudere_pagina_derde_partij"
    dutch = engine.kb.precedences[declaration].reason
    detail = {"precedence": {"set_by": "kennisbank", "declaration": declaration, "reason": dutch}}
    node = ProofNode(node="B4+C2", kind="consensus", label="", value=True, rule_id="B4+C2", detail=detail)
    english_node = localized_proof(node, localized(engine.kb, "en"))
    assert english_node.detail["precedence"]["reason"] == " ".join(english["voorrang"][declaration]["reden"].split())
    assert node.detail["precedence"]["reason"] == dutch  # the Dutch proof is left as it was
