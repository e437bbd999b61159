"""Where a report sits in time when no repository dates its commit, without a database."""

from datetime import UTC, datetime

from findings.services.ingest.timeline import order_key
from scanners.base import ReportMeta


def test_a_report_time_without_a_zone_is_read_as_utc():
    when, source = order_key(None, "", ReportMeta(generated_at="2024-01-02T03:04:05"))
    assert (when, source) == (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "report")


def test_a_report_time_with_a_z_is_utc():
    when, source = order_key(None, "", ReportMeta(generated_at="2024-01-02T03:04:05Z"))
    assert (when, source) == (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "report")
