"""The rule model: the declarations of `kb/` read from YAML (engine.rules.declarations) and
checked before anything is compiled; every mistake in a rule base is refused here, with where it is.

The declarations' names can be imported from here as well. What a cold command imports is kept
to engine.rules.declarations: a command answering from the cache (engine.rules.cache) never
reads YAML rules, so it neither imports this module nor pays for its checks.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from engine.errors import KnowledgeBaseError
from engine.graph import graph_of, strongly_connected
from engine.rules.declarations import (  # noqa: F401 - also this module's names, as before the split
    ASSUMPTION_FILE,
    AUDIT_KINDS,
    COMPARATORS,
    DURATION_UNITS,
    FACT_TYPES,
    KB_DIR,
    PEILDATUM,
    AcknowledgedDisagreement,
    All,
    Any_,
    Assumption,
    Atom,
    AuditNote,
    Compare,
    Constraint,
    Disagreement,
    Expr,
    Fact,
    FeePrecedence,
    FeeRange,
    FeeRule,
    Form,
    Goal,
    GoalAssumption,
    KnowledgeBase,
    Not,
    Parameter,
    ParameterValue,
    Quantity,
    Reason,
    Rule,
    Source,
    SourcePage,
    SourcePrecedence,
    date_order,
    declaration_fields,
    dependency_edges,
    expr_names,
    fact_with_role,
    period_messages,
    period_not_before,
    requires,
)

INVENTORY_ROW = re.compile(r"^[A-G][0-9]+$")
RULE_ID = re.compile(r"^[A-G][0-9]*(\.[a-z0-9_]+)?$|^[A-G][0-9]+(\+[A-G][0-9]+)+$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# An assumption (`aanname`) is a declaration the seeds do not state: it names no inventory row.
ASSUMPTION_ID = re.compile(r"^aanname\.[a-z0-9_]+$")


def _note_dates(raw: Any, where: str) -> tuple[date | None, date | None]:
    """`peildata: {vanaf: D, tot: D}` of an audit explanation (either may be left out)."""
    if raw is None:
        return None, None
    if not isinstance(raw, dict) or not raw or set(raw) - {"vanaf", "tot"}:
        raise KnowledgeBaseError(f"{where}: 'peildata' heeft 'vanaf' en/of 'tot' (datums)")
    got = []
    for key in ("vanaf", "tot"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise KnowledgeBaseError(f"{where}: peildata '{key}' is een datum (JJJJ-MM-DD)")
        got.append(value)
    if got[0] and got[1] and got[0] >= got[1]:
        raise KnowledgeBaseError(f"{where}: peildata 'vanaf' ligt niet vóór 'tot'")
    return got[0], got[1]


def _acknowledged(raw: Any, path: Path) -> AcknowledgedDisagreement:
    allowed = {"id", "label", "bevindingen", "citaten", "toelichting"}
    if not isinstance(raw, dict) or set(raw) != allowed:
        raise KnowledgeBaseError(
            f"{path.name} [erkende_bronverschillen]: elk heeft precies {', '.join(sorted(allowed))}"
        )
    did = str(raw["id"])
    where = _where(path, did)
    keys = raw["bevindingen"]
    if (
        not isinstance(keys, list)
        or not keys
        or not all(isinstance(k, str) and k.startswith("bronverschil/") for k in keys)
    ):
        raise KnowledgeBaseError(f"{where}: 'bevindingen' is een lijst van sleutels van bronverschil-bevindingen")
    if any(c in k for k in keys for c in "*?[]"):
        raise KnowledgeBaseError(f"{where}: 'bevindingen' noemt elke bevinding precies, zonder *")
    if not isinstance(raw["citaten"], list):
        raise KnowledgeBaseError(f"{where}: 'citaten' is een lijst van {{bestand, citaat}}")
    sources = tuple(_source(c, where) for c in raw["citaten"])
    files = {c.file for c in sources}
    if len(files) < 2 or not all(SEED_FILE.match(f) for f in files):
        raise KnowledgeBaseError(
            f"{where}: 'citaten' citeert elk van de bronnen die verschillen (minstens twee bronpagina's)"
        )
    explanation = " ".join(str(raw["toelichting"] or "").split())
    if not explanation or not str(raw["label"] or "").strip():
        raise KnowledgeBaseError(f"{where}: noem 'label' en 'toelichting'")
    return AcknowledgedDisagreement(did, " ".join(str(raw["label"]).split()), tuple(keys), sources, explanation, where)


# -- loading ----------------------------------------------------------------------------------


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path.name}: geen geldige YAML ({exc})") from None


def _where(path: Path, key: str) -> str:
    return f"{path.parent.name}/{path.name} [{key}]"


def parse_expr(raw: Any, where: str) -> Expr:
    if isinstance(raw, str):
        return Atom(raw)
    if isinstance(raw, dict):
        if "waarde" in raw:
            ops = [k for k in raw if k != "waarde"]
            if len(ops) != 1 or ops[0] not in COMPARATORS:
                raise KnowledgeBaseError(
                    f"{where}: een vergelijking heeft 'waarde' en precies één van "
                    f"{', '.join(COMPARATORS)}; kreeg {sorted(raw)}"
                )
            value = raw[ops[0]]
            if ops[0] == "in":
                if not isinstance(value, list) or not value:
                    raise KnowledgeBaseError(f"{where}: 'in' verwacht een niet-lege lijst")
                value = tuple(value)
            return Compare(raw["waarde"], ops[0], value)
        if len(raw) != 1:
            raise KnowledgeBaseError(
                f"{where}: een voorwaarde heeft één sleutel (alle, een_van, niet, waarde); kreeg {sorted(raw)}"
            )
        ((key, value),) = raw.items()
        if key == "niet":
            return Not(parse_expr(value, where))
        if key in ("alle", "een_van"):
            if not isinstance(value, list) or not value:
                raise KnowledgeBaseError(f"{where}: '{key}' verwacht een niet-lege lijst")
            operands = tuple(parse_expr(v, where) for v in value)
            return All(operands) if key == "alle" else Any_(operands)
        raise KnowledgeBaseError(f"{where}: onbekende sleutel '{key}' (toegestaan: alle, een_van, niet, waarde)")
    raise KnowledgeBaseError(f"{where}: een voorwaarde is een naam of een mapping, geen {type(raw).__name__}")


def _source(raw: Any, where: str) -> Source:
    if not isinstance(raw, dict) or not raw.get("bestand") or not raw.get("citaat"):
        raise KnowledgeBaseError(f"{where}: 'bron' moet 'bestand' en 'citaat' hebben")
    return Source(str(raw["bestand"]), str(raw["citaat"]).strip())


def _rule(raw: dict, path: Path) -> Rule:
    rid = str(raw.get("id", ""))
    where = _where(path, rid or "?")
    assumption = _assumption(raw, rid, where)
    if not RULE_ID.match(rid) and assumption is None:
        raise KnowledgeBaseError(f"{where}: regel-id '{rid}' noemt geen inventarisrij (zoals C13 of A9.mensenhandel)")
    allowed = {
        "id",
        "label",
        "conclusie",
        "bron",
        "voorwaarden",
        "uitzondering_op",
        "van_toepassing_als",
        "soort",
        "doelen",
        "toelichting",
        "verwijzing",
        "geldig_van",
        "geldig_tot",
        "vanaf",
        "duur",
        "dekt",
        "formulier",
        "audit",
        "aanname",
    }
    extra = set(raw) - allowed
    if extra:
        raise KnowledgeBaseError(f"{where}: onbekende sleutel(s) {sorted(extra)}; toegestaan: {sorted(allowed)}")
    if not raw.get("label"):
        raise KnowledgeBaseError(f"{where}: elke regel heeft een Nederlands 'label'")
    kind = raw.get("soort", "regel")
    exception_to = raw.get("uitzondering_op")
    if exception_to:
        kind = "uitzondering"
        if raw.get("conclusie"):
            raise KnowledgeBaseError(
                f"{where}: een uitzondering neemt de conclusie over van de regel waarop zij een uitzondering is"
            )
        if "van_toepassing_als" not in raw:
            raise KnowledgeBaseError(f"{where}: een uitzondering heeft 'van_toepassing_als'")
    elif kind == "regel":
        if not raw.get("conclusie") or "voorwaarden" not in raw:
            raise KnowledgeBaseError(f"{where}: een regel heeft 'conclusie' en 'voorwaarden'")
    elif kind in ("gevolg", "termijn"):
        if not raw.get("doelen"):
            raise KnowledgeBaseError(f"{where}: een {kind} noemt de 'doelen' waarvoor het geldt")
    else:
        raise KnowledgeBaseError(f"{where}: 'soort' is regel, gevolg of termijn, niet '{kind}'")
    duration = None
    if kind == "termijn":
        raw_duration = raw.get("duur")
        if (
            not isinstance(raw_duration, dict)
            or len(raw_duration) != 1
            or next(iter(raw_duration)) not in DURATION_UNITS
        ):
            raise KnowledgeBaseError(f"{where}: een termijn heeft 'duur' met één van {', '.join(DURATION_UNITS)}")
        ((unit, amount),) = raw_duration.items()
        duration = (unit, int(amount))
    for key in ("geldig_van", "geldig_tot"):
        if key in raw and not isinstance(raw[key], date):
            raise KnowledgeBaseError(f"{where}: '{key}' is een datum (JJJJ-MM-DD)")
    covers = tuple(str(c) for c in raw.get("dekt", ()))
    for row in covers:
        if not INVENTORY_ROW.match(row):
            raise KnowledgeBaseError(f"{where}: 'dekt' noemt inventarisrijen zoals D1; kreeg '{row}'")
    conditions = parse_expr(raw["voorwaarden"], where) if "voorwaarden" in raw else None
    conclusion = raw.get("conclusie")
    if kind in ("gevolg", "termijn") and conditions is not None and not conclusion:
        # a consequence that holds only under conditions is a rule with a conclusion of its own
        conclusion = f"{kind}_" + re.sub(r"[^a-z0-9]+", "_", rid.lower())
    applies = parse_expr(raw["van_toepassing_als"], where) if "van_toepassing_als" in raw else None
    return Rule(
        id=rid,
        label=" ".join(str(raw["label"]).split()),
        source=Source(ASSUMPTION_FILE, assumption.basis) if assumption else _source(raw.get("bron"), where),
        conclusion=conclusion,
        conditions=conditions,
        exception_to=exception_to,
        applies_when=applies,
        kind=kind,
        goals=tuple(raw.get("doelen", ())),
        explanation=" ".join(str(raw.get("toelichting", "")).split()),
        reference=" ".join(str(raw.get("verwijzing", "")).split()),
        file=f"{path.parent.name}/{path.name}",
        valid_from=raw.get("geldig_van"),
        valid_until=raw.get("geldig_tot"),
        start=raw.get("vanaf"),
        duration=duration,
        covers=covers,
        form=str(raw["formulier"]) if "formulier" in raw else None,
        audit=_rule_audit(raw, rid, where),
        assumption=assumption,
    )


def _assumption(raw: dict, rid: str, where: str) -> Assumption | None:
    """`aanname: {grondslag, reden}`: a plain rule that no seed states, with id aanname.<naam>."""
    if "aanname" not in raw:
        if ASSUMPTION_ID.match(rid):
            raise KnowledgeBaseError(f"{where}: een id aanname.<naam> is voor een declaratie met 'aanname'")
        return None
    if not ASSUMPTION_ID.match(rid):
        raise KnowledgeBaseError(
            f"{where}: een declaratie met 'aanname' heeft een id aanname.<naam>; zij codeert geen inventarisrij"
        )
    if "bron" in raw:
        raise KnowledgeBaseError(f"{where}: een aanname heeft geen 'bron' (geen citaat uit de bronnen) maar 'aanname'")
    if raw.get("uitzondering_op") or raw.get("soort", "regel") != "regel":
        raise KnowledgeBaseError(
            f"{where}: alleen een regel kan een aanname zijn, geen uitzondering, gevolg of termijn"
        )
    note = raw["aanname"]
    basis = " ".join(str(note.get("grondslag") or "").split()) if isinstance(note, dict) else ""
    reason = " ".join(str(note.get("reden") or "").split()) if isinstance(note, dict) else ""
    if not isinstance(note, dict) or set(note) != {"grondslag", "reden"} or not basis or not reason:
        raise KnowledgeBaseError(
            f"{where}: 'aanname' heeft precies 'grondslag' (bijvoorbeeld een wetsartikel) en 'reden'"
        )
    return Assumption(basis, reason)


NOTE_KEYS = {"reden", "bron", "datum", "vingerafdruk", "peildata"}


def _note_fields(note: dict, where: str, default_source: Source | None = None) -> dict[str, Any]:
    """`reden`, `bron` (a seed file or the rule inventory), `datum` and `vingerafdruk` of an explanation."""
    reason = " ".join(str(note.get("reden") or "").split())
    if not reason:
        raise KnowledgeBaseError(f"{where}: een audit-verklaring noemt de 'reden'")
    if note.get("bron") is None and default_source is None:
        raise KnowledgeBaseError(f"{where}: een audit-verklaring noemt de 'bron' (bestand en citaat) waarop zij rust")
    source = _source(note["bron"], where) if note.get("bron") is not None else default_source
    if source.file != INVENTORY_FILE and not SEED_FILE.match(source.file):
        raise KnowledgeBaseError(
            f"{where}: bron '{source.file}' is geen bestand uit shared/seeds en niet {INVENTORY_FILE}"
        )
    written = note.get("datum")
    if not isinstance(written, date) or isinstance(written, datetime):
        raise KnowledgeBaseError(
            f"{where}: een audit-verklaring noemt de 'datum' waarop zij is geschreven (JJJJ-MM-DD)"
        )
    fingerprint = note.get("vingerafdruk")
    if fingerprint is not None and not re.fullmatch(r"[0-9a-f]{16}", str(fingerprint)):
        raise KnowledgeBaseError(
            f"{where}: 'vingerafdruk' is de vingerafdruk die de audit bij de bevinding drukt (16 tekens 0-9a-f)"
        )
    return {"reason": reason, "source": source, "written": written, "fingerprint": str(fingerprint or "")}


def _rule_audit(raw: dict, rid: str, where: str) -> AuditNote | None:
    """`audit: {verwacht: dood, reden, datum, vingerafdruk}`: the audit gives this finding for this
    rule, and why; the quote it rests on is the rule's own unless `bron` names another."""
    if "audit" not in raw:
        return None
    note = raw["audit"]
    if not isinstance(note, dict) or not {"verwacht", "reden"} <= set(note) <= NOTE_KEYS | {"verwacht"}:
        raise KnowledgeBaseError(
            f"{where}: 'audit' heeft 'verwacht' (één soort bevinding), 'reden' en 'datum', en naar keuze "
            "'vingerafdruk', 'bron' en 'peildata'"
        )
    kind = note["verwacht"]
    if kind not in AUDIT_KINDS:
        raise KnowledgeBaseError(f"{where}: audit verwacht '{kind}' (één soort); soorten: {', '.join(AUDIT_KINDS)}")
    own = _source(raw["bron"], where) if isinstance(raw.get("bron"), dict) else None
    fields = _note_fields(note, where, own)
    return AuditNote(
        (f"{kind}/{rid}",),
        where=where,
        **fields,
        **dict(zip(("from_", "until"), _note_dates(note.get("peildata"), where))),
    )


