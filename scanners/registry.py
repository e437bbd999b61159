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


def detect(head: bytes) -> str | None:
    """The key of the first format whose parser recognises ``head``, or None."""
    for key in FORMATS:
        if parser_for(key).sniff(head):
            return key
    return None
