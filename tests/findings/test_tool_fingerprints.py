"""A tool's fingerprint is a finding's identity only when it can be one: semgrep's
``requires login`` placeholder and gitleaks' line-bearing or commit-metadata fingerprints are
not, so the content identifies those findings and a line shift keeps each one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from findings.models import Finding
from findings.services.ingest import Options, ingest_file
from tests.conftest import run_tool

pytestmark = pytest.mark.django_db

RULES = """rules:
- id: os-system
  pattern: os.system(...)
  message: os.system runs a shell
  languages: [python]
  severity: ERROR
"""
BEFORE = "import os\n\n\ndef a(x):\n    os.system(x)\n\n\ndef b(y):\n    os.system(y + '!')\n"
# Three lines above, and a new call of the same rule before the old ones.
AFTER = "import os\n\n# added\n\n\ndef c(z):\n    os.system(z * 2)\n" + BEFORE.split("\n", 1)[1]


def _semgrep(project: Path, sarif: bool) -> bytes:
    out = run_tool(
        "semgrep",
        "--config",
        "rules.yml",
        "--sarif" if sarif else "--json",
        "--metrics=off",
        "--disable-version-check",
        "-q",
        "app.py",
        cwd=project,
    )
    return out.encode()


def _lines() -> dict[int, int]:
    """Each open finding's id and the line it was last seen at."""
    return {
        finding.pk: finding.sightings.order_by("-pk").first().start_line
        for finding in Finding.objects.filter(status="open")
    }


def _import(tmp_path: Path, name: str, data: bytes, root: Path):
    path = tmp_path / name
    path.write_bytes(data)
    return ingest_file(path, project_key="FP", options=Options(root=str(root)))


@pytest.mark.parametrize("sarif", [True, False], ids=["sarif", "json"])
def test_semgrep_without_a_login_keeps_each_finding_when_lines_shift(tmp_path, sarif):
    project = tmp_path / "project"
    project.mkdir()
    (project / "rules.yml").write_text(RULES)
    (project / "app.py").write_text(BEFORE)
    first = _semgrep(project, sarif)
    assert b"requires login" in first  # the placeholder this is about
    _import(tmp_path, "one", first, project)
    before = _lines()
    assert sorted(before.values()) == [5, 9]

    (project / "app.py").write_text(AFTER)
    result = _import(tmp_path, "two", _semgrep(project, sarif), project)

    assert (result.new, result.still_open, result.fixed) == (1, 2, 0)
    after = _lines()
    for pk, line in before.items():
        assert after[pk] == line + 6  # the same finding, at its new line


def _gitleaks_native(lines: dict[str, int]) -> bytes:
    return json.dumps(
        [
            {
                "Description": "Generic API Key",
                "StartLine": line,
                "EndLine": line,
                "StartColumn": 1,
                "EndColumn": 30,
                "Match": f"api_key = '{secret}'",
                "Secret": secret,
                "File": "settings.py",
                "Commit": "",
                "RuleID": "generic-api-key",
                "Fingerprint": f"settings.py:generic-api-key:{line}",
            }
            for secret, line in lines.items()
        ]
    ).encode()


def _gitleaks_sarif(lines: dict[str, int]) -> bytes:
    """As gitleaks writes SARIF: the secret in the snippet, commit metadata (empty for a scan
    of files, words for a commit's author and message) as partial fingerprints."""
    return json.dumps(
        {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "gitleaks", "rules": [{"id": "generic-api-key"}]}},
                    "results": [
                        {
                            "message": {"text": "generic-api-key has detected secret"},
                            "ruleId": "generic-api-key",
                            "locations": [
                                {
                                    "physicalLocation": {
                                        "artifactLocation": {"uri": "settings.py"},
                                        "region": {
                                            "startLine": line,
                                            "snippet": {"text": secret},
                                        },
                                    }
                                }
                            ],
                            "partialFingerprints": {
                                "commitSha": "",
                                "email": "",
                                "author": "Dev Eloper",
                                "date": "",
                                "commitMessage": "add settings",
                            },
                        }
                        for secret, line in lines.items()
                    ],
                }
            ],
        }
    ).encode()


@pytest.mark.parametrize("write", [_gitleaks_native, _gitleaks_sarif], ids=["json", "sarif"])
def test_gitleaks_keeps_each_leak_when_lines_shift(tmp_path, write):
    project = tmp_path / "project"
    project.mkdir()
    old = {"AKIA1111111111111111": 3, "AKIA2222222222222222": 7}
    settings = ["# settings\n"] * 10
    for secret, line in old.items():
        settings[line - 1] = f"api_key = '{secret}'\n"
    (project / "settings.py").write_text("".join(settings))
    _import(tmp_path, "one", write(old), project)
    ids = {f.pk: f.sightings.get().start_line for f in Finding.objects.all()}
    assert sorted(ids.values()) == [3, 7]

    shifted = ["# more\n"] * 4 + settings
    shifted[1] = "api_key = 'AKIA3333333333333333'\n"  # a new leak above the old ones
    (project / "settings.py").write_text("".join(shifted))
    new = {"AKIA3333333333333333": 2, **{s: line + 4 for s, line in old.items()}}
    result = _import(tmp_path, "two", write(new), project)

    assert (result.new, result.still_open, result.fixed) == (1, 2, 0)
    for pk, line in ids.items():
        finding = Finding.objects.get(pk=pk)
        assert finding.status == "open"
        assert finding.sightings.order_by("-pk").first().start_line == line + 4
