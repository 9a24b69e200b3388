"""What a sweep raises: a bad sweep definition, a failed run, an interruption."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class SweepError(ValueError):
    """A sweep that cannot run as asked, or a run of it that failed.

    The message is one line for people: the override key, the value and what was expected
    (``monitors[endpoint-errors].threshold=-1: expected a value >= 0, got -1``), or the
    variant and seed of a run that raised. ``key`` is the override key when one is to blame.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key

    def __reduce__(self) -> tuple[type[SweepError], tuple[str, str | None]]:
        # Errors raised in worker processes travel back by pickle.
        return (type(self), (str(self), self.key))


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep. ``frame`` holds the runs that had finished, sorted like a full
    sweep's table, with ``frame.attrs["partial"]`` true."""

    def __init__(self, frame: pd.DataFrame, total: int) -> None:
        super().__init__(f"sweep interrupted after {len(frame)} of {total} runs")
        self.frame = frame
        self.total = total
