"""Fuzzing the doors applicant data comes in by: the file loader, the command line (assess,
why-not, fees, interview --answers/--next, batch) and the interview's typed answers.

Inputs are arbitrary (any bytes) or near-valid: a consistent applicant from
`engine.checks.strategies.aanvragers`, written as YAML or JSON, with up to three things broken — a wrong
type, broken syntax, a huge number, a date like 0000-00-00 or 9999-12-31, deep nesting, a very
long string, control characters, bytes that are no UTF-8, a key twice, YAML anchors (up to a
billion laughs), another top level. Every outcome must hold to (the `check_*` functions, which
benchmarks/fuzz_inputs.py runs over 100,000 inputs):

- no exception but the expected one-line error: no traceback;
- exit code 0 or 2 (batch: 0, or 1 when a row was bad, or 2 when the file as a whole is);
- a rejection is one line `fout: ...` naming a field (by name, or by place when its name is no
  name: `sleutel 3`), the file or the option; a batch error row names its row and the field, or
  says what is wrong with the row as a whole;
- that line holds no control character and repeats no value the applicant gave, nor a key that
  is no name;
- the input file's bytes and modification time are unchanged.

The command line runs with one engine for all examples (building it reads only kb/, never the
input), so that the CI profile's examples cost seconds, not minutes.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cli
from engine.answer import batch as batch_module
from engine.answer.assess import Engine
from engine.answer.interview import AnswerError, parse_answer
from engine.applicant.facts import MAX_FILE_BYTES, load_applicant_file, read_applicant_file
from engine.checks.strategies import aanvragers
from engine.errors import InputError, escaped, is_name
from engine.rules.model import load_knowledge_base

PEILDATUM = date(2026, 11, 22)
KB = load_knowledge_base()
DATE_FACTS = sorted(n for n, f in KB.facts.items() if f.type == "datum")
GOALS = ("onbepaalde_tijd_regulier", "huiselijk_geweld", "humanitair_niet_tijdelijk")
# Everything an error line may legitimately contain besides what the user named: a "secret"
# that also occurs here (a value that happens to be a fact name, "A1") proves nothing.
VOCABULARY = " ".join(
    [
        *KB.facts,
        *KB.goals,
        *KB.forms,
        *KB.period_fields,
        *(v for f in KB.facts.values() for v in f.values),
        *(v for spec in KB.period_fields.values() for v in spec.get("waarden", ())),
    ]
)
EXTREME_DATES = (
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "2020-02-30",
    "2021-02-29",
    "2024-02-29",
    "1900-01-01",
    "9999-99-99",
    "10000-01-01",
    "-001-01-01",
    "2026-11-23",
    "2026-11-22",
)


# -- files ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bestand:
    """A generated input file: its name (the suffix picks the loader) and bytes, with the values
    the applicant gave (no message may repeat them) and the names (which a message may)."""

    name: str
    data: bytes
    secrets: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def __repr__(self) -> str:  # a failing example of a megabyte stays readable
        shown = self.data if len(self.data) <= 300 else self.data[:300] + b"...(%d bytes)" % len(self.data)
        return f"Bestand({self.name!r}, {shown!r})"


@dataclass(frozen=True)
class Rauw:
    """A value written as it stands (a huge number, deep brackets), not encoded."""

    text: str


@dataclass(frozen=True)
class Verminking:
    """One thing broken in an applicant file: what (`soort`), where (`plek`, taken modulo the
    size of what it points into) and with what (`waarde`)."""

    soort: str
    plek: int = 0
    waarde: Any = None


def iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: iso(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [iso(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _fragment(value: Any, yaml_text: bool) -> str:
    if isinstance(value, Rauw):
        return value.text
    # JSON is YAML's flow style; in YAML non-ASCII stays itself (a \\ud83d escape pair is no YAML)
    return json.dumps(value, ensure_ascii=not yaml_text)


def _write(entries: list[list[Any]], fmt: str, anchor: int | None) -> str:
    if fmt == "json":
        return "{" + ", ".join(f"{json.dumps(k)}: {_fragment(v, False)}" for k, v in entries) + "}\n"
    lines = []
    for i, (key, value) in enumerate(entries):
        text = _fragment(value, True)
        if anchor is not None and entries:
            if i == anchor % len(entries):
                text = f"&a {text}"
            elif i == (anchor + 1) % len(entries):
                text = "*a"
        lines.append(f"{json.dumps(key, ensure_ascii=False)}: {text}")
    return "\n".join(lines) + "\n"


def billion_laughs(levels: int) -> str:
    lines = ['a0: &a0 ["ha"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def maak_bestand(feiten: dict[str, Any], fmt: str, name: str, verminkingen: list[Verminking]) -> Bestand:
    """Write `feiten` as `fmt` with each Verminking applied: first to the facts, then to the
    text, then to the bytes."""
    entries: list[list[Any]] = [[k, copy.deepcopy(v)] for k, v in feiten.items()]  # `feiten` stays as given
    secrets = [s for s in _strings(feiten)]
    anchor = None
    top = None
    text_changes, byte_changes = [], []
    for v in verminkingen:
        i = v.plek % len(entries) if entries else 0
        if v.soort in ("waarde", "geheim") and entries:
            entries[i][1] = v.waarde
            if v.soort == "geheim":  # a value of our own making: an arbitrary one may be any literal
                secrets.append(v.waarde)  # in the code, message templates included (hypothesis uses them)
        elif v.soort == "rauw" and entries:
            entries[i][1] = Rauw(v.waarde)
        elif v.soort == "datum":
            periods = [e for e in entries if e[0] == "verblijfsvergunningen" and isinstance(e[1], list) and e[1]]
            if periods and v.plek % 3 == 0:
                period = periods[0][1][v.plek % len(periods[0][1])]
                if isinstance(period, dict):
                    period["tot" if v.plek % 2 else "van"] = v.waarde
            else:
                entries.append([DATE_FACTS[v.plek % len(DATE_FACTS)], v.waarde])
            secrets.append(v.waarde)
        elif v.soort in ("sleutel", "geheime_sleutel") and entries:
            entries[i][0] = v.waarde
            if v.soort == "geheime_sleutel" and not is_name(v.waarde):  # a key of our own making: no name,
                secrets.append(v.waarde)  # so it may be applicant data, and an error names its place instead
        elif v.soort == "tikfout" and entries:
            key = entries[i][0]
            j = v.waarde % max(1, len(key))
            entries[i][0] = key[:j] + key[j + 1 :]
        elif v.soort == "dubbel" and entries:
            entries.insert(i, [entries[i][0], v.waarde if v.waarde is not None else entries[i][1]])
        elif v.soort == "anker":
            anchor = v.plek
        elif v.soort == "lachen":
            top = billion_laughs(v.waarde)
        elif v.soort == "top":
            top = v.waarde
        elif v.soort in ("teken", "afkappen"):
            text_changes.append(v)
        elif v.soort == "bytes":
            byte_changes.append(v)
    text = top if top is not None else _write(entries, fmt, anchor if fmt == "yaml" else None)
    for v in text_changes:
        j = v.plek % (len(text) + 1)
        text = text[:j] + v.waarde + text[j:] if v.soort == "teken" else text[:j]
    data = text.encode("utf-8", "surrogatepass")
    for v in byte_changes:
        j = v.plek % (len(data) + 1)
        data = data[:j] + v.waarde + data[j:]
    names = tuple(str(k) for k, _ in entries if is_name(k))
    kept = tuple(dict.fromkeys(s for s in secrets if _is_secret(s, names)))
    return Bestand(name, data, kept, names)


def _is_secret(value: str, names: tuple[str, ...]) -> bool:
    """A value worth looking for in an error line: long enough not to occur by chance, and not
    something the line may contain for another reason (a name, the vocabulary, a peildatum)."""
    return len(value) >= 8 and value not in VOCABULARY and value not in PEILDATA and not any(value in n for n in names)


# -- strategies, simplest first ---------------------------------------------------------------------

PEILDATA = ("2026-11-22", "9999-12-31", "0001-01-01", "2026-02-30")
FILE_NAMES = {"yaml": ("aanvrager.yaml", "aanvrager.yml", "aanvrager.txt", "aanvrager"), "json": ("aanvrager.json",)}
plekken = st.integers(0, 10_000)


@lru_cache(maxsize=None)  # built once: building a strategy costs more than drawing from it
def json_waarden() -> st.SearchStrategy[Any]:
    """Any JSON value, small; strings include control characters."""
    scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    )


@lru_cache(maxsize=None)
def verkeerde_types() -> st.SearchStrategy[Verminking]:
    return st.builds(Verminking, st.just("waarde"), plekken, json_waarden())


@lru_cache(maxsize=None)
def extreme_datums() -> st.SearchStrategy[Verminking]:
    dates = st.sampled_from(EXTREME_DATES) | st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
    return st.builds(Verminking, st.just("datum"), plekken, dates)


@lru_cache(maxsize=None)
def onbekende_sleutels() -> st.SearchStrategy[Verminking]:
    return st.builds(Verminking, st.just("tikfout"), plekken, plekken) | st.builds(
        Verminking, st.just("sleutel"), plekken, st.text(min_size=1, max_size=20)
    )


@lru_cache(maxsize=None)
def dubbele_sleutels() -> st.SearchStrategy[Verminking]:
    return st.builds(Verminking, st.just("dubbel"), plekken, st.none() | json_waarden())


@lru_cache(maxsize=None)
def grote_getallen() -> st.SearchStrategy[Verminking]:
    numbers = st.integers(17, 6000).map(lambda n: "9" * n) | st.sampled_from(
        [
            "1e99999",
            "-1e99999",
            ".inf",
            "NaN",
            "-0",
            "0x" + "f" * 5000,
            "1_000_000",
            "0b" + "1" * 20_000,
            "190:20:30",
            "9" * 4300,
            "9" * 4301,
        ]
    )
    return st.builds(Verminking, st.just("rauw"), plekken, numbers)


@lru_cache(maxsize=None)
def lange_teksten() -> st.SearchStrategy[Verminking]:
    lengths = st.integers(100, 300_000)
    return st.builds(
        Verminking, st.just("geheim"), plekken, lengths.map(lambda n: ("geheim" * (n // 6 + 1))[:n])
    ) | st.builds(Verminking, st.just("geheime_sleutel"), plekken, lengths.map(lambda n: "s" * n))


@lru_cache(maxsize=None)
def stuurtekens() -> st.SearchStrategy[Verminking]:
    controls = st.text(
        st.characters(categories=["Cc", "Cf", "Zl", "Zp"]) | st.sampled_from("ab\x1b[31m"), min_size=1, max_size=20
    )
    return (
        st.builds(Verminking, st.just("geheim"), plekken, controls.map(lambda s: "geheim" + s))
        | st.builds(Verminking, st.just("geheime_sleutel"), plekken, controls.map(lambda s: "sleutel" + s))
        | st.builds(Verminking, st.just("teken"), plekken, controls)
    )


@lru_cache(maxsize=None)
def diepe_nestingen() -> st.SearchStrategy[Verminking]:
    depths = st.integers(1, 5000)
    return st.builds(Verminking, st.just("rauw"), plekken, depths.map(lambda n: "[" * n + "]" * n)) | st.builds(
        Verminking, st.just("rauw"), plekken, depths.map(lambda n: '{"a": ' * n + "1" + "}" * n)
    )


@lru_cache(maxsize=None)
def syntaxfouten() -> st.SearchStrategy[Verminking]:
    return st.builds(
        Verminking, st.just("teken"), plekken, st.sampled_from(list("{}[]:,\"'#&*!|>-?%@`\t\n \\"))
    ) | st.builds(Verminking, st.just("afkappen"), plekken)


@lru_cache(maxsize=None)
def niet_utf8_bytes() -> st.SearchStrategy[Verminking]:
    bad = st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"]) | st.binary(
        min_size=1, max_size=4
    )
    return st.builds(Verminking, st.just("bytes"), plekken, bad)


@lru_cache(maxsize=None)
def ankers() -> st.SearchStrategy[Verminking]:
    return st.builds(Verminking, st.just("anker"), plekken) | st.builds(
        Verminking, st.just("lachen"), plekken, st.integers(1, 9)
    )


@lru_cache(maxsize=None)
def andere_topniveaus() -> st.SearchStrategy[Verminking]:
    tops = st.sampled_from(
        ["", "---\n", "null\n", "[]\n", "42\n", '"tekst"\n', "- a\n- b\n", "a: 1\n---\nb: 2\n", "\ufeff{}"]
    )
    return st.builds(Verminking, st.just("top"), plekken, tops | json_waarden().map(json.dumps))


@lru_cache(maxsize=None)
def verminkingen() -> st.SearchStrategy[Verminking]:
    return st.one_of(
        verkeerde_types(),
        extreme_datums(),
        onbekende_sleutels(),
        dubbele_sleutels(),
        grote_getallen(),
        lange_teksten(),
        stuurtekens(),
        diepe_nestingen(),
        syntaxfouten(),
        niet_utf8_bytes(),
        ankers(),
        andere_topniveaus(),
    )


@lru_cache(maxsize=None)
def willekeurige_bestanden() -> st.SearchStrategy[Bestand]:
    """Any bytes, under any of the file names."""
    names = st.sampled_from([n for names in FILE_NAMES.values() for n in names])
    return st.builds(
        Bestand,
        names,
        st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )


@st.composite
def bijna_geldige_bestanden(
    draw,
    max_verminkingen: int = 3,
    formats: tuple[str, ...] = ("yaml", "json"),
    basis: st.SearchStrategy[dict[str, Any]] | None = None,
) -> Bestand:
    """A consistent applicant (from `basis`, by default `aanvragers`) as YAML or JSON with up to
    `max_verminkingen` things broken; shrinks towards a valid file."""
    feiten = iso(draw(basis if basis is not None else aanvragers(PEILDATUM, KB)))
    fmt = draw(st.sampled_from(formats))
    name = draw(st.sampled_from(FILE_NAMES[fmt]))
    return maak_bestand(feiten, fmt, name, draw(st.lists(verminkingen(), max_size=max_verminkingen)))


@lru_cache(maxsize=None)
def kapotte_bestanden(basis: st.SearchStrategy[dict[str, Any]] | None = None) -> st.SearchStrategy[Bestand]:
    return st.one_of(willekeurige_bestanden(), bijna_geldige_bestanden(basis=basis))


# -- checks -----------------------------------------------------------------------------------------

ONE_LINE_LIMIT = 10_000  # far above the longest honest line (one that lists every goal)


# What a batch error row may be about without naming a field: the row as a whole.
WHOLE_ROW = (
    "geen geldige JSON",
    "langer dan",
    "geen UTF-8-tekst",
    "een cel is langer",
    "een regeleinde midden",
    "geen geldige CSV-regel",
    "te diep genest",
    "een aanvragersbestand is een mapping",
    "een aanhalingsteken gaat open",
    "tekst na het sluitende aanhalingsteken",
)
NAMED_FIELD = re.compile(r"veld '|sleutel \d+: ")


def check_message(
    message: str, bestand: Bestand | None = None, *, names_field: bool = True, row: int | None = None
) -> None:
    """One line, printable, not endless, naming what it is about, repeating no given value.

    `row`: the message is a batch error row of that number; it names the row and then the field,
    or says what is wrong with the row as a whole (WHOLE_ROW, or a count of cells)."""
    assert message and "\n" not in message and "\r" not in message, repr(message)
    assert message.isprintable(), f"stuurteken in de melding: {message!r}"
    assert len(message) <= ONE_LINE_LIMIT, f"melding van {len(message)} tekens"
    if row is not None:
        rest = message.removeprefix(f"rij {row}")
        assert rest != message, f"de foutrij noemt haar rij niet: {message!r}"
        named = (rest.startswith(", ") and NAMED_FIELD.match(rest[2:]) is not None) or (
            rest.startswith(": ")
            and (rest[2:].startswith(WHOLE_ROW) or re.match(r"\d+ waarden, de kop heeft", rest[2:]))
        )
        assert named, f"de foutrij noemt geen veld en gaat niet over de hele rij: {message!r}"
    elif names_field:
        named = (
            NAMED_FIELD.search(message) is not None
            or "--" in message
            or (bestand is not None and bestand.name in message)
        )
        assert named, f"de melding noemt geen veld, bestand of optie: {message!r}"
    for secret in bestand.secrets if bestand is not None else ():
        assert secret not in message and escaped(secret) not in message, (
            f"de melding herhaalt een gegeven waarde {secret[:40]!r}: {message[:300]!r}"
        )


def check_loader(path: Path, bestand: Bestand) -> str:
    """The file loader: an applicant, or an InputError with a good message. Returns the outcome kind."""
    try:
        read_applicant_file(KB, path)
    except InputError as exc:
        check_message(str(exc), bestand)
        return "geweigerd: " + kind_of_rejection(str(exc), bestand)
    return "geaccepteerd"


def kind_of_rejection(message: str, bestand: Bestand | None = None) -> str:
    """What a rejection is about, without the names in it, for counting."""
    text = re.sub(r"^rij \d+[,:] ", "", message.removeprefix("fout: "))
    text = re.sub(r"^(veld '.*?'(, sleutel \d+)?|sleutel \d+): ", "", text)
    if bestand is not None and bestand.name:
        text = re.sub(r"\S*" + re.escape(bestand.name), "BESTAND", text)
    text = text.removeprefix("BESTAND: ").removeprefix("BESTAND ")
    text = re.split(r"[;(:]", text, maxsplit=1)[0]
    text = re.sub(r"'[^']*'", "'…'", text)  # a tag or column the input named
    return re.sub(r"\d+", "N", text).strip()


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def check_unchanged(path: Path, before: tuple[bytes, int]) -> None:
    assert snapshot(path) == before, "het invoerbestand is veranderd"


def check_cli_result(result: Any, bestand: Bestand | None, codes: tuple[int, ...] = (0, 2)) -> str:
    """No traceback; an allowed exit code; a rejection is one good line on stderr and nothing on stdout."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        raise AssertionError("traceback:\n" + "".join(traceback.format_exception(result.exception)))
    assert result.exit_code in codes, (result.exit_code, result.output[-500:])
    if result.exit_code == 2:
        assert result.stdout == "", result.stdout[:300]
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and result.stderr.endswith("\n"), lines[:3]
        assert lines[0].startswith("fout: "), lines[0]
        check_message(lines[0], bestand)
        return "2: " + kind_of_rejection(lines[0], bestand)
    return str(result.exit_code)


