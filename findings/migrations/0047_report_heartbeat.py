"""Report.heartbeat_at: an import's last sign of life, so a report whose worker died ends
failed (and one no task will run is sent again) instead of staying queued or running."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0046_drop_board_order"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="heartbeat_at",
            field=models.DateTimeField(
                blank=True,
                help_text="The import's last sign of life: while queued, when its task was last sent; while running, written every few seconds by the worker. The sweeper ends a running report that stays silent, and sends again a queued one that no task will run.",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(
                condition=models.Q(("state__in", ["queued", "running"])),
                fields=["state", "heartbeat_at"],
                name="report_unfinished",
            ),
        ),
    ]
