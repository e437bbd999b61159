"""Finding.content_key and Finding.scan_change: moved and edited findings (issue 15).

``content_key`` is a finding's fingerprint without its path and ordinal, so that a finding
found under another path (a rename, a flattened directory, a function moved to another file)
can be paired with itself; findings imported before have none and are not paired by content.
``scan_change`` says how the newest scan saw the finding move or go: moved, still present
(changed), fixed (code removed), fixed (code changed), gone (no longer scanned).

Both have a database default, so the merge's own inserts need not name them. On SQLite
adding them rebuilds findings_finding, which drops its rule-title triggers: they are created
again (without a second backfill: the rows are unchanged).
"""

import importlib

from django.db import migrations, models

_RULE_TITLES = importlib.import_module("findings.migrations.0042_rule_titles")


def sqlite_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for statement in _RULE_TITLES.SQLITE:
            schema_editor.execute(statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS"))


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0049_finding_filter"),
    ]

    operations = [
        # Unapplying rebuilds the table too: this runs last then.
        migrations.RunPython(migrations.RunPython.noop, sqlite_triggers),
        migrations.AddField(
            model_name="finding",
            name="content_key",
            field=models.CharField(blank=True, db_default="", default="", max_length=32),
        ),
        migrations.AddField(
            model_name="finding",
            name="scan_change",
            field=models.CharField(
                blank=True,
                choices=[
                    ("moved", "moved"),
                    ("edited", "still present (changed)"),
                    ("removed", "fixed (code removed)"),
                    ("changed", "fixed (code changed)"),
                    ("unscanned", "gone (no longer scanned)"),
                ],
                db_default="",
                default="",
                max_length=10,
            ),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                condition=models.Q(("scan_change__in", ["moved", "edited"])),
                fields=["project"],
                name="finding_moved",
            ),
        ),
        migrations.RunPython(sqlite_triggers, migrations.RunPython.noop),
    ]
