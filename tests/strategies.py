"""Moved to `engine.checks.strategies` (installed with the package); this name stays for old imports.

`hier_opgegroeide_volwassenen` here keeps its first meaning: no danger to public order or
national security either (the one in engine.checks.strategies leaves those open).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

from engine.checks import strategies as _kit
from engine.checks.strategies import *  # noqa: F401,F403
from engine.checks.strategies import aanvragers, datums, vergunningsperioden  # noqa: F401


def hier_opgegroeide_volwassenen(peildatum: date, **vast: Any) -> st.SearchStrategy[dict[str, Any]]:
    return _kit.routes()["hier_opgegroeide_volwassenen"](
        peildatum, vormt_gevaar_openbare_orde=False, vormt_gevaar_nationale_veiligheid=False, **vast
    )
