"""Hostile and broken input, one example per way it once went wrong (issue 9).

Each of these crashed with a traceback, hung, ate memory, echoed the applicant's data or wrote
control characters to the terminal; tests/test_fuzz.py looks for more of the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from engine import tijd
from engine.answer.batch import ROW_LIMIT
from engine.answer.interview import AnswerError, parse_answer
from engine.applicant.facts import MAX_DEPTH, MAX_FILE_BYTES
from tests.conftest import ROOT

EXAMPLE = ROOT / "voorbeelden" / "aanvrager.yaml"
SCRIPT = Path(sys.executable).with_name("verblijfsregels")
PEILDATUM = "2026-11-22"
GOAL = "onbepaalde_tijd_regulier"

# Runs a command as its own child and reports the child's peak memory (KiB) after it: the
# test process's own children (batch workers of other tests) do not count.
MEASURE = (
    "import json, resource, subprocess, sys, time; t = time.perf_counter(); "
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "print(json.dumps({'code': p.returncode, 'stdout': p.stdout, 'stderr': p.stderr, "
    "'seconds': time.perf_counter() - t, "
    "'kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))"
)
# Generous bounds: they guard against a hang or a blow-up (21 s and 1.2 GB before), not for speed.
SECONDS = 15
KIB = 300 * 1024


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line(result) -> str:
    """Exit code 2, no traceback, nothing on stdout, one printable line starting with 'fout:'."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, (result.exit_code, result.output[:500])
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines[:3]
    assert lines[0].startswith("fout: ") and lines[0].isprintable(), lines[0][:300]
    return lines[0]


def measured(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, timeout=120)
    return json.loads(proc.stdout)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- 1. deep nesting -------------------------------------------------------------------------------


def test_a_json_file_of_a_hundred_thousand_nested_lists_gives_one_line_naming_the_file(tmp_path):
    path = write(tmp_path, "diep.json", "[" * 100_000 + "]" * 100_000)
    line = one_line(run("assess", path, "--peildatum", PEILDATUM))
    assert "diep.json is te diep genest" in line and f"hoogstens {MAX_DEPTH} niveaus" in line


@pytest.mark.parametrize(
    "name,text",
    [
        ("diep.yaml", "verblijfsvergunningen: " + "[" * 5000 + "]" * 5000 + "\n"),
        ("diep.json", '{"verblijfsvergunningen": ' + "[" * 5000 + "]" * 5000 + "}"),
    ],
)
def test_a_fact_whose_value_is_five_thousand_nested_lists_gives_one_line_naming_the_fact(tmp_path, name, text):
    line = one_line(run("assess", write(tmp_path, name, text), "--peildatum", PEILDATUM))
    assert "verblijfsvergunningen" in line
    assert "te diep genest" in line or "diep.json is te diep genest" in line


# -- 2. YAML anchors -------------------------------------------------------------------------------


def billion_laughs() -> str:
    lines = ['a: &a ["lol"]']
    lines += [f"{b}: &{b} [" + ", ".join([f"*{a}"] * 9) + "]" for a, b in zip("abcdefgh", "bcdefghi")]
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_at_the_first_anchor_in_one_line_within_seconds_and_little_memory(tmp_path):
    path = write(tmp_path, "lachen.yaml", billion_laughs())
    outcome = measured(str(SCRIPT), "assess", str(path), "--peildatum", PEILDATUM)
    assert outcome["code"] == 2 and outcome["stdout"] == "", outcome
    (line,) = outcome["stderr"].splitlines()
    assert line == (
        "fout: veld 'a': YAML-ankers en -verwijzingen (&naam, *naam) zijn niet toegestaan; schrijf de waarde uit"
    )
    assert outcome["seconds"] < SECONDS and outcome["kib"] < KIB, outcome


def test_an_alias_of_a_small_value_is_refused_too_naming_where_it_stands(tmp_path):
    path = write(tmp_path, "anker.yaml", "geboortedatum: &d 2000-01-01\ndatum_aankomst_nederland: *d\n")
    assert "veld 'geboortedatum': YAML-ankers" in one_line(run("assess", path, "--peildatum", PEILDATUM))


