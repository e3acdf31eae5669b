"""The rule base drives the applicant checks (issue 17, item 4).

The order of dates (`niet_voor`, with an own `melding`), the dates that cannot lie after the
peildatum (`niet_na: peildatum`) and the facts the strategies and the caseload generator draw
apart (`rol`) are declared in kb/feiten.yaml and enforced generically: a declaration planted in a
copy of the rule base is enforced without a change to the code, and no fact name appears as a
string in engine/. The applicant validator is generated from the vocabulary into the per-user
cache, never committed.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from engine.applicant.facts import check_against_peildatum, parse_applicant
from engine.applicant.pipeline import evaluator_inputs
from engine.errors import InputError, KnowledgeBaseError
from engine.rules.model import KB_DIR, load_knowledge_base

ROOT = Path(__file__).resolve().parent.parent
PEILDATUM = date(2026, 11, 22)


def kb_copy(tmp_path: Path, extra_facts: str = "", replace: tuple[str, str] | None = None) -> Path:
    """A copy of the rule base with `extra_facts` (YAML, indented as a fact) appended to the
    `feiten` of kb/feiten.yaml and `replace` (old, new) applied to that file."""
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    path = copy / "feiten.yaml"
    text = path.read_text(encoding="utf-8")
    if replace is not None:
        assert text.count(replace[0]) == 1, replace[0]
        text = text.replace(*replace)
    if extra_facts:
        marker = "\n# Velden van één vergunningsperiode"
        text = text.replace(marker, "\n" + textwrap.indent(textwrap.dedent(extra_facts), "  ") + marker, 1)
    path.write_text(text, encoding="utf-8")
    return copy


PLANTED = """
datum_eerste_inburgering:
  type: datum
  niet_voor: datum_aankomst_nederland
  niet_na: peildatum
  label: datum van de eerste inburgering
  vraag: Wanneer bent u begonnen met inburgeren?
  wijzigbaar: false
