"""Trigram indexes for the board's text filter, on PostgreSQL with ``pg_trgm`` only.

The filter is ``UPPER(title) LIKE UPPER('%word%')`` (Django's ``icontains``). Without an index
on that expression PostgreSQL has no statistics for it and guesses a fraction of a percent,
then walks the status index and filters thousands of rows to count a column. An expression
index gives ANALYZE the statistics (and a trigram index to read when the word is rare).

Creating the extension needs the right to (superuser or a trusted-extension owner). Without
it the migration says so and goes on: the filter still answers, just slower.
"""

from __future__ import annotations

import sys

from django.db import DatabaseError, migrations, transaction

# The expressions match what Django's icontains emits for these varchar columns.
INDEXES = {
    "finding_title_trgm": 'UPPER("title"::text) gin_trgm_ops',
    "finding_rule_trgm": 'UPPER("rule_id"::text) gin_trgm_ops',
}


def _have_trigrams(schema_editor) -> bool:
    """Whether ``pg_trgm`` is (or could now be made) available; a savepoint keeps a refusal
    from aborting the migration's transaction."""
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        sys.stdout.write(
            "\n  findings.0040_text_search: skipped the trigram indexes for the board's text "
            f"filter: could not create the pg_trgm extension ({str(error).strip()}). The "
            "filter still works, only slower on large projects; a superuser can run "
            "CREATE EXTENSION pg_trgm in this database and then re-run this migration "
            "(migrate findings 0032_finding_path && migrate).\n"
        )
        return False
    return True


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql" or not _have_trigrams(schema_editor):
        return
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON findings_finding USING gin ({expression})"
        )
    # The expression statistics are what fix the planner's estimate: gather them now rather
    # than at the next autovacuum.
    schema_editor.execute("ANALYZE findings_finding")


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("findings", "0032_finding_path")]
    operations = [migrations.RunPython(create_indexes, drop_indexes)]