def _audit_section(raw: Any, path: Path) -> list[AuditNote]:
    """Section `audit`: a list of {sleutel: <one finding key>, reden, bron, datum, vingerafdruk, peildata?}."""
    if not isinstance(raw, list):
        raise KnowledgeBaseError(f"{path.name}: sectie 'audit' is een lijst van {{sleutel, reden, bron, datum}}")
    notes = []
    for item in raw:
        if not isinstance(item, dict) or not {"sleutel", "reden"} <= set(item) <= NOTE_KEYS | {"sleutel"}:
            raise KnowledgeBaseError(
                f"{path.name} [audit]: elke verklaring heeft 'sleutel', 'reden', 'bron' en 'datum', en naar keuze "
                "'vingerafdruk' en 'peildata'"
            )
        key = item["sleutel"]
        if not isinstance(key, str) or any(c in key for c in "*?[]"):
            raise KnowledgeBaseError(
                f"{path.name} [audit]: sleutel {key!r}: een verklaring noemt precies één bevinding, zonder * of "
                "lijst (een patroon zou ook een toekomstige bevinding verklaren)"
            )
        where = _where(path, key)
        if key.split("/", 1)[0] not in AUDIT_KINDS:
            raise KnowledgeBaseError(
                f"{where}: sleutel '{key}' begint niet met een soort bevinding ({', '.join(AUDIT_KINDS)})"
            )
        fields = _note_fields(item, where)
        notes.append(
            AuditNote(
                (key,), where=where, **fields, **dict(zip(("from_", "until"), _note_dates(item.get("peildata"), where)))
            )
        )
    return notes


