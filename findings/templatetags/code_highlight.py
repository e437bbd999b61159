"""Code at a finding's location, highlighted: formatting only, no queries, no git.

Pygments escapes every token it writes (``<`` becomes ``&lt;``), so the markup it returns is
safe to mark safe; the colours come from ``static/css/pygments.css`` as classes, never inline
styles, because the site's Content-Security-Policy forbids them.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

register = template.Library()

CSS_CLASS = "highlight"
"""The wrapper class ``static/css/pygments.css`` is scoped to."""


def _lexer(path: str):
    # Guessing from content would be slow and wrong on a three-line snippet: only the file
    # name decides, and an unknown one is shown as plain (still escaped) text.
    try:
        return get_lexer_for_filename(path or "", stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def highlight_code(
    code: str, path: str = "", first_line: int = 1, start: int = 0, end: int = 0
) -> str:
    """``code`` as escaped, highlighted HTML with line numbers from ``first_line``.

    Lines ``start``..``end`` (numbers in the file; ``end`` 0 means ``start`` alone) are marked
    with ``<span class="hll">``: the flagged lines. Lines outside the code are ignored.
    """
    first_line = max(1, int(first_line or 1))
    start = int(start or 0)
    end = max(start, int(end or 0))
    count = code.count("\n") + 1
    marked = [n - first_line + 1 for n in range(start, end + 1) if 0 <= n - first_line < count]
    formatter = HtmlFormatter(
        cssclass=CSS_CLASS,
        linenos="inline",
        linenostart=first_line,
        hl_lines=marked,
        nowrap=False,
        wrapcode=True,
    )
    return highlight(code, _lexer(path), formatter)


@register.simple_tag
def highlighted(
    code: str, path: str = "", first_line: int = 1, start: int = 0, end: int = 0
) -> SafeString:
    """Template form of :func:`highlight_code`:
    ``{% highlighted code path first_line start end %}``.
    """
    return mark_safe(highlight_code(code or "", path, first_line, start, end))  # noqa: S308 - Pygments escaped every token
