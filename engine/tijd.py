"""Date arithmetic for the quantities declared in kb/grootheden.yaml.

Only calendar arithmetic lives here; every threshold that matters in law is in the rules.
Permit periods are inclusive of both their start and end date; an absent end means the permit
still runs. A birthday on 29 February falls on 1 March in a common year.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Callable, Sequence

Period = tuple[date, date | None, dict]  # (van, tot, the whole period as given)


def _in_calendar(year: int) -> None:
    # The same exception as `date + timedelta` past the ends, so callers handle one kind.
    if not date.min.year <= year <= date.max.year:
        raise OverflowError(f"jaar {year} valt buiten de kalender (1 tot en met 9999)")


def add_years(day: date, years: int) -> date:
    """The same day `years` later; OverflowError beyond the year 9999 (or before 1)."""
    _in_calendar(day.year + years)
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return date(day.year + years, 3, 1)


def add_months(day: date, months: int) -> date:
    """Same day of the month, or the month's last day where it has no such day (31 jan + 1 = 28/29 feb);
    OverflowError beyond the year 9999 (or before 1)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    _in_calendar(year)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def add_duration(day: date, unit: str, amount: int) -> date:
    """`day` plus a duration from the rules; OverflowError beyond the year 9999 (or before 1)."""
    if unit == "dagen":
        return day + timedelta(days=amount)
    if unit == "weken":
        return day + timedelta(weeks=amount)
    if unit == "maanden":
        return add_months(day, amount)
    if unit == "jaren":
        return add_years(day, amount)
    raise ValueError(unit)


def _years_later_or_none(day: date, years: int) -> date | None:
    """`add_years`, or None when that day lies after 9999-12-31: later than any peildatum."""
    try:
        return add_years(day, years)
    except OverflowError:
        return None


def full_years(start: date, end: date) -> int:
    """Whole years from `start` to `end` (negative when `end` is earlier)."""
    years = end.year - start.year
    if add_years(start, years) > end:
        years -= 1
    return years


def _periods(vergunningen: Sequence[dict], peildatum: date) -> list[tuple[date, date]]:
    """Merged inclusive intervals, cut off at the peildatum; adjoining periods join."""
    spans = sorted((p["van"], min(p.get("tot") or peildatum, peildatum)) for p in vergunningen if p["van"] <= peildatum)
    merged: list[tuple[date, date]] = []
    for start, end in spans:
        # day numbers: the day after 9999-12-31 is no date, but it is a number
        if merged and start.toordinal() <= merged[-1][1].toordinal() + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _covering(vergunningen: Sequence[dict], peildatum: date) -> list[dict]:
    return [p for p in vergunningen if p["van"] <= peildatum and (p.get("tot") is None or p["tot"] >= peildatum)]


def _current_chain_start(vergunningen: Sequence[dict], peildatum: date) -> date | None:
    for start, end in _periods(vergunningen, peildatum):
        if start <= peildatum <= end and _covering(vergunningen, peildatum):
            return start
    return None