SECTIONS = (
    "feiten",
    "vergunningsperiode",
    "grootheden",
    "regels",
    "bronverschillen",
    "erkende_bronverschillen",
    "doelen",
    "formulieren",
    "parameters",
    "leges",
    "leges_bandbreedte",
    "aanvraag_voor_doel",
    "voorrang",
    "beperkingen",
    "audit",
    "bronnen",
)


def _fact(name: str, raw: dict, where: str) -> Fact:
    if not NAME.match(name):
        raise KnowledgeBaseError(f"{where}: feitnamen zijn Nederlandse snake_case")
    if raw.get("type") not in FACT_TYPES:
        raise KnowledgeBaseError(f"{where}: type '{raw.get('type')}' onbekend; toegestaan: {', '.join(FACT_TYPES)}")
    if not raw.get("vraag") or not raw.get("label") or "wijzigbaar" not in raw:
        raise KnowledgeBaseError(f"{where}: elk feit heeft 'label', 'vraag' en 'wijzigbaar'")
    if raw["type"] == "keuze" and not raw.get("waarden"):
        raise KnowledgeBaseError(f"{where}: een keuzefeit noemt zijn 'waarden'")
    not_before = raw.get("niet_voor") or ()
    not_before = [not_before] if isinstance(not_before, str) else not_before
    if not_before and (
        raw["type"] != "datum" or not isinstance(not_before, list) or not all(isinstance(n, str) for n in not_before)
    ):
        raise KnowledgeBaseError(
            f"{where}: 'niet_voor' hoort bij een datumfeit en noemt een datumfeit of een lijst ervan"
        )
    messages = _messages(raw, not_before, where)
    not_after = raw.get("niet_na") or ()
    not_after = [not_after] if isinstance(not_after, str) else not_after
    if not_after and (raw["type"] != "datum" or not_after != [PEILDATUM]):
        raise KnowledgeBaseError(f"{where}: 'niet_na' hoort bij een datumfeit en noemt '{PEILDATUM}'")
    role = raw.get("rol")
    if role is not None and not (isinstance(role, str) and NAME.match(role)):
        raise KnowledgeBaseError(f"{where}: 'rol' is een naam in Nederlandse snake_case")
    return Fact(
        name=name,
        type=raw["type"],
        label=" ".join(str(raw["label"]).split()),
        question=" ".join(str(raw["vraag"]).split()),
        changeable=bool(raw["wijzigbaar"]),
        open_norm=bool(raw.get("open_norm", False)),
        values=tuple(str(v) for v in raw.get("waarden", ())),
        not_before=tuple(not_before),
        messages=messages,
        not_after=tuple(not_after),
        role=role,
    )


def _messages(raw: dict, not_before: Any, where: str) -> tuple[tuple[str, str], ...]:
    """`melding`: a mapping from dates named in `niet_voor` to the text a refusal gives instead of
    the generic one."""
    messages = raw.get("melding")
    if messages is None:
        return ()
    if (
        not isinstance(messages, dict)
        or not all(k in not_before for k in messages)
        or not all(isinstance(v, str) and v.strip() for v in messages.values())
    ):
        raise KnowledgeBaseError(f"{where}: 'melding' is een mapping van een datumfeit uit 'niet_voor' naar een tekst")
    return tuple((k, " ".join(v.split())) for k, v in messages.items())


