"""The checks `verblijfsregels mutate` runs against every mutant, handed over by the test suite.

The product never imports its tests: `engine.checks.mutation.find_checks` finds `checks` through the
entry point `verblijfsregels.mutation_checks` (pyproject.toml), and the tests pass the same
checks explicitly, from the `mutation_checks` fixture (this module is a pytest plugin, loaded by
tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.applicant.facts import load_applicant_file
from engine.checks.mutation import MutationChecks

HERE = Path(__file__).resolve().parent


def checks() -> MutationChecks:
    """Every scenario of tests/scenarios with `check_scenario`, the properties of
    tests/test_invariants.py and tests/test_fee_properties.py, the scenario bases (for the
    differential check of survivors) and the list of equivalent mutants."""
    # imported here, not above: a plugin module loads before the test modules are collected
    from tests import test_fee_properties, test_invariants, test_scenarios

    return MutationChecks(
        check_scenario=test_scenarios.check_scenario,
        scenarios=tuple((p.stem, test_scenarios.load_scenario(p)) for p in test_scenarios.FILES),
        properties=tuple(test_invariants.PROPERTIES),
        fee_properties=tuple(test_fee_properties.PROPERTIES),
        bases={p.stem: load_applicant_file(p) for p in sorted((HERE / "scenarios" / "basis").glob("*.yaml"))},
        equivalents=HERE / "mutation_equivalents.yaml",
    )


@pytest.fixture(scope="session")
def mutation_checks() -> MutationChecks:
    return checks()