class Permits:
    """One list of permit periods at a peildatum, for every quantity read from it at once: the
    periods begun by then, those valid on it and their purposes in one pass, the merged intervals
    and the current run's start once, when first asked for (`quantities_at`). Gives what
    `_covering`, `_periods`, `_current_chain_start` and `_with_purpose` give for the same periods;
    the functions named in kb/grootheden.yaml stay as they are (the reference, for the proofs
    and the tests)."""

    __slots__ = ("periods", "peildatum", "started", "covering", "purposes", "_spans", "_merged", "_chain", "_subsets")

    def __init__(self, periods: Sequence[dict], peildatum: date):
        self.periods = periods
        self.peildatum = peildatum
        started: list[dict] = []
        covering: list[dict] = []
        spans: list[tuple[date, date]] = []
        for p in periods:
            start = p["van"]
            if start <= peildatum:
                started.append(p)
                end = p.get("tot")
                if end is None or end >= peildatum:
                    covering.append(p)
                    spans.append((start, peildatum))
                else:
                    spans.append((start, end))
        self.started = started
        self.covering = covering
        try:
            self.purposes: set | None = {p.get("verblijfsdoel") for p in started}  # None: not given
        except TypeError:  # a purpose that is no text (not from a validated file): as the reference does
            self.purposes = None
        self._spans = spans
        self._merged: list[tuple[date, date]] | None = None
        self._chain: Any = self
        self._subsets: dict[Any, Permits | None] | None = None

    def merged(self) -> list[tuple[date, date]]:
        """`_periods(periods, peildatum)`."""
        merged = self._merged
        if merged is None:
            merged = self._merged = []
            for start, end in sorted(self._spans):
                if merged and start.toordinal() <= merged[-1][1].toordinal() + 1:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
                else:
                    merged.append((start, end))
        return merged

    def chain_start(self) -> date | None:
        """`_current_chain_start(periods, peildatum)`."""
        chain = self._chain
        if chain is self:
            chain = None
            if self.covering:
                peildatum = self.peildatum
                for start, end in self.merged():
                    if start <= peildatum <= end:
                        chain = start
                        break
            self._chain = chain
        return chain

    def with_purpose(self, doelen: Sequence[str]) -> Permits | None:
        """`_with_purpose(periods, doelen)`, as Permits at the same peildatum."""
        key = doelen if type(doelen) is tuple else tuple(doelen)
        subsets = self._subsets
        if subsets is None:
            subsets = self._subsets = {}
        elif key in subsets:
            return subsets[key]
        periods = self.periods
        if any(p.get("verblijfsdoel") is None for p in periods):
            subset = None
        else:
            subset = Permits([p for p in periods if p["verblijfsdoel"] in doelen], self.peildatum)
        subsets[key] = subset
        return subset


# -- the functions named in kb/grootheden.yaml ------------------------------------------------


def peildatum(peildatum: date) -> date:
    return peildatum


def volle_jaren_tot_peildatum(peildatum: date, geboortedatum: date) -> int:
    return full_years(geboortedatum, peildatum)


def volle_jaren_tussen(peildatum: date, begin: date, einde: date) -> int:
    return full_years(begin, einde)


def volle_jaren_in_periode(peildatum: date, begin: date, einde: date) -> int:
    """Whole years in a period from `begin` up to and including its last day `einde`, counted no
    further than the peildatum (like an ended permit in `jaren_in_bezit_van_vergunning`)."""
    stop = peildatum if einde >= peildatum else einde + timedelta(days=1)  # einde < peildatum: a real day
    return max(0, full_years(begin, stop)) if begin <= stop else 0


def _run_from_age(start: date | None, geboortedatum: date, age: int) -> date | None:
    if start is None:
        return None
    from_age = _years_later_or_none(geboortedatum, age)
    return None if from_age is None else max(start, from_age)


def _years_of_run(start: date | None, peildatum: date) -> int:
    if start is None:  # no permit now, or that age is reached after 9999: no years by the peildatum
        return 0
    return max(0, full_years(start, peildatum)) if start <= peildatum else 0


def _run_since_birthday(start: date | None, geboortedatum: date, age: int) -> bool:
    if start is None:
        return False
    birthday = _years_later_or_none(geboortedatum, age)
    return birthday is None or start <= birthday  # None: that birthday lies after every date


def begin_ononderbroken_vergunning_vanaf_leeftijd(
    peildatum: date, verblijfsvergunningen: Sequence[dict], geboortedatum: date, vanaf_leeftijd: int
) -> date | None:
    """Where counting the unbroken run of permits valid on the peildatum starts when only the years
    from `vanaf_leeftijd` count: the run's first day, or that birthday if it is later (also when
    it lies after the peildatum). None without a permit on the peildatum, or when that birthday
    lies after 9999."""
    return _run_from_age(_current_chain_start(verblijfsvergunningen, peildatum), geboortedatum, vanaf_leeftijd)


def jaren_ononderbroken_vergunning_vanaf_leeftijd(
    peildatum: date, verblijfsvergunningen: Sequence[dict], geboortedatum: date, vanaf_leeftijd: int
) -> int:
    start = begin_ononderbroken_vergunning_vanaf_leeftijd(
        peildatum, verblijfsvergunningen, geboortedatum, vanaf_leeftijd
    )
    return _years_of_run(start, peildatum)


def ononderbroken_vergunning_sinds_leeftijd(
    peildatum: date, verblijfsvergunningen: Sequence[dict], geboortedatum: date, leeftijd: int
) -> bool:
    return _run_since_birthday(_current_chain_start(verblijfsvergunningen, peildatum), geboortedatum, leeftijd)


