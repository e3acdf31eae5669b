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