@pytest.mark.parametrize(
    "text,expected",
    [
        ("geboortedatum: !!timestamp abc\n", "veld 'geboortedatum': de YAML-tag '!!timestamp' is niet toegestaan"),
        ("heeft_zorgverzekering: !!bool misschien\n", "veld 'heeft_zorgverzekering': de YAML-tag '!!bool'"),
        ("heeft_zorgverzekering: !!int abc\n", "de YAML-tag '!!int'"),
        ("heeft_zorgverzekering: !!python/object:os.system x\n", "een YAML-tag voor Python-objecten (!!python/…)"),
        (
            "geboortedatum: !BSN123456789 1991-03-14\n",
            "veld 'geboortedatum': een eigen YAML-tag (!…) is niet toegestaan",
        ),
        (
            "geboortedatum: !<tag:jansen.nl,2024:bsn> 1991-03-14\n",
            "veld 'geboortedatum': een YAML-tag is niet toegestaan",
        ),
        ("? [a, b]\n: 1\n", "een sleutel is een naam (tekst), geen lijst of mapping"),
        ("<<: {heeft_zorgverzekering: true}\n", "de YAML-samenvoegsleutel '<<' is niet toegestaan"),
    ],
)
def test_yaml_tags_list_keys_and_merge_keys_give_one_line_instead_of_a_traceback(tmp_path, text, expected):
    line = one_line(run("assess", write(tmp_path, "tag.yaml", text), "--peildatum", PEILDATUM))
    assert expected in line
    assert "BSN" not in line and "jansen" not in line and "os.system" not in line  # a tag is any text: never quoted


# -- 3. huge numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,text,field",
    [
        ("groot.yaml", "inkomen: 1" + "0" * 5000 + "\n", "inkomen"),
        ("groot.yaml", "heeft_zorgverzekering: 1" + "0" * 5000 + "\n", "heeft_zorgverzekering"),
        ("groot.json", '{"heeft_zorgverzekering": 1' + "0" * 5000 + "}", "heeft_zorgverzekering"),
        ("groot.yaml", "heeft_zorgverzekering: 0x" + "f" * 5000 + "\n", "heeft_zorgverzekering"),
    ],
)
def test_a_number_of_five_thousand_digits_gives_one_line_naming_the_field(tmp_path, name, text, field):
    line = one_line(run("assess", write(tmp_path, name, text), "--peildatum", PEILDATUM))
    assert f"veld '{field}'" in line and "cijfers" in line and "00000" not in line


def test_an_amount_in_a_csv_cell_of_five_thousand_digits_is_left_unconverted_for_validation_to_name():
    from types import SimpleNamespace

    from engine.answer.batch import _csv_values
    from engine.applicant.facts import HugeNumber

    kb = SimpleNamespace(facts={"inkomen": SimpleNamespace(type="bedrag")})  # the vocabulary has no amount yet
    assert _csv_values(kb, {"inkomen": "1" + "0" * 5000}) == {"inkomen": HugeNumber(5001)}
    assert _csv_values(kb, {"inkomen": " 17400 "}) == {"inkomen": 17400}


# -- 4. control characters and long names ----------------------------------------------------------


def test_control_characters_in_a_key_are_shown_escaped_never_raw(tmp_path):
    path = tmp_path / "stuur.json"
    path.write_text(json.dumps({"gebo\u0007\u001b[31mrte": "2000-01-01"}), encoding="utf-8")
    line = one_line(run("assess", path, "--peildatum", PEILDATUM))
    assert "sleutel 1: is geen feit uit de woordenlijst (geen naam)" in line  # no name: named by its place
    assert "\x1b" not in line and "\x07" not in line and "gebo" not in line


def test_a_control_character_in_a_yaml_file_is_named_by_its_code_point(tmp_path):
    line = one_line(run("assess", write(tmp_path, "stuur.yaml", "gebo\u0007rte: 1\n"), "--peildatum", PEILDATUM))
    assert "U+0007" in line and "\x07" not in line


def test_a_key_of_a_hundred_thousand_characters_is_cut_in_the_message(tmp_path):
    path = tmp_path / "lang.json"
    path.write_text(json.dumps({"x" * 100_000: 1}), encoding="utf-8")
    line = one_line(run("assess", path, "--peildatum", PEILDATUM))
    assert "sleutel 1: is geen feit uit de woordenlijst (geen naam)" in line and "xxxx" not in line
    assert len(line) < 300


