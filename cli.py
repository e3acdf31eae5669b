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


def _close(name: str, possibilities) -> list[str]:
    """The near names, as click finds them for an option (click < 8.4 finds none for a command)."""
    from difflib import get_close_matches

    return get_close_matches(name, list(possibilities))


def _did_you_mean(possibilities) -> str:
    """click's own "Did you mean" hint, in Dutch; only names the program declares, never the input."""
    names = sorted(possibilities)
    if not names:
        return ""
    if len(names) == 1:
        return f" (bedoelt u {names[0]}?)"
    return f" (bedoelt u een van: {', '.join(names)}?)"


_HELP_WITHOUT_ARGUMENTS = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _OneLineParsing:
    """Bad options and arguments in one line `fout: ...` with exit code 2, like every other bad input."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except _HELP_WITHOUT_ARGUMENTS:
            raise  # no arguments at all: click shows the help, which is what was asked for
        except click.NoSuchOption as exc:
            raise UsageError(
                f"onbekende optie '{visible(exc.option_name)}'{_did_you_mean(exc.possibilities or ())}; zie --help"
            ) from None
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


class _DutchHelp(click.HelpFormatter):
    """click's own words in --help (its headings, the help and version options, defaults) in
    Dutch, like the rest of the help: one language per audience."""

    WORDS = (
        ("Show this message and exit.", "Toon deze hulp en stop."),
        ("Show the version and exit.", "Toon de versie en stop."),
        ("[default: ", "[standaard: "),
        ("default: ", "standaard: "),
        ("[required]", "[verplicht]"),
    )
    HEADINGS = {"Options": "Opties", "Commands": "Opdrachten", "Arguments": "Argumenten"}

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args.replace("[OPTIONS]", "[OPTIES]").replace("COMMAND", "OPDRACHT"), "Gebruik: ")

    def section(self, name: str):
        return super().section(self.HEADINGS.get(name, name))

    def write_dl(self, rows, *args, **kwargs) -> None:
        def dutch(text: str) -> str:
            for english, words in self.WORDS:
                text = text.replace(english, words)
            return text

        super().write_dl([(first, dutch(second)) for first, second in rows], *args, **kwargs)


class _Context(click.Context):
    formatter_class = _DutchHelp


class _OneLineErrors(_OneLineParsing, click.Command):
    context_class = _Context


class _Main(_OneLineParsing, click.Group):
    command_class = _OneLineErrors
    context_class = _Context

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
            name = args[0] if args else ""
            raise UsageError(
                f"onbekende opdracht '{visible(name)}'{_did_you_mean(_close(name, self.commands))}; "
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


def _kb_option(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None:
        if not value.is_dir():
            raise UsageError(f"--kb: {escaped(str(value))} is geen map; geef een map met een kennisbank (zoals kb/)")
        ctx.meta[KB_META] = value
    return value


KB_META = "verblijfsregels.kb"
SERVE_KB = "VERBLIJFSREGELS_SERVE_KB"  # only from `serve --kb` to its own worker processes
# every command that reads a rule base takes --kb; the commands read it back through _kb_dir()
kb_option = click.option(
    "--kb",
    type=click.Path(path_type=Path),
    metavar="DIR",
    callback=_kb_option,
    expose_value=False,
    is_eager=True,
    help="De kennisbank om te lezen (een map zoals kb/; standaard: kb/ van dit programma).",
)


def _kb_dir() -> Path:
    from engine.rules.declarations import KB_DIR

    ctx = click.get_current_context(silent=True)
    return (ctx.meta.get(KB_META) if ctx is not None else None) or KB_DIR


def _engine():
    from engine.answer.assess import Engine

    try:
        eng = Engine(_kb_dir())
    except VerblijfsregelsError as exc:
        raise UsageError(f"kennisbank: {exc}") from None
    _check_translations(eng.kb)
    return eng


def _check_translations(kb) -> None:
    """A command that answers in English (--lang en, not as JSON, which is Dutch in both languages:
    --format json, interview --next) reads en.yaml beside the knowledge base it reads (--kb DIR):
    without it, one line, before any output."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or "lang" not in ctx.params or _lang(ctx.params["lang"]) == "nl":
        return
    if ctx.params.get("fmt") == "json" or ctx.params.get("next_only"):
        return
    from explain.lang import kb_directory, translations

    try:
        translations(kb_directory(kb))
    except VerblijfsregelsError as exc:
        raise UsageError(str(exc)) from None


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
    help="Peildatum voor elke regel die van een datum afhangt (standaard: vandaag).",
)


def _precedence(voorrang: str | None) -> list[str]:
    """The sources --voorrang names, in order; a name that is no source of the fees or of a source
    disagreement is refused."""
    names = [p.strip() for p in (voorrang or "").split(",") if p.strip()]
    if not names:
        return []
    from engine.answer.payloads import precedence

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
        "Waar bronnen verschillen (bedragen, voorwaarden): volg ze in deze volgorde (bijvoorbeeld 002,001 "
        "of 004), vóór de voorrang die de kennisbank vastlegt; het antwoord zegt het."
    ),
)


format_option = click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help="Tekst of het JSON-bewijs met versie."
)
detail_option = click.option(
    "--detail",
    is_flag=True,
    help="De volledige motivering, regel voor regel, in plaats van het korte antwoord (alleen tekst).",
)
file_argument = click.argument("file", type=click.Path(path_type=Path, dir_okay=True, exists=False))


LANG_HELP = "Taal van de uitvoer: nl, of en (English); citaten uit de bronnen blijven letterlijk Nederlands."


def _lang(value: str | None) -> str:
    """The language of the output: the command's --lang, else the one given before the command."""
    if value:
        return value
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    return (root.params.get("lang") if root is not None else None) or "nl"


