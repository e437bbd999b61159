"""What rescans did to findings, in a manager's words on the board and the finding page: a
finding moved to another file, a flagged line edited but still reported, a file deleted, and
a finding a partial scan did not look at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from findings.models import Finding
from findings.services.ingest import Options, ingest_file
from tests.browser.conftest import screenshot
from tests.conftest import sarif_log

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def bandit(when: str, files: list[str], results: list[tuple[str, int, tuple, str]]) -> str:
    """A bandit JSON report as bandit writes it: the scanned files in ``metrics``, and one
    result per (file, line, (test id, test name, issue text), flagged code)."""
    return json.dumps(
        {
            "errors": [],
            "generated_at": when,
            "metrics": {
                **{f"./{name}": {"loc": 20, "nosec": 0} for name in files},
                "_totals": {"loc": 20 * len(files), "nosec": 0},
            },
            "results": [
                {
                    "code": f"{line} {code}\n",
                    "filename": f"./{name}",
                    "issue_confidence": "HIGH",
                    "issue_severity": "MEDIUM",
                    "issue_text": text,
                    "line_number": line,
                    "line_range": [line],
                    "test_id": test_id,
                    "test_name": test_name,
                }
                for name, line, (test_id, test_name, text), code in results
            ],
        }
    )


def sarif(when: str, places: list[str]) -> str:
    """A CodeQL log of one rule flagged once in each of ``places``."""
    flagged = [(path, f"log.info({path!r})") for path in places]
    return sarif_log("py/clear-text-logging", "A secret is logged.", flagged, when=when).decode()


EVAL = (("B307", "blacklist", "Use of possibly insecure function - consider ast.literal_eval."),)
YAML = (("B506", "yaml_load", "Use of unsafe yaml load."),)
PICKLE = (("B301", "blacklist", "Pickle can be unsafe with untrusted data."),)


@pytest.fixture
def rescanned(tmp_path: Path) -> str:
    """A project whose second bandit scan saw api/handlers.py flattened to handlers.py, a
    yaml.load call edited (still flagged) and legacy/cache.py deleted; and whose second
    CodeQL scan covered only src, so the finding in tools/ was not looked at."""
    reports = [
        (
            "bandit-1.json",
            bandit(
                "2026-03-02T10:00:00Z",
                ["api/handlers.py", "config.py", "legacy/cache.py"],
                [
                    ("api/handlers.py", 12, *EVAL, "eval(payload)"),
                    ("config.py", 5, *YAML, "data = yaml.load(stream)"),
                    ("legacy/cache.py", 30, *PICKLE, "pickle.loads(blob)"),
                ],
            ),
            "",
        ),
        (
            "bandit-2.json",
            bandit(
                "2026-03-09T10:00:00Z",
                ["handlers.py", "config.py"],
                [
                    ("handlers.py", 12, *EVAL, "eval(payload)"),
                    ("config.py", 5, *YAML, "data = yaml.load(stream, Loader=yaml.Loader)"),
                ],
            ),
            "",
        ),
        ("codeql-1.sarif", sarif("2026-03-03T10:00:00Z", ["src/app.py", "tools/sync.py"]), ""),
        ("codeql-2.sarif", sarif("2026-03-10T10:00:00Z", ["src/app.py"]), "src"),
    ]
    for name, text, only in reports:
        path = tmp_path / name
        path.write_text(text)
        ingest_file(path, project_key="OPS", options=Options(only=only))
    return "OPS"


def _number(path: str) -> int:
    return Finding.objects.get(project__key="OPS", path=path).number


def test_the_board_and_finding_pages_say_what_the_rescans_did_in_words(
    page, live_server, rescanned
):
    page.goto(f"{live_server.url}/p/{rescanned}/")
    screenshot(page, "scan-words-board")

    board = page.locator("main")
    expect(board).to_contain_text(
        "moved from api/handlers.py to handlers.py in the scan of 2026-03-09"
    )
    expect(board).to_contain_text("still present (changed)")
    expect(board).to_contain_text("not seen since 2026-03-03 (partial scan)")
    for internal in ("scan_change", "unscanned", "edited"):
        expect(board).not_to_contain_text(internal)

    page.goto(f"{live_server.url}/p/{rescanned}/findings/{_number('handlers.py')}/")
    screenshot(page, "scan-words-moved")
    expect(page.locator("main")).to_contain_text("moved from api/handlers.py to handlers.py")

    page.goto(f"{live_server.url}/p/{rescanned}/findings/{_number('config.py')}/")
    screenshot(page, "scan-words-edited")
    expect(page.locator(".scan-words")).to_have_text(
        "still present (changed): data = yaml.load(stream) → "
        "data = yaml.load(stream, Loader=yaml.Loader) in the scan of 2026-03-09"
    )

    page.goto(f"{live_server.url}/p/{rescanned}/findings/{_number('legacy/cache.py')}/")
    screenshot(page, "scan-words-removed")
    expect(page.locator("main")).to_contain_text("fixed (code removed)")

    page.goto(f"{live_server.url}/p/{rescanned}/findings/{_number('tools/sync.py')}/")
    screenshot(page, "scan-words-partial")
    expect(page.locator("main")).to_contain_text("not seen since 2026-03-03 (partial scan)")