"""


# -- date order and the peildatum, from the declarations ---------------------------------------------


def test_the_shipped_checks_are_the_declared_ones(kb):
    arrival = kb.facts["datum_aankomst_nederland"]
    assert arrival.not_before == ("geboortedatum",)
    assert dict(arrival.messages) == {"geboortedatum": "ligt voor de geboortedatum"}
    assert arrival.not_after == ("peildatum",) and kb.facts["geboortedatum"].not_after == ("peildatum",)
    assert kb.period_fields["van"]["niet_voor"] == "geboortedatum"
    assert {n for n, f in kb.facts.items() if f.not_after} == {"geboortedatum", "datum_aankomst_nederland"}


def test_a_planted_date_order_is_enforced_naming_both_fields(tmp_path):
    kb = load_knowledge_base(kb_copy(tmp_path, PLANTED))
    parse_applicant(kb, {"datum_aankomst_nederland": "2020-05-01", "datum_eerste_inburgering": "2020-05-01"})
    with pytest.raises(InputError) as info:
        parse_applicant(kb, {"datum_aankomst_nederland": "2020-05-02", "datum_eerste_inburgering": "2020-05-01"})
    assert str(info.value) == "veld 'datum_eerste_inburgering': ligt voor datum_aankomst_nederland; dat kan niet"
    # followed through the arrival (unknown here) to the birth date it cannot precede
    with pytest.raises(InputError) as info:
        parse_applicant(kb, {"geboortedatum": "2020-05-02", "datum_eerste_inburgering": "2020-05-01"})
    assert str(info.value) == "veld 'datum_eerste_inburgering': ligt voor geboortedatum; dat kan niet"


def test_a_planted_melding_replaces_the_generic_text(tmp_path):
    planted = PLANTED.replace(
        "  niet_na: peildatum\n", "  melding: {datum_aankomst_nederland: ligt voor de aankomst in Nederland}\n"
    )
    kb = load_knowledge_base(kb_copy(tmp_path, planted))
    with pytest.raises(InputError) as info:
        parse_applicant(kb, {"datum_aankomst_nederland": "2020-05-02", "datum_eerste_inburgering": "2020-05-01"})
    assert str(info.value) == "veld 'datum_eerste_inburgering': ligt voor de aankomst in Nederland"


def test_a_planted_niet_na_is_enforced_against_the_peildatum(tmp_path):
    kb = load_knowledge_base(kb_copy(tmp_path, PLANTED))
    later = {"datum_eerste_inburgering": "2027-01-01"}
    with pytest.raises(InputError) as info:
        evaluator_inputs(kb, later, PEILDATUM)
    assert str(info.value) == "veld 'datum_eerste_inburgering': ligt na de peildatum 2026-11-22"
    evaluator_inputs(kb, later, date(2027, 1, 1))  # on the peildatum itself is fine
    # a date fact the shipped vocabulary lets lie after the peildatum, until a copy declares it
    submitted = {"datum_indienen_aanvraag": "2027-01-01"}
    shipped = load_knowledge_base()
    check_against_peildatum(shipped, parse_applicant(shipped, submitted), PEILDATUM)
    declared = load_knowledge_base(
        kb_copy(
            tmp_path / "2",
            replace=(
                "  datum_ontvangst_aanvraag:\n    type: datum\n",
                "  datum_ontvangst_aanvraag:\n    type: datum\n    niet_na: peildatum\n",
            ),
        )
    )
    with pytest.raises(InputError, match=r"^veld 'datum_ontvangst_aanvraag': ligt na de peildatum 2026-11-22$"):
        evaluator_inputs(declared, {"datum_ontvangst_aanvraag": "2027-01-01"}, PEILDATUM)


def test_a_planted_order_on_a_permit_period_field_is_enforced(tmp_path):
    kb = load_knowledge_base(
        kb_copy(
            tmp_path,
            replace=(
                "    niet_voor: geboortedatum    # een vergunning begint niet voor de geboorte\n",
                "    niet_voor: [geboortedatum, datum_aankomst_nederland]\n",
            ),
        )
    )
    data = {
        "geboortedatum": "1990-01-01",
        "datum_aankomst_nederland": "2000-01-01",
        "verblijfsvergunningen": [
            {"van": "2005-01-01", "tot": "2006-01-01"},
            {"van": "1999-01-01", "tot": "1999-12-31"},
        ],
    }
    with pytest.raises(InputError) as info:
        parse_applicant(kb, data)
    # the periods are in order of start: the one before the arrival is the first
    assert str(info.value) == "veld 'verblijfsvergunningen[0].van': ligt voor datum_aankomst_nederland; dat kan niet"
    with pytest.raises(InputError) as info:
        parse_applicant(kb, {**data, "geboortedatum": "1999-06-01"})
    assert str(info.value) == "veld 'verblijfsvergunningen[0].van': ligt voor de geboortedatum"


def test_assess_on_a_planted_copy_refuses_without_a_code_change(tmp_path):
    copy = kb_copy(tmp_path, PLANTED)
    applicant = tmp_path / "aanvrager.yaml"
    applicant.write_text(
        "datum_aankomst_nederland: 2020-05-02\ndatum_eerste_inburgering: 2020-05-01\n", encoding="utf-8"
    )
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "assess",
            "--kb",
            str(copy),
            str(applicant),
            "--peildatum",
            "2026-11-22",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "fout: veld 'datum_eerste_inburgering': ligt voor datum_aankomst_nederland; dat kan niet"
    ]


def test_an_order_with_its_own_melding_is_checked_first(kb):
    # three broken orders at once: the arrival (own melding) is named, as before the
    # declarations drove the check, then a permit before birth (own melding), then the rest
    data = {
        "geboortedatum": "2000-01-02",
        "datum_aankomst_nederland": "2000-01-01",
        "datum_indienen_aanvraag": "2000-01-01",
        "verblijfsvergunningen": [{"van": "2000-01-01"}],
    }
    with pytest.raises(InputError, match=r"^veld 'datum_aankomst_nederland': ligt voor de geboortedatum$"):
        parse_applicant(kb, data)
    del data["datum_aankomst_nederland"]
    with pytest.raises(InputError, match=r"^veld 'verblijfsvergunningen\[0\]\.van': ligt voor de geboortedatum$"):
        parse_applicant(kb, data)
    del data["verblijfsvergunningen"]
    with pytest.raises(InputError, match=r"^veld 'datum_indienen_aanvraag': ligt voor geboortedatum; dat kan niet$"):
        parse_applicant(kb, data)


@pytest.mark.parametrize(
    "replace, message",
    [
        (
            (
                "    niet_voor: geboortedatum\n    melding: {geboortedatum: ",
                "    niet_voor: geboortedatum\n    melding: {geboren_in_nederland: ",
            ),
            r"\[datum_aankomst_nederland\]: 'melding' is een mapping van een datumfeit uit 'niet_voor' naar een tekst",
        ),
        (
            ("    niet_na: peildatum\n    rol: geboorte\n", "    niet_na: morgen\n    rol: geboorte\n"),
            r"\[geboortedatum\]: 'niet_na' hoort bij een datumfeit en noemt 'peildatum'",
        ),
        (
            ("    rol: hier_geboren\n", "    rol: hier_geboren\n    niet_na: peildatum\n"),
            r"\[geboren_in_nederland\]: 'niet_na' hoort bij een datumfeit",
        ),
        (
            ("    rol: hier_geboren\n", "    rol: geboorte\n"),
            r"\[geboren_in_nederland\]: rol 'geboorte' hoort al bij geboortedatum",
        ),
        (("    rol: hier_geboren\n", "    rol: Hier geboren\n"), r"\[geboren_in_nederland\]: 'rol' is een naam"),
        (
            ("    niet_voor: geboortedatum    # een vergunning", "    niet_voor: onbekend    # een vergunning"),
            r"vergunningsperiode \[van\]: niet_voor noemt 'onbekend', geen gedeclareerd datumfeit",
        ),
    ],
)
def test_a_declaration_that_cannot_be_checked_is_refused_in_one_line(tmp_path, replace, message):
    with pytest.raises(KnowledgeBaseError, match=message) as info:
        load_knowledge_base(kb_copy(tmp_path, replace=replace))
    assert "\n" not in str(info.value)


# -- roles -------------------------------------------------------------------------------------------


def test_the_strategies_and_the_caseload_find_their_facts_by_role(tmp_path):
    import random

    from engine.checks import caseload, strategies
    from engine.rules.model import fact_with_role

    shipped = load_knowledge_base()
    assert fact_with_role(shipped, strategies.ROL_GEBOORTE) == strategies.GEBOORTEDATUM == "geboortedatum"
    assert strategies.AANKOMST == "datum_aankomst_nederland" and strategies.HIER_GEBOREN == "geboren_in_nederland"
    # the roles move: the generators follow the declarations, not the names
    copy = kb_copy(tmp_path)
    path = copy / "feiten.yaml"
    text = path.read_text(encoding="utf-8").replace("    rol: geboorte\n", "").replace("    rol: aankomst\n", "")
    text = text.replace(
        "  datum_ontvangst_aanvraag:\n    type: datum\n",
        "  datum_ontvangst_aanvraag:\n    type: datum\n    rol: geboorte\n",
    )
    path.write_text(text, encoding="utf-8")
    kb = load_knowledge_base(copy)
    assert fact_with_role(kb, strategies.ROL_GEBOORTE) == "datum_ontvangst_aanvraag"
    assert fact_with_role(kb, strategies.ROL_AANKOMST) is None
    assert strategies.beschikbaar("hier_opgegroeide_volwassenen", kb) == (
        "de woordenlijst declareert rol 'aankomst' (bij datum_aankomst_nederland) niet"
    )
    row = caseload.applicant_data(kb, random.Random(3), PEILDATUM)
    assert list(row)[:2] == ["datum_ontvangst_aanvraag", "geboren_in_nederland"]


# -- no fact name in engine/ ---------------------------------------------------------------------------


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def fact_names_in_code(paths: list[Path], names: set[str]) -> list[str]:
    """`path:line: name` for every string literal (docstrings aside) that names a fact: the whole
    literal, or a word of it (a run of letters, digits, `_` and `.`, as in `name[` of an f-string
    or in prose; a dotted rule id like `E12.x` is one word)."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                words = {w.strip(".") for w in re.findall(r"[\w.]+", node.value)} | {node.value}
                for name in sorted(words & names):
                    found.append(f"{path}:{node.lineno}: {name}")
    return found