lang_option = click.option("--lang", type=Keuze(["nl", "en"]), default=None, help=LANG_HELP)


@click.group(cls=_Main)
@click.version_option(package_name="verblijfsregels")
@click.option("--lang", type=Keuze(["nl", "en"]), default="nl", show_default=True, help=LANG_HELP)
def main(lang: str) -> None:
    """Beoordeel aanvragers aan de verblijfsregels van de IND en leg de uitkomst uit."""
    if os.environ.get("VERBLIJFSREGELS_COVERAGE"):  # recording asked for, also by the tests for the commands they run
        from engine.checks import coverage  # noqa: F401  (registers itself as an evaluation observer)


@main.command()
@kb_option
@file_argument
@click.option("--goal", metavar="DOEL", help="Doel om te beoordelen (standaard: elk doel).")
@peildatum_option
@voorrang_option
@click.option(
    "--backend",
    type=Keuze(["setwise", "datalog"]),
    default="setwise",
    show_default=True,
    help="Evaluator: setwise (per verzameling), of datalog (pyDatalog, de referentie); zonder --goal elk doel uit één evaluatie.",
)
@format_option
@lang_option
@detail_option
def assess(
    file: Path,
    goal: str | None,
    peildatum: date,
    voorrang: str | None,
    backend: str,
    fmt: str,
    lang: str | None,
    detail: bool,
) -> None:
    """Beoordeel de aanvrager in FILE (YAML of JSON): het korte antwoord, of met --detail de volledige motivering.

    Zonder --goal: elk doel, in een overzicht (met --detail: de motivering van elk doel).
    """
    eng, results = _assessments(file, [goal] if goal else [], peildatum, _precedence(voorrang), backend)
    if fmt == "json":
        from engine.answer import payloads

        _emit_json(payloads.assessments(eng, results, peildatum, one_goal=bool(goal)))
        return
    _echo(_assessment_text(eng.kb, results, bool(goal), _lang(lang), detail), nl=False)


@main.command("why-not")
@kb_option
@file_argument
@click.option("--goal", metavar="DOEL", required=True, help="Doel om uit te leggen.")
@click.option(
    "--max-changes",
    type=click.IntRange(0, 5),
    default=3,
    show_default=True,
    help="Grootste aantal wijzigingen dat samen wordt geprobeerd (0: geen wijzigingen zoeken).",
)
@peildatum_option
@format_option
@lang_option
@detail_option
def why_not(file: Path, goal: str, max_changes: int, peildatum: date, fmt: str, lang: str | None, detail: bool) -> None:
    """Wat het doel beslist en de kleinste wijzigingen die helpen; --detail: elke route met wat er niet vervuld is."""
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
        _echo(render_why_not(result, eng.kb, repairs, _lang(lang)), nl=False)
    else:
        _echo(render_short_answer(result, eng.kb, repairs, command="why-not", lang=_lang(lang)), nl=False)


@main.command()
@kb_option
@file_argument
@click.option("--goal", metavar="DOEL", help="Leges van de formulieren van dit doel.")
@click.option("--form", metavar="NUMMER", help="Leges van één aanvraagformulier (bijvoorbeeld 7027).")
@voorrang_option
@peildatum_option
@format_option
@lang_option
def fees(
    file: Path, goal: str | None, form: str | None, voorrang: str | None, peildatum: date, fmt: str, lang: str | None
) -> None:
    """Welk formulier past en wat het kost, met de uitzondering die het bedrag bepaalde."""
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
        from explain.lang import localized

        _echo(render_no_form(localized(eng.kb, _lang(lang)).goals[goal].label, _lang(lang)), nl=False)
        return
    _echo("\n".join(render_fees(a, eng.kb, _lang(lang)) for a in answers), nl=False)


UNKNOWN_ANSWERS = ("?", "weet niet", "onbekend", "don't know", "unknown")
BACK = ("terug", "t", "back")
YES, NO = ("ja", "j", "yes", "y"), ("nee", "n", "no")
# What the dialogue says, per language (--lang); the questions themselves come from kb/ (en.yaml)
SAY = {
    "nl": {
        "yes_no": "ja/nee",
        "choice": "nummer of naam",
        "date": "datum, bijvoorbeeld 14-03-1991",
        "amount": "eurocenten",
        "text": "tekst",
        "unknown": "? als u het niet weet",
        "back": "terug voor de vorige vraag",
        "wrong": "Dat antwoord past niet: {}. Probeer het opnieuw.",
        "pick": "kies een nummer van 1 tot en met {}, of een naam",
        "question": "Vraag {}",
        "at_most": "hierna nog hoogstens {}",
        "last": "de laatste",
        "answers": "Uw antwoorden:",
        "not_known": "weet ik niet",
        "review": "Klopt dit? [Enter voor de uitkomst; een nummer om dat antwoord te wijzigen{}]",
        "review_back": "; terug voor de vorige vraag",
        "review_help": "  Typ Enter, een nummer van 1 tot en met {}{}.",
        "or_back": " of terug",
        "details": "Van deze vergunning(en) ontbreekt nog iets dat de uitkomst kan beslissen.",
        "permit": "  Vergunning {}:",
        "purpose": "verblijfsdoel [nummer of naam, leeg als onbekend]",
        "lasting": "is het doel niet-tijdelijk? [ja/nee, leeg als onbekend]",
        "first_permit": "Een vergunning opgeven?",
        "next_permit": "Nog een vergunning opgeven?",
        "yes_or_no": "  Antwoord ja of nee.",
        "bool_error": "antwoord ja of nee",
        "date_error": "geef een datum, bijvoorbeeld 14-03-1991 of 14 maart 1991 (of JJJJ-MM-DD)",
        "start": "begindatum [bijvoorbeeld 14-03-1991]",
        "end": "einddatum [bijvoorbeeld 14-03-1991, leeg als zij nog loopt]",
    },
    "en": {
        "yes_no": "yes/no",
        "choice": "number or name",
        "date": "date, for example 14-03-1991",
        "amount": "euro cents",
        "text": "text",
        "unknown": "? if you do not know",
        "back": "back for the previous question",
        "wrong": "That answer does not fit: {}. Please try again.",
        "pick": "choose a number from 1 to {}, or a name",
        "question": "Question {}",
        "at_most": "at most {} more after this one",
        "last": "the last one",
        "answers": "Your answers:",
        "not_known": "I do not know",
        "review": "Is this correct? [Enter for the outcome; a number to change that answer{}]",
        "review_back": "; back for the previous question",
        "review_help": "  Type Enter, a number from 1 to {}{}.",
        "or_back": " or back",
        "details": "Something that can decide the outcome is still missing from these permit(s).",
        "permit": "  Permit {}:",
        "purpose": "purpose of stay [number or name, empty if unknown]",
        "lasting": "is the purpose non-temporary? [yes/no, empty if unknown]",
        "first_permit": "Enter a permit?",
        "next_permit": "Enter another permit?",
        "yes_or_no": "  Answer yes or no.",
        "bool_error": "answer yes or no",
        "date_error": "give a date, for example 14-03-1991 or 14 March 1991 (or YYYY-MM-DD)",
        "start": "start date [for example 14-03-1991]",
        "end": "end date [for example 14-03-1991, empty if it is still running]",
    },
}
_DIALOGUE = {"lang": "nl", "kb": None}  # set by `interview` for the one dialogue a process runs


