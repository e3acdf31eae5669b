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