def _quantity(name: str, raw: dict, where: str) -> Quantity:
    if raw.get("type") not in ("getal", "bool", "datum", "tekst"):
        raise KnowledgeBaseError(f"{where}: het type van een grootheid is getal, bool, datum of tekst")
    function = raw.get("functie")
    from engine.tijd import FUNCTIONS  # only calendar arithmetic; no rules live there

    if function not in FUNCTIONS:
        raise KnowledgeBaseError(
            f"{where}: onbekende functie '{function}'; beschikbaar: {', '.join(sorted(FUNCTIONS))}"
        )
    return Quantity(
        name=name,
        type=raw["type"],
        label=" ".join(str(raw["label"]).split()),
        function=raw["functie"],
        inputs=tuple(raw.get("invoer", ())),
        parameters=tuple(
            sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (raw.get("parameters") or {}).items())
        ),
        unit=raw.get("eenheid", ""),
        rule_id=raw.get("regel"),
        source=_source(raw["bron"], where) if "bron" in raw else None,
    )


def _parameter(name: str, raw: dict, where: str) -> Parameter:
    if raw.get("eenheid") != "eurocent":
        raise KnowledgeBaseError(f"{where}: bedragen zijn gehele eurocenten ('eenheid: eurocent')")
    values = []
    for item in raw.get("waarden") or ():
        value = item.get("waarde")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise KnowledgeBaseError(f"{where}: 'waarde' is een niet-negatief geheel aantal eurocenten, geen {value!r}")
        valid_from = item.get("vanaf")
        if valid_from is not None and not isinstance(valid_from, date):
            raise KnowledgeBaseError(f"{where}: 'vanaf' is een datum of leeg (ongedateerde bron)")
        values.append(ParameterValue(valid_from, value, _source(item.get("bron"), where)))
    if not values:
        raise KnowledgeBaseError(f"{where}: een parameter heeft minstens één waarde")
    return Parameter(name, " ".join(str(raw.get("label", name)).split()), tuple(values))


def _fee_rule(raw: dict, path: Path) -> FeeRule:
    rid = str(raw.get("id", ""))
    where = _where(path, rid or "?")
    if not RULE_ID.match(rid):
        raise KnowledgeBaseError(f"{where}: regel-id '{rid}' noemt geen inventarisrij (zoals G4 of G4.mensenhandel)")
    allowed = {
        "id",
        "label",
        "formulier",
        "bron",
        "bedrag",
        "van_toepassing_als",
        "uitzondering_op",
        "toelichting",
        "dekt",
        "audit",
        "gaat_voor",
    }
    extra = set(raw) - allowed
    if extra:
        raise KnowledgeBaseError(f"{where}: onbekende sleutel(s) {sorted(extra)}; toegestaan: {sorted(allowed)}")
    for key in ("label", "formulier", "bedrag"):
        if not raw.get(key):
            raise KnowledgeBaseError(f"{where}: een legesregel heeft '{key}'")
    if raw.get("uitzondering_op") and "van_toepassing_als" not in raw:
        raise KnowledgeBaseError(f"{where}: een uitzondering heeft 'van_toepassing_als'")
    precedence = None
    if "gaat_voor" in raw:
        spec = raw["gaat_voor"]
        if not isinstance(spec, dict) or not spec.get("regels") or set(spec) != {"regels", "reden", "bron"}:
            raise KnowledgeBaseError(
                f"{where}: 'gaat_voor' heeft 'regels' (de uitzonderingen waar deze voor gaat), 'reden' en 'bron'"
            )
        if not raw.get("uitzondering_op"):
            raise KnowledgeBaseError(f"{where}: alleen een uitzondering kan voor een andere uitzondering gaan")
        precedence = FeePrecedence(tuple(str(r) for r in spec["regels"]), _reason(spec, where))
    return FeeRule(
        id=rid,
        form=str(raw["formulier"]),
        label=" ".join(str(raw["label"]).split()),
        source=_source(raw.get("bron"), where),
        parameter=raw["bedrag"],
        applies_when=parse_expr(raw["van_toepassing_als"], where) if "van_toepassing_als" in raw else None,
        exception_to=raw.get("uitzondering_op"),
        explanation=" ".join(str(raw.get("toelichting", "")).split()),
        file=f"{path.parent.name}/{path.name}",
        covers=tuple(str(c) for c in raw.get("dekt", ())),
        audit=_rule_audit(raw, rid, where),
        precedence=precedence,
    )


INVENTORY_FILE = "rule-inventory.md"  # shared/rule-inventory.md: a reason may quote it, a rule never


def _reason(raw: dict, where: str) -> Reason:
    """`reden` in words with `bron`: a seed file or the rule inventory, quoted verbatim."""
    if not raw.get("reden"):
        raise KnowledgeBaseError(f"{where}: noem de 'reden'")
    source = _source(raw.get("bron"), where)
    if source.file != INVENTORY_FILE and not re.match(r"^\d{3}_[0-9a-f]+\.txt$", source.file):
        raise KnowledgeBaseError(
            f"{where}: bron '{source.file}' is geen bestand uit shared/seeds en niet {INVENTORY_FILE}"
        )
    return Reason(" ".join(str(raw["reden"]).split()), source)


SEED_FILE = re.compile(r"^\d{3}_[0-9a-f]+\.txt$")


def _precedence(raw: Any, path: Path) -> SourcePrecedence:
    """One entry of `voorrang`: `id`, `eerst` (a seed file), `daarna` (seed files), `reden`, `bronnen`."""
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(
            f"{path.name}: elke 'voorrang' is een mapping met 'id', 'eerst', 'daarna', 'reden' en 'bronnen'"
        )
    pid = str(raw.get("id", ""))
    where = _where(path, pid or "?")
    allowed = {"id", "eerst", "daarna", "reden", "bronnen"}
    extra = set(raw) - allowed
    if extra:
        raise KnowledgeBaseError(f"{where}: onbekende sleutel(s) {sorted(extra)}; toegestaan: {sorted(allowed)}")
    missing = sorted(k for k in allowed if not raw.get(k))
    if missing:
        raise KnowledgeBaseError(f"{where}: voorrang noemt {', '.join(repr(k) for k in missing)}")
    if not NAME.match(pid):
        raise KnowledgeBaseError(f"{where}: 'id' van een voorrang is Nederlandse snake_case")
    first = str(raw["eerst"])
    after = raw["daarna"] if isinstance(raw["daarna"], list) else [raw["daarna"]]
    after = tuple(str(a) for a in after)
    for key, files in (("eerst", (first,)), ("daarna", after)):
        for f in files:
            if not SEED_FILE.match(f):
                raise KnowledgeBaseError(f"{where}: '{key}' noemt '{f}', geen bestandsnaam uit shared/seeds")
    if first in after:
        raise KnowledgeBaseError(f"{where}: 'daarna' noemt de bron van 'eerst' ({first})")
    if not isinstance(raw["bronnen"], list):
        raise KnowledgeBaseError(f"{where}: 'bronnen' is een lijst van {{bestand, citaat}}")
    sources = tuple(_source(b, f"{where} bronnen") for b in raw["bronnen"])
    for source in sources:
        if source.file != INVENTORY_FILE and not SEED_FILE.match(source.file):
            raise KnowledgeBaseError(
                f"{where}: 'bronnen' noemt '{source.file}', geen bestand uit shared/seeds en niet {INVENTORY_FILE}"
            )
    return SourcePrecedence(pid, first, after, " ".join(str(raw["reden"]).split()), sources, path.name)