@contextmanager
def shared_engine() -> Iterator[None]:
    """Every command in this process uses one engine: building it reads kb/ only, and this way an
    example costs what the input costs."""
    engine = Engine()
    saved = cli._engine, batch_module.Engine
    cli._engine = lambda: engine
    batch_module.Engine = lambda *_args, **_kw: engine
    try:
        yield
    finally:
        cli._engine, batch_module.Engine = saved


COMMANDS = {
    "assess": lambda p, d: ["assess", p, "--peildatum", d, "--format", "json"],
    "assess --goal": lambda p, d: ["assess", p, "--peildatum", d, "--goal", GOALS[1]],
    "why-not": lambda p, d: ["why-not", p, "--peildatum", d, "--goal", GOALS[0], "--max-changes", "0"],
    "fees": lambda p, d: ["fees", p, "--peildatum", d, "--form", "7027", "--format", "json"],
    "interview --next": lambda p, d: ["interview", "--next", "--answers", p, "--peildatum", d, "--goal", GOALS[2]],
}


def run_command(command: str, bestand: Bestand, peildatum: str, directory: Path) -> str:
    path = directory / bestand.name
    path.write_bytes(bestand.data)
    before = snapshot(path)
    result = CliRunner().invoke(cli.main, COMMANDS[command](str(path), peildatum))
    check_unchanged(path, before)
    outcome = check_cli_result(result, bestand)
    if result.exit_code == 0 and command in ("assess", "fees", "interview --next"):
        json.loads(result.stdout)  # a complete JSON answer, not a half-written one
    return f"{command} {outcome}"


