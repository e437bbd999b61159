"""The code at a finding's location: highlighted, escaped, the flagged lines marked."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from findings.models import Finding, Severity
from findings.templatetags.code_highlight import highlight_code

HOSTILE = "</code><script>alert(1)</script>"


def test_a_hostile_snippet_is_shown_as_text_not_run():
    html = highlight_code(f"x = '{HOSTILE}'", "app.py", 3, 3)
    assert "<script>" not in html and "</code><script>" not in html
    assert "&lt;script&gt;" in html


def test_the_flagged_lines_are_marked_and_numbered_from_the_file():
    html = highlight_code("a = 1\nb = eval(a)\nc = 2\n", "app.py", first_line=40, start=41)
    marked = re.findall(r'<span class="hll">(.*?)\n</span>', html, re.S)
    assert len(marked) == 1
    assert '<span class="linenos">41</span>' in marked[0] and "eval" in marked[0]
    assert '<span class="linenos">40</span>' in html and '<span class="linenos">42</span>' in html


def test_python_is_coloured_and_an_unknown_file_kind_stays_plain_text():
    assert '<span class="k">def</span>' in highlight_code("def f(): pass", "src/app.py")
    plain = highlight_code("def f(): pass", "notes.unknown-kind")
    assert "def f(): pass" in plain and 'class="k"' not in plain


def test_no_inline_styles_reach_the_page_for_the_strict_csp():
    assert "style=" not in highlight_code("x = 1\ny = 2", "a.py", 1, 1, 2)


@pytest.mark.django_db
def test_the_finding_page_shows_a_hostile_snippet_escaped_and_highlighted(owner_client, acme):
    now = timezone.now()
    Finding.objects.create(
        project=acme,
        number=1,
        fingerprint="fp-hostile",
        tool="semgrep",
        rule_id="xss",
        title="Reflected markup",
        severity=Severity.HIGH,
        path="web/views.py",
        start_line=7,
        snippet=f'html = "{HOSTILE}"',
        first_seen_at=now,
        last_seen_at=now,
        status_changed_at=now,
    )
    page = owner_client.get("/p/ACME/findings/1/").content.decode()
    code = page[
        page.index('id="finding-code"') : page.index("</section>", page.index('id="finding-code"'))
    ]
    assert "<script>alert(1)</script>" not in page
    assert "&lt;/</span><span" in code or "&lt;/code&gt;" in code
    assert '<span class="hll"><span class="linenos">7</span>' in code
    assert "/static/css/pygments.css" in code
