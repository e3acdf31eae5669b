"""verblijfsregels: assess applicants against the IND residence rules and explain why."""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
import stat
import sys
import tempfile
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click

from engine.errors import VerblijfsregelsError, escaped, visible


class UsageError(click.ClickException):
    """Bad input: one line on stderr, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        # escaped once more here: whatever a message quotes, a control character in it must not
        # reach the terminal nor break the line
        click.echo(f"fout: {escaped(self.format_message())}", err=True, file=file)


class OutputError(UsageError):
    """A result that cannot be written (a full disk, no permission): one line, and exit code 74
    (EX_IOERR of sysexits.h), so that a script can tell it from bad input (2)."""

    exit_code = 74


class Interrupted(UsageError):
    """Ctrl-C: one line saying what was (not) written, and the exit code a shell gives SIGINT."""

    exit_code = 130


def _echo(text: str = "", nl: bool = True) -> None:
    """Print a result on stdout. A result that cannot be written (a full disk, /dev/full) ends the
    command with one line; a closed pipe (`| head`) is left to click, which ends quietly."""
    try:
        click.echo(text, nl=nl)
    except OSError as exc:
        raise _output_failed(exc) from None


def _output_failed(exc: OSError) -> Exception:
    if exc.errno == errno.EPIPE:
        return exc
    # What could not be written stays in the buffer, and Python writes it once more on exit
    # ("Exception ignored ..."): from here on stdout goes nowhere.
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None  # not a file (click's test runner)
    if fd is not None:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    return OutputError(f"kan de uitvoer niet schrijven: {exc.strerror}")


def _prompt(text: str) -> str:
    try:
        return click.prompt(text, prompt_suffix=" ", default="", show_default=False)
    except OSError as exc:
        raise _output_failed(exc) from None


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths are one file: also through a hard or symbolic link, or another spelling."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one does not exist (yet): they cannot be the same
        return False


class _ResultFile:
    """The result file `path` of option `option`, as a context giving a text handle.

    It is written to a temporary file beside it and renamed over `path` only when the block ends
    without an error: an interrupted or failed run leaves `path` as it was (or absent), never half
    written, and never writes into another file that `path` is a hard link of. A path that is no
    regular file (a device like /dev/null, a pipe) is written to directly (`in_place` is False).
    An OSError writing to the handle is the caller's to turn into `failed(exc)`.
    """

    def __init__(self, path: Path, option: str):
        self.path, self.option = path, option
        self.target = Path(os.path.realpath(path))  # a symbolic link: its target gets the result
        self.temporary: str | None = None
        self.handle = None
        try:
            self.mode: int | None = os.stat(self.target).st_mode
        except FileNotFoundError:
            self.mode = None
        except OSError as exc:
            raise self.failed(exc) from None
        self.in_place = self.mode is None or stat.S_ISREG(self.mode)

    def failed(self, exc: OSError) -> OutputError:
        return OutputError(f"{self.option}: kan {escaped(str(self.path))} niet schrijven: {exc.strerror}")

    def __enter__(self):
        try:
            if not self.in_place:
                self.handle = open(self.target, "w", encoding="utf-8", newline="")
                return self.handle
            fd, self.temporary = tempfile.mkstemp(
                dir=self.target.parent, prefix=f".{self.target.name}.", suffix=".deel"
            )
            self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
            return self.handle
        except OSError as exc:
            self._discard()
            raise self.failed(exc) from None

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None:
            self._discard()
            return
        try:
            self.handle.close()  # flushes: a full disk shows here
            if self.temporary is not None:
                mode = self.mode
                if mode is None:
                    umask = os.umask(0)
                    os.umask(umask)
                    mode = 0o666 & ~umask  # what a new file gets
                os.chmod(self.temporary, stat.S_IMODE(mode))
                os.replace(self.temporary, self.target)
                self.temporary = None
        except OSError as exc:
            raise self.failed(exc) from None
        finally:
            self._discard()

    def _discard(self) -> None:
        if self.handle is not None:
            try:
                self.handle.close()
            except OSError:
                pass  # what was written is thrown away anyway
        if self.temporary is not None and os.path.exists(self.temporary):
            os.unlink(self.temporary)
            self.temporary = None


class Keuze(click.Choice):
    """click.Choice that says in Dutch what it got and what is allowed."""

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"kreeg '{visible(str(value))}'; toegestaan: {', '.join(map(str, self.choices))}", param, ctx)


FORMATS = Keuze(["text", "json"])


def _parameter_name(param: click.Parameter | None) -> str:
    if param is None:
        return ""
    if isinstance(param, click.Argument):
        return param.human_readable_name
    return max(param.opts, key=len)


def _range_words(kind: click.ParamType) -> str:
    low, high = getattr(kind, "min", None), getattr(kind, "max", None)
    if low is not None and high is not None:
        return f"van {low} tot en met {high}"
    return f"van minstens {low}" if low is not None else f"van hoogstens {high}"


_HELP_WITHOUT_ARGUMENTS = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _OneLineParsing:
    """Bad options and arguments in one line `fout: ...` with exit code 2, like every other bad input."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except _HELP_WITHOUT_ARGUMENTS:
            raise  # no arguments at all: click shows the help, which is what was asked for
        except click.NoSuchOption as exc:
            raise UsageError(f"onbekende optie '{visible(exc.option_name)}'; zie --help") from None
        except click.MissingParameter as exc:
            raise UsageError(f"{_parameter_name(exc.param)}: ontbreekt; zie --help") from None
        except click.BadParameter as exc:
            kind = exc.param.type if exc.param is not None else None
            if isinstance(kind, (click.IntRange, click.FloatRange)):
                message = f"verwacht een getal {_range_words(kind)}"
            elif isinstance(kind, click.Path):
                message = "bestaat niet of is van de verkeerde soort (een map of een bestand)"
            else:
                message = visible(exc.message, 200)
            raise UsageError(f"{_parameter_name(exc.param)}: {message}") from None
        except click.BadOptionUsage as exc:
            raise UsageError(f"{visible(exc.option_name)}: vraagt een waarde; zie --help") from None
        except click.UsageError as exc:
            if "unexpected extra argument" in exc.message:
                raise UsageError("te veel argumenten; zie --help") from None
            raise UsageError(f"{visible(exc.format_message(), 200)}; zie --help") from None