def test_no_fact_name_of_the_vocabulary_appears_as_a_string_in_engine(kb):
    paths = sorted((ROOT / "engine").rglob("*.py"))
    assert len(paths) > 20
    assert fact_names_in_code(paths, set(kb.facts)) == []


def test_the_fact_name_check_finds_a_planted_name(tmp_path, kb):
    planted = tmp_path / "planted.py"
    planted.write_text(
        textwrap.dedent('''
        """A docstring may name geboortedatum."""
        BORN = "geboortedatum"
        def f(i):
            """Nor is this docstring code: verblijfsvergunningen."""
            return f"verblijfsvergunningen[{i}].van", "ligt voor de geboren_in_nederland.", "E12.aanvraag_na_geweld"
    '''),
        encoding="utf-8",
    )
    hits = fact_names_in_code([planted], set(kb.facts))
    assert sorted(hit.split(":", 1)[1] for hit in hits) == [
        "3: geboortedatum",
        "6: geboren_in_nederland",
        "6: verblijfsvergunningen",
    ]


# -- the validator, generated into the cache -------------------------------------------------------------


def test_no_validator_is_committed():
    assert not (ROOT / "engine" / "applicant" / "aanvrager_validator.py").exists()
    assert "aanvrager_validator" not in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


BAD = {"geboortedatum": "gisteren"}
BAD_MESSAGE = "veld 'geboortedatum': kreeg een tekst die geen datum is; verwacht een datum als JJJJ-MM-DD"


