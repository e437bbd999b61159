"""Trigram indexes on the rule titles, for the board's text filter (PostgreSQL with pg_trgm).

The filter looks words up among a project's distinct (tool, rule, title) triples. That is a
few hundred rows for most projects, but a tool that titles each finding by its own message
makes one per finding; there a rare word would read every title. The trigram index finds
them instead. It costs on import only for titles never seen before, not per finding.

Without the right to create the extension the migration says so and goes on: the filter
still answers, only slower in such projects.
"""

from __future__ import annotations

import sys

from django.db import DatabaseError, migrations, transaction

# The expressions match what Django's icontains emits for these varchar columns.
INDEXES = {
    "rule_title_title_trgm": 'UPPER("title"::text) gin_trgm_ops',
    "rule_title_rule_trgm": 'UPPER("rule_id"::text) gin_trgm_ops',
}


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        sys.stdout.write(
            "\n  findings.0044_rule_title_trigrams: skipped the trigram indexes of the text "
            f"filter: could not create the pg_trgm extension ({str(error).strip()}). The "
            "filter still works; a superuser can run CREATE EXTENSION pg_trgm in this "
            "database, then migrate findings 0043_rules && migrate.\n"
        )
        return
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON findings_ruletitle USING gin ({expression})"
        )


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("findings", "0043_rules")]
    operations = [migrations.RunPython(create_indexes, drop_indexes)]
