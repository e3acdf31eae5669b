"""How values read in the Dutch justification."""

from __future__ import annotations

from datetime import date

from explain import fact_value, threshold


def test_a_choice_value_reads_the_same_as_a_fact_and_as_a_threshold():
    assert (
        threshold("internationale_organisatie")
        == fact_value("internationale_organisatie")
        == "internationale organisatie"
    )
    assert threshold(("echtgenoot_of_partner", "kind")) == "echtgenoot of partner, kind"
    assert threshold(("A2", "B1")) == "A2, B1"
    assert threshold(10) == "10"
    assert threshold(date(2021, 4, 1)) == "1 april 2021"
