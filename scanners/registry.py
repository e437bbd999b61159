"""Which parser reads which format: format key -> dotted module path, imported lazily.

Detection is by content, never by file name: each parser's ``sniff`` looks at the first
bytes. Order matters only where two formats could claim the same head; the more specific
one comes first.
"""

from __future__ import annotations

import importlib
from functools import cache

from scanners.base import Parser

FORMATS: dict[str, str] = {
    "sarif": "scanners.formats.sarif",
    "bandit": "scanners.formats.bandit",
    "semgrep": "scanners.formats.semgrep",
    "ruff": "scanners.formats.ruff",
    "pip_audit": "scanners.formats.pip_audit",
    "gitleaks": "scanners.formats.gitleaks",
}

# How many bytes ``sniff`` sees.
HEAD_BYTES = 64 * 1024


@cache
def parser_for(key: str) -> Parser:
    """The parser module for a format key; ``KeyError`` for an unknown key."""
    return importlib.import_module(FORMATS[key])


def nesting_problem(head: bytes) -> str | None:
    """Why ``head`` cannot be a report because it nests too deeply ("byte N: ..."), or None.
    Linear in the size of ``head`` whatever its depth."""
    from scanners.formats._jsonreport import deepest_at, too_deep

    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
        return None
    deep = deepest_at(head)
    return None if deep is None else f"byte {deep:,}: {too_deep(deep)}"


def names_no_tool(key: str, head: bytes) -> bool:
    """Whether ``head``, detected as format ``key``, is a whole report that names no tool
    (``null``, ``[]``, empty results): it could be any tool's "nothing found", so reading it
    as ``key`` would close that tool's findings on a guess."""
    anonymous = getattr(parser_for(key), "anonymous", None)
    return bool(anonymous and anonymous(head))


def detect(head: bytes) -> str | None:
    """The key of the first format whose parser recognises ``head``, or None."""
    for key in FORMATS:
        if parser_for(key).sniff(head):
            return key
    return None