GOAL_KEYS = ("label", "conclusie", "buiten_bereik", "geldt_voor_elk_doel", "zonder_algemene_voorwaarden")


def _goal(gid: str, raw: Any, where: str) -> Goal:
    """A goal; `geldt_voor_elk_doel` (a `bron`) and `zonder_algemene_voorwaarden` (`{reden, bron}`)."""
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(f"{where}: een doel is een mapping met {', '.join(GOAL_KEYS)}")
    extra = set(raw) - set(GOAL_KEYS)
    if extra:
        raise KnowledgeBaseError(f"{where}: onbekende sleutel(s) {sorted(extra)}; toegestaan: {sorted(GOAL_KEYS)}")
    if not raw.get("label") or not raw.get("conclusie"):
        raise KnowledgeBaseError(f"{where}: een doel heeft een 'label' en een 'conclusie'")
    every = None
    if "geldt_voor_elk_doel" in raw:
        every = _source(raw["geldt_voor_elk_doel"], f"{where} geldt_voor_elk_doel")
    without = None
    if "zonder_algemene_voorwaarden" in raw:
        value = raw["zonder_algemene_voorwaarden"]
        if not isinstance(value, dict) or set(value) - {"reden", "bron"}:
            raise KnowledgeBaseError(
                f"{where}: 'zonder_algemene_voorwaarden' is {{reden, bron}}: waarom de routes naar dit doel "
                "de algemene voorwaarden niet lezen, met het citaat dat het zegt"
            )
        without = _reason(value, f"{where} zonder_algemene_voorwaarden")
    if every is not None and without is not None:
        raise KnowledgeBaseError(
            f"{where}: een doel met 'geldt_voor_elk_doel' is zelf de algemene voorwaarden en heeft geen "
            "'zonder_algemene_voorwaarden'"
        )
    return Goal(gid, raw["label"], raw["conclusie"], raw.get("buiten_bereik"), every, without)


def _check_general_conditions(kb: KnowledgeBase) -> None:
    """Every goal reads the general conditions (the goal with `geldt_voor_elk_doel`) or declares,
    with `zonder_algemene_voorwaarden`, why its routes do not (004: every temporary permit has them)."""
    general = [g for g in kb.goals.values() if g.every_goal_reads is not None]
    if len(general) > 1:
        raise KnowledgeBaseError(
            f"'geldt_voor_elk_doel' staat bij meer dan één doel: {', '.join(g.id for g in general)}"
        )
    if not general:
        for goal in kb.goals.values():
            if goal.without_general_conditions is not None:
                raise KnowledgeBaseError(
                    f"doel {goal.id}: 'zonder_algemene_voorwaarden' zonder een doel met 'geldt_voor_elk_doel'"
                )
        return
    conditions = general[0]
    for goal in kb.goals.values():
        if goal is conditions:
            continue
        reads = requires(kb, Atom(goal.conclusion), conditions.conclusion)
        if not reads and goal.without_general_conditions is None:
            raise KnowledgeBaseError(
                f"doel {goal.id}: de routes naar dit doel lezen de algemene voorwaarden "
                f"({conditions.id}: {conditions.conclusion}) niet; lees ze in elke route als voorwaarde, "
                "of zeg met 'zonder_algemene_voorwaarden: {reden, bron}' waarom niet "
                f"(bron {conditions.every_goal_reads.file}: \u201c{conditions.every_goal_reads.quote}\u201d)"
            )
        if reads and goal.without_general_conditions is not None:
            raise KnowledgeBaseError(
                f"doel {goal.id}: 'zonder_algemene_voorwaarden', maar elke route leest de algemene voorwaarden "
                f"({conditions.conclusion}) al"
            )


def _fee_range(raw: dict, path: Path) -> FeeRange:
    rid = str(raw.get("id", ""))
    where = _where(path, rid or "?")
    allowed = {"id", "label", "minimum", "maximum", "bron", "verouderd"}
    extra = set(raw) - allowed
    if extra:
        raise KnowledgeBaseError(f"{where}: onbekende sleutel(s) {sorted(extra)}; toegestaan: {sorted(allowed)}")
    outdated = None
    if "verouderd" in raw:
        if not isinstance(raw["verouderd"], dict) or set(raw["verouderd"]) != {"reden", "bron"}:
            raise KnowledgeBaseError(f"{where}: 'verouderd' heeft 'reden' en 'bron'")
        outdated = _reason(raw["verouderd"], where)
    return FeeRange(
        rid, raw["label"], int(raw["minimum"]), int(raw["maximum"]), _source(raw.get("bron"), where), outdated
    )


CONSTRAINT_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _constraint(raw: Any, path: Path) -> Constraint:
    """One `beperkingen` entry: id, label, reden, optionally bron, and either `onmogelijk` (an
    expression) or `vergunningsperiode: {veld, na}`."""
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(f"{path.parent.name}/{path.name}: een beperking is een mapping met id, label en reden")
    cid = str(raw.get("id", ""))
    where = _where(path, cid)
    if not CONSTRAINT_ID.match(cid):
        raise KnowledgeBaseError(f"{where}: het id van een beperking is een naam (kleine letters, cijfers, _)")
    unknown = set(raw) - {"id", "label", "reden", "bron", "onmogelijk", "vergunningsperiode"}
    if unknown:
        raise KnowledgeBaseError(f"{where}: onbekende sleutel(s) {sorted(unknown)} bij een beperking")
    label = " ".join(str(raw.get("label") or "").split())
    reason = " ".join(str(raw.get("reden") or "").split())
    if not label or not reason:
        raise KnowledgeBaseError(f"{where}: een beperking heeft een 'label' en een 'reden'")
    if ("onmogelijk" in raw) == ("vergunningsperiode" in raw):
        raise KnowledgeBaseError(f"{where}: een beperking heeft 'onmogelijk' of 'vergunningsperiode' (precies één)")
    source = _source(raw["bron"], where) if "bron" in raw else None
    period = None
    impossible = None
    if "vergunningsperiode" in raw:
        spec = raw["vergunningsperiode"]
        if not isinstance(spec, dict) or set(spec) != {"veld", "na"}:
            raise KnowledgeBaseError(f"{where}: 'vergunningsperiode' is {{veld: <datumveld>, na: <datumveld>}}")
        period = (str(spec["veld"]), str(spec["na"]))
    else:
        impossible = parse_expr(raw["onmogelijk"], where)
    return Constraint(cid, label, reason, f"{path.parent.name}/{path.name}", source, impossible, period)


