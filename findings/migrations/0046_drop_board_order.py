"""finding_board_order (project, severity, -number) goes: each import paid for it on every
finding it inserted (about a tenth of a first import's COPY), and its one reader, the API's
list across statuses, now reads each status along finding_column_order and merges."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0045_fingerprint_project_first"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="finding", name="finding_board_order"),
    ]