def test_a_file_name_with_a_newline_and_an_escape_stays_on_one_line(tmp_path):
    path = tmp_path / "a\nb\x1b[2J.yaml"
    assert "a\\nb\\x1b[2J.yaml" in one_line(run("assess", path, "--peildatum", PEILDATUM))


def test_an_empty_key_is_named_as_an_empty_name(tmp_path):
    path = write(tmp_path, "leeg.json", '{"": true}')
    assert "sleutel 1: is geen feit uit de woordenlijst (lege naam)" in one_line(
        run("assess", path, "--peildatum", PEILDATUM)
    )


# -- 5. no applicant data in errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text,field,kind,value",
    [
        ("geboortedatum: '0000-00-00'\n", "geboortedatum", "geen bestaande datum", "0000-00-00"),
        ("geboortedatum: [[1991, 3, 14]]\n", "geboortedatum", "kreeg een lijst", "1991"),
        ("heeft_zorgverzekering: 'ja, via mijn werkgever'\n", "heeft_zorgverzekering", "kreeg een tekst", "werkgever"),
        (
            "inburgeringsexamen_gehaald_niveau: C3-bijzonder\n",
            "inburgeringsexamen_gehaald_niveau",
            "kreeg een tekst",
            "C3-bijzonder",
        ),
        (
            "geboortedatum: 2001-05-05\ndatum_aankomst_nederland: 1999-04-04\n",
            "datum_aankomst_nederland",
            "ligt voor de geboortedatum",
            "1999-04-04",
        ),
    ],
)
def test_an_error_names_the_field_and_the_kind_of_value_but_never_the_value(tmp_path, text, field, kind, value):
    line = one_line(run("assess", write(tmp_path, "privé.yaml", text), "--peildatum", PEILDATUM))
    assert f"veld '{field}'" in line and kind in line and value not in line


@pytest.mark.parametrize(
    "name,text,expected,secret",
    [
        (
            "privé.json",
            '{"heeft_zorgverzekering": true, "Jansen": "1937-06-17"}',
            "fout: sleutel 2: is geen feit uit de woordenlijst (geen naam); alle feiten: verblijfsregels schema",
            "Jansen",
        ),
        (
            "privé.yaml",
            "heeft_zorgverzekering: true\n123456789: ja\n",
            "fout: sleutel 2: feitnamen zijn tekst; kreeg een geheel getal",
            "123456789",
        ),
        (
            "privé.yaml",
            "verblijfsvergunningen:\n  - {van: 2020-01-01, 1937-06-17: x}\n",
            "fout: veld 'verblijfsvergunningen[0]', sleutel 2: is geen veld van een vergunningsperiode (geen naam); "
            "toegestaan: niet_tijdelijk, tot, van, verblijfsdoel",
            "1937",
        ),
        (
            "privé.yaml",
            "1937-06-17:\n  x: !!int 3\n",
            "fout: sleutel 1: de YAML-tag '!!int' is niet toegestaan",
            "1937",
        ),
        ("privé.json", '{"Jansen": ' + "[" * 5000 + "]" * 5000 + "}", "fout: sleutel 1: te diep genest", "Jansen"),
        (
            "privé.yaml",
            "geboortedatm: 1991-03-14\n",
            "fout: veld 'geboortedatm': onbekend feit; bedoelt u 'geboortedatum'? alle feiten: verblijfsregels schema",
            None,
        ),
    ],
    ids=["name", "number", "period", "tag-under-it", "deep-under-it", "a-name-is-quoted"],
)
def test_a_name_in_the_input_is_quoted_only_when_it_looks_like_a_name_otherwise_its_place_is_given(
    tmp_path, name, text, expected, secret
):
    """A key like a date, a number or a surname may be applicant data: the error names its place."""
    line = one_line(run("assess", write(tmp_path, name, text), "--peildatum", PEILDATUM))
    assert line.startswith(expected), line
    assert secret is None or secret not in line


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "1937-06-17,ja,Jansen\n1980-01-01,nee,De Vries\n",
            "de eerste regel van zaken.csv is geen kop: geen kolom heeft de naam van een feit",
        ),
        (
            "geboortedatum,heeft_zorgverzekering,1937-06-17\n",
            "kolom 3 van zaken.csv is geen feit uit de woordenlijst (geen naam)",
        ),
        ("geboortedatum,Jansen\n", "kolom 2 van zaken.csv is geen feit uit de woordenlijst (geen naam)"),
        ("geboortedatum,\n", "kolom 2 van zaken.csv is geen feit uit de woordenlijst (lege naam)"),
        (
            "geboortedatum,geboortedatm\n",
            "kolom 2 ('geboortedatm') van zaken.csv: onbekend feit; bedoelt u 'geboortedatum'?",
        ),
        (
            "geboortedatum,heeft_zorgverzekering,geboortedatum\n",
            "kolom 3 ('geboortedatum') van zaken.csv staat twee keer in de kop (ook kolom 1)",
        ),
    ],
    ids=["no-header", "a-date", "a-surname", "empty", "a-typo", "twice"],
)
def test_a_csv_header_error_never_quotes_a_cell_that_is_no_name(tmp_path, text, expected):
    """A file without a header once had its first applicant's cells quoted as unknown columns."""
    out = tmp_path / "uit.csv"
    line = one_line(run("batch", write(tmp_path, "zaken.csv", text), "--out", out))
    assert expected in line, line
    assert "1937" not in line and "Jansen" not in line and "Vries" not in line
    assert "heeft_nationaliteit_eu_eer_of_zwitserland" not in line  # not every fact listed
    assert not out.exists()