def _say(key: str, *values) -> str:
    return SAY[_DIALOGUE["lang"]][key].format(*values)


def _yes_no(text: str):
    lowered = text.lower()
    return True if lowered in YES else False if lowered in NO else text


class _Back(Exception):
    """The person typed `terug`: undo the previous answer and ask that question again."""


def _read(text: str) -> str | None:
    """One line typed after `text`; None at the end of the input (a pipe that has run dry)."""
    try:
        _echo(text + " ", nl=False)
        return click.termui.visible_prompt_func("")
    except EOFError:
        return None
    except OSError as exc:
        raise _output_failed(exc) from None


def _choice_label(value: str, fact: str | None = None) -> str:
    from explain.lang import choice_label

    kb = _DIALOGUE["kb"]
    return choice_label(kb, fact, value, _DIALOGUE["lang"]) if kb is not None else value.replace("_", " ")


def _numbered(values, indent: str = "  ", fact: str | None = None) -> None:
    for number, value in enumerate(values, start=1):
        _echo(f"{indent}{number}. {_choice_label(value, fact)}")


def _choice(text: str, values: tuple[str, ...], fact: str | None = None) -> str | None:
    """A choice typed as its number, its name or its label (any case); None if it is none of them."""
    answer = " ".join(text.strip().lower().split())
    if answer.isascii() and answer.isdigit() and 1 <= int(answer) <= len(values):
        return values[int(answer) - 1]
    return next((v for v in values if answer in (v.lower(), _choice_label(v, fact).lower())), None)


def _question_text(question) -> str:
    kb = _DIALOGUE["kb"]
    return kb.facts[question.fact].question if kb is not None else question.question


def _ask_value(eng, question, data: dict, goals: list[str], peildatum: date, can_go_back: bool = True):
    """Ask until the answer is valid; returns the value, or None for "weet niet". Raises _Back
    when the person types `terug`, click.Abort when the input ends."""
    from engine.answer.interview import AnswerError, assessments, parse_answer

    if question.type == "vergunningen":
        return _ask_periods(eng, question, data, peildatum, can_go_back)
    if question.type == "keuze":
        _numbered(question.values, fact=question.fact)
    hint = _say({"bool": "yes_no", "keuze": "choice", "datum": "date", "bedrag": "amount"}.get(question.type, "text"))
    back = f", {_say('back')}" if can_go_back else ""
    while True:
        text = _read(f"{_question_text(question)} [{hint}, {_say('unknown')}{back}]")
        if text is None:
            raise click.Abort()
        if text.strip().lower() in UNKNOWN_ANSWERS:
            return None
        if text.strip().lower() in BACK and can_go_back:
            raise _Back()
        try:
            if question.type == "keuze":
                value = _choice(text, question.values, question.fact)
                if value is None:
                    raise AnswerError(_say("pick", len(question.values)))
            else:
                try:
                    value = parse_answer(question.type, text, question.values)
                except AnswerError:
                    if _DIALOGUE["lang"] == "nl" or question.type not in ("bool", "datum"):
                        raise
                    raise AnswerError(_say("bool_error" if question.type == "bool" else "date_error")) from None
            # assessed here, not only validated: an answer can be valid yet unusable (a term
            # from 9999-12-31 ends after the calendar), and then it is asked again
            assessments(eng, {**data, question.fact: value}, goals, peildatum)
            return value
        except (AnswerError, VerblijfsregelsError) as exc:
            _echo(f"  {_say('wrong', exc)}")


