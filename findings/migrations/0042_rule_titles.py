"""Cheaper imports: the finding indexes an import pays for, cut to what pages need.

* The trigram indexes of 0040 (two GIN indexes, about half the cost of inserting a finding)
  give way to RuleTitle, the project's distinct (tool, rule id, title), and one btree on
  (project, rule id): the text filter matches words among the few distinct texts, then reads
  findings by rule id.
* (project, status, severity) duplicated the head of finding_column_order; (project, tool,
  category, branch, status) served only the import's own "gone" pass, which the status
  columns serve as well.
* The project FK of findings loses its database check (one queued per inserted row).
* finding_fingerprint becomes (fingerprint, project): the merge's lookups name the fingerprint
  only as an index key, so the planner cannot pick another index (see ScanMerge._absorb).

RuleTitle is kept by the merge for what it inserts (it sets ``auditdash.merging`` for its
transaction, PostgreSQL only) and by triggers for everything else. On SQLite a later
migration that rebuilds findings_finding drops its triggers: such a migration must create
them again (``create_triggers``).
"""

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models
from django.conf import settings

# The probe names the indexed expression (rule_title_lookup): LEFT on PostgreSQL, SUBSTR as
# Django writes it for SQLite.
_NOTE = """INSERT INTO findings_ruletitle (project_id, tool, rule_id, title)
    SELECT NEW.project_id, NEW.tool, NEW.rule_id, NEW.title
    WHERE NOT EXISTS (SELECT 1 FROM findings_ruletitle r WHERE r.project_id = NEW.project_id
        AND r.rule_id = NEW.rule_id AND {cut}(r.title{args}) = {cut}(NEW.title{args})
        AND r.tool = NEW.tool AND r.title = NEW.title);"""
_PG_NOTE = _NOTE.format(cut="LEFT", args=", 200")
_SQLITE_NOTE = _NOTE.format(cut="SUBSTR", args=", 1, 200")
_CHANGED = (
    "OLD.tool IS DISTINCT FROM NEW.tool OR OLD.rule_id IS DISTINCT FROM NEW.rule_id "
    "OR OLD.title IS DISTINCT FROM NEW.title"
)

POSTGRESQL = [
    "DROP INDEX IF EXISTS finding_title_trgm",
    "DROP INDEX IF EXISTS finding_rule_trgm",
    f"""CREATE OR REPLACE FUNCTION findings_rule_title_note() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN {_PG_NOTE} RETURN NULL; END $$""",
    # Skipped inside the scan merge, which records its findings' pairs set-wise per batch.
    """CREATE TRIGGER finding_rule_title_insert AFTER INSERT ON findings_finding FOR EACH ROW
    WHEN (current_setting('auditdash.merging', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION findings_rule_title_note()""",
    f"""CREATE TRIGGER finding_rule_title_update
    AFTER UPDATE OF tool, rule_id, title ON findings_finding FOR EACH ROW
    WHEN ({_CHANGED}) EXECUTE FUNCTION findings_rule_title_note()""",
]
SQLITE = [
    f"""CREATE TRIGGER finding_rule_title_insert AFTER INSERT ON findings_finding
    BEGIN {_SQLITE_NOTE} END""",
    f"""CREATE TRIGGER finding_rule_title_update
    AFTER UPDATE OF tool, rule_id, title ON findings_finding
    WHEN {_CHANGED.replace("IS DISTINCT FROM", "IS NOT")} BEGIN {_SQLITE_NOTE} END""",
]
BACKFILL = """INSERT INTO findings_ruletitle (project_id, tool, rule_id, title)
    SELECT DISTINCT project_id, tool, rule_id, title FROM findings_finding"""


def create_triggers(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(vendor, []):
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)


def drop_triggers(apps, schema_editor) -> None:
    for name in ("finding_rule_title_insert", "finding_rule_title_update"):
        on = " ON findings_finding" if schema_editor.connection.vendor == "postgresql" else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS findings_rule_title_note()")


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0041_api_token"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RuleTitle",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tool", models.CharField(max_length=200)),
                ("rule_id", models.CharField(blank=True, max_length=300)),
                ("title", models.CharField(max_length=500)),
            ],
        ),
        migrations.RemoveIndex(
            model_name="finding",
            name="findings_fi_project_ded215_idx",
        ),
        migrations.RemoveIndex(
            model_name="finding",
            name="findings_fi_project_f6a62c_idx",
        ),
        migrations.AlterField(
            model_name="finding",
            name="project",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="findings",
                to="findings.project",
            ),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(fields=["project", "rule_id"], name="finding_rule"),
        ),
        migrations.AddField(
            model_name="ruletitle",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rule_titles",
                to="findings.project",
            ),
        ),
        migrations.AddIndex(
            model_name="ruletitle",
            index=models.Index(
                models.F("project"),
                models.F("rule_id"),
                django.db.models.functions.text.Left("title", 200),
                name="rule_title_lookup",
            ),
        ),
        migrations.AddIndex(
            model_name="ruletitle",
            index=models.Index(fields=["project", "tool"], name="rule_title_tool"),
        ),
        migrations.RemoveConstraint(
            model_name="finding",
            name="finding_fingerprint",
        ),
        migrations.AddConstraint(
            model_name="finding",
            constraint=models.UniqueConstraint(
                fields=("fingerprint", "project"), name="finding_fingerprint"
            ),
        ),
        # Last: on SQLite an AlterField above rebuilds findings_finding, dropping its triggers.
        migrations.RunPython(create_triggers, drop_triggers),
    ]