@pytest.mark.parametrize(
    "name,text",
    [
        (
            "dubbel.yaml",
            "verblijfsvergunningen:\n  - {van: 2016-09-01}\n  - {van: 2020-01-01, tot: 2021-01-01, van: 2019-01-01}\n",
        ),
        (
            "dubbel.json",
            '{"verblijfsvergunningen": [{"van": "2016-09-01"}, {"van": "2020-01-01", "van": "2019-01-01"}]}',
        ),
    ],
)
def test_a_key_given_twice_inside_a_permit_period_is_named_with_its_whole_path(tmp_path, name, text):
    line = one_line(run("assess", write(tmp_path, name, text), "--peildatum", PEILDATUM))
    assert line.startswith(f"fout: veld 'verblijfsvergunningen[1].van': staat twee keer in {name}"), line


def test_a_batch_row_with_a_key_twice_in_a_permit_period_names_the_whole_path(tmp_path):
    source = write(
        tmp_path,
        "zaken.jsonl",
        '{"heeft_zorgverzekering": true}\n'
        '{"verblijfsvergunningen": [{"van": "2020-01-01", "van": "2019-01-01"}]}\n'
        '{"Jansen": true}\n',
    )
    out = tmp_path / "uit.jsonl"
    assert run("batch", source, "--out", out, "--peildatum", PEILDATUM).exit_code == 1
    errors = [json.loads(line)["error"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert errors[0] is None
    assert errors[1].startswith("rij 2, veld 'verblijfsvergunningen[0].van': staat twee keer in de rij")
    assert errors[2].startswith("rij 3, sleutel 1: is geen feit uit de woordenlijst (geen naam)")


def test_a_batch_error_row_names_row_and_column_but_not_the_cell(tmp_path):
    source = write(
        tmp_path, "zaken.csv", "heeft_zorgverzekering,geboortedatum\nbij-mijn-werkgever,1991-03-14\nja,1991-02-30\n"
    )
    out = tmp_path / "uit.jsonl"
    assert run("batch", source, "--out", out, "--peildatum", PEILDATUM).exit_code == 1
    errors = [json.loads(line)["error"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert errors[0].startswith("rij 1, veld 'heeft_zorgverzekering': kreeg een andere tekst; toegestaan: true")
    assert errors[1] == "rij 2, veld 'geboortedatum': geen bestaande datum; verwacht een datum als JJJJ-MM-DD"
    assert "werkgever" not in errors[0] and "1991" not in errors[1]


def test_an_interview_answer_that_does_not_fit_is_asked_again_without_repeating_it():
    answers = ROOT / "tests" / "golden" / "hier_geboren_nationale_veiligheid_onbekend.yaml"
    result = CliRunner().invoke(
        main,
        ["interview", "--goal", GOAL, "--answers", str(answers), "--peildatum", PEILDATUM],
        input="mijn-geheime-antwoord\nnee\n",
    )
    assert result.exit_code == 0, result.output
    (complaint,) = [line for line in result.output.splitlines() if "past niet" in line]
    assert complaint == "  Dat antwoord past niet: antwoord ja of nee. Probeer het opnieuw."


@pytest.mark.parametrize("text", ["²", "٣٤", "1_000", " +5", "9" * 5000])
def test_an_amount_typed_in_the_interview_is_ascii_digits_or_asked_again(text):
    with pytest.raises(AnswerError, match="gehele eurocenten") as caught:
        parse_answer("bedrag", text)
    assert text.strip() not in str(caught.value)


# -- 6. size limits --------------------------------------------------------------------------------


def test_a_file_of_a_hundred_megabytes_is_refused_unread_in_one_line_within_seconds(tmp_path):
    path = tmp_path / "groot.yaml"
    with path.open("wb") as handle:  # sparse: a hundred megabytes without writing them
        handle.truncate(100 * 1024 * 1024)
    outcome = measured(str(SCRIPT), "assess", str(path), "--peildatum", PEILDATUM)
    assert outcome["code"] == 2 and outcome["stdout"] == "", outcome
    (line,) = outcome["stderr"].splitlines()
    assert line == f"fout: {path} is groter dan 1 MiB; een aanvragersbestand is hoogstens {MAX_FILE_BYTES} bytes"
    assert outcome["seconds"] < SECONDS and outcome["kib"] < KIB, outcome


def test_a_file_just_over_the_limit_is_refused_and_one_at_the_limit_is_read(tmp_path):
    at = write(tmp_path, "precies.yaml", "heeft_zorgverzekering: true\n#" + "x" * (MAX_FILE_BYTES - 30) + "\n")
    assert at.stat().st_size == MAX_FILE_BYTES
    assert run("assess", at, "--peildatum", PEILDATUM, "--goal", GOAL).exit_code == 0
    over = write(tmp_path, "erover.yaml", at.read_text(encoding="utf-8") + "\n")
    assert "groter dan 1 MiB" in one_line(run("assess", over, "--peildatum", PEILDATUM))


def test_a_batch_row_over_the_row_limit_becomes_an_error_row_and_the_next_row_is_assessed(tmp_path):
    good = json.dumps({"geboortedatum": "1991-03-14"})
    source = tmp_path / "zaken.jsonl"
    source.write_text(good + "\n" + '{"x": "' + "y" * (ROW_LIMIT + 10) + '"}\n' + good + "\n", encoding="utf-8")
    out = tmp_path / "uit.jsonl"
    result = run("batch", source, "--out", out, "--peildatum", PEILDATUM)
    assert result.exit_code == 1, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3]
    assert rows[1]["error"] == f"rij 2: langer dan {ROW_LIMIT} tekens; een rij is één aanvrager"
    assert rows[0]["error"] is None and rows[2]["error"] is None and rows[2]["outcomes"]


def test_a_csv_cell_over_the_csv_field_limit_and_a_row_that_is_no_utf8_become_error_rows(tmp_path):
    source = tmp_path / "zaken.csv"
    source.write_bytes(b"heeft_zorgverzekering\n" + b"x" * 200_000 + b"\n" + b"ja\xff\n" + b"nee\n")
    out = tmp_path / "uit.jsonl"
    assert run("batch", source, "--out", out, "--peildatum", PEILDATUM).exit_code == 1
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["error"] for r in rows] == ["rij 1: een cel is langer dan 131072 tekens", "rij 2: geen UTF-8-tekst", None]


# -- 7. dates at the ends of the calendar ----------------------------------------------------------

EXTREME = {
    "geboortedatum": "0001-01-01",
    "datum_aankomst_nederland": "0001-01-01",
    "datum_ontvangst_aanvraag": "9999-12-31",
    "datum_ontvangst_vergunning": "9999-12-31",
    "datum_indienen_aanvraag": "9999-12-31",
    "verblijfsvergunningen": [
        {"van": "0001-01-01", "tot": "9999-12-31", "verblijfsdoel": "echtgenoot_of_partner"},
        {"van": "9999-12-31", "verblijfsdoel": "asiel"},
    ],
}
COMMANDS = [
    ["assess"],
    ["assess", "--goal", GOAL],
    ["assess", "--goal", "huiselijk_geweld"],
    ["why-not", "--goal", GOAL],
    ["why-not", "--goal", "huiselijk_geweld"],
    ["fees", "--form", "7027"],
    ["fees", "--goal", GOAL],
    ["interview", "--next", "--answers"],
]


@pytest.mark.parametrize("peildatum", ["9999-12-31", "0001-01-01", PEILDATUM])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_dates_at_the_ends_of_the_calendar_give_an_answer_or_one_line_never_an_overflow(tmp_path, command, peildatum):
    path = tmp_path / "randen.json"
    path.write_text(json.dumps(EXTREME), encoding="utf-8")
    result = run(
        *command[:1],
        *(command[1:] if command[0] == "interview" else []),
        path,
        *(command[1:] if command[0] != "interview" else []),
        "--peildatum",
        peildatum,
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code != 0:
        one_line(result)


def test_a_term_that_would_end_after_9999_names_its_start_date(tmp_path):
    path = write(tmp_path, "termijn.json", json.dumps({"datum_ontvangst_aanvraag": "9999-12-31"}))
    line = one_line(run("assess", path, "--goal", "huiselijk_geweld", "--peildatum", "9999-12-31"))
    assert line == (
        "fout: veld 'datum_ontvangst_aanvraag': de termijn E15 (90 dagen) vanaf deze datum eindigt na "
        "31 december 9999, buiten de kalender"
    )


def test_batch_with_dates_at_the_ends_of_the_calendar_assesses_every_row(tmp_path):
    source = tmp_path / "zaken.jsonl"
    source.write_text(
        json.dumps(EXTREME)
        + "\n"
        + json.dumps(
            {
                **EXTREME,
                "geboortedatum": "9999-12-31",
                "datum_aankomst_nederland": "9999-12-31",
                "verblijfsvergunningen": [],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    for peildatum in ("9999-12-31", "0001-01-01"):
        out = tmp_path / "uit.jsonl"
        result = run("batch", source, "--out", out, "--peildatum", peildatum)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["row"] for r in rows] == [1, 2]


def test_date_arithmetic_past_9999_raises_overflow_and_the_quantities_still_answer():
    with pytest.raises(OverflowError):
        tijd.add_years(date(9999, 6, 1), 1)
    with pytest.raises(OverflowError):
        tijd.add_months(date(9999, 12, 31), 1)
    with pytest.raises(OverflowError):
        tijd.add_duration(date(9999, 12, 31), "dagen", 90)
    periods = [{"van": date(1, 1, 1), "tot": date.max}, {"van": date.max}]
    assert tijd.jaren_in_bezit_van_vergunning(date.max, periods) == 9998
    assert tijd.volle_jaren_in_periode(date.max, date(1, 1, 1), date.max) == 9998
    assert tijd.jaren_ononderbroken_vergunning_vanaf_leeftijd(date.max, periods, date(9990, 1, 1), 18) == 0
    assert tijd.ononderbroken_vergunning_sinds_leeftijd(date.max, periods, date(9990, 1, 1), 18) is True


# -- and what the fuzzing found besides ------------------------------------------------------------


def test_interview_next_reads_answers_with_permit_periods(tmp_path):
    """It once validated the parsed answers (date objects) as if they were a file, and refused
    every file with a permit period."""
    result = run("interview", "--next", "--answers", EXAMPLE, "--peildatum", PEILDATUM)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["format"] == "verblijfsregels/interview-step"


def test_interview_saves_the_answers_as_they_were_written(tmp_path):
    saved = tmp_path / "antwoorden.yaml"
    result = CliRunner().invoke(
        main,
        ["interview", "--goal", GOAL, "--answers", str(EXAMPLE), "--save", str(saved), "--peildatum", PEILDATUM],
        input="",
    )
    assert result.exit_code in (0, 1), result.output
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["verblijfsvergunningen"] == json.loads(
        json.dumps(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["verblijfsvergunningen"], default=str)
    )


def test_interview_refuses_to_save_over_its_own_answers_file(tmp_path):
    answers = tmp_path / "antwoorden.yaml"
    answers.write_bytes(EXAMPLE.read_bytes())
    line = one_line(run("interview", "--answers", answers, "--save", answers, "--peildatum", PEILDATUM))
    assert "--save: mag niet het antwoordenbestand zijn" in line
    assert answers.read_bytes() == EXAMPLE.read_bytes()


def test_interview_refuses_to_save_over_its_answers_file_through_a_hard_link(tmp_path):
    answers = tmp_path / "antwoorden.yaml"
    answers.write_bytes(EXAMPLE.read_bytes())
    link = tmp_path / "opgeslagen.yaml"
    os.link(answers, link)
    line = one_line(run("interview", "--answers", answers, "--save", link, "--peildatum", PEILDATUM, "--goal", GOAL))
    assert "--save: mag niet het antwoordenbestand zijn" in line
    assert answers.read_bytes() == EXAMPLE.read_bytes()


def test_interview_save_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """The answers are written to a temporary file and renamed: a failure leaves the earlier file."""
    import cli

    saved = tmp_path / "opgeslagen.yaml"
    saved.write_text("heeft_zorgverzekering: true\n", encoding="utf-8")

    def fail(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.os, "replace", fail)
    result = run("interview", "--goal", GOAL, "--peildatum", PEILDATUM, "--save", saved)
    assert result.exit_code == 74 and result.stderr.splitlines()[-1].startswith("fout: --save: kan ")
    assert saved.read_text(encoding="utf-8") == "heeft_zorgverzekering: true\n"
    assert [p.name for p in tmp_path.iterdir()] == ["opgeslagen.yaml"]  # no temporary file left


def test_a_byte_order_mark_before_the_first_fact_is_no_part_of_its_name(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes("\ufeff".encode() + b'{"heeft_zorgverzekering": true}')
    assert run("assess", path, "--peildatum", PEILDATUM, "--goal", GOAL).exit_code == 0


@pytest.mark.parametrize(
    "args,expected",
    [
        (["assess"], "fout: FILE: ontbreekt; zie --help"),
        (["assess", EXAMPLE, "--format", "xml"], "fout: --format: kreeg 'xml'; toegestaan: text, json"),
        (
            ["why-not", EXAMPLE, "--goal", GOAL, "--max-changes", "9"],
            "fout: --max-changes: verwacht een getal van 0 tot en met 5",
        ),
        (["assess", EXAMPLE, "--goal"], "fout: --goal: vraagt een waarde; zie --help"),
        (["assess", EXAMPLE, EXAMPLE], "fout: te veel argumenten; zie --help"),
        (["beoordeel"], "fout: onbekende opdracht 'beoordeel'; toegestaan: assess, audit, batch"),
        (["assess", EXAMPLE, "--peildatum", "\x1b[31m"], "fout: --peildatum: kreeg '\\x1b[31m'; verwacht een datum"),
    ],
)
def test_a_bad_command_line_gives_one_dutch_line_for_every_command(args, expected):
    assert one_line(run(*args)).startswith(expected)


@pytest.mark.parametrize("peildatum", ["9999-12-31", "0001-01-01"])
def test_the_audit_at_a_peildatum_at_an_end_of_the_calendar_samples_dates_inside_it(peildatum):
    """Its search for date combinations went years before and after the peildatum, past 9999."""
    result = run("audit", "--peildatum", peildatum, "--format", "json")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0, result.output[-500:]
    assert json.loads(result.stdout)["peildatum"] == peildatum


@pytest.mark.parametrize(
    "args,expected",
    [
        (["asses"], "fout: onbekende opdracht 'asses' (bedoelt u assess?); toegestaan: assess, audit"),
        (["why-nt"], "fout: onbekende opdracht 'why-nt' (bedoelt u why-not?); toegestaan:"),
        (["assess", EXAMPLE, "--gaol", GOAL], "fout: onbekende optie '--gaol' (bedoelt u --goal?); zie --help"),
        (["fees", EXAMPLE, "--from", "7027"], "fout: onbekende optie '--from' (bedoelt u een van: --form, --format?)"),
    ],
)
def test_a_mistyped_command_or_option_is_answered_with_the_near_one_click_finds(args, expected):
    """Issue 22: the error wrapper kept click's one line but lost its "Did you mean" hint."""
    assert one_line(run(*args)).startswith(expected)


def test_a_name_near_nothing_gets_no_hint_and_the_typed_name_is_quoted_only_made_visible():
    line = one_line(run("\x1b[31mzzz"))
    assert line.startswith("fout: onbekende opdracht '\\x1b[31mzzz'; toegestaan: ") and "bedoelt" not in line
