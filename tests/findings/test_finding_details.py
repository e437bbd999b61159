"""The finding page's details: what the scanner said of the result and of its rule."""

from __future__ import annotations

import json

import pytest

from findings.models import Finding, Rule
from findings.services.ingest import ingest_file

pytestmark = pytest.mark.django_db


def sarif(rules: list[dict], results: list[dict]) -> bytes:
    run = {"tool": {"driver": {"name": "CodeQL", "rules": rules}}, "results": results}
    return json.dumps({"version": "2.1.0", "runs": [run]}).encode()


def result(rule: str, line: int, **more) -> dict:
    location = {"artifactLocation": {"uri": "app/views.py"}, "region": {"startLine": line}}
    return {
        "ruleId": rule,
        "message": {"text": f"problem at {line}"},
        "locations": [{"physicalLocation": location}],
        **more,
    }


SQL_RULE = {
    "id": "py/sql-injection",
    "name": "SqlInjection",
    "shortDescription": {"text": "SQL query built from user-controlled sources"},
    "helpUri": "https://codeql.github.com/codeql-query-help/python/py-sql-injection/",
    "properties": {
        "tags": ["security", "external/cwe/cwe-089"],
        "precision": "high",
        "security-severity": "8.8",
    },
}


def page_of(client, finding: Finding) -> str:
    return client.get(f"/p/{finding.project.key}/findings/{finding.number}/").content.decode()


def test_the_rule_is_kept_once_and_shown_on_each_of_its_findings(owner_client, tmp_path):
    path = tmp_path / "codeql.sarif"
    path.write_bytes(
        sarif([SQL_RULE], [result("py/sql-injection", n, baselineState="new") for n in (3, 9)])
    )
    ingest_file(path, project_key="DETAIL")
    rule = Rule.objects.get(project__key="DETAIL")
    assert (rule.tool, rule.rule_id) == ("CodeQL", "py/sql-injection")
    assert rule.details["precision"] == "high" and rule.details["cwes"] == ["CWE-89"]
    for finding in Finding.objects.filter(project__key="DETAIL"):
        # The finding keeps what is its own; the rule's metadata is not copied onto it.
        assert finding.extra == {"baseline_state": "new"}
        page = page_of(owner_client, finding)
        assert "SqlInjection" in page and "Security severity" in page and "8.8" in page
        assert "security, external/cwe/cwe-089" in page
        assert (
            '<a href="https://codeql.github.com/codeql-query-help/python/py-sql-injection/"' in page
        )
        assert "Baseline state" in page


def test_a_later_report_replaces_what_an_earlier_one_said_of_the_rule(tmp_path):
    first, second = tmp_path / "one.sarif", tmp_path / "two.sarif"
    first.write_bytes(sarif([SQL_RULE], [result("py/sql-injection", 3)]))
    changed = {**SQL_RULE, "properties": {**SQL_RULE["properties"], "precision": "medium"}}
    second.write_bytes(sarif([changed], [result("py/sql-injection", 3)]))
    ingest_file(first, project_key="DETAIL")
    ingest_file(second, project_key="DETAIL")
    assert Rule.objects.get(project__key="DETAIL").details["precision"] == "medium"


def test_a_help_link_that_is_not_a_web_address_is_shown_as_text(owner_client, tmp_path):
    hostile = {
        **SQL_RULE,
        "helpUri": "javascript:alert(document.cookie)",
        "name": "<script>alert(1)</script>",
    }
    path = tmp_path / "hostile.sarif"
    path.write_bytes(sarif([hostile], [result("py/sql-injection", 3)]))
    ingest_file(path, project_key="DETAIL")
    page = page_of(owner_client, Finding.objects.get(project__key="DETAIL"))
    assert 'href="javascript:' not in page and "javascript:alert(document.cookie)" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_vulnerable_dependency_shows_its_package_and_fix_versions(owner_client, tmp_path):
    report = {
        "dependencies": [
            {
                "name": "django",
                "version": "3.2.0",
                "vulns": [
                    {
                        "id": "PYSEC-2021-98",
                        "fix_versions": ["3.2.5"],
                        "aliases": ["CVE-2021-35042"],
                        "description": "SQL injection in QuerySet.order_by.",
                    }
                ],
            }
        ],
        "fixes": [],
    }
    path = tmp_path / "pip-audit.json"
    path.write_text(json.dumps(report))
    ingest_file(path, project_key="DEPS")
    page = page_of(owner_client, Finding.objects.get(project__key="DEPS"))
    assert "Installed version" in page and "3.2.0" in page
    assert "3.2.5" in page and "CVE-2021-35042" in page
    # The advisory's text is the message already; it is not repeated as a detail.
    assert page.count("SQL injection in QuerySet.order_by.") == 1


def test_a_finding_that_still_carries_a_copy_of_its_rule_shows_it_once(owner_client, tmp_path):
    path = tmp_path / "codeql.sarif"
    path.write_bytes(sarif([SQL_RULE], [result("py/sql-injection", 3)]))
    ingest_file(path, project_key="DETAIL")
    finding = Finding.objects.get(project__key="DETAIL")
    # As imports before Rule existed left it: the rule's metadata copied onto the finding.
    rule = Rule.objects.get(project__key="DETAIL")
    Finding.objects.filter(pk=finding.pk).update(extra={**rule.details, "kind": "fail"})
    page = page_of(owner_client, finding)
    assert page.count("Security severity") == 1 and page.count("security, external/cwe") == 1
    assert "Kind" in page
