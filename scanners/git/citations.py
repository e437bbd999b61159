"""Finding keys cited in commit messages: ``Fixes LILY-42``, ``refs LILY-7``.

Pure text processing; no git involved. A citation is a verb followed by one or more keys of
the given project (``fixed LILY-3, LILY-4 and LILY-5``, ``Closes: LILY-9 LILY-10``). A key mentioned
without a verb is not a citation: "LILY-42 is still broken" links nothing.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from scanners.git.command import GitError

# Verb as written (lower-cased) -> the canonical verb callers switch on.
_VERBS = {
    "fix": "fixes",
    "fixes": "fixes",
    "fixed": "fixes",
    "close": "closes",
    "closes": "closes",
    "closed": "closes",
    "resolve": "resolves",
    "resolves": "resolves",
    "resolved": "resolves",
    "ref": "refs",
    "refs": "refs",
    "references": "refs",
    "see": "refs",
}
# Verbs that claim the finding is done; the others only point at it.
CLOSING_VERBS = frozenset({"fixes", "closes", "resolves"})
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")


class Citation(NamedTuple):
    """One cited key: ``verb`` is canonical (fixes, closes, resolves, refs); ``key`` is the
    finding key in canonical form (upper-case project, number without leading zeros)."""

    verb: str
    key: str

    @property
    def closes(self) -> bool:
        return self.verb in CLOSING_VERBS


def cited_keys(message: str, project_key: str) -> list[Citation]:
    """Every (verb, key) citation of ``project_key``'s findings in ``message``, in order of
    appearance, each pair once. Verbs and keys match case-insensitively; keys of other
    projects (``OTHER-1``, ``LILYX-1``) are ignored. Raises :class:`GitError` for a project
    key that is not upper-case letters, digits and underscores starting with a letter.
    """
    if not _PROJECT_KEY.match(project_key):
        raise GitError(
            f"project key {project_key!r} is not valid: expected upper-case letters, digits "
            "or '_', starting with a letter"
        )
    key = re.escape(project_key)
    one_key = rf"(?<![\w-]){key}-\d+(?![\w-])"
    verbs = "|".join(sorted(_VERBS, key=len, reverse=True))
    pattern = re.compile(
        rf"\b(?P<verb>{verbs})\b\s*:?\s*(?P<keys>{one_key}(?:(?:\s*(?:,|&|\band\b)\s*|\s+){one_key})*)",
        re.IGNORECASE,
    )
    number = re.compile(rf"{key}-(\d+)", re.IGNORECASE)
    found: list[Citation] = []
    for match in pattern.finditer(message):
        verb = _VERBS[match["verb"].lower()]
        for digits in number.findall(match["keys"]):
            citation = Citation(verb, f"{project_key}-{int(digits)}")
            if citation not in found:
                found.append(citation)
    return found