def _years_held(merged: Sequence[tuple[date, date]], peildatum: date) -> int:
    years = 0
    leftover_days = 0
    for start, end in merged:
        # an ongoing period counts up to the peildatum, an ended one up to and including its end
        stop = end if end == peildatum else end + timedelta(days=1)
        whole = full_years(start, stop)
        years += whole
        leftover_days += (stop - add_years(start, whole)).days
    return years + leftover_days // 365


def jaren_in_bezit_van_vergunning(peildatum: date, verblijfsvergunningen: Sequence[dict]) -> int:
    """Whole calendar years per merged period, plus the leftover days of all periods in 365s."""
    return _years_held(_periods(verblijfsvergunningen, peildatum), peildatum)


def heeft_geldige_vergunning_op_peildatum(peildatum: date, verblijfsvergunningen: Sequence[dict]) -> bool:
    return bool(_covering(verblijfsvergunningen, peildatum))


def huidige_vergunning_niet_tijdelijk(peildatum: date, verblijfsvergunningen: Sequence[dict]) -> bool | None:
    return _not_temporary(_covering(verblijfsvergunningen, peildatum))


def _not_temporary(covering: Sequence[dict]) -> bool | None:
    if not covering:
        return False
    flags = [p.get("niet_tijdelijk") for p in covering]
    if any(flag is True for flag in flags):
        return True
    if all(flag is False for flag in flags):
        return False
    return None


def _with_purpose(vergunningen: Sequence[dict], doelen: Sequence[str]) -> list[dict] | None:
    """The periods for one of `doelen`; None when a period's purpose is not given."""
    if any(p.get("verblijfsdoel") is None for p in vergunningen):
        return None
    return [p for p in vergunningen if p["verblijfsdoel"] in doelen]


def huidig_verblijfsdoel(peildatum: date, verblijfsvergunningen: Sequence[dict]) -> str | None:
    """The purpose of the permit valid on the peildatum; 'geen' without one."""
    return _purpose_now(_covering(verblijfsvergunningen, peildatum))


def _purpose_now(covering: Sequence[dict]) -> str | None:
    if not covering:
        return "geen"
    latest = max(covering, key=lambda p: p["van"])
    return latest.get("verblijfsdoel")


def vergunning_gehad(peildatum: date, verblijfsvergunningen: Sequence[dict]) -> bool:
    """Had (or has) a Dutch residence permit of any purpose, begun on or before the peildatum."""
    return any(p["van"] <= peildatum for p in verblijfsvergunningen)


def vergunning_gehad_voor_doel(
    peildatum: date, verblijfsvergunningen: Sequence[dict], doelen: Sequence[str]
) -> bool | None:
    """Had (or has) a permit for one of `doelen`, begun on or before the peildatum."""
    started = [p for p in verblijfsvergunningen if p["van"] <= peildatum]
    if any(p.get("verblijfsdoel") in doelen for p in started):
        return True
    if any(p.get("verblijfsdoel") is None for p in started):
        return None
    return False


def jaren_vergunning_voor_doel(
    peildatum: date, verblijfsvergunningen: Sequence[dict], doelen: Sequence[str]
) -> int | None:
    """Whole years with a permit for one of `doelen`, up to the peildatum."""
    periods = _with_purpose(verblijfsvergunningen, doelen)
    return None if periods is None else jaren_in_bezit_van_vergunning(peildatum, periods)


def begin_vergunning_voor_doel(
    peildatum: date, verblijfsvergunningen: Sequence[dict], doelen: Sequence[str]
) -> date | None:
    """Start of the unbroken run of permits for one of `doelen` that is valid on the peildatum."""
    periods = _with_purpose(verblijfsvergunningen, doelen)
    return None if periods is None else _current_chain_start(periods, peildatum)


# The same functions of one `Permits` (in place of the permit periods, the first input) where
# they read permit periods: what `quantities_at` computes for each applicant.


def _vergunning_gehad_voor_doel(peildatum: date, permits: Permits, doelen: Sequence[str]) -> bool | None:
    purposes = permits.purposes
    if purposes is None:
        return vergunning_gehad_voor_doel(peildatum, permits.periods, doelen)
    if not purposes.isdisjoint(doelen):
        return True
    return None if None in purposes else False


def _jaren_vergunning_voor_doel(peildatum: date, permits: Permits, doelen: Sequence[str]) -> int | None:
    subset = permits.with_purpose(doelen)
    return None if subset is None else _years_held(subset.merged(), peildatum)


