"""What the databases say: their real error messages, SQLSTATEs and error classes, per dialect."""

from __future__ import annotations

from typing import NamedTuple


class DbError(NamedTuple):
    """An error class (as drivers name it) and the server's message."""

    cls: str
    message: str


def sequence_exhausted(dialect: str, table: str, top: float) -> DbError:
    if dialect == "mysql":
        return DbError(
            "IntegrityError",
            f"ERROR 1062 (23000): Duplicate entry '{top:.0f}' for key '{table}.PRIMARY'",
        )
    return DbError(
        "SequenceGeneratorLimitExceeded",
        f'ERROR: nextval: reached maximum value of sequence "{table}_id_seq" ({top:.0f}) '
        "(SQLSTATE 2200H)",
    )


def read_only(dialect: str, statement: str = "INSERT") -> DbError:
    if dialect == "mysql":
        return DbError(
            "OperationalError",
            "ERROR 1290 (HY000): The MySQL server is running with the --read-only option so "
            "it cannot execute this statement",
        )
    return DbError(
        "ReadOnlySqlTransaction",
        f"ERROR: cannot execute {statement} in a read-only transaction (SQLSTATE 25006)",
    )


def lock_timeout(dialect: str) -> DbError:
    if dialect == "mysql":
        return DbError(
            "OperationalError",
            "ERROR 1205 (HY000): Lock wait timeout exceeded; try restarting transaction",
        )
    return DbError(
        "LockNotAvailable", "ERROR: canceling statement due to lock timeout (SQLSTATE 55P03)"
    )


def statement_timeout(dialect: str) -> DbError:
    if dialect == "mysql":
        return DbError(
            "OperationalError",
            "ERROR 3024 (HY000): Query execution was interrupted, maximum statement execution "
            "time exceeded",
        )
    return DbError(
        "QueryCanceled", "ERROR: canceling statement due to statement timeout (SQLSTATE 57014)"
    )


def starting_up(dialect: str) -> DbError:
    if dialect == "mysql":
        return DbError("OperationalError", "ERROR 2013 (HY000): Lost connection to MySQL server")
    return DbError("CannotConnectNow", "FATAL: the database system is starting up (SQLSTATE 57P03)")


def cancelled_by_admin(dialect: str) -> DbError:
    if dialect == "mysql":
        return DbError("OperationalError", "ERROR 1317 (70100): Query execution was interrupted")
    return DbError(
        "QueryCanceled", "ERROR: canceling statement due to user request (SQLSTATE 57014)"
    )


__all__ = [
    "DbError",
    "cancelled_by_admin",
    "lock_timeout",
    "read_only",
    "sequence_exhausted",
    "starting_up",
    "statement_timeout",
]