def _ask_period_details(eng, question, data: dict):
    """Fill in what periods given earlier leave out; None if nothing was filled in."""
    from engine.applicant.facts import parse_applicant
    from explain import period

    purposes = eng.kb.period_fields["verblijfsdoel"]["waarden"]
    periods = [dict(p) for p in data[question.fact]]
    filled = False
    _echo(_say("details"))
    for gap in question.incomplete:
        index = gap["index"]
        shown = parse_applicant(eng.kb, {question.fact: [periods[index]]}).values[question.fact][0]
        _echo(_say("permit", period(shown)))
        for field in gap["missing"]:
            prompt = _say("purpose") if field == "verblijfsdoel" else _say("lasting")
            if field == "verblijfsdoel":
                _numbered(purposes, "    ", "verblijfsdoel")
            while True:
                text = _prompt(f"    {prompt}").strip()
                if not text or text.lower() in UNKNOWN_ANSWERS:
                    break
                value = _yes_no(text) if field == "niet_tijdelijk" else text
                if field == "verblijfsdoel":
                    value = _choice(text, purposes, "verblijfsdoel")
                    if value is None:
                        _echo(f"    {_say('wrong', _say('pick', len(purposes)))}")
                        continue
                changed = [*periods[:index], {**periods[index], field: value}, *periods[index + 1 :]]
                try:
                    parse_applicant(eng.kb, {**data, question.fact: changed})
                    periods = changed
                    filled = True
                    break
                except VerblijfsregelsError as exc:
                    _echo(f"    {_say('wrong', exc)}")
    return periods if filled else None


def _ask_periods(eng, question, data: dict, peildatum: date, can_go_back: bool = True):
    from engine.answer.interview import AnswerError, date_text
    from engine.applicant.facts import parse_applicant

    if question.fact in data:
        return _ask_period_details(eng, question, data)
    purposes = eng.kb.period_fields["verblijfsdoel"]["waarden"]
    _echo(_question_text(question))
    periods: list[dict] = []
    while True:
        back = f", {_say('back')}" if can_go_back and not periods else ""
        ask = _say("first_permit") if not periods else _say("next_permit")
        more = _prompt(f"  {ask} [{_say('yes_no')}{back}]").strip().lower()
        if more in BACK and back:
            raise _Back()
        if more in UNKNOWN_ANSWERS and not periods:
            return None
        if more in NO:
            return periods
        if more not in YES:
            _echo(_say("yes_or_no"))
            continue
        period = {}
        for field, prompt, optional in (
            ("van", _say("start"), False),
            ("tot", _say("end"), True),
            ("verblijfsdoel", _say("purpose"), True),
            ("niet_tijdelijk", _say("lasting"), True),
        ):
            if field == "verblijfsdoel":
                _numbered(purposes, "    ", "verblijfsdoel")
            while True:
                text = _prompt(f"    {prompt}").strip()
                if not text and optional:
                    break
                value = _yes_no(text) if field == "niet_tijdelijk" else text
                try:
                    if field == "verblijfsdoel":
                        value = _choice(text, purposes, "verblijfsdoel")
                        if value is None:
                            raise AnswerError(_say("pick", len(purposes)))
                    if field in ("van", "tot"):
                        value = date_text(text)
                    parse_applicant(eng.kb, {**data, question.fact: [*periods, {**period, field: value}]})
                    period[field] = value
                    break
                except (AnswerError, VerblijfsregelsError) as exc:
                    _echo(f"    {_say('wrong', exc)}")
        periods.append(period)


def _shown_answer(kb, name: str, value) -> str:
    from explain import fact_value, fact_value_en, unmarked

    fact = kb.facts[name]
    if fact.type == "keuze" and isinstance(value, str):
        return _choice_label(value, name)
    if fact.type == "datum" and isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if fact.type == "vergunningen":
        from engine.applicant.facts import parse_applicant

        value = parse_applicant(kb, {name: value}).values[name]
    shown = fact_value if _DIALOGUE["lang"] == "nl" else fact_value_en
    return unmarked(shown(value, free_text=fact.type == "tekst"))  # the marks are for wrap_lines only


def _dialogue(eng, data: dict, skipped: set[str], goals: list[str], peildatum: date) -> None:
    """Ask until nothing asked can change an outcome, then show every answer for review.

    `terug` undoes the previous answer (or "weet niet") and asks that question again; at the
    review a number asks that question again, Enter (or the end of the input) goes on to the
    outcome. Every question shows how many may still follow: an upper bound the interview
    engine computes (engine.answer.interview.questions_left), never a guess."""
    from engine.answer.interview import next_question, question_for, questions_left

    kb = eng.kb
    # per question asked: the fact, and what it held before (answer, or skipped)
    history: list[tuple[str, bool, object, bool]] = []

    def undo() -> None:
        fact, had, before, was_skipped = history.pop()
        data.pop(fact, None)
        if had:
            data[fact] = before
        skipped.discard(fact)
        if was_skipped:
            skipped.add(fact)

    def ask(question) -> None:
        history.append((question.fact, question.fact in data, data.get(question.fact), question.fact in skipped))
        try:
            value = _ask_value(eng, question, data, goals, peildatum, can_go_back=len(history) > 1)
        except _Back:
            history.pop()
            undo()
            return
        except BaseException:
            history.pop()
            raise
        if value is None:
            if question.fact in data and kb.facts[question.fact].type != "vergunningen":
                del data[question.fact]  # changed at the review into "weet niet"
            skipped.add(question.fact)
        else:
            data[question.fact] = value
            skipped.discard(question.fact)

    while True:
        question = next_question(eng, data, goals, peildatum, frozenset(skipped))
        if question is not None:
            left = questions_left(eng, data, goals, peildatum, frozenset(skipped)) - 1
            after = _say("at_most", left) if left > 0 else _say("last")
            _echo("")
            _echo(f"{_say('question', len(history) + 1)} ({after})")
            ask(question)
            continue
        shown = [n for n in sorted(set(data) | skipped, key=lambda n: list(kb.facts).index(n))]
        if not shown:
            return
        _echo("")
        _echo(_say("answers"))
        words = _DIALOGUE["kb"] or kb
        for number, name in enumerate(shown, start=1):
            answer = _shown_answer(kb, name, data[name]) if name in data else _say("not_known")
            _echo(f"  {number}. {words.facts[name].label}: {answer}")
        while True:
            text = _read(_say("review", _say("review_back") if history else ""))
            if text is None:  # the end of the input: the answers stand
                _echo("")
                return
            choice = text.strip().lower()
            if not choice:
                return
            if choice in BACK and history:
                undo()
                break
            if choice.isascii() and choice.isdigit() and 1 <= int(choice) <= len(shown):
                name = shown[int(choice) - 1]
                if kb.facts[name].type == "vergunningen" and name in data:
                    # a permit history is given anew, not patched
                    history.append((name, True, data.pop(name), name in skipped))
                    try:
                        value = _ask_value(eng, question_for(kb, name, data), data, goals, peildatum, False)
                    except BaseException:
                        undo()
                        raise
                    if value is None:
                        undo()
                    else:
                        data[name] = value
                    break
                ask(question_for(kb, name, data))
                break
            _echo(_say("review_help", len(shown), _say("or_back") if history else ""))


