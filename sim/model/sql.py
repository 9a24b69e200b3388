"""What a change's SQL statements touch: the tables named by ``ALTER TABLE users …`` and the like."""

from __future__ import annotations

import re
from collections.abc import Sequence

TABLE_IN_SQL = re.compile(
    r"\b(?:ALTER TABLE|UPDATE|INSERT INTO|DELETE FROM|DROP TABLE|CREATE INDEX \w+ ON)\s+"
    r"([a-z_][a-z0-9_]*)",
    re.I,
)


def tables_in(statements: Sequence[str]) -> set[str]:
    """Tables a migration's statements touch (``ALTER TABLE users …`` → ``users``)."""
    return {m.group(1).lower() for s in statements for m in TABLE_IN_SQL.finditer(s)}


__all__ = ["TABLE_IN_SQL", "tables_in"]