def _begin_vergunning_voor_doel(peildatum: date, permits: Permits, doelen: Sequence[str]) -> date | None:
    subset = permits.with_purpose(doelen)
    return None if subset is None else subset.chain_start()


def _begin_ononderbroken(peildatum: date, permits: Permits, geboortedatum: date, vanaf_leeftijd: int) -> date | None:
    return _run_from_age(permits.chain_start(), geboortedatum, vanaf_leeftijd)


def _jaren_ononderbroken(peildatum: date, permits: Permits, geboortedatum: date, vanaf_leeftijd: int) -> int:
    return _years_of_run(_run_from_age(permits.chain_start(), geboortedatum, vanaf_leeftijd), peildatum)


def _ononderbroken_sinds(peildatum: date, permits: Permits, geboortedatum: date, leeftijd: int) -> bool:
    return _run_since_birthday(permits.chain_start(), geboortedatum, leeftijd)


def _jaren_in_bezit(peildatum: date, permits: Permits) -> int:
    return _years_held(permits.merged(), peildatum)


def _heeft_geldige(peildatum: date, permits: Permits) -> bool:
    return bool(permits.covering)


def _niet_tijdelijk(peildatum: date, permits: Permits) -> bool | None:
    return _not_temporary(permits.covering)


def _huidig_doel(peildatum: date, permits: Permits) -> str | None:
    return _purpose_now(permits.covering)


def _gehad(peildatum: date, permits: Permits) -> bool:
    return bool(permits.started)


OF_PERMITS: dict[str, Callable[..., Any]] = {
    "begin_ononderbroken_vergunning_vanaf_leeftijd": _begin_ononderbroken,
    "jaren_ononderbroken_vergunning_vanaf_leeftijd": _jaren_ononderbroken,
    "ononderbroken_vergunning_sinds_leeftijd": _ononderbroken_sinds,
    "jaren_in_bezit_van_vergunning": _jaren_in_bezit,
    "heeft_geldige_vergunning_op_peildatum": _heeft_geldige,
    "huidige_vergunning_niet_tijdelijk": _niet_tijdelijk,
    "huidig_verblijfsdoel": _huidig_doel,
    "vergunning_gehad": _gehad,
    "vergunning_gehad_voor_doel": _vergunning_gehad_voor_doel,
    "jaren_vergunning_voor_doel": _jaren_vergunning_voor_doel,
    "begin_vergunning_voor_doel": _begin_vergunning_voor_doel,
}

FUNCTIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        peildatum,
        volle_jaren_tot_peildatum,
        volle_jaren_tussen,
        volle_jaren_in_periode,
        begin_ononderbroken_vergunning_vanaf_leeftijd,
        jaren_ononderbroken_vergunning_vanaf_leeftijd,
        ononderbroken_vergunning_sinds_leeftijd,
        jaren_in_bezit_van_vergunning,
        heeft_geldige_vergunning_op_peildatum,
        huidige_vergunning_niet_tijdelijk,
        huidig_verblijfsdoel,
        vergunning_gehad,
        vergunning_gehad_voor_doel,
        jaren_vergunning_voor_doel,
        begin_vergunning_voor_doel,
    )
}


def iso_date(value: Any) -> Any:
    """A date as ISO text (JJJJ-MM-DD); anything else, a date-time included, as it is."""
    return value.isoformat() if isinstance(value, date) and not isinstance(value, datetime) else value


_PLAIN = frozenset((str, bool, int, float))


def iso_text(value: Any, sort_keys: bool = False) -> Any:
    """A copy of a value with every date in it as ISO text: how applicant files, proofs and
    reports write dates. Mappings get text keys (sorted with `sort_keys`); tuples become lists."""
    kind = type(value)
    if value is None or kind in _PLAIN:
        return value  # most values of a proof: nothing to convert, and asked for thousands of times per answer
    if kind is date:
        return value.isoformat()
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        # a permit period is a mapping of text keys to plain values and dates: those without a call each
        return {
            k if type(k) is str else str(k): (
                v if v is None or type(v) in _PLAIN else v.isoformat() if type(v) is date else iso_text(v, sort_keys)
            )
            for k, v in items
        }
    if isinstance(value, (list, tuple)):
        return [iso_text(v, sort_keys) for v in value]
    return iso_date(value)