def _assessment_text(kb, results, one_goal: bool, lang: str = "nl", detail: bool = False) -> str:
    """What `assess` prints for these results (by default: what the interview ends with too)."""
    from explain import render_assessment, render_overview, render_short_answer

    if detail:
        return "\n".join(render_assessment(r, kb, lang) for r in results)
    return render_short_answer(results[0], kb, lang=lang) if one_goal else render_overview(results, kb, lang)


@main.command()
@kb_option
@click.option("--goal", metavar="DOEL", help="Doel om te beslissen (standaard: elk doel).")
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(path_type=Path),
    help="Eerder gegeven antwoorden (een aanvragersbestand).",
)
@click.option(
    "--save", "save_file", type=click.Path(path_type=Path), help="Schrijf alle antwoorden als aanvragersbestand."
)
@click.option("--next", "next_only", is_flag=True, help="Geef de volgende vraag als JSON en stop.")
@peildatum_option
@lang_option
def interview(
    goal: str | None,
    answers_file: Path | None,
    save_file: Path | None,
    next_only: bool,
    peildatum: date,
    lang: str | None,
) -> None:
    """Stel alleen de vragen waarvan het antwoord de uitkomst nog kan veranderen.

    Bij elke vraag: 'terug' voor de vorige vraag, '?' als u het niet weet. Voor de uitkomst ziet
    u al uw antwoorden en kunt u er een wijzigen.
    """
    import yaml

    from engine.answer import payloads
    from engine.answer.interview import applicant_file, assessments
    from engine.applicant.facts import load_applicant_file

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
        from explain.lang import localized

        language = _lang(lang)
        _DIALOGUE.update(lang=language, kb=localized(eng.kb, language))
        try:
            _dialogue(eng, data, skipped, goals, peildatum)
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
    _echo(_assessment_text(eng.kb, results, bool(goal), language), nl=False)


@main.command()
@kb_option
@format_option
@click.option(
    "--inventory", is_flag=True, help="Elke rij van de regelinventaris (A1…G9) met de regels die haar coderen."
)
@lang_option
def rules(fmt: str, inventory: bool, lang: str | None) -> None:
    """Elke regel met id, label, bron, voorwaarden en uitzonderingen."""
    from engine.answer import payloads
    from explain import render_inventory, render_rules

    eng = _engine()
    if inventory:
        from engine.rules.inventory import inventory as build_inventory

        try:
            rows = build_inventory(eng.kb, _kb_dir())
        except VerblijfsregelsError as exc:
            raise UsageError(f"kennisbank: {exc}") from None
        if fmt == "json":
            _emit_json(payloads.inventory(eng.kb, rows))
        else:
            _echo(render_inventory(rows, eng.kb, _lang(lang)), nl=False)
        return
    if fmt == "json":
        _emit_json(payloads.rules(eng.kb))
        return
    _echo(render_rules(eng.kb, _lang(lang)), nl=False)


