"""Events and reviews are append-only in the database itself, not only in the model layer.

Triggers refuse every UPDATE and DELETE of a row of ``findings_event`` and
``findings_review``, whoever issues it: the ORM, the admin, a cascade from a deleted project,
or raw SQL. Consequences (README, "Accounts and roles"): projects, findings
and reports that have events are never deleted, and users who acted are deactivated rather
than deleted.

On PostgreSQL ``TRUNCATE`` fires no row trigger; only the tables' owner may run it, and the
application's role should not own them in production. On SQLite anyone holding the file can
drop a trigger; the guarantee there is against the application, not the file's owner.
"""

from django.db import migrations

TABLES = ("findings_event", "findings_review")


def sqlite_install() -> list[str]:
    """The SQLite statements that create the triggers (also used by the test suite's flush)."""
    statements = []
    for table in TABLES:
        for operation in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
                f"BEFORE {operation} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
            )
    return statements


def sqlite_remove() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{operation}"
        for table in TABLES
        for operation in ("update", "delete")
    ]


POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION auditdash_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$""",
    *[
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION auditdash_append_only()"""
        for table in TABLES
    ],
]

POSTGRES_REMOVE = [
    *[f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in TABLES],
    "DROP FUNCTION IF EXISTS auditdash_append_only()",
]


def _run(schema_editor, statements_by_vendor: dict[str, list[str]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements_by_vendor:
        raise RuntimeError(
            f"append-only triggers are written for SQLite and PostgreSQL, not {vendor!r}"
        )
    for statement in statements_by_vendor[vendor]:
        # No parameters: the PL/pgSQL body has literal % placeholders of its own.
        schema_editor.execute(statement, params=None)


def install(apps, schema_editor) -> None:
    _run(schema_editor, {"sqlite": sqlite_install(), "postgresql": POSTGRES_INSTALL})


def remove(apps, schema_editor) -> None:
    _run(schema_editor, {"sqlite": sqlite_remove(), "postgresql": POSTGRES_REMOVE})


class Migration(migrations.Migration):
    dependencies = [("findings", "0010_access")]

    operations = [migrations.RunPython(install, remove)]