def refusal(kb) -> str:
    with pytest.raises(InputError) as info:
        parse_applicant(kb, BAD)
    return str(info.value)


def test_a_warm_cache_loads_the_validator_without_generating_it(tmp_path, monkeypatch):
    import fastjsonschema

    monkeypatch.delenv("VERBLIJFSREGELS_NO_CACHE", raising=False)
    monkeypatch.setenv("VERBLIJFSREGELS_CACHE", str(tmp_path / "cache"))
    assert refusal(load_knowledge_base()) == BAD_MESSAGE
    stored = list((tmp_path / "cache").glob("code-aanvrager-*.pickle"))
    assert len(stored) == 1

    def no_generation(*args, **kwargs):
        raise AssertionError("the validator was generated again")

    monkeypatch.setattr(fastjsonschema, "compile_to_code", no_generation)
    kb = load_knowledge_base()  # a new knowledge base: nothing kept on the old one
    assert refusal(kb) == BAD_MESSAGE
    parse_applicant(kb, {"geboortedatum": "1990-01-01"})
    # a changed vocabulary is another key: generated (here: refused to), never the stale one
    changed = load_knowledge_base(kb_copy(tmp_path, PLANTED))
    with pytest.raises(AssertionError, match="generated again"):
        parse_applicant(changed, {})


def test_a_damaged_cache_entry_is_generated_again(tmp_path, monkeypatch):
    monkeypatch.delenv("VERBLIJFSREGELS_NO_CACHE", raising=False)
    monkeypatch.setenv("VERBLIJFSREGELS_CACHE", str(tmp_path / "cache"))
    refusal(load_knowledge_base())
    (entry,) = (tmp_path / "cache").glob("code-aanvrager-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert refusal(load_knowledge_base()) == BAD_MESSAGE
    assert entry.read_bytes() != b"not a pickle"


@pytest.mark.parametrize("setting", ["disabled", "unwritable"])
def test_without_a_usable_cache_the_validator_is_generated_in_memory(tmp_path, monkeypatch, setting):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    if setting == "disabled":
        monkeypatch.setenv("VERBLIJFSREGELS_NO_CACHE", "1")
        monkeypatch.setenv("VERBLIJFSREGELS_CACHE", str(tmp_path / "cache"))
    else:  # a directory that cannot be made (root may write anywhere it can make one)
        monkeypatch.delenv("VERBLIJFSREGELS_NO_CACHE", raising=False)
        monkeypatch.setenv("VERBLIJFSREGELS_CACHE", str(blocker / "cache"))
    kb = load_knowledge_base()
    assert refusal(kb) == BAD_MESSAGE
    parse_applicant(kb, {"geboortedatum": "1990-01-01"})
    assert not (tmp_path / "cache").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
