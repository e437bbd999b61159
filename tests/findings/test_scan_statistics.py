"""A report that grows the findings table a lot has it analysed after it commits: the next
report's lifecycle statements are planned from statistics that know the new project's rows
(a 10%-changed rescan took 32-44 s instead of 7 s when they were planned for one row)."""

from __future__ import annotations

import pytest
from django.db import connection

from findings.models import Finding
from findings.services.ingest import ingest_file
from tests.conftest import sarif_log

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _known_rows() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'findings_finding'::regclass")
        return float(cursor.fetchone()[0])


def _places(count: int, prefix: str) -> list[tuple[str, str]]:
    return [(f"{prefix}/m{n}.py", f"call_{n}()") for n in range(count)]


def test_a_report_that_grows_the_table_much_has_it_analysed_after_commit(tmp_path):
    first = tmp_path / "first.sarif"
    first.write_bytes(sarif_log("py/eval", "eval of input", _places(40, "src")))
    ingest_file(first, project_key="ALPHA")

    assert Finding.objects.count() == 40
    assert _known_rows() == 40  # analysed: the statistics know every row

    # Ten more findings in a table of forty is a quarter more: analysed again.
    other = tmp_path / "other.sarif"
    other.write_bytes(sarif_log("py/eval", "eval of input", _places(10, "lib")))
    ingest_file(other, project_key="BETA")
    assert _known_rows() == 50

    # One more is not worth a new look: the statistics stay as they were.
    one = tmp_path / "one.sarif"
    one.write_bytes(sarif_log("py/eval", "eval of input", _places(1, "bin")))
    ingest_file(one, project_key="GAMMA")
    assert Finding.objects.count() == 51 and _known_rows() == 50
