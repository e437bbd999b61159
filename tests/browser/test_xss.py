"""Hostile text in every field a person sees — finding titles, messages, snippets and paths from a
scanner report, a remediation document's headings, claims, code blocks, phases and health
lines, commit messages and authors from a linked repository, reasons and names typed by
users — is shown as text on every page: in a real Chromium no planted script runs, no planted
element or event handler reaches the page, and nothing trips the Content-Security-Policy."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bench.git_repo_gen import ScratchRepo
from findings.models import Finding, Project, Report, Role
from findings.services import (
    finding_plan,
    finding_transition,
    membership_set,
    project_verify,
    repository_link,
    sprint_create,
    token_create,
)
from findings.services.ingest import Options, ingest_file
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each payload sets window.__xss if it ever runs; markup that survives escaping would also
# leave an element carrying an on* attribute, or a javascript: link, in the page.
PAYLOADS = [
    "<script>window.__xss='script'</script>",
    "<img src=x onerror=\"window.__xss='img'\">",
    '"><svg onload="window.__xss=\'svg\'">',
    "'-alert(1)-'{{7*7}}",
]
P = " ".join(PAYLOADS)

WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
});
"""

PLANTED = """() => {
  const handlers = [];
  for (const element of document.querySelectorAll('*')) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.trim().toLowerCase();
      if (name.startsWith('on') || ((name === 'href' || name === 'src') && value.startsWith('javascript:'))) {
        handlers.push(`${element.tagName} ${name}=${attribute.value}`);
      }
    }
  }
  const scripts = [...document.scripts].filter((s) => !s.src && s.type !== 'application/json');
  return {
    xss: window.__xss || null,
    handlers,
    inlineScripts: scripts.map((s) => s.textContent.slice(0, 80)),
    imgX: document.querySelectorAll('img[src="x"], svg[onload]').length,
    csp: window.__cspViolations,
  };
}"""


def _sarif(tmp: Path) -> Path:
    rule = {
        "id": f"XSS001 {PAYLOADS[0]}",
        "name": PAYLOADS[1],
        "shortDescription": {"text": f"Rule {P}"},
        "properties": {"tags": ["security", PAYLOADS[2]]},
    }
    result = {
        "ruleId": rule["id"],
        "level": "error",
        "message": {"text": f"Message {P} [link](javascript:window.__xss='md')"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": f"src/<img src=x onerror=1>/{PAYLOADS[0]}.py"},
                    "region": {"startLine": 3, "snippet": {"text": f"eval(x)  # {P}"}},
                }
            }
        ],
    }
    log = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": f"Tool {PAYLOADS[1]}", "rules": [rule]}},
                "results": [result],
            }
        ],
    }
    path = tmp / "hostile.sarif"
    path.write_text(json.dumps(log))
    return path


def _document(tmp: Path, fix: str) -> Path:
    text = f"""# Remediation handoff {PAYLOADS[0]}

**Date:** 2026-11-30
**Status:** ✅ All fixed {PAYLOADS[1]}

## 🔴 HIGH SEVERITY {PAYLOADS[2]}

### 1. Eval of user input {PAYLOADS[1]} ✅ FIXED

**File:** `app.py` (Lines 1-2)
**Commit:** {fix[:7]}
**Problem:** {P}
**Fix:** [see](javascript:window.__xss='doc') {P}

**BEFORE:**
```python
eval(user)  # {PAYLOADS[0]}
```

**AFTER:**
```python
ast.literal_eval(user)  # {PAYLOADS[1]}
```

## Roadmap

### Phase 1: Quick Wins {PAYLOADS[1]} (1-2 weeks)
- Harden parsing {PAYLOADS[2]}

## System Health
### Server Performance {PAYLOADS[0]}: ⚠️ **AT RISK**

<div onclick="window.__xss='raw'">raw HTML block {PAYLOADS[1]}</div>
"""
    path = tmp / "HANDOFF.md"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def hostile_site(tmp_path, settings, live_server, django_user_model):
    settings.AUDITDASH_REPO_ROOTS = str(tmp_path)
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    admin = django_user_model.objects.create_user(
        "hostile-admin", password="admin-pass-4242", is_superuser=True
    )
    project = Project.objects.create(key="EVIL", name=f"Evil {PAYLOADS[1]}")
    other = django_user_model.objects.create_user(f"dev{PAYLOADS[0][:20]}"[:150])
    membership_set(project=project, user=other, role=Role.DEVELOPER)

    repo = ScratchRepo(tmp_path / "evil")
    repo.commit("Add app", {"app.py": "import ast\neval(user)\n"})
    fix = repo.commit(
        f"Fix eval {P}\n\nFixes EVIL-1 {PAYLOADS[1]}",
        {"app.py": "import ast\nast.literal_eval(user)\n"},
        author=(f"Mallory {PAYLOADS[2]}", "mallory@example.com"),
    )
    repository_link(project=project, target=str(repo.path))

    ingest_file(_sarif(tmp_path), project_key="EVIL", options=Options(commit=fix), user=admin)
    ingest_file(_document(tmp_path, fix), project_key="EVIL", user=other)
    project_verify(project=project)

    finding = Finding.objects.filter(project=project).order_by("number").first()
    sprint = sprint_create(
        project=project,
        name=f"Sprint {PAYLOADS[1]}",
        start=date(2026, 12, 1),
        end=date(2026, 12, 14),
        capacity=5,
        actor=admin,
    )
    finding_plan(finding=finding, actor=admin, sprint=sprint, assignee_username=other.username)
    if finding.status in ("open", "regressed"):
        finding_transition(finding=finding, event="claim", actor=other, reason=P)
    token_create(project=project, creator=admin, name=f"CI {PAYLOADS[1]}"[:100], role=Role.VIEWER)
    return {"project": project, "sprint": sprint}


def test_hostile_text_in_every_field_stays_text_on_every_page(browser, live_server, hostile_site):
    project = hostile_site["project"]
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(20_000)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "hostile-admin")
    page.fill("#id_password", "admin-pass-4242")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    pages = [
        "/",
        "/imports/",
        "/p/EVIL/",
        "/p/EVIL/?q=%3Cscript%3E",
        "/p/EVIL/health/",
        "/p/EVIL/roadmap/",
        "/p/EVIL/sprints/",
        "/p/EVIL/metrics/",
        "/p/EVIL/reviews/",
        "/p/EVIL/members/",
        "/p/EVIL/tokens/",
    ]
    for report in Report.objects.filter(project=project):
        pages.append(f"/imports/{report.pk}/")
        if report.kind == Report.Kind.DOCUMENT:
            pages.append(f"/imports/{report.pk}/document/")
    for finding in Finding.objects.filter(project=project):
        pages.append(f"/p/EVIL/findings/{finding.number}/")
    assert Finding.objects.filter(project=project).count() >= 2
    assert project.commits.filter(message__contains="<script>").exists()

    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        found = page.evaluate(PLANTED)
        assert found == {
            "xss": None,
            "handlers": [],
            "inlineScripts": [],
            "imgX": 0,
            "csp": [],
        }, path
    assert dialogs == []

    # The text itself is on the pages, shown as typed.
    page.goto(f"{live_server.url}/p/EVIL/findings/1/")
    assert "<script>window.__xss='script'</script>" in page.inner_text("main")
    screenshot(page, "xss-finding-detail")
    document = Report.objects.get(project=project, kind=Report.Kind.DOCUMENT)
    page.goto(f"{live_server.url}/imports/{document.pk}/document/")
    assert "Eval of user input" in page.inner_text("main")
    screenshot(page, "xss-document")
    context.close()
