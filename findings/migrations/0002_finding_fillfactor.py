"""Leave room in each page of findings so the scan merge's updates can stay HOT on PostgreSQL."""

from django.db import migrations


def set_fillfactor(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE findings_finding SET (fillfactor = 70)")


def reset_fillfactor(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE findings_finding RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("findings", "0001_initial")]
    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
