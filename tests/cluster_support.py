"""Evaluators that fail on purpose, for the cluster tests: importable by the Dask workers, which
unpickle them by reference."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from engine.answer.batch import Evaluators


@dataclass(frozen=True)
class Flaky:
    """The evaluators of `inner`, except that a chunk whose rows include row `row` fails: once over
    all processes (a marker file records that it did), or every time with `always`. It fails by
    raising ValueError(message) or, with how="exit", by ending its worker process at once."""

    inner: Evaluators
    marker: str
    row: int
    how: str = "raise"
    message: str = "misgegaan"
    always: bool = False

    @property
    def runs(self) -> Any:  # what engine.answer.cluster fingerprints
        return self.inner.runs

    def __call__(self) -> list[Any]:
        return [_FlakyEvaluator(e, self) for e in self.inner()]


class _FlakyEvaluator:
    def __init__(self, inner: Any, flaky: Flaky):
        self.inner, self.flaky = inner, flaky

    def evaluate(self, rows: list[Any]) -> list[dict[str, Any]]:
        if any(row.number == self.flaky.row for row in rows) and (self.flaky.always or self._first()):
            if self.flaky.how == "exit":
                os._exit(1)
            raise ValueError(self.flaky.message)
        return self.inner.evaluate(rows)

    def _first(self) -> bool:
        try:
            os.close(os.open(self.flaky.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True