@main.command()
@kb_option
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=True, exists=False))
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path),
    required=True,
    help="Resultaatbestand: één rij per invoerrij, in volgorde (.csv of .jsonl).",
)
@click.option("--input-format", type=Keuze(["csv", "jsonl"]), help="Standaard: uit de extensie van INPUT.")
@click.option("--out-format", type=Keuze(["csv", "jsonl"]), help="Standaard: uit de extensie van --out.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Aantal werkprocessen.")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Draai op het Dask-cluster van deze scheduler (tcp://host:8786; de extra 'cluster'). INPUT mag "
    "dan een map met partities zijn, en --out een map (partities) of een bestand.",
)
@click.option(
    "--compare",
    "compare",
    metavar="JJJJ-MM-DD|MAP",
    help="Beoordeel ook op deze peildatum, of met deze kennisbank (een map zoals kb/), en meld wat "
    "verandert: --compare-peildatum of --compare-kb, naar gelang de waarde.",
)
@click.option(
    "--compare-peildatum",
    metavar="JJJJ-MM-DD",
    callback=lambda ctx, param, value: value and _peildatum(ctx, param, value),
    help="Beoordeel ook op deze peildatum en meld wat verandert.",
)
@click.option(
    "--compare-kb",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Beoordeel ook met deze kennisbank (een map zoals kb/) en meld wat verandert.",
)
@peildatum_option
@voorrang_option
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help="Formaat van het vergelijkingsrapport."
)
@click.pass_context
def batch(
    ctx: click.Context,
    input_file: Path,
    out_file: Path,
    input_format: str | None,
    out_format: str | None,
    jobs: int,
    scheduler: str | None,
    compare: str | None,
    compare_peildatum: date | None,
    compare_kb: Path | None,
    peildatum: date,
    voorrang: str | None,
    fmt: str,
) -> None:
    """Beoordeel elke aanvrager van een caseload (CSV of JSON Lines) voor elk doel, met leges.

    Een foute rij wordt een foutrij met haar nummer en veld, en de run gaat door; de exitcode is
    1 als een rij fout was (74 als het resultaat niet te schrijven is). Met --compare (een
    peildatum of een map met een kennisbank) wordt elke rij twee keer beoordeeld en volgt een
    rapport van veranderde uitkomsten per doel, en van veranderde leges per doel en formulier.
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
    cluster = _cluster_module(scheduler, jobs)
    eng = _engine()
    kbs = [eng.kb]
    partitions = partitioned_out = None
    try:
        if cluster and input_file.is_dir():  # a directory of partitions, read one by one
            partitions, in_fmt = cluster.partitions(input_file, input_format)
        else:
            in_fmt = guess_format(input_file, input_format)
        if cluster and (out_file.is_dir() or out_file.suffix.lower() not in (".csv", ".jsonl", ".ndjson")):
            partitioned_out = True  # a directory of result partitions, in the input's format unless told
            out_format = out_format or in_fmt
            problem = cluster.PartitionedResult.check(out_file)
            if problem:
                raise UsageError(f"--out: {problem}")
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
        if not partitioned_out:
            _check_writable(out_file, "--out")
        own = None if KB_META not in ctx.meta else str(_kb_dir().resolve())
        runs: list[tuple[str | None, date]] = [(own, peildatum)]
        if other is not None:
            runs.append((own, other))
        if compare_kb is not None:
            kbs.append(_comparison_kb(compare_kb))
            runs.append((str(compare_kb.resolve()), peildatum))
        if partitions is not None:
            cluster.check_partitions(eng.kb, partitions, in_fmt)
            rows, first = iter(()), None
        else:
            rows = read_rows(eng.kb, input_file, in_fmt)
            first = next(rows, None)  # header and file problems surface before the output is touched
    except VerblijfsregelsError as exc:
        raise UsageError(str(exc)) from None

    # two rule bases may have different goals: every goal of either gets its columns
    goals = tuple(sorted(set().union(*(kb.goals for kb in kbs))))
    fee_goals = tuple(sorted(set().union(*map(goals_with_fees, kbs))))
    suffixes = ("",) if len(runs) == 1 else ("_a", "_b")
    run_versions = tuple(k.version for k in (kbs[0], kbs[-1])[: len(runs)])  # run b's rules: kbs[-1]
    row_format = RowFormat(out_format, goals, fee_goals, suffixes, eng.kb.version, run_versions)
    labels = (f"peildatum {peildatum}", f"peildatum {other}" if other else f"kennisbank {compare_kb}")
    comparison = Comparison(labels, (kbs[0].version, kbs[-1].version)) if len(runs) > 1 else None
    failed = 0
    if partitioned_out:
        result_file = cluster.PartitionedResult(
            out_file,
            row_format,
            lambda exc: OutputError(f"--out: kan {escaped(str(out_file))} niet schrijven: {exc.strerror}"),
        )
    else:
        result_file = _ResultFile(out_file, "--out")
    try:
        with result_file as handle, _progress(eng.kb, input_file, in_fmt, partitions) as bar:
            try:
                writer = handle if partitioned_out else Writer(handle, row_format)
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
                if cluster:
                    _run_on_cluster(cluster, scheduler, eng.kb, partitions, in_fmt, all_rows, job, on_chunk, writer)
                else:
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
        click.echo(f"{failed} rij(en) met een fout; zie de kolom 'error' in {escaped(str(out_file))}", err=True)
        ctx.exit(1)


class ClusterFailure(UsageError):
    """The cluster cannot run the caseload: one line, and exit code 69 (EX_UNAVAILABLE of sysexits.h)."""

    exit_code = 69


def _cluster_module(scheduler: str | None, jobs: int):
    """engine.answer.cluster when --scheduler is given (imported only then), or None."""
    if scheduler is None:
        return None
    if jobs != 1:
        raise UsageError("--jobs met --scheduler: het aantal workers is dat van de cluster; laat --jobs weg")
    from engine.answer import cluster

    try:
        cluster.require()
    except cluster.ClusterError as exc:
        raise UsageError(str(exc)) from None
    return cluster


def _run_on_cluster(cluster, scheduler, kb, partitions, in_fmt, rows, job, on_chunk, writer) -> None:
    """Partitions the workers can read at the same path are read by them; anything else is read
    here and sent."""
    on_partition = getattr(writer, "begin", None)
    try:
        client = cluster.connect(scheduler)
        try:
            if partitions is not None and cluster.workers_see(client, partitions):
                cluster.run_partitions_on_workers(client, partitions, in_fmt, job, on_chunk, on_partition)
            else:
                chunks = (
                    cluster.chunks_of_file(rows)
                    if partitions is None
                    else cluster.chunks_of_partitions(kb, partitions, in_fmt)
                )
                cluster.run_on_cluster(client, chunks, job, on_chunk, on_partition)
        finally:
            client.close()
    except cluster.ClusterError as exc:
        raise ClusterFailure(str(exc)) from None


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
def _progress(kb, input_file: Path, fmt: str, partitions=None):
    """The progress bar on a terminal (None elsewhere). The rows are counted beforehand only in a
    regular file or in partitions: a pipe or FIFO can be read once, and counting would consume the caseload."""
    if not sys.stderr.isatty():
        yield None
        return
    try:
        regular = stat.S_ISREG(os.stat(input_file).st_mode)
    except OSError:
        regular = False
    if partitions is not None:
        from engine.answer.cluster import count_partition_rows

        bar = click.progressbar(length=count_partition_rows(kb, partitions, fmt), label="beoordelen", file=sys.stderr)
    elif regular:
        from engine.answer.batch import count_rows

        bar = click.progressbar(length=count_rows(kb, input_file, fmt), label="beoordelen", file=sys.stderr)
    else:  # no total: the bar shows how many rows are done
        bar = click.progressbar(itertools.repeat(None), label="beoordelen", show_pos=True, file=sys.stderr)
    with bar:
        yield bar


AUDIT_FORMATS = ("text", "json", "html", "sarif", "junit")


def _audit_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value not in AUDIT_FORMATS:
        raise UsageError(f"--format: kreeg '{visible(value)}'; toegestaan: {', '.join(AUDIT_FORMATS)}")
    return value


@main.command()
@kb_option
@peildatum_option
@click.option(
    "--format",
    "fmt",
    default="text",
    show_default=True,
    callback=_audit_format,
    metavar="|".join(AUDIT_FORMATS),
    help="Tekst, het JSON-rapport met versie, één HTML-pagina met de regelgraaf per doel, SARIF 2.1.0 "
    "voor reviewtools, of een JUnit-XML-rapport.",
)
@click.option("--strict", is_flag=True, help="Exitcode 1 als een bevinding van ernst 'fout' niet in kb/ verklaard is.")
@click.option(
    "--graph", is_flag=True, help="Geef de afhankelijkheden van de regels als Graphviz DOT in plaats van het rapport."
)
@click.option("--goal", metavar="DOEL", help="Met --graph: alleen het deel van de graaf van dit doel.")
@click.option(
    "--against",
    metavar="MAP|REVISIE",
    help="Vergelijk met een andere kennisbank (een map, of een git-revisie van kb/ in deze checkout): "
    "bevindingen, declaraties en, voor elk doel en elke leges, de situaties waarvan het antwoord verandert.",
)
@click.pass_context
def audit(
    ctx: click.Context, peildatum: date, fmt: str, strict: bool, graph: bool, goal: str | None, against: str | None
) -> None:
    """Controleer de hele kennisbank: tegenstrijdigheden, leemten, dode en overbodige regels,
    bronnen, tijd en structuur.

    Elke bevinding noemt haar regels en bronnen en, waar een situatie meespeelt, een minimaal
    aanvragersbestand dat haar reproduceert. De zoektocht dekt elke situatie die de regels
    onderscheiden; het rapport zegt hoeveel per doel.
    """
    from engine.checks.audit import audit_directory

    kb_dir = _kb_dir()
    if goal is not None and not graph:
        raise UsageError("--goal: alleen met --graph (de graaf van één doel)")
    if against is not None:
        if graph or fmt in ("sarif", "junit"):
            raise UsageError(
                "--against: geeft een vergelijking als text, json of html; niet met --graph, sarif of junit"
            )
        _audit_diff(ctx, kb_dir, against, peildatum, fmt, strict)
        return
    if graph and goal is not None:
        kb = _engine().kb
        if goal not in kb.goals:
            raise UsageError(f"--goal: onbekend doel '{visible(goal)}'; toegestaan: {', '.join(sorted(kb.goals))}")
    try:
        report = audit_directory(kb_dir, peildatum)
    except VerblijfsregelsError as exc:
        raise UsageError(f"audit: {exc}") from None
    if graph:
        if not report.graph:
            raise UsageError(f"kennisbank: {report.findings[0].message}")
        if goal is not None:
            from engine.checks.audit_graph import dot

            _echo(dot(kb, report.findings, goal), nl=False)
        else:
            _echo(report.graph, nl=False)
    elif fmt == "json":
        _emit_json(report.to_json())
    elif fmt == "sarif":
        from engine.checks.report_formats import sarif_text

        _echo(sarif_text(report), nl=False)
    elif fmt == "junit":
        from engine.checks.report_formats import junit

        _echo(junit(report), nl=False)
    elif fmt == "html":
        from explain import render_audit_html

        kb = None if not report.graph else _engine().kb
        _echo(render_audit_html(report, kb=kb), nl=False)
    else:
        from explain import render_audit

        _echo(render_audit(report), nl=False)
    if strict and report.failed:
        ctx.exit(1)


def _audit_diff(ctx: click.Context, kb_dir: Path, against: str, peildatum: date, fmt: str, strict: bool) -> None:
    """`audit --against`: the other rule base is the before, the audited one the after."""
    from engine.checks.diff import compare, other_rule_base

    try:
        with other_rule_base(against, kb_dir) as (before_dir, before_name):
            after_name = f"map {kb_dir}" if KB_META in ctx.meta else "kb/ van dit programma"
            report = compare(before_dir, kb_dir, peildatum, before_name, after_name)
    except VerblijfsregelsError as exc:
        raise UsageError(str(exc)) from None
    if fmt == "json":
        _emit_json(report.to_json())
    elif fmt == "html":
        from explain import render_audit_diff_html

        _echo(render_audit_diff_html(report), nl=False)
    else:
        from explain import render_audit_diff

        _echo(render_audit_diff(report), nl=False)
    if strict and report.after_fails:
        ctx.exit(1)


@main.command()
@kb_option
@click.option(
    "--data",
    "data_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Opgenomen dekking (standaard: $VERBLIJFSREGELS_COVERAGE of .kb-coverage.json).",
)
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="PREFIX",
    help="Alleen wat deze testbestanden opnamen, bijvoorbeeld tests/test_scenarios.py (herhaalbaar).",
)
@format_option
def coverage(data_file: Path | None, contexts: tuple[str, ...], fmt: str) -> None:
    """Welke regels afgingen, welke uitzonderingen golden en welke voorwaarden zowel waar als
    onwaar werden gezien.

    Neem op met `pytest --kb-coverage=FILE` (of VERBLIJFSREGELS_COVERAGE=FILE bij elke run).
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
    eng = _engine()
    if data.get("kb_version") != eng.kb.version:  # counts of other rules: shown, with a warning
        click.echo(
            f"let op: {escaped(str(path))} is opgenomen met een andere versie van de regels "
            f"({data.get('kb_version') or 'onbekend'}; nu {eng.kb.version}); neem opnieuw op",
            err=True,
        )
    with cov.paused():
        rep = cov.report(eng, data, list(contexts) or None)
    if fmt == "json":
        _emit_json(rep)
        return
    _echo(cov.render_text(rep), nl=False)


