"""Calendar functions behind the quantities: only date arithmetic, checked on their edges."""

from __future__ import annotations

from datetime import date

from engine.tijd import vergunning_gehad


def test_vergunning_gehad_counts_any_permit_begun_on_or_before_the_peildatum():
    periods = [{"van": date(2015, 3, 1), "tot": date(2016, 2, 29)}]  # no purpose given: still a permit
    assert vergunning_gehad(date(2015, 3, 1), periods) is True
    assert vergunning_gehad(date(2015, 2, 28), periods) is False
    assert vergunning_gehad(date(2030, 1, 1), periods) is True  # ended long ago: had one before
    assert vergunning_gehad(date(2030, 1, 1), []) is False


def test_volle_jaren_in_periode_counts_the_last_day_and_stops_at_the_peildatum():
    from engine.tijd import volle_jaren_in_periode

    peil = date(2026, 11, 23)
    # 1 januari 2010 tot en met 31 december 2019 is precies 10 jaar; een dag minder is 9
    assert volle_jaren_in_periode(peil, date(2010, 1, 1), date(2019, 12, 31)) == 10
    assert volle_jaren_in_periode(peil, date(2010, 1, 1), date(2019, 12, 30)) == 9
    # een periode die na de peildatum eindigt, telt tot de peildatum
    assert volle_jaren_in_periode(date(2015, 1, 1), date(2010, 1, 1), date(2019, 12, 31)) == 5
    assert volle_jaren_in_periode(date(2014, 12, 31), date(2010, 1, 1), date(2019, 12, 31)) == 4
    # begint na de peildatum of na het einde: geen jaren
    assert volle_jaren_in_periode(peil, date(2030, 1, 1), date(2031, 1, 1)) == 0
    assert volle_jaren_in_periode(peil, date(2020, 1, 1), date(2019, 1, 1)) == 0
    # 29 februari: een volle jaar loopt tot en met 28 februari van het volgende jaar
    assert volle_jaren_in_periode(peil, date(2016, 2, 29), date(2017, 2, 28)) == 1


def test_begin_of_the_unbroken_run_counted_from_an_age_is_where_the_c_rules_start_counting():
    from engine.tijd import begin_ononderbroken_vergunning_vanaf_leeftijd as begin
    from engine.tijd import jaren_ononderbroken_vergunning_vanaf_leeftijd as jaren

    born = date(1990, 5, 1)
    running = [{"van": date(2019, 3, 1)}]
    assert begin(date(2026, 11, 22), running, born, 8) == date(2019, 3, 1)
    # adjoining permits are one run; a gap starts a new one
    adjoining = [{"van": date(2012, 1, 1), "tot": date(2019, 2, 28)}, {"van": date(2019, 3, 1)}]
    assert begin(date(2026, 11, 22), adjoining, born, 8) == date(2012, 1, 1)
    gap = [{"van": date(2012, 1, 1), "tot": date(2019, 2, 27)}, {"van": date(2019, 3, 1)}]
    assert begin(date(2026, 11, 22), gap, born, 8) == date(2019, 3, 1)
    # before the age the counting starts on that birthday, also when it lies after the peildatum
    child = date(2015, 6, 10)
    assert begin(date(2026, 11, 22), [{"van": child}], child, 8) == date(2023, 6, 10)
    assert begin(date(2020, 1, 1), [{"van": child}], child, 8) == date(2023, 6, 10)
    # no permit on the peildatum: no run to count from
    assert begin(date(2026, 11, 22), [{"van": date(2012, 1, 1), "tot": date(2019, 2, 27)}], born, 8) is None
    assert begin(date(2026, 11, 22), [], born, 8) is None
    # the same start as the years C2 counts: 5 full years are reached exactly 5 years after it
    for peil in (date(2024, 2, 29), date(2024, 3, 1)):
        assert (jaren(peil, running, born, 8) >= 5) == (peil >= date(2024, 3, 1))


# -- the quantities of a batch row, worked out in one pass, against the reference ------------

from datetime import timedelta  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from engine import tijd  # noqa: E402
from engine.applicant import facts  # noqa: E402
from engine.rules.model import load_knowledge_base  # noqa: E402

