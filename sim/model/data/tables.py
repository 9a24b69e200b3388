"""Tables as data: rows that grow with inserts, and ID sequences that can run out."""

from __future__ import annotations

from sim.scenario.schema.data import SEQUENCE_MAX, Table


class TableState:
    """One table's size, its sequence and what the shop's inserts did to them."""

    __slots__ = (
        "cost_factor",
        "exhausted_at",
        "increment",
        "inserts",
        "name",
        "row_bytes",
        "rows",
        "seq_max",
        "seq_type",
        "seq_value",
    )

    def __init__(self, name: str, spec: Table) -> None:
        self.name = name
        self.rows = float(spec.rows)
        self.row_bytes = spec.row_bytes
        seq = spec.sequence
        self.seq_type: str | None = seq.type if seq is not None else None
        self.seq_value = float(seq.value) if seq is not None else 0.0
        self.seq_max = float(SEQUENCE_MAX[seq.type]) if seq is not None else 0.0
        self.increment = seq.increment if seq is not None else 1
        self.exhausted_at: float | None = None
        self.cost_factor = 1.0  # × query cost (planner statistics reset by a rewrite)
        self.inserts = 0  # simulated inserts counted by the engine since the last tick

    @property
    def bytes(self) -> float:
        return self.rows * self.row_bytes

    @property
    def headroom(self) -> float | None:
        """Inserts left before the sequence passes its type's maximum (``None``: no sequence)."""
        if self.seq_type is None:
            return None
        return max(0.0, (self.seq_max - self.seq_value) / self.increment)

    def insert(self, rows: float, now: float) -> bool:
        """Account ``rows`` real inserts; return whether the sequence ran out with them."""
        self.rows += rows
        if self.seq_type is None or self.exhausted_at is not None:
            return False
        self.seq_value += rows * self.increment
        if self.seq_value + self.increment > self.seq_max:
            self.seq_value = self.seq_max
            self.exhausted_at = now
            return True
        return False

    def restart(self, value: float) -> None:
        """The sequence starts again at ``value`` (the negative half of its range): inserts work."""
        self.seq_value = value
        self.exhausted_at = None

    def widen(self, to: str) -> None:
        """The sequence's column now has type ``to`` (a rewrite to bigint): inserts work again."""
        self.seq_type = to
        self.seq_max = float(SEQUENCE_MAX[to])
        self.exhausted_at = None


__all__ = ["TableState"]