class _OneLineErrors(_OneLineParsing, click.Command):
    pass


class _Main(_OneLineParsing, click.Group):
    command_class = _OneLineErrors

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        finally:
            try:  # what is still buffered: a full disk must show here, not as Python's complaint on exit
                sys.stdout.flush()
            except OSError as exc:
                raise _output_failed(exc) from None

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            raise UsageError(
                f"onbekende opdracht '{visible(args[0]) if args else ''}'; "
                f"toegestaan: {', '.join(sorted(self.commands))}"
            ) from None


def _peildatum(ctx: click.Context | None, param: click.Parameter | None, value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:  # a peildatum is no applicant data: it may be quoted back
        option = _parameter_name(param) or "--peildatum"
        raise UsageError(f"{option}: kreeg '{visible(value)}'; verwacht een datum als JJJJ-MM-DD") from None


def _engine():
    from engine.answer.assess import Engine

    try:
        return Engine()
    except VerblijfsregelsError as exc:
        raise UsageError(f"kennisbank: {exc}") from None


def _assessments(
    file: Path, goals: list[str], peildatum: date, precedence: list[str] | None = None, backend: str = "setwise"
):
    from engine.applicant.facts import read_applicant_file
    from engine.evaluate import evaluator_named

    eng = _engine()
    if backend != "setwise":  # the edge: below here an evaluator is an object, chosen once
        eng = eng.with_evaluator(evaluator_named(backend))
    try:
        applicant = read_applicant_file(eng.kb, file)
        if len(goals) == 1:
            return eng, [eng.assess(applicant, goals[0], peildatum, precedence)]
        return eng, eng.assess_all(applicant, peildatum, precedence, goals or None)
    except VerblijfsregelsError as exc:
        raise UsageError(str(exc)) from None


def _check_writable(path: Path, option: str) -> None:
    """Before any work: a result that cannot be written is better refused at once than after."""
    if path.is_dir():
        raise UsageError(f"{option}: {escaped(str(path))} is een map, geen bestand")
    if not path.parent.is_dir():
        raise UsageError(f"{option}: de map {escaped(str(path.parent))} bestaat niet")


def _emit_json(data) -> None:
    _echo(json.dumps(data, ensure_ascii=False, indent=2))


peildatum_option = click.option(
    "--peildatum",
    callback=_peildatum,
    metavar="JJJJ-MM-DD",
    help="Reference date for every date-dependent rule (default: today).",
)


def _precedence(voorrang: str | None) -> list[str]:
    """The sources --voorrang names, in order; a name that is no source of the fees or of a source
    disagreement is refused."""
    from engine.answer.payloads import precedence

    names = [p.strip() for p in (voorrang or "").split(",") if p.strip()]
    if not names:
        return []
    try:
        return precedence(_engine().kb, names, "--voorrang")
    except VerblijfsregelsError as exc:
        raise UsageError(str(exc)) from None


def _check_voorrang(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    _precedence(value)  # while the options are read: before any file is opened or written
    return value


voorrang_option = click.option(
    "--voorrang",
    metavar="BRONNEN",
    callback=_check_voorrang,
    help=(
        "Where sources differ (amounts, conditions), prefer them in this order (e.g. 002,001 or 004), "
        "before the precedence the knowledge base declares; the answer says so."
    ),
)


format_option = click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help="Dutch text or the versioned JSON proof."
)
detail_option = click.option(
    "--detail",
    is_flag=True,
    help="The full justification, rule by rule, instead of the short answer (text only).",
)
file_argument = click.argument("file", type=click.Path(path_type=Path, dir_okay=True, exists=False))


@click.group(cls=_Main)
@click.version_option(package_name="verblijfsregels")
def main() -> None:
    """Assess applicants against the IND residence-permit rules and explain the outcome in Dutch."""
    if os.environ.get("VERBLIJFSREGELS_COVERAGE"):  # recording asked for, also by the tests for the commands they run
        from engine.checks import coverage  # noqa: F401  (registers itself as an evaluation observer)


@main.command()
@file_argument
@click.option("--goal", metavar="DOEL", help="Goal to assess (default: every goal).")
@peildatum_option
@voorrang_option
@click.option(
    "--backend",
    type=Keuze(["setwise", "datalog"]),
    default="setwise",
    show_default=True,
    help="Evaluator: the set-at-a-time one, or pyDatalog (the reference); without --goal, every goal from one evaluation.",
)
@format_option
@detail_option
def assess(
    file: Path, goal: str | None, peildatum: date, voorrang: str | None, backend: str, fmt: str, detail: bool
) -> None:
    """Assess the applicant in FILE (YAML or JSON): the short answer, or with --detail the full justification.

    Without --goal, assess every goal and print an overview (with --detail: each goal's justification).
    """
    from explain import render_assessment, render_overview, render_short_answer

    eng, results = _assessments(file, [goal] if goal else [], peildatum, _precedence(voorrang), backend)
    if fmt == "json":
        from engine.answer import payloads

        _emit_json(payloads.assessments(eng, results, peildatum, one_goal=bool(goal)))
        return
    if detail:
        _echo("\n".join(render_assessment(r, eng.kb) for r in results), nl=False)
    elif goal:
        _echo(render_short_answer(results[0], eng.kb), nl=False)
    else:
        _echo(render_overview(results, eng.kb), nl=False)


@main.command("why-not")
@file_argument
@click.option("--goal", metavar="DOEL", required=True, help="Goal to explain.")
@click.option(
    "--max-changes",
    type=click.IntRange(0, 5),
    default=3,
    show_default=True,
    help="Largest set of changes tried when looking for repairs (0: no repairs).",
)
@peildatum_option
@format_option
@detail_option
def why_not(file: Path, goal: str, max_changes: int, peildatum: date, fmt: str, detail: bool) -> None:
    """What decides the goal and the smallest changes that would help; --detail: every route with what fails."""
    from engine.answer import payloads
    from engine.applicant.facts import read_applicant_file
    from explain import render_short_answer, render_why_not

    eng = _engine()
    try:
        applicant = read_applicant_file(eng.kb, file)
        payload, result, repairs = payloads.why_not(eng, applicant, goal, peildatum, max_changes)
    except VerblijfsregelsError as exc:
        raise UsageError(str(exc)) from None
    if fmt == "json":
        _emit_json(payload)
        return
    if detail:
        _echo(render_why_not(result, eng.kb, repairs), nl=False)
    else:
        _echo(render_short_answer(result, eng.kb, repairs, command="why-not"), nl=False)


@main.command()
@file_argument
@click.option("--goal", metavar="DOEL", help="Fees of the forms this goal points to.")
@click.option("--form", metavar="NUMMER", help="Fee of one application form (e.g. 7027).")
@voorrang_option
@peildatum_option
@format_option
def fees(file: Path, goal: str | None, form: str | None, voorrang: str | None, peildatum: date, fmt: str) -> None:
    """Say which form applies and what it costs, with the exception that decided the amount."""
    from engine.answer import payloads
    from engine.applicant.facts import read_applicant_file
    from explain import render_fees

    if bool(goal) == bool(form):
        raise UsageError("geef precies één van --goal of --form")
    eng = _engine()
    precedence = _precedence(voorrang)
    try:
        applicant = read_applicant_file(eng.kb, file)
        answers = payloads.fee_answers(eng, applicant, goal, form, peildatum, precedence)
    except VerblijfsregelsError as exc:
        raise UsageError(str(exc)) from None
    if fmt == "json":
        _emit_json(payloads.fees(eng, answers, goal, peildatum))
        return
    if not answers:
        from explain import render_no_form

        _echo(render_no_form(eng.kb.goals[goal].label), nl=False)
        return
    _echo("\n".join(render_fees(a, eng.kb) for a in answers), nl=False)


UNKNOWN_ANSWERS = ("?", "weet niet", "onbekend")


def _ask_value(eng, question, data: dict, goals: list[str], peildatum: date):
    """Ask until the answer is valid; returns the value, or None for "weet niet"."""
    from engine.answer.interview import AnswerError, assessments, parse_answer

    if question.type == "vergunningen":
        return _ask_periods(eng, question, data, peildatum)
    hint = {"bool": "ja/nee", "keuze": "/".join(question.values), "datum": "JJJJ-MM-DD", "bedrag": "eurocenten"}.get(
        question.type, "tekst"
    )
    while True:
        text = _prompt(f"{question.question} [{hint}, of ? als u het niet weet]")
        if text.strip().lower() in UNKNOWN_ANSWERS:
            return None
        try:
            value = parse_answer(question.type, text, question.values)
            # assessed here, not only validated: an answer can be valid yet unusable (a term
            # from 9999-12-31 ends after the calendar), and then it is asked again
            assessments(eng, {**data, question.fact: value}, goals, peildatum)
            return value
        except (AnswerError, VerblijfsregelsError) as exc:
            _echo(f"  Dat antwoord past niet: {exc}. Probeer het opnieuw.")


def _ask_period_details(eng, question, data: dict):
    """Fill in what periods given earlier leave out; None if nothing was filled in."""
    from engine.applicant.facts import parse_applicant
    from explain import period

    purposes = eng.kb.period_fields["verblijfsdoel"]["waarden"]
    periods = [dict(p) for p in data[question.fact]]
    filled = False
    _echo("Van deze vergunning(en) ontbreekt nog iets dat de uitkomst kan beslissen.")
    for gap in question.incomplete:
        index = gap["index"]
        shown = parse_applicant(eng.kb, {question.fact: [periods[index]]}).values[question.fact][0]
        _echo(f"  Vergunning {period(shown)}:")
        for field in gap["missing"]:
            prompt = (
                f"verblijfsdoel [{'/'.join(purposes)}, leeg als onbekend]"
                if field == "verblijfsdoel"
                else "is het doel niet-tijdelijk? [ja/nee, leeg als onbekend]"
            )
            while True:
                text = _prompt(f"    {prompt}").strip()
                if not text or text.lower() in UNKNOWN_ANSWERS:
                    break
                value = {"ja": True, "nee": False}.get(text.lower(), text) if field == "niet_tijdelijk" else text
                changed = [*periods[:index], {**periods[index], field: value}, *periods[index + 1 :]]
                try:
                    parse_applicant(eng.kb, {**data, question.fact: changed})
                    periods = changed
                    filled = True
                    break
                except VerblijfsregelsError as exc:
                    _echo(f"    Dat antwoord past niet: {exc}. Probeer het opnieuw.")
    return periods if filled else None


def _ask_periods(eng, question, data: dict, peildatum: date):
    from engine.applicant.facts import parse_applicant

    if question.fact in data:
        return _ask_period_details(eng, question, data)
    purposes = eng.kb.period_fields["verblijfsdoel"]["waarden"]
    _echo(question.question)
    periods: list[dict] = []
    while True:
        more = _prompt(f"  {'Een' if not periods else 'Nog een'} vergunning opgeven? [ja/nee]").strip().lower()
        if more in UNKNOWN_ANSWERS and not periods:
            return None
        if more in ("nee", "n"):
            return periods
        if more not in ("ja", "j"):
            _echo("  Antwoord ja of nee.")
            continue
        period = {}
        for field, prompt, optional in (
            ("van", "begindatum [JJJJ-MM-DD]", False),
            ("tot", "einddatum [JJJJ-MM-DD, leeg als zij nog loopt]", True),
            ("verblijfsdoel", f"verblijfsdoel [{'/'.join(purposes)}]", True),
            ("niet_tijdelijk", "is het doel niet-tijdelijk? [ja/nee, leeg als onbekend]", True),
        ):
            while True:
                text = _prompt(f"    {prompt}").strip()
                if not text and optional:
                    break
                value = {"ja": True, "nee": False}.get(text.lower(), text) if field == "niet_tijdelijk" else text
                try:
                    parse_applicant(eng.kb, {**data, question.fact: [*periods, {**period, field: value}]})
                    period[field] = value
                    break
                except VerblijfsregelsError as exc:
                    _echo(f"    Dat antwoord past niet: {exc}. Probeer het opnieuw.")
        periods.append(period)


@main.command()
@click.option("--goal", metavar="DOEL", help="Goal to settle (default: every goal).")
@click.option(
    "--answers", "answers_file", type=click.Path(path_type=Path), help="Answers given earlier (an applicant file)."
)
@click.option("--save", "save_file", type=click.Path(path_type=Path), help="Write all answers as an applicant file.")
@click.option("--next", "next_only", is_flag=True, help="Print the next question as JSON and stop.")
@peildatum_option
def interview(
    goal: str | None, answers_file: Path | None, save_file: Path | None, next_only: bool, peildatum: date
) -> None:
    """Ask, in Dutch, only the questions whose answer can still change the outcome."""
    import yaml

    from engine.answer import payloads
    from engine.answer.interview import applicant_file, assessments, next_question
    from engine.applicant.facts import load_applicant_file
    from explain import render_assessment, render_overview

    eng = _engine()
    if goal and goal not in eng.kb.goals:
        raise UsageError(f"--goal: onbekend doel '{visible(goal)}'; toegestaan: {', '.join(sorted(eng.kb.goals))}")
    if answers_file is not None and save_file is not None and _same_file(save_file, answers_file):
        raise UsageError(
            "--save: mag niet het antwoordenbestand zijn, ook niet via een link (de invoer blijft "
            "onaangeroerd); kies een ander bestand"
        )
    if save_file is not None:
        _check_writable(save_file, "--save")
    goals = [goal] if goal else sorted(eng.kb.goals)
    data: dict = {}
    try:
        if answers_file is not None:
            # the answers as written (dates as text), not as parsed: --save writes them back unchanged
            data = payloads.interview_answers(eng, load_applicant_file(answers_file))
        if next_only:
            _emit_json(payloads.interview_step(eng, data, goals, peildatum))
            return
        skipped: set[str] = set()
        try:
            while True:
                question = next_question(eng, data, goals, peildatum, frozenset(skipped))
                if question is None:
                    break
                value = _ask_value(eng, question, data, goals, peildatum)
                if value is None:
                    skipped.add(question.fact)
                else:
                    data[question.fact] = value
        finally:
            if save_file is not None:
                saved = _ResultFile(save_file, "--save")
                with saved as handle:
                    try:
                        handle.write(yaml.safe_dump(applicant_file(data), allow_unicode=True, sort_keys=False))
                    except OSError as exc:
                        raise saved.failed(exc) from None
        results = assessments(eng, data, goals, peildatum)
    except VerblijfsregelsError as exc:
        raise UsageError(str(exc)) from None
    _echo("")
    _echo(render_assessment(results[0], eng.kb) if goal else render_overview(results, eng.kb), nl=False)


@main.command()
@format_option
@click.option("--inventory", is_flag=True, help="Map every inventory row (A1…G9) to the rules that encode it.")
def rules(fmt: str, inventory: bool) -> None:
    """List every rule with its id, Dutch label and source."""
    from engine.answer import payloads
    from explain import render_inventory, render_rules

    eng = _engine()
    if inventory:
        from engine.rules.inventory import inventory as build_inventory

        try:
            rows = build_inventory(eng.kb)
        except VerblijfsregelsError as exc:
            raise UsageError(f"kennisbank: {exc}") from None
        if fmt == "json":
            _emit_json(payloads.inventory(eng.kb, rows))
        else:
            _echo(render_inventory(rows), nl=False)
        return
    if fmt == "json":
        _emit_json(payloads.rules(eng.kb))
        return
    _echo(render_rules(eng.kb), nl=False)


@main.command()
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=True, exists=False))
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path),
    required=True,
    help="Result file: one row per input row, in order (.csv or .jsonl).",
)
@click.option("--input-format", type=Keuze(["csv", "jsonl"]), help="Default: from the INPUT suffix.")
@click.option("--out-format", type=Keuze(["csv", "jsonl"]), help="Default: from the --out suffix.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option(
    "--compare",
    "compare",
    metavar="JJJJ-MM-DD|MAP",
    help="Also run at this peildatum, or against this rule base (a kb/ directory), and report what "
    "changes: --compare-peildatum or --compare-kb, whichever the value is.",
)
@click.option(
    "--compare-peildatum",
    metavar="JJJJ-MM-DD",
    callback=lambda ctx, param, value: value and _peildatum(ctx, param, value),
    help="Also run at this peildatum and report what changes.",
)
@click.option(
    "--compare-kb",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Also run against this rule base (a kb/ directory) and report what changes.",
)
@peildatum_option
@voorrang_option
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help="Format of the comparison report."
)
@click.pass_context
def batch(
    ctx: click.Context,
    input_file: Path,
    out_file: Path,
    input_format: str | None,
    out_format: str | None,
    jobs: int,
    compare: str | None,
    compare_peildatum: date | None,
    compare_kb: Path | None,
    peildatum: date,
    voorrang: str | None,
    fmt: str,
) -> None:
    """Assess every applicant of a caseload (CSV or JSON Lines) for every goal, with fees.

    A bad row becomes an error row naming its number and field, and the run goes on; the exit
    code is 1 when any row failed (74 when the result cannot be written). With --compare (a
    peildatum or a rule-base directory) each row is assessed twice and a report of changed outcomes
    per goal, and of changed fees per goal and form, is printed.
    """
    from engine.answer.batch import (
        Comparison,
        Evaluators,
        Job,
        RowFormat,
        Writer,
        goals_with_fees,
        read_rows,
        run_batch,
    )
    from engine.answer.batch import input_format as guess_format

    if compare is not None:
        if compare_peildatum or compare_kb:
            raise UsageError("--compare met --compare-peildatum of --compare-kb: kies er één")
        compare_peildatum, compare_kb = _comparison_target(compare)
    if compare_peildatum and compare_kb:
        raise UsageError("--compare-peildatum en --compare-kb: kies er één")
    if fmt == "json" and not (compare_peildatum or compare_kb):
        raise UsageError(
            "--format json: alleen voor het rapport van een vergelijking (--compare); de rijen zelf staan in --out"
        )
    other = compare_peildatum
    eng = _engine()
    kbs = [eng.kb]
    try:
        in_fmt = guess_format(input_file, input_format)
        if out_format is None:
            suffix = out_file.suffix.lower()
            if suffix not in (".csv", ".jsonl", ".ndjson"):
                raise UsageError(
                    f"--out: kan het formaat van {out_file.name} niet afleiden; gebruik .csv of .jsonl, of --out-format"
                )
            out_format = "csv" if suffix == ".csv" else "jsonl"
        if _same_file(input_file, out_file):
            raise UsageError(
                "--out: mag niet het invoerbestand zijn, ook niet via een link (de invoer blijft onaangeroerd)"
            )
        _check_writable(out_file, "--out")
        runs: list[tuple[str | None, date]] = [(None, peildatum)]
        if other is not None:
            runs.append((None, other))
        if compare_kb is not None:
            kbs.append(_comparison_kb(compare_kb))
            runs.append((str(compare_kb.resolve()), peildatum))
        rows = read_rows(eng.kb, input_file, in_fmt)
        first = next(rows, None)  # header and file problems surface before the output is touched
    except VerblijfsregelsError as exc:
        raise UsageError(str(exc)) from None

    # two rule bases may have different goals: every goal of either gets its columns
    goals = tuple(sorted(set().union(*(kb.goals for kb in kbs))))
    fee_goals = tuple(sorted(set().union(*map(goals_with_fees, kbs))))
    suffixes = ("",) if len(runs) == 1 else ("_a", "_b")
    row_format = RowFormat(out_format, goals, fee_goals, suffixes, eng.kb.version)
    labels = (f"peildatum {peildatum}", f"peildatum {other}" if other else f"kennisbank {compare_kb}")
    comparison = Comparison(labels) if len(runs) > 1 else None
    failed = 0
    result_file = _ResultFile(out_file, "--out")
    try:
        with result_file as handle, _progress(eng.kb, input_file, in_fmt) as bar:
            try:
                writer = Writer(handle, row_format)
            except OSError as exc:
                raise result_file.failed(exc) from None

            def on_chunk(done):
                nonlocal failed
                try:
                    writer.write(done)
                except OSError as exc:
                    raise result_file.failed(exc) from None
                failed += done.failed
                if comparison:
                    for result in done.results:
                        comparison.add(result)
                if bar is not None:
                    bar.update(done.rows)

            try:
                all_rows = itertools.chain([first], rows) if first is not None else iter(())
                job = Job(
                    Evaluators(tuple(runs), tuple(_precedence(voorrang))),
                    row_format,
                    keep_results=comparison is not None,
                )
                run_batch(all_rows, job, jobs, on_chunk)
            except VerblijfsregelsError as exc:
                raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        shown = escaped(str(out_file))
        raise Interrupted(
            f"onderbroken; {shown} is niet geschreven (de vorige inhoud, als die er was, blijft)"
            if result_file.in_place
            else f"onderbroken; {shown} is onvolledig"
        ) from None
    if comparison:
        report = comparison.to_json()
        if fmt == "json":
            _emit_json(report)
        else:
            from explain import render_comparison

            _echo(render_comparison(report), nl=False)
    if failed:
        click.echo(f"{failed} rij(en) met een fout; zie de kolom 'fout' in {escaped(str(out_file))}", err=True)
        ctx.exit(1)


