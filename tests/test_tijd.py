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
