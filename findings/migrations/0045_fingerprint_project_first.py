"""finding_fingerprint becomes (project, fingerprint) again.

Fingerprint first spread a new report's inserts over the whole index, every project's
entries between them: each import wrote (and, after a checkpoint, logged whole) most of the
index's leaf pages. Project first, they land in the project's own range. The merge's lookup
names both columns by equality, which this unique index answers in one probe (tests check
the plan with stale statistics).

On SQLite the constraint change rebuilds findings_finding, which drops its rule-title
triggers: they are created again (either way).
"""

import importlib

from django.db import migrations, models

_RULE_TITLES = importlib.import_module("findings.migrations.0042_rule_titles")


def sqlite_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        _RULE_TITLES.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0044_rule_title_trigrams"),
    ]

    operations = [
        # Unapplying rebuilds the table too: this runs last then.
        migrations.RunPython(migrations.RunPython.noop, sqlite_triggers),
        migrations.RemoveConstraint(model_name="finding", name="finding_fingerprint"),
        migrations.AddConstraint(
            model_name="finding",
            constraint=models.UniqueConstraint(
                fields=("project", "fingerprint"), name="finding_fingerprint"
            ),
        ),
        migrations.RunPython(sqlite_triggers, migrations.RunPython.noop),
    ]