KB = load_knowledge_base()
PURPOSES = tuple(KB.period_fields["verblijfsdoel"]["waarden"])
# near the peildatum (where a run starts or ends) and at the ends of the calendar
PEILDATUMS = st.sampled_from([date(2026, 11, 23), date(2024, 2, 29), date(9999, 12, 31), date(1, 1, 1)])


def dates_near(peildatum: date) -> st.SearchStrategy[date]:
    """Days within about twenty years of the peildatum, or anywhere in the calendar."""
    low = date.fromordinal(max(1, peildatum.toordinal() - 7300))
    high = date.fromordinal(min(date.max.toordinal(), peildatum.toordinal() + 400))
    return st.one_of(st.dates(low, high), st.dates(), st.just(peildatum))


@st.composite
def permit_period_lists(draw, peildatum: date) -> list[dict]:
    """Any permit periods: in any order, overlapping, adjoining, begun after the peildatum, still
    running or not, with or without a purpose and the non-temporary flag."""
    periods = []
    for _ in range(draw(st.integers(0, 5))):
        start = draw(dates_near(peildatum))
        period = {"van": start}
        kind = draw(st.sampled_from(["running", "ended", "adjoining", "any"]))
        if kind == "ended":
            period["tot"] = draw(st.dates(start, date.fromordinal(min(date.max.toordinal(), start.toordinal() + 4000))))
        elif kind == "adjoining" and periods and periods[-1].get("tot") not in (None, date.max):
            period["van"] = periods[-1]["tot"] + timedelta(days=1)
            period["tot"] = draw(st.one_of(st.none(), st.dates(period["van"], date.max)))
        elif kind == "any":
            period["tot"] = draw(dates_near(peildatum))
        if draw(st.booleans()):
            period["verblijfsdoel"] = draw(st.one_of(st.none(), st.sampled_from(PURPOSES)))
        if draw(st.booleans()):
            period["niet_tijdelijk"] = draw(st.one_of(st.none(), st.booleans()))
        periods.append(period)
    return periods


@st.composite
def applicant_values(draw) -> tuple[date, dict]:
    """A peildatum and the facts the quantities read, each given or left out."""
    peildatum = draw(PEILDATUMS)
    values: dict = {}
    for name in sorted({i for q in KB.quantities.values() for i in q.inputs}):
        if draw(st.booleans()):
            continue
        if KB.facts[name].type == "vergunningen":
            values[name] = draw(permit_period_lists(peildatum))
        else:
            values[name] = draw(dates_near(peildatum))
    return peildatum, values


def _outcome(compute):
    try:
        return compute()
    except (OverflowError, ValueError) as exc:  # the same error, or none, on both sides
        return type(exc), str(exc)


@settings(max_examples=600, deadline=None)
@given(applicant_values(), st.one_of(st.none(), st.sets(st.sampled_from(sorted(KB.quantities)))))
def test_quantities_in_one_pass_are_those_of_the_functions_one_by_one(case, only):
    peildatum, values = case
    applicant = facts.Applicant(values)
    got = _outcome(lambda: facts.quantity_values(KB, applicant, peildatum, only=only))
    want = _outcome(lambda: facts.reference_quantity_values(KB, applicant, peildatum, only=only))
    assert got == want
    if isinstance(got, dict):
        assert list(got) == list(want)  # in the same order too


@settings(max_examples=600, deadline=None)
@given(PEILDATUMS.flatmap(lambda day: st.tuples(st.just(day), permit_period_lists(day))))
def test_one_pass_over_the_periods_gives_what_each_function_derives_from_them(case):
    peildatum, periods = case
    permits = tijd.Permits(periods, peildatum)
    assert permits.covering == tijd._covering(periods, peildatum)
    assert permits.merged() == tijd._periods(periods, peildatum)
    assert permits.chain_start() == tijd._current_chain_start(periods, peildatum)
    assert permits.started == [p for p in periods if p["van"] <= peildatum]
    for doelen in [(PURPOSES[0],), PURPOSES[:2], ()]:
        subset = permits.with_purpose(doelen)
        reference = tijd._with_purpose(periods, doelen)
        assert (subset is None) == (reference is None)
        if subset is not None:
            assert subset.periods == reference
            assert subset.chain_start() == tijd._current_chain_start(reference, peildatum)
