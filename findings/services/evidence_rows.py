"""The rows of a verification, and how a reviewer reads a claim's quotes before checking them.

:mod:`findings.services.evidence_checks` runs the checks; the names, the row type and the
rules for what is worth looking for live here: a terminal session or plain text quoted as
code is said and not looked for, and a file the document's anchor does not change, when the
anchor stands for the fix only because it changes another claimed file, is not a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from findings.models import Check, Claim
from scanners import git

SCAN_CHECK = "scan_confirms"
FIX_CHECK = "fix_commit"
"""The row saying which commit a claim's checks ran against, and why that one."""
ANCHOR_CHECK = "document_anchor"
"""The row saying where the claim's document sits in the history, and how that was found."""
GONE_CHECK = "before_gone_at_anchor"
"""An open claim's "already fixed?" hint: its BEFORE code is gone at the document's anchor."""
SESSION_CHECK = "code_not_checked"
"""A quoted block that is a terminal session or plain text, not code of a file: said, not
looked for."""
INFO_CHECKS = (ANCHOR_CHECK, GONE_CHECK, SESSION_CHECK)
"""Rows that inform the reviewer and never block or raise an evidence level."""
K = git.CheckKind
CODE_KINDS = (
    K.BEFORE_ABSENT_AT_COMMIT,
    K.AFTER_PRESENT_AT_COMMIT,
    K.BEFORE_ABSENT_AT_HEAD,
    K.AFTER_PRESENT_AT_HEAD,
)


@dataclass
class Row:
    """A check about to be stored."""

    name: str
    result: str
    reason: str
    path: str = ""
    commit: str = ""
    side: str = ""
    detail: dict = field(default_factory=dict)


def quoted_pairs(claim: Claim) -> list[tuple[str, str]]:
    """The claim's (BEFORE, AFTER) code blocks that hold code of a file: a terminal session
    (an attack or a test run at a ``$`` prompt) is not looked for in the claimed files."""
    pairs = [(_code(b), _code(a)) for b, a in claim.code_pairs]
    return [(b, a) for b, a in pairs if (b.strip() or a.strip()) and not _unchanged(b, a)]


def _unchanged(before: str, after: str) -> bool:
    """Whether a pair shows the same code on both sides once comments are dropped: the same
    input with another outcome (an attack shown before and after), not a change to look for."""
    if not (before.strip() and after.strip()):
        return False
    return git.normalise_code(before) == git.normalise_code(after)


def _code(block: str) -> str:
    return "" if _not_code(block) else block


def _not_code(block: str) -> bool:
    return bool(block.strip()) and (git.shell_session(block) or git.plain_text(block))


def session_rows(claim: Claim) -> list[Row]:
    """An informing row when quoted blocks of the claim are terminal sessions or plain text,
    left unchecked."""
    skipped = sum(_not_code(code) for pair in claim.code_pairs for code in pair)
    same = sum(_unchanged(_code(b), _code(a)) for b, a in claim.code_pairs)
    said = (
        [
            f"{skipped} quoted block(s) are terminal sessions (commands at a $ prompt) or plain "
            "text, not code of a file"
        ]
        if skipped
        else []
    )
    said += [f"{same} BEFORE/AFTER pair(s) show the same code on both sides"] if same else []
    if not said:
        return []
    reason = "; ".join(said) + ": not looked for in the claimed files"
    return [Row(SESSION_CHECK, Check.Result.CANNOT_CHECK, reason)]


def beside_anchor(row: Row) -> Row:
    """A file or lines the document's anchor does not change, when the anchor is the fix
    only because it changes another claimed file: the document never said this commit fixed
    them, so their fix may simply be older -- not a failure, and not a pass either."""
    if row.name not in (K.TOUCHES_FILE, K.DIFF_OVERLAPS) or row.result != Check.Result.FAIL:
        return row
    reason = (
        f"{row.reason}; the claim cites no commit, and the document's anchor stands for its "
        "fix only because it changes another claimed file, so this part may be fixed earlier"
    )
    detail = {**row.detail, "beside_anchor": True}
    return Row(row.name, Check.Result.CANNOT_CHECK, reason, row.path, row.commit, row.side, detail)
