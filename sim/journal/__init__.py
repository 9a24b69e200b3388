"""The journal: the single record of a run."""

from sim.journal.record import FORMAT, Journal
from sim.journal.summary import summarise

__all__ = ["FORMAT", "Journal", "summarise"]