def _comparison_target(value: str) -> tuple[date | None, Path | None]:
    """--compare: a date is a second peildatum, a directory a second rule base."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):  # a directory named like a date: use --compare-kb
        return _compare_date(value), None
    path = Path(value)
    if path.is_dir():
        return None, path
    raise UsageError(
        f"--compare: kreeg '{visible(value)}'; verwacht een peildatum (JJJJ-MM-DD) of een map met een "
        "kennisbank (zoals kb/)"
    )


def _compare_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--compare: kreeg '{visible(value)}'; geen bestaande datum (JJJJ-MM-DD)") from None


def _comparison_kb(directory: Path):
    """The rule base of --compare-kb: it must load, and have goals and facts (any directory loads)."""
    from engine.answer.assess import Engine

    try:
        kb = Engine(directory).kb
    except VerblijfsregelsError as exc:
        raise UsageError(f"--compare-kb: {exc}") from None
    if not kb.goals or not kb.facts:
        raise UsageError(
            f"--compare-kb: {escaped(str(directory))} is geen kennisbank (geen doelen of geen feiten); "
            "geef een map zoals kb/"
        )
    return kb


@contextmanager
def _progress(kb, input_file: Path, fmt: str):
    """The progress bar on a terminal (None elsewhere). The rows are counted beforehand only in a
    regular file: a pipe or FIFO can be read once, and counting would consume the caseload."""
    if not sys.stderr.isatty():
        yield None
        return
    try:
        regular = stat.S_ISREG(os.stat(input_file).st_mode)
    except OSError:
        regular = False
    if regular:
        from engine.answer.batch import count_rows

        bar = click.progressbar(length=count_rows(kb, input_file, fmt), label="beoordelen", file=sys.stderr)
    else:  # no total: the bar shows how many rows are done
        bar = click.progressbar(itertools.repeat(None), label="beoordelen", show_pos=True, file=sys.stderr)
    with bar:
        yield bar


def _audit_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value not in ("text", "json", "html"):
        raise UsageError(f"--format: kreeg '{visible(value)}'; toegestaan: text, json, html")
    return value


@main.command()
@peildatum_option
@click.option(
    "--format",
    "fmt",
    default="text",
    show_default=True,
    callback=_audit_format,
    metavar="text|json|html",
    help="Dutch text, the versioned JSON report, or one HTML page with the rule graph.",
)
@click.option("--strict", is_flag=True, help="Exit 1 when a finding of severity 'fout' is not explained in kb/.")
@click.option("--graph", is_flag=True, help="Print the rule dependency graph as Graphviz DOT instead of the report.")
@click.pass_context
def audit(ctx: click.Context, peildatum: date, fmt: str, strict: bool, graph: bool) -> None:
    """Check the whole rule base: conflicts, gaps, dead and redundant rules, sources, time, structure.

    Every finding names its rules and sources and, where a situation is involved, a minimal
    applicant file that reproduces it. The search covers every situation the rules can tell
    apart; the report says how many per goal.
    """
    import os

    from engine.checks.audit import audit_directory
    from engine.rules.model import KB_DIR

    kb_dir = Path(os.environ.get("VERBLIJFSREGELS_KB") or KB_DIR)
    try:
        report = audit_directory(kb_dir, peildatum)
    except VerblijfsregelsError as exc:
        raise UsageError(f"audit: {exc}") from None
    if graph:
        if not report.graph:
            raise UsageError(f"kennisbank: {report.findings[0].message}")
        _echo(report.graph, nl=False)
    elif fmt == "json":
        _emit_json(report.to_json())
    elif fmt == "html":
        from engine.checks.audit_graph import svg
        from explain import render_audit_html

        _echo(render_audit_html(report, svg(report.graph) if report.graph else None), nl=False)
    else:
        from explain import render_audit

        _echo(render_audit(report), nl=False)
    if strict and report.failed:
        ctx.exit(1)


@main.command()
@click.option(
    "--data",
    "data_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Recorded coverage (default: $VERBLIJFSREGELS_COVERAGE or .kb-coverage.json).",
)
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="PREFIX",
    help="Only what these test files recorded, e.g. tests/test_scenarios.py (repeatable).",
)
@format_option
def coverage(data_file: Path | None, contexts: tuple[str, ...], fmt: str) -> None:
    """Which rules fired, which exceptions applied and which conditions were seen both true and false.

    Record with `pytest --kb-coverage=FILE` (or VERBLIJFSREGELS_COVERAGE=FILE for any run).
    """
    import os

    from engine.checks import coverage as cov

    path = data_file or Path(os.environ.get(cov.ENV) or cov.DEFAULT_DATA)
    if not path.exists():
        raise UsageError(f"--data: {path} bestaat niet; neem eerst op met: pytest --kb-coverage={path}")
    try:
        data = cov.read_data(path)
    except (ValueError, KeyError) as exc:
        raise UsageError(f"--data: {exc}") from None
    with cov.paused():
        rep = cov.report(_engine(), data, list(contexts) or None)
    if fmt == "json":
        _emit_json(rep)
        return
    _echo(cov.render_text(rep), nl=False)


@main.command()
@click.option("--limit", type=click.IntRange(1), metavar="N", help="Only the first N mutants.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option(
    "--only",
    multiple=True,
    metavar="ID",
    help="Only mutants of this declaration (rule id, quantity, parameter; repeatable).",
)
@click.option(
    "--examples",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    help="Examples per property and mutant (derandomized, the same for every mutant).",
)
@click.option(
    "--diff",
    "differential",
    type=click.IntRange(0),
    default=1500,
    show_default=True,
    help="Generated applicants for the differential check of survivors (0: skip).",
)
@click.option(
    "--equivalents",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Survivors known to be equivalent, with reasons (default: tests/mutation_equivalents.yaml).",
)
@click.option(
    "--backend",
    type=Keuze(["setwise", "datalog"]),
    default="setwise",
    show_default=True,
    help="Evaluator for the mutants.",
)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Exit with code 1 when the mutation score is lower.",
)
@format_option
@click.pass_context
def mutate(
    ctx: click.Context,
    limit: int | None,
    jobs: int,
    only: tuple[str, ...],
    examples: int,
    differential: int,
    equivalents: Path | None,
    backend: str,
    min_score: float | None,
    fmt: str,
) -> None:
    """Change the rule declarations one small step at a time and report the mutants the tests miss.

    Every mutant is checked with the scenarios of tests/scenarios and the properties of
    tests/test_invariants.py; a survivor is listed with why it is equivalent, or with an
    applicant for whom it changes the answer.
    """
    from engine.checks import mutation
    from engine.evaluate import evaluator_named

    try:
        tests = mutation.find_checks()
    except VerblijfsregelsError as exc:
        raise UsageError(str(exc)) from None
    bar = None
    if sys.stderr.isatty():
        bar = click.progressbar(length=1, label="mutanten", file=sys.stderr)
        bar.__enter__()

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.length = total
            bar.update(done - bar.pos)

    try:
        report = mutation.run_mutation(
            tests,
            limit=limit,
            jobs=jobs,
            only=list(only) or None,
            examples=examples,
            differential=differential,
            equivalents=equivalents,
            evaluator=evaluator_named(backend),
            progress=progress,
        )
    except (VerblijfsregelsError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if fmt == "json":
        _emit_json(report.to_json())
    else:
        _echo(mutation.render_text(report), nl=False)
    if report.baseline_failure or (min_score is not None and (report.score or 0) < min_score):
        ctx.exit(1)


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (default: this machine only)."
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (each loads the rules once).",
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web application and the HTTP API (/v1) until interrupted."""
    import uvicorn

    _engine()  # a rule base that does not load is said here, once, not by every worker
    # no access log: a path holds no applicant data, but a log of who asked what is no one's business here
    uvicorn.run(
        "engine.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        server_header=False,
        log_level="warning",
    )


@main.command()
@click.option(
    "--kind",
    type=Keuze(
        ["applicant", "assessment", "overview", "fees", "why-not", "interview-step", "rules", "inventory", "batch-row"]
    ),
    default="applicant",
    show_default=True,
    help="The applicant file, or the JSON that assess, fees, why-not, interview --next, rules or batch prints.",
)
def schema(kind: str) -> None:
    """Print the JSON Schema of an applicant file or of any JSON output."""
    if kind != "applicant":
        from engine.answer.assess import ASSESSMENT_SCHEMA
        from engine.answer.payloads import SCHEMA_FILES

        name = SCHEMA_FILES[kind]
        _echo(ASSESSMENT_SCHEMA.with_name(f"{name}.schema.json").read_text(encoding="utf-8"), nl=False)
        return
    from engine.applicant.facts import json_schema
    from engine.rules.model import load_knowledge_base

    try:
        kb = load_knowledge_base()
    except VerblijfsregelsError as exc:
        raise UsageError(f"kennisbank: {exc}") from None
    _emit_json(json_schema(kb))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