def _check_constraints(kb: KnowledgeBase, inputs: set[str]) -> None:
    """A constraint reads facts and quantities only (what a situation is, not what it gives), and
    a period constraint names two date fields of a permit period."""
    for c in kb.constraints.values():
        where = f"{c.file} [{c.id}]"
        if c.period is not None:
            for name in c.period:
                if kb.period_fields.get(name, {}).get("type") != "datum":
                    raise KnowledgeBaseError(f"{where}: '{name}' is geen datumveld van een vergunningsperiode")
            continue
        _check_expr(kb, c.impossible, inputs, where)


def _goal_assumption(raw: dict, path: Path) -> GoalAssumption:
    rid = str(raw.get("id", ""))
    where = _where(path, rid or "?")
    if not RULE_ID.match(rid):
        raise KnowledgeBaseError(f"{where}: id '{rid}' noemt geen inventarisrij (zoals E12.aanvraag_na_geweld)")
    allowed = {"id", "doelen", "feit", "waarde", "bron", "toelichting"}
    extra = set(raw) - allowed
    if extra or not raw.get("doelen") or not raw.get("feit") or "waarde" not in raw:
        raise KnowledgeBaseError(
            f"{where}: 'aanvraag_voor_doel' heeft 'doelen', 'feit', 'waarde' en 'bron' "
            f"(en eventueel 'toelichting'){'; onbekend: ' + str(sorted(extra)) if extra else ''}"
        )
    return GoalAssumption(
        rid,
        tuple(str(g) for g in raw["doelen"]),
        str(raw["feit"]),
        raw["waarde"],
        _source(raw.get("bron"), where),
        " ".join(str(raw.get("toelichting", "")).split()),
    )


def _check_precedences(kb: KnowledgeBase) -> None:
    """Every file a `voorrang` names is a source of the knowledge base, and the order has no cycle."""
    cited = {r.source.file for r in kb.rules.values() if r.assumption is None}
    cited |= {f.source.file for f in kb.fee_rules.values()} | {r.source.file for r in kb.fee_ranges.values()}
    cited |= {v.source.file for p in kb.parameters.values() for v in p.values}
    before: dict[str, set[str]] = {}
    for p in kb.precedences.values():
        where = f"{p.file} [{p.id}]"
        for key, files in (("eerst", (p.first,)), ("daarna", p.after)):
            for f in files:
                if f not in cited:
                    raise KnowledgeBaseError(f"{where}: '{key}' noemt '{f}', maar geen declaratie citeert die bron")
        before.setdefault(p.first, set()).update(p.after)
    for start in before:  # a source that goes before itself, through the declarations
        seen, stack = set(), list(before[start])
        while stack:
            f = stack.pop()
            if f == start:
                raise KnowledgeBaseError(
                    f"voorrang: bron {start} gaat via de declaraties voor zichzelf "
                    f"({', '.join(sorted(p.id for p in kb.precedences.values() if p.first == start))})"
                )
            if f not in seen:
                seen.add(f)
                stack.extend(before.get(f, ()))


def declaration_files(directory: Path) -> list[Path]:
    """The shared declaration files first, then one file per legal domain under regels/."""
    names = ("bronnen", "feiten", "grootheden", "beperkingen", "bronverschillen", "voorrang", "doelen", "audit")
    shared = [directory / f"{name}.yaml" for name in names]
    return [p for p in shared if p.exists()] + sorted((directory / "regels").glob("*.yaml"))


def load_knowledge_base(directory: Path = KB_DIR) -> KnowledgeBase:
    """Read and check every declaration under `directory`.

    Any file may declare any section (`feiten`, `grootheden`, `regels`, `bronverschillen`,
    `doelen`), so a legal domain keeps its facts, rules and goals together; a name declared
    twice is an error naming both places.
    """
    facts: dict[str, Fact] = {}
    period_fields: dict[str, dict[str, str]] = {}
    quantities: dict[str, Quantity] = {}
    rules: dict[str, Rule] = {}
    disagreements: dict[str, Disagreement] = {}
    goals: dict[str, Goal] = {}
    forms: dict[str, Form] = {}
    parameters: dict[str, Parameter] = {}
    fee_rules: dict[str, FeeRule] = {}
    fee_ranges: dict[str, FeeRange] = {}
    goal_assumptions: dict[str, GoalAssumption] = {}
    precedences: dict[str, SourcePrecedence] = {}
    audit_notes: list[AuditNote] = []
    acknowledged: list[AcknowledgedDisagreement] = []
    constraints: dict[str, Constraint] = {}
    sources: dict[str, SourcePage] = {}
    origin: dict[tuple[str, str], str] = {}

    def claim(section: str, name: str, path: Path) -> None:
        key = (section, name)
        if key in origin:
            raise KnowledgeBaseError(f"{_where(path, name)}: '{name}' is al gedeclareerd in {origin[key]}")
        origin[key] = f"{path.parent.name}/{path.name}"

    for path in declaration_files(directory):
        data = _read_yaml(path) or {}
        if not isinstance(data, dict):
            raise KnowledgeBaseError(f"{path.name}: verwacht een mapping met secties {', '.join(SECTIONS)}")
        unknown = set(data) - set(SECTIONS)
        if unknown:
            raise KnowledgeBaseError(
                f"{path.name}: onbekende sectie(s) {sorted(unknown)}; toegestaan: {', '.join(SECTIONS)}"
            )
        for name, raw in (data.get("feiten") or {}).items():
            claim("feit", name, path)
            facts[name] = _fact(name, raw, _where(path, name))
        for name, raw in (data.get("vergunningsperiode") or {}).items():
            period_fields[name] = dict(raw)
        for name, raw in (data.get("grootheden") or {}).items():
            claim("grootheid", name, path)
            quantities[name] = _quantity(name, raw, _where(path, name))
        for raw in data.get("regels") or ():
            rule = _rule(raw, path)
            claim("regel", rule.id, path)
            rules[rule.id] = rule
        for raw in data.get("bronverschillen") or ():
            claim("regel", raw["id"], path)
            disagreements[raw["id"]] = Disagreement(
                id=raw["id"],
                label=raw["label"],
                conclusion=raw["conclusie"],
                rule_ids=tuple(raw["regels"]),
                explanation=" ".join(str(raw.get("toelichting", "")).split()),
            )
        for raw in data.get("erkende_bronverschillen") or ():
            ack = _acknowledged(raw, path)
            claim("regel", ack.id, path)
            acknowledged.append(ack)
        for gid, raw in (data.get("doelen") or {}).items():
            claim("doel", gid, path)
            goals[gid] = _goal(gid, raw, _where(path, gid))
        for number, raw in (data.get("formulieren") or {}).items():
            claim("formulier", str(number), path)
            forms[str(number)] = Form(
                str(number), " ".join(str(raw["label"]).split()), _source(raw.get("bron"), _where(path, str(number)))
            )
        for name, raw in (data.get("parameters") or {}).items():
            claim("parameter", name, path)
            parameters[name] = _parameter(name, raw, _where(path, name))
        for raw in data.get("leges") or ():
            fee = _fee_rule(raw, path)
            claim("regel", fee.id, path)
            fee_rules[fee.id] = fee
        for raw in data.get("leges_bandbreedte") or ():
            fee_range = _fee_range(raw, path)
            claim("regel", fee_range.id, path)
            fee_ranges[fee_range.id] = fee_range
        for raw in data.get("aanvraag_voor_doel") or ():
            assumption = _goal_assumption(raw, path)
            claim("regel", assumption.id, path)
            goal_assumptions[assumption.id] = assumption
        for raw in data.get("voorrang") or ():
            precedence = _precedence(raw, path)
            claim("voorrang", precedence.id, path)
            precedences[precedence.id] = precedence
        for raw in data.get("beperkingen") or ():
            constraint = _constraint(raw, path)
            claim("beperking", constraint.id, path)
            constraints[constraint.id] = constraint
        if "audit" in data:
            audit_notes.extend(_audit_section(data["audit"], path))
        for name, raw in (data.get("bronnen") or {}).items():
            claim("bron", str(name), path)
            if not isinstance(raw, dict) or not raw.get("titel") or set(raw) - {"titel", "uitgever"}:
                raise KnowledgeBaseError(f"{_where(path, str(name))}: een bron heeft 'titel' en mag 'uitgever' hebben")
            sources[str(name)] = SourcePage(str(name), str(raw["titel"]), str(raw.get("uitgever", "")))
    _check_date_order(facts, origin)
    _check_periods_and_roles(facts, period_fields, origin)
    kb = KnowledgeBase(
        facts,
        period_fields,
        quantities,
        rules,
        disagreements,
        goals,
        forms,
        parameters,
        fee_rules,
        fee_ranges,
        audit_notes,
        goal_assumptions,
        precedences,
        acknowledged,
        constraints,
        sources,
    )
    kb.directory = Path(directory)
    kb.index()
    check_knowledge_base(kb)
    _check_general_conditions(kb)
    return kb


