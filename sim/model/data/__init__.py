"""The data tier as state: tables, sequences, locks and replicas of each database component.

Mechanisms (:mod:`sim.faults.mechanisms`) change it as time and traffic pass; engines read it
(which instance a read or a write goes to, how long a query waits for its lock, which inserts
fail, how cold an instance's cache is) and count what their traffic did to it.
"""

from sim.model.data.database import DatabaseState
from sim.model.data.locks import (
    ACCESS_EXCLUSIVE,
    ACCESS_SHARE,
    ROW_EXCLUSIVE,
    SHARE,
    SHARE_UPDATE_EXCLUSIVE,
    Hold,
    LockTable,
)
from sim.model.data.tables import TableState

__all__ = [
    "ACCESS_EXCLUSIVE",
    "ACCESS_SHARE",
    "ROW_EXCLUSIVE",
    "SHARE",
    "SHARE_UPDATE_EXCLUSIVE",
    "DatabaseState",
    "Hold",
    "LockTable",
    "TableState",
]
