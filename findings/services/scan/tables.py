"""The merge's temporary tables, and loading staged rows into them.

Loading is the only part of the merge that differs by database: ``COPY`` on PostgreSQL,
batched inserts on SQLite. :class:`ScanStage` holds a whole report for imports that parse
everything before they merge.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from findings.services.scan.copy_text import STAGE_COLUMNS, stage_payload
from scanners.rows import StagedRow

ROW_COLUMNS = """seq BIGINT, fingerprint VARCHAR(80), tool TEXT, category TEXT, rule_id TEXT,
    title TEXT, message TEXT, severity SMALLINT, cwe TEXT, path TEXT, start_line INTEGER,
    end_line INTEGER, snippet TEXT, suppressed BOOLEAN, suppression_reason TEXT, extra TEXT,
    content_key TEXT"""
"""A staged row's columns (:class:`scanners.rows.StagedRow`, in its order) as SQL."""

_TEMP_TABLES = ("ad_stage", "ad_batch", "ad_new", "ad_seen", "ad_titles", "ad_scope", "ad_gone")
MERGE_TABLES = ("ad_batch", "ad_new", "ad_seen", "ad_titles", "ad_scope", "ad_gone")
"""The temporary tables one merge makes (``ad_stage`` is the stage's own)."""


def copy_in(table: str, columns: str, payload: bytes) -> None:
    """A COPY text body into ``table`` (PostgreSQL only)."""
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            copy.write(payload)


def load(table: str, rows: Sequence[StagedRow], payload: bytes | None = None) -> None:
    """Rows into one of the merge's temporary tables: COPY on PostgreSQL (``payload``, when
    given, is ``stage_payload(rows)`` made beforehand)."""
    if connection.vendor == "postgresql":
        copy_in(table, STAGE_COLUMNS, stage_payload(rows) if payload is None else payload)
        return
    marks = ", ".join(["%s"] * len(StagedRow._fields))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({STAGE_COLUMNS}) VALUES ({marks})", rows)


def drop_temp_tables() -> None:
    with connection.cursor() as cursor:
        for table in _TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


class ScanStage:
    """A whole report's normalised rows in a temporary table on this connection, for imports
    that parse everything before they merge (see :class:`ScanMerge`).

    Filling it writes nothing a user can see, so a report that fails half way through
    parsing leaves the database as it was.
    """

    def __init__(self) -> None:
        self.count = 0
        self.suppressed = 0

    def __enter__(self) -> ScanStage:
        drop_temp_tables()
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE ad_stage ({ROW_COLUMNS})")
        return self

    def __exit__(self, *exc) -> None:
        drop_temp_tables()

    def add(self, rows: Sequence[StagedRow]) -> None:
        if rows:
            load("ad_stage", rows)
            self.count += len(rows)
            self.suppressed += sum(1 for row in rows if row.suppressed)
