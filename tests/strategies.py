"""Hypothesis strategies for applicants, consistent by construction.

Names are plurals (`aanvragers()`); every fact can be left out (unknown), and leaving it out is
what Hypothesis shrinks towards, so a failing example reads as the few facts that matter.
Dates are drawn relative to the peildatum: births in the past, arrivals after birth, permit
periods inside the life and in order.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from engine.tijd import add_years

BOOL_FACTS = (
    "vormt_gevaar_openbare_orde", "vormt_gevaar_nationale_veiligheid", "heeft_zorgverzekering",
    "heeft_geldig_reisdocument", "vrijgesteld_van_inburgeringsexamen", "ontheven_van_inburgeringsexamen",
    "onjuiste_informatie_eerdere_aanvraag", "onjuiste_informatie_huidige_aanvraag",
    "heeft_onrechtmatig_verblijf_gehad", "komt_in_aanmerking_voor_gezinshereniging", "is_alleenstaand",
    "is_slachtoffer_mensenhandel", "andere_uitzondering_onrechtmatig_verblijf",
    "uitzondering_vijfjaartermijn_van_toepassing", "hoofdverblijf_in_nederland_gedurende_termijn",
    "vergunning_altijd_tijdig_verlengd", "altijd_voldaan_aan_vergunningsvoorwaarden",
    "voldoet_nu_aan_vergunningsvoorwaarden", "voldoet_aan_inkomenseisen", "ingeschreven_in_brp",
    "heeft_asielvergunning", "is_ex_geprivilegieerde", "geboren_in_nederland",
    "sindsdien_altijd_in_nederland_gewoond",
)
NIVEAUS = ("geen", "A1", "A2", "B1", "B2", "C1", "C2")


def datums(start: date, end: date) -> st.SearchStrategy[date]:
    return st.integers(0, max(0, (end - start).days)).map(lambda d: start + timedelta(days=d))


@st.composite
def vergunningsperioden(draw, start: date, peildatum: date) -> list[dict[str, Any]]:
    """0–3 permit periods in order between `start` and the peildatum; the last may still run."""
    periods: list[dict[str, Any]] = []
    cursor = start
    for _ in range(draw(st.integers(0, 3))):
        if cursor > peildatum:
            break
        van = draw(datums(cursor, peildatum))
        period: dict[str, Any] = {"van": van}
        if draw(st.booleans()):
            tot = draw(datums(van, peildatum + timedelta(days=400)))
            period["tot"] = tot
            cursor = tot + timedelta(days=draw(st.sampled_from([1, 1, 30, 400])))
        else:
            cursor = peildatum + timedelta(days=1)
        flag = draw(st.sampled_from([None, True, False]))
        if flag is not None:
            period["niet_tijdelijk"] = flag
        periods.append(period)
    return periods


@st.composite
def aanvragers(draw, peildatum: date, **fixed: Any) -> dict[str, Any]:
    """An applicant file (as a dict) at `peildatum`; `fixed` facts are set as given."""
    facts: dict[str, Any] = {}
    born = draw(st.one_of(st.none(), datums(add_years(peildatum, -90), peildatum)))
    if born is not None:
        facts["geboortedatum"] = born
        if draw(st.booleans()):
            facts["datum_aankomst_nederland"] = draw(datums(born, peildatum))
        if draw(st.booleans()):
            facts["verblijfsvergunningen"] = draw(vergunningsperioden(born, peildatum))
    for name in BOOL_FACTS:
        value = draw(st.sampled_from([None, True, False]))
        if value is not None:
            facts[name] = value
    niveau = draw(st.sampled_from((None,) + NIVEAUS))
    if niveau is not None:
        facts["inburgeringsexamen_gehaald_niveau"] = niveau
    facts.update(fixed)
    return facts


@st.composite
def hier_opgegroeide_volwassenen(draw, peildatum: date) -> dict[str, Any]:
    """Adults born in NL or arrived before their 3rd birthday, who always lived here (C13),
    with no danger to public order or national security and nothing sending them elsewhere;
    every other fact is arbitrary."""
    facts = draw(aanvragers(peildatum))
    born = draw(datums(add_years(peildatum, -90), add_years(peildatum, -18)))
    facts["geboortedatum"] = born
    if draw(st.booleans()):
        facts["geboren_in_nederland"] = True
        facts["datum_aankomst_nederland"] = born
    else:
        facts.pop("geboren_in_nederland", None)
        latest = add_years(born, 3) - timedelta(days=1)
        facts["datum_aankomst_nederland"] = draw(datums(born, latest))
    if "verblijfsvergunningen" in facts:
        facts["verblijfsvergunningen"] = draw(vergunningsperioden(born, peildatum))
    facts.update(
        sindsdien_altijd_in_nederland_gewoond=True,
        vormt_gevaar_openbare_orde=False,
        vormt_gevaar_nationale_veiligheid=False,
        heeft_asielvergunning=False,
        is_ex_geprivilegieerde=False,
    )
    return facts