# -- checks -----------------------------------------------------------------------------------


def _check_date_order(facts: dict[str, Fact], origin: dict[tuple[str, str], str]) -> None:
    """Every `niet_voor` names another declared date fact, and the order has no cycle."""
    for name in sorted(facts):
        for other in facts[name].not_before:
            if other not in facts or facts[other].type != "datum" or other == name:
                raise KnowledgeBaseError(
                    f"{origin[('feit', name)]} [{name}]: niet_voor noemt '{other}', geen ander gedeclareerd datumfeit"
                )
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name) :] + [name]
            raise KnowledgeBaseError(
                f"{origin[('feit', name)]} [{name}]: niet_voor maakt een kring: {' → '.join(cycle)}"
            )
        state[name] = 1
        for other in facts[name].not_before:
            visit(other, path + [name])
        state[name] = 2

    for name in sorted(facts):
        visit(name, [])


def _check_periods_and_roles(
    facts: dict[str, Fact], period_fields: dict[str, dict[str, Any]], origin: dict[tuple[str, str], str]
) -> None:
    """A permit-period field's `niet_voor` names declared date facts (with `melding` as for a fact);
    no role belongs to two facts."""
    for field_name, spec in period_fields.items():
        where = f"vergunningsperiode [{field_name}]"
        declared = spec.get("niet_voor")
        if declared is None and "melding" not in spec:
            continue
        names = [declared] if isinstance(declared, str) else declared
        if spec.get("type") != "datum" or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise KnowledgeBaseError(
                f"{where}: 'niet_voor' hoort bij een datumveld en noemt een datumfeit of een lijst ervan"
            )
        for other in names:
            if other not in facts or facts[other].type != "datum":
                raise KnowledgeBaseError(f"{where}: niet_voor noemt '{other}', geen gedeclareerd datumfeit")
        _messages(spec, names, where)
    roles: dict[str, str] = {}
    for name in sorted(facts):
        role = facts[name].role
        if role is not None:
            if role in roles:
                raise KnowledgeBaseError(f"{origin[('feit', name)]} [{name}]: rol '{role}' hoort al bij {roles[role]}")
            roles[role] = name