@main.command()
@kb_option
@click.option("--limit", type=click.IntRange(1), metavar="N", help="Alleen de eerste N mutanten.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Aantal werkprocessen.")
@click.option(
    "--only",
    multiple=True,
    metavar="ID",
    help="Alleen mutanten van deze declaratie (regel-id, grootheid, parameter; herhaalbaar).",
)
@click.option(
    "--examples",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    help="Voorbeelden per eigenschap en mutant (vast, voor elke mutant dezelfde).",
)
@click.option(
    "--diff",
    "differential",
    type=click.IntRange(0),
    default=1500,
    show_default=True,
    help="Gegenereerde aanvragers voor de verschiltoets van overlevers (0: overslaan).",
)
@click.option(
    "--equivalents",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Overlevers waarvan bekend is dat ze gelijkwaardig zijn, met reden (standaard: tests/mutation_equivalents.yaml).",
)
@click.option(
    "--backend",
    type=Keuze(["setwise", "datalog"]),
    default="setwise",
    show_default=True,
    help="Evaluator voor de mutanten.",
)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Exitcode 1 als de mutatiescore lager is.",
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
    """Verander de declaraties telkens een kleine stap en meld de mutanten die de tests missen.

    Elke mutant wordt getoetst met de scenario's van tests/scenarios en de eigenschappen van
    tests/test_invariants.py; een overlever staat erbij met waarom hij gelijkwaardig is, of met
    een aanvrager voor wie hij het antwoord verandert.
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
            kb_dir=_kb_dir(),
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
@kb_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Adres om op te luisteren (standaard: alleen deze machine)."
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Poort om op te luisteren."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Aantal werkprocessen (elk laadt de regels één keer).",
)
@click.option(
    "--why-not-seconds",
    type=click.FloatRange(0, 600, min_open=True),
    default=2.0,
    show_default=True,
    help="Hoe lang één why-not (of beslissingspagina) naar reparaties mag zoeken voor hij stopt met 503.",
)
def serve(host: str, port: int, workers: int, why_not_seconds: float) -> None:
    """Bied de webapplicatie en de HTTP-API (/v1) aan tot Ctrl-C."""
    from engine.web.serve import serve as run

    _engine()  # a rule base that does not load is said here, once, not by every worker
    # the workers start the application themselves, so --kb reaches them through their environment
    os.environ[SERVE_KB] = str(_kb_dir().resolve())
    try:
        run(host, port, workers, why_not_seconds)
    except OSError as exc:
        import errno

        reason = "het adres is al in gebruik" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise UsageError(f"kan niet luisteren op {host}:{port}: {reason}") from None


@main.command()
@kb_option
@click.option(
    "--kind",
    type=Keuze(
        [
            "applicant",
            "assessment",
            "overview",
            "fees",
            "why-not",
            "interview-step",
            "rules",
            "inventory",
            "batch-row",
            "batch-compare",
            "audit",
            "audit-diff",
            "mutation-report",
            "kb-coverage",
            "kb-coverage-report",
        ]
    ),
    default="applicant",
    show_default=True,
    help="Het aanvragersbestand, of de JSON die assess, fees, why-not, interview --next, rules, batch (een rij, of "
    "met --compare-peildatum of --compare-kb de vergelijking), audit, audit --against, mutate of coverage geeft, of "
    "het bestand dat pytest --kb-coverage schrijft.",
)
def schema(kind: str) -> None:
    """Geef het JSON Schema van een aanvragersbestand of van elke JSON-uitvoer."""
    if kind in ("audit", "audit-diff", "mutation-report", "kb-coverage", "kb-coverage-report"):
        import engine.checks

        name = kind.replace("-", "_")
        _echo((Path(engine.checks.__file__).parent / f"{name}.schema.json").read_text(encoding="utf-8"), nl=False)
        return
    if kind == "batch-compare":  # not in payloads.SCHEMA_FILES: the HTTP API gives no comparison
        from engine.answer.assess import ASSESSMENT_SCHEMA

        _echo(ASSESSMENT_SCHEMA.with_name("batch_compare.schema.json").read_text(encoding="utf-8"), nl=False)
        return
    if kind != "applicant":
        from engine.answer.assess import ASSESSMENT_SCHEMA
        from engine.answer.payloads import SCHEMA_FILES

        name = SCHEMA_FILES[kind]
        _echo(ASSESSMENT_SCHEMA.with_name(f"{name}.schema.json").read_text(encoding="utf-8"), nl=False)
        return
    from engine.applicant.facts import json_schema
    from engine.rules.model import load_knowledge_base

    try:
        kb = load_knowledge_base(_kb_dir())
    except VerblijfsregelsError as exc:
        raise UsageError(f"kennisbank: {exc}") from None
    _emit_json(json_schema(kb))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