# -- batch ------------------------------------------------------------------------------------------


@st.composite
def kapotte_caseloads(draw, basis: st.SearchStrategy[dict[str, Any]] | None = None) -> Bestand:
    """A JSON Lines or CSV caseload of one to three rows, each near-valid, or any bytes."""
    if draw(st.booleans()):
        rows = draw(st.lists(bijna_geldige_bestanden(2, ("json",), basis), min_size=1, max_size=3))
        data = b"".join(r.data.replace(b"\n", b" ").rstrip() + b"\n" for r in rows)
        return Bestand(
            "zaken.jsonl", data, tuple(s for r in rows for s in r.secrets), tuple(n for r in rows for n in r.names)
        )
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(sorted(KB.facts)), min_size=1, max_size=6, unique=True))
        cells = st.sampled_from(
            [
                "",
                "ja",
                "nee",
                "true",
                "2020-01-01",
                "0000-00-00",
                "9999-12-31",
                "A1",
                "[]",
                '[{"van": "9999-12-31"}]',
                '[{"van": "0001-01-01", "tot": "9999-12-31"}]',
                "[" * 3000,
            ]
        )
        rows = draw(
            st.lists(st.lists(cells | st.text(max_size=10), min_size=len(names), max_size=len(names) + 1), max_size=3)
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
        data = buffer.getvalue().encode("utf-8", "surrogatepass")
        for v in draw(st.lists(st.one_of(syntaxfouten(), niet_utf8_bytes()), max_size=2)):
            j = v.plek % (len(data) + 1)
            extra = v.waarde if isinstance(v.waarde, bytes) else (v.waarde or "").encode()
            data = data[:j] + extra + data[j:] if v.soort != "afkappen" else data[:j]
        return Bestand(
            "zaken.csv", data, tuple(c for row in rows for c in row if _is_secret(c, tuple(names))), tuple(names)
        )
    return draw(st.builds(Bestand, st.sampled_from(["zaken.csv", "zaken.jsonl"]), st.binary(max_size=200)))


def run_batch(bestand: Bestand, peildatum: str, directory: Path) -> str:
    path = directory / bestand.name
    path.write_bytes(bestand.data)
    before = snapshot(path)
    out = directory / "uit.jsonl"
    out.unlink(missing_ok=True)
    result = CliRunner().invoke(cli.main, ["batch", str(path), "--out", str(out), "--peildatum", peildatum])
    check_unchanged(path, before)
    outcome = check_cli_result(result, bestand, codes=(0, 1, 2))
    if result.exit_code in (0, 1):
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        numbers = [row["row"] for row in rows]
        assert numbers == sorted(set(numbers)), numbers
        for row in rows:
            if row["error"]:
                check_message(row["error"], bestand, row=row["row"])
        assert result.exit_code == (1 if any(row["error"] for row in rows) else 0)
        if result.exit_code == 1:
            return "batch 1: " + " | ".join(
                sorted({kind_of_rejection(r["error"], bestand) for r in rows if r["error"]})
            )
    return f"batch {outcome}"


# -- the interview's typed answers ------------------------------------------------------------------


@lru_cache(maxsize=None)
def antwoorden() -> st.SearchStrategy[str]:
    """One typed answer: a good one, a near one, or anything."""
    good = st.sampled_from(
        ["ja", "nee", "j", "n", "?", "weet niet", "", "2020-01-01", "A1", "geen", "B1", "familie_of_gezinslid", "17400"]
    )
    near = st.sampled_from(
        [
            *EXTREME_DATES,
            "misschien",
            "JA ",
            "²",
            "٣",
            "1_000",
            "9" * 5000,
            "-5",
            "\x1b[31mja",
            "ja\x00",
            "geheim" * 2000,
            "geheim\x1b[2J",
        ]
    )
    return st.one_of(good, near, st.text(max_size=30))


def run_interview(answers: list[str], goal: str, peildatum: str, directory: Path) -> str:
    saved = directory / "antwoorden.yaml"
    saved.unlink(missing_ok=True)
    typed = "".join(a.replace("\n", " ").replace("\r", " ") + "\n" for a in answers)
    result = CliRunner().invoke(
        cli.main, ["interview", "--goal", goal, "--peildatum", peildatum, "--save", str(saved)], input=typed
    )
    # 1: the answers ran out before the interview ended (click's "Aborted!")
    outcome = check_cli_result(result, None, codes=(0, 1, 2))
    secrets = tuple(a for a in answers if (a.startswith("geheim") or a in EXTREME_DATES) and a not in PEILDATA)
    for line in result.stdout.splitlines():
        if "Dat antwoord past niet" in line:
            reason = line.split("Dat antwoord past niet", 1)[1]
            check_message(reason, Bestand("", b"", secrets), names_field=False)
    if saved.exists():  # what was saved is a valid applicant file again
        read_applicant_file(KB, saved)
    return f"interview {outcome}"


def check_parse_answer(fact_type: str, text: str, values: tuple[str, ...]) -> str:
    try:
        value = parse_answer(fact_type, text, values)
    except AnswerError as exc:
        secret = text.startswith("geheim") or text.strip() in EXTREME_DATES
        check_message(str(exc), Bestand("", b"", (text.strip(),) if secret else ()), names_field=False)
        return "geweigerd"
    expected = {"bool": bool, "keuze": str, "bedrag": int, "datum": str, "tekst": str}[fact_type]
    assert isinstance(value, expected), (fact_type, value)
    return "geaccepteerd"


# -- the tests --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def same_engine():
    with shared_engine():
        yield


@given(kapotte_bestanden())
def test_the_file_loader_gives_an_applicant_or_one_good_line_and_leaves_the_file_alone(bestand):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / bestand.name
        path.write_bytes(bestand.data)
        before = snapshot(path)
        check_loader(path, bestand)
        check_unchanged(path, before)


@given(
    bestand=kapotte_bestanden(),
    command=st.sampled_from(sorted(COMMANDS)),
    peildatum=st.sampled_from(PEILDATA[:1] * 4 + PEILDATA[1:]),
)
def test_every_command_given_a_broken_file_exits_0_or_2_with_one_line_and_leaves_the_file_alone(
    same_engine, bestand, command, peildatum
):
    with tempfile.TemporaryDirectory() as directory:
        run_command(command, bestand, peildatum, Path(directory))


@given(bestand=kapotte_caseloads(), peildatum=st.sampled_from(PEILDATA[:1] * 4 + PEILDATA[1:]))
def test_batch_given_broken_rows_reports_each_in_its_row_and_never_a_traceback(same_engine, bestand, peildatum):
    with tempfile.TemporaryDirectory() as directory:
        run_batch(bestand, peildatum, Path(directory))


# A quarter of the profile's examples: every answer costs an assessment of each value it could
# have had, so an interview is the dearest example here by far.
@settings(max_examples=max(10, settings.default.max_examples // 4))
@given(
    answers=st.lists(antwoorden(), max_size=5),
    goal=st.sampled_from(GOALS),
    peildatum=st.sampled_from(PEILDATA[:1] * 4 + PEILDATA[1:3]),
)
def test_the_interview_asks_again_after_any_answer_and_saves_only_valid_answers(same_engine, answers, goal, peildatum):
    with tempfile.TemporaryDirectory() as directory:
        run_interview(answers, goal, peildatum, Path(directory))


@given(fact_type=st.sampled_from(["bool", "keuze", "bedrag", "datum", "tekst"]), text=antwoorden())
def test_a_typed_answer_is_a_value_of_its_type_or_one_line_that_does_not_repeat_it(fact_type, text):
    check_parse_answer(fact_type, text, ("geen", "A1", "A2"))


def test_the_strategies_reach_every_kind_of_damage(tmp_path):
    """Each Verminking soort changes the file it is applied to (a strategy that silently does
    nothing would leave its damage untested)."""
    base = {
        "geboortedatum": "1991-03-14",
        "verblijfsvergunningen": [{"van": "2016-09-01"}],
        "heeft_zorgverzekering": True,
    }
    plain = maak_bestand(base, "yaml", "a.yaml", []).data
    samples = [
        Verminking("waarde", 2, [1]),
        Verminking("geheim", 2, "geheim\x1b"),
        Verminking("rauw", 2, "9" * 5000),
        Verminking("datum", 3, "0000-00-00"),
        Verminking("sleutel", 0, "x"),
        Verminking("geheime_sleutel", 0, "sleutel\x1b"),
        Verminking("tikfout", 0, 3),
        Verminking("dubbel", 0),
        Verminking("anker", 0),
        Verminking("lachen", 0, 3),
        Verminking("top", 0, "[]"),
        Verminking("teken", 5, "{"),
        Verminking("afkappen", 5),
        Verminking("bytes", 5, b"\xff"),
    ]
    for sample in samples:
        assert maak_bestand(base, "yaml", "a.yaml", [sample]).data != plain, sample
    assert MAX_FILE_BYTES > max(len(b"".join([plain] * 100)), 300_000 * 2)  # the long strings stay below the limit
    # undamaged, the file is the applicant itself: what a check finds comes from the damage alone
    path = tmp_path / "a.yaml"
    path.write_bytes(plain)
    assert load_applicant_file(path) == base
    assert read_applicant_file(KB, path).known() == sorted(base)
    # a key of our own making that is no name counts as applicant data: no message may repeat it
    secret_key = maak_bestand(base, "yaml", "a.yaml", [Verminking("geheime_sleutel", 0, "s" * 150)])
    assert "s" * 150 in secret_key.secrets and "s" * 150 not in secret_key.names


def test_batch_error_rows_name_their_field_or_say_that_the_whole_row_is_wrong(same_engine, tmp_path):
    """The batch check above, on one row of each kind: a row that is no mapping or no JSON is wrong
    as a whole; every other error names its field, by name or (a key that is no name) by place."""
    rows = [
        "[]",
        '{"a": ',
        '{"heeft_zorgverzekering": "ja"}',
        '{"Jansen1937": true}',
        '{"verblijfsvergunningen": [{"van": "2020-01-01", "van": "2021-01-01"}]}',
        '{"verblijfsvergunningen": ' + "[" * 50 + "]" * 50 + "}",
        "[" * 50 + "]" * 50,
    ]
    bestand = Bestand("zaken.jsonl", ("\n".join(rows) + "\n").encode(), secrets=("Jansen1937",))
    outcome = run_batch(bestand, "2026-11-22", tmp_path)
    assert outcome.startswith("batch 1: ")
    errors = [json.loads(line)["error"] for line in (tmp_path / "uit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(errors) == len(rows) and all(errors)