def check_knowledge_base(kb: KnowledgeBase) -> None:
    """Reject what would make evaluation wrong: undeclared names, recursion through negation."""
    derived = kb.derived_predicates()
    inputs = set(kb.facts) | set(kb.quantities)
    clash = derived & inputs
    if clash:
        raise KnowledgeBaseError(f"conclusie(s) {sorted(clash)} hebben dezelfde naam als een invoerfeit of grootheid")

    declared = derived | inputs
    for rule in kb.rules.values():
        where = f"{rule.file} [{rule.id}]"
        if rule.exception_to and rule.exception_to not in kb.rules:
            raise KnowledgeBaseError(f"{where}: uitzondering op onbekende regel '{rule.exception_to}'")
        if rule.exception_to and kb.rules[rule.exception_to].exception_to:
            raise KnowledgeBaseError(f"{where}: een uitzondering op een uitzondering wordt niet ondersteund")
        for expr in (rule.conditions, rule.applies_when):
            _check_expr(kb, expr, declared, where)
        for goal in rule.goals:
            if goal not in kb.goals:
                raise KnowledgeBaseError(f"{where}: onbekend doel '{goal}'")
        if rule.start is not None:
            kind = (
                kb.facts[rule.start].type
                if rule.start in kb.facts
                else (kb.quantities[rule.start].type if rule.start in kb.quantities else None)
            )
            if kind != "datum":
                raise KnowledgeBaseError(f"{where}: 'vanaf' noemt een datumfeit of datumgrootheid, niet '{rule.start}'")
        if (rule.valid_from or rule.valid_until) and "peildatum" not in kb.quantities:
            raise KnowledgeBaseError(f"{where}: een regel met een geldigheidsperiode vraagt de grootheid 'peildatum'")
        if rule.assumption is None and rule.source.file and not re.match(r"^\d{3}_[0-9a-f]+\.txt$", rule.source.file):
            raise KnowledgeBaseError(f"{where}: bronbestand '{rule.source.file}' is geen bestandsnaam uit shared/seeds")
    for dis in kb.disagreements.values():
        for rid in dis.rule_ids:
            if rid not in kb.rules or kb.rules[rid].kind != "regel":
                raise KnowledgeBaseError(f"bronverschil {dis.id}: '{rid}' is geen gedeclareerde regel")
        files = [kb.rules[rid].source.file for rid in dis.rule_ids]
        if len(set(files)) != len(files):
            raise KnowledgeBaseError(f"bronverschil {dis.id}: elke regel komt uit een andere bron ({', '.join(files)})")
        if dis.conclusion in kb.rules_for:
            raise KnowledgeBaseError(
                f"bronverschil {dis.id}: '{dis.conclusion}' wordt ook door een regel geconcludeerd"
            )
    _check_precedences(kb)
    _check_constraints(kb, inputs)
    for fee in kb.fee_rules.values():
        where = f"{fee.file} [{fee.id}]"
        if fee.form not in kb.forms:
            raise KnowledgeBaseError(f"{where}: onbekend formulier '{fee.form}'")
        if fee.parameter not in kb.parameters:
            raise KnowledgeBaseError(f"{where}: onbekende parameter '{fee.parameter}'")
        _check_expr(kb, fee.applies_when, declared, where)
        if fee.exception_to:
            base = kb.fee_rules.get(fee.exception_to)
            if base is None:
                raise KnowledgeBaseError(f"{where}: uitzondering op onbekende legesregel '{fee.exception_to}'")
            if base.form != fee.form or base.source.file != fee.source.file:
                raise KnowledgeBaseError(
                    f"{where}: een uitzondering geldt voor hetzelfde formulier en dezelfde bron als {base.id}"
                )
    for fee in kb.fee_rules.values():
        if fee.precedence is None:
            continue
        where = f"{fee.file} [{fee.id}]"
        for other in fee.precedence.over:
            sibling = kb.fee_rules.get(other)
            if sibling is None or sibling.id == fee.id or sibling.exception_to != fee.exception_to:
                raise KnowledgeBaseError(
                    f"{where}: 'gaat_voor' noemt '{other}', geen andere uitzondering op {fee.exception_to}"
                )
            if sibling.precedence is not None and fee.id in sibling.precedence.over:
                raise KnowledgeBaseError(f"{where}: {fee.id} en {other} gaan elk voor de ander")
    said: dict[tuple[str, str], str] = {}
    for assumption in kb.goal_assumptions.values():
        where = f"aanvraag_voor_doel [{assumption.id}]"
        for goal in assumption.goals:
            if goal not in kb.goals:
                raise KnowledgeBaseError(f"{where}: onbekend doel '{goal}'")
            if (goal, assumption.fact) in said:
                raise KnowledgeBaseError(
                    f"{where}: wat een aanvraag voor {goal} over '{assumption.fact}' zegt, "
                    f"staat al in {said[goal, assumption.fact]}"
                )
            said[goal, assumption.fact] = assumption.id
        fact = kb.facts.get(assumption.fact)
        if fact is None:
            raise KnowledgeBaseError(f"{where}: '{assumption.fact}' is geen gedeclareerd feit")
        fits = (
            isinstance(assumption.value, bool)
            if fact.type == "bool"
            else assumption.value in fact.values
            if fact.type == "keuze"
            else False
        )
        if not fits:
            raise KnowledgeBaseError(
                f"{where}: waarde {assumption.value!r} past niet bij feit '{fact.name}' ({fact.type})"
            )
    roots: dict[tuple[str, str], str] = {}
    for fee in kb.fee_rules.values():
        if not fee.exception_to:
            key = (fee.form, fee.source.file)
            if key in roots:
                raise KnowledgeBaseError(
                    f"{fee.file} [{fee.id}]: formulier {fee.form} heeft volgens {fee.source.file} al een basisbedrag ({roots[key]})"
                )
            roots[key] = fee.id
    for rule in kb.rules.values():
        if rule.form and rule.form not in kb.forms and kb.forms:
            raise KnowledgeBaseError(f"{rule.file} [{rule.id}]: onbekend formulier '{rule.form}'")
    for q in kb.quantities.values():
        for name in q.inputs:
            if name not in kb.facts:
                raise KnowledgeBaseError(f"grootheid {q.name}: invoer '{name}' is geen gedeclareerd feit")
    for goal in kb.goals.values():
        for name in (goal.conclusion, goal.out_of_scope):
            if name and name not in derived:
                raise KnowledgeBaseError(f"doel {goal.id}: '{name}' wordt door geen regel geconcludeerd")

    edges = dependency_edges(kb)
    for component in strongly_connected(graph_of(declared, ((h, b) for h, b, _ in edges))):
        negative = sorted((h, b) for h, b, positive in edges if not positive and h in component and b in component)
        if negative and (len(component) > 1 or any(h == b for h, b in negative)):
            cycle = " -> ".join(sorted(component))
            raise KnowledgeBaseError(
                f"recursie via negatie: {cycle} (negatief via {negative[0][0]} -> {negative[0][1]}); "
                "zo'n regelset heeft geen eenduidige betekenis"
            )


def _check_expr(kb: KnowledgeBase, expr: Expr | None, declared: set[str], where: str) -> None:
    if expr is None:
        return
    if isinstance(expr, Atom):
        if expr.name not in declared:
            raise KnowledgeBaseError(f"{where}: '{expr.name}' is niet gedeclareerd (geen feit, grootheid of conclusie)")
        if expr.name in kb.facts and kb.facts[expr.name].type != "bool":
            raise KnowledgeBaseError(f"{where}: '{expr.name}' is geen ja/nee-feit; vergelijk het met 'waarde'")
        if expr.name in kb.quantities and kb.quantities[expr.name].type != "bool":
            raise KnowledgeBaseError(f"{where}: grootheid '{expr.name}' is een getal; vergelijk haar met 'waarde'")
    elif isinstance(expr, Compare):
        if expr.name not in kb.facts and expr.name not in kb.quantities:
            raise KnowledgeBaseError(f"{where}: '{expr.name}' is niet gedeclareerd als feit of grootheid")
        fact = kb.facts.get(expr.name)
        if fact is not None and fact.type == "keuze":
            wanted = expr.value if isinstance(expr.value, tuple) else (expr.value,)
            unknown = [v for v in wanted if v not in fact.values]
            if unknown:
                raise KnowledgeBaseError(
                    f"{where}: waarde(n) {unknown} niet toegestaan voor '{expr.name}' ({', '.join(fact.values)})"
                )
    elif isinstance(expr, Not):
        _check_expr(kb, expr.operand, declared, where)
    else:
        for op in expr.operands:
            _check_expr(kb, op, declared, where)
