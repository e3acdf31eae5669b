"""A copy of kb/ with one free-text fact that a goal reads, for tests of applicant text.

The real vocabulary has no fact of type `tekst`: every value an applicant types is a date, a
yes/no, an amount or one of a fixed list, and validation refuses anything else. The loaders and
the engine accept `tekst` all the same, so the tests that send hostile or private text through
every command use this copy, in which the text reaches pyDatalog, the proof, the templates and
the fee answer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import ROOT

FACT = "toelichting_aanvrager"
GOAL = "vrije_tekst_proef"
FORM = "7027"

DECLARATIONS = f"""\
feiten:
  {FACT}:
    type: tekst
    label: toelichting van de aanvrager
    vraag: Wat wilt u over uw aanvraag toelichten?
    wijzigbaar: true
regels:
  - id: A90.vrije_tekst
    label: de toelichting is 'akkoord'
    conclusie: {GOAL}
    bron: {{bestand: 004_4ee60f9a98cd6659.txt, citaat: U moet beschikken over een geldige MVV}}
    voorwaarden:
      alle:
        - heeft_zorgverzekering
        - {{waarde: {FACT}, is: akkoord}}
  - id: A90.formulier
    label: u vraagt aan met formulier {FORM}
    soort: gevolg
    formulier: "{FORM}"
    doelen: [{GOAL}]
    bron: {{bestand: 004_4ee60f9a98cd6659.txt, citaat: U moet beschikken over een geldige MVV}}
doelen:
  {GOAL}:
    label: proef met vrije tekst
    conclusie: {GOAL}
    zonder_algemene_voorwaarden:
      reden: een proef voor de tests, geen route naar een verblijfsvergunning
      bron: {{bestand: 004_4ee60f9a98cd6659.txt, citaat: U moet beschikken over een geldige MVV}}
"""


def write_kb(directory: Path) -> Path:
    """kb/ copied to `directory`, plus the free-text declarations."""
    shutil.copytree(ROOT / "kb", directory)
    (directory / "regels" / "zz_vrije_tekst.yaml").write_text(DECLARATIONS, encoding="utf-8")
    return directory
