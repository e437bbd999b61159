"""Half of each page of findings left free on PostgreSQL: every rescan rewrites the last-seen
facts of each finding it sees, and with 70% filled only a third of those updates found room on
their own page (HOT); the rest moved, with a new entry in each of the table's indexes, and took
three quarters of an unchanged 100,000-finding rescan. At 50% a finding's new version fits
beside the old one, and the next rescan reclaims the old one (page pruning, no VACUUM needed).
Pages already written keep their old fill; new ones follow."""

from django.db import migrations


def set_fillfactor(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE findings_finding SET (fillfactor = 50)")


def restore_fillfactor(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE findings_finding SET (fillfactor = 70)")


class Migration(migrations.Migration):
    dependencies = [("findings", "0051_health_reading_when")]
    operations = [migrations.RunPython(set_fillfactor, restore_fillfactor)]
