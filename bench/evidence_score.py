"""Scoring ``verify --json`` output against hand-written expectations (pure: no Django, no git).

``bench/evidence_real.py`` runs the real commands over the labelled corpus; this module only
decides, per claim, what the checks showed against what a person found in the code
(``bench/evidence_expect.json``), and adds the results up into the figures of issue 14.

An expectation says a claim is ``true`` (its fix is in the code), ``false`` (with the checks
that should show the falsehood: a fix absent at its commit fails ``after_present_at_commit``,
a cited commit missing from the history fails ``commit_exists``) or ``unknown``. Claims are
matched to verify's rows by the document's own id when the claim kept it, else by title
similarity: labels add an explanation in parentheses that extraction does not keep.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

ANCHOR_CHECKS = frozenset(
    {"document_commit", "commit_cites_finding", "file_resolved", "scan_confirms"}
)
"""Checks that say how the commit or file was chosen; they prove nothing about the fix."""
COMMIT_CHECKS = frozenset({"commit_exists", "on_branch"})
MATCH_THRESHOLD = 0.6

RIGHT = "caught-by-right-check"
OTHER = "caught-by-other-check"
MISSED = "missed"
FALSE_ALARM = "false-alarm"
HELD = "held"
NO_CHECK_REASON = "no-check-with-reason"
NO_CHECK_BARE = "no-check-without-reason"
NO_EXPECTATION = "no-expectation"


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the notes of a label support about one claim."""

    title: str
    truth: str  # "true" | "false" | "unknown"
    reason: str
    id: str = ""
    checks: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict) -> Expectation:
        truth = str(data["truth"])
        if truth not in ("true", "false", "unknown"):
            raise ValueError(f"truth must be true, false or unknown, not {truth!r}")
        if truth == "false" and not data.get("checks"):
            raise ValueError(f"{data['title']!r}: a false claim names the checks that show it")
        return cls(
            title=str(data["title"]),
            truth=truth,
            reason=str(data.get("reason", "")),
            id=str(data.get("id") or ""),
            checks=tuple(data.get("checks") or ()),
            aliases=tuple(data.get("aliases") or ()),
        )


@dataclass(slots=True)
class Scored:
    """One verified claim with the expectation it matched (if any) and the outcome."""

    row: dict
    key: str
    expectation: Expectation | None
    outcome: str
    flagged: bool
    ran: bool


@dataclass(slots=True)
class Totals:
    """The figures of issue 14's table, over every scored claim of a run."""

    claims: int = 0
    false_claims: int = 0
    false_flagged: int = 0
    false_right: int = 0
    true_claims: int = 0
    true_flagged: int = 0
    no_check: int = 0
    no_check_bare: int = 0
    code_checked: int = 0
    code_checked_touch_only: int = 0
    outcomes: Counter = field(default_factory=Counter)

    @property
    def false_alarm_rate(self) -> float:
        return self.true_flagged / self.true_claims if self.true_claims else 0.0


def normalise(text: str) -> str:
    """Lower case, accents and punctuation gone, spaces folded (CJK characters kept)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


def _label_titles(expectation: Expectation) -> list[str]:
    """The title without the explanation a label adds in parentheses, and its aliases."""
    titles = [expectation.title, *expectation.aliases]
    short = re.sub(r"\s*\(.*$", "", expectation.title).strip()
    if len(short) >= 6 and short != expectation.title:
        titles.append(short)
    return titles


def similarity(label: str, title: str) -> float:
    """How alike two titles are, 0..1: the better of a character ratio and the share of the
    shorter title's words found in the longer."""
    a, b = normalise(label), normalise(title)
    if not a or not b:
        return 0.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    words_a, words_b = set(a.split()), set(b.split())
    shorter = min(len(words_a), len(words_b))
    overlap = len(words_a & words_b) / shorter if shorter >= 2 else 0.0
    return max(ratio, overlap)


def match_score(expectation: Expectation, title: str, key: str) -> float:
    """1.0 when the claim kept the label's id, else the best title similarity."""
    label_id = normalise(expectation.id)
    if label_id and normalise(key) == label_id:
        return 1.0
    in_title = re.search(rf"\b{re.escape(label_id)}\b", normalise(title)) if label_id else None
    if len(label_id) >= 3 and in_title:
        return 0.95
    return max(similarity(t, title) for t in _label_titles(expectation))


def match(expectations: Sequence[Expectation], rows: Sequence[tuple[str, str]]) -> dict[int, int]:
    """Row index -> expectation index, one to one, best pairs first; ``rows`` are
    (claim title, claim key). Pairs under MATCH_THRESHOLD are never made."""
    pairs = sorted(
        (
            (match_score(e, title, key), ri, ei)
            for ri, (title, key) in enumerate(rows)
            for ei, e in enumerate(expectations)
        ),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    taken_rows: dict[int, int] = {}
    taken_expectations: set[int] = set()
    for score, ri, ei in pairs:
        if score < MATCH_THRESHOLD:
            break
        if ri in taken_rows or ei in taken_expectations:
            continue
        taken_rows[ri] = ei
        taken_expectations.add(ei)
    return taken_rows


def ran(checks: Iterable[dict]) -> bool:
    """Whether any check about the fix itself passed or failed."""
    return any(c["name"] not in ANCHOR_CHECKS and c["result"] in ("pass", "fail") for c in checks)


def flagged(checks: Iterable[dict]) -> bool:
    return any(c["result"] == "fail" for c in checks)


def no_check_reasoned(checks: Sequence[dict]) -> bool:
    """A claim no check could run for says why: it has checks that could not run, each with
    a reason."""
    waiting = [c for c in checks if c["result"] == "cannot-check"]
    return bool(waiting) and all(str(c.get("reason") or "").strip() for c in waiting)


def outcome(row: dict, expectation: Expectation | None) -> str:
    """The outcome of one verified claim against what is known about it."""
    checks = row.get("checks") or []
    if expectation is None or expectation.truth == "unknown":
        return NO_EXPECTATION
    if flagged(checks):
        if expectation.truth == "true":
            return FALSE_ALARM
        failing = {c["name"] for c in checks if c["result"] == "fail"}
        return RIGHT if failing & set(expectation.checks) else OTHER
    if not ran(checks):
        return NO_CHECK_REASON if no_check_reasoned(checks) else NO_CHECK_BARE
    return HELD if expectation.truth == "true" else MISSED


def touch_only(row: dict) -> bool:
    """A code-checked claim whose only passing check about the code was touches_file."""
    passing = {
        c["name"]
        for c in row.get("checks") or []
        if c["result"] == "pass" and c["name"] not in ANCHOR_CHECKS | COMMIT_CHECKS
    }
    return row.get("evidence") == "code-checked" and passing <= {"touches_file"}


def score(
    rows: Sequence[dict], keys: Sequence[str], expectations: Sequence[Expectation]
) -> tuple[list[Scored], list[Expectation]]:
    """Each row scored, and the expectations no row matched (claims not extracted or
    titled too differently: listed, never counted as caught or missed)."""
    pairs = match(
        expectations, [(r.get("claim_title", ""), k) for r, k in zip(rows, keys, strict=True)]
    )
    scored = []
    for ri, row in enumerate(rows):
        expectation = expectations[pairs[ri]] if ri in pairs else None
        checks = row.get("checks") or []
        verdict = outcome(row, expectation)
        scored.append(Scored(row, keys[ri], expectation, verdict, flagged(checks), ran(checks)))
    used = set(pairs.values())
    return scored, [e for i, e in enumerate(expectations) if i not in used]


def totals(scored: Iterable[Scored]) -> Totals:
    result = Totals()
    for item in scored:
        result.claims += 1
        result.outcomes[item.outcome] += 1
        if not item.ran:
            result.no_check += 1
            result.no_check_bare += not no_check_reasoned(item.row.get("checks") or [])
        if item.row.get("evidence") == "code-checked":
            result.code_checked += 1
            result.code_checked_touch_only += touch_only(item.row)
        truth = item.expectation.truth if item.expectation else "unknown"
        if truth == "false":
            result.false_claims += 1
            result.false_flagged += item.flagged
            result.false_right += item.outcome == RIGHT
        elif truth == "true":
            result.true_claims += 1
            result.true_flagged += item.flagged
    return result


def table(result: Totals, verify_seconds: dict[str, float]) -> list[str]:
    """Issue 14's table, as lines of Markdown."""
    rate = f"{result.false_alarm_rate:.0%}"
    slowest = sorted(verify_seconds.items(), key=lambda kv: -kv[1])
    timing = ", ".join(f"{repo} {secs:.1f} s" for repo, secs in slowest) or "none"
    return [
        "| measure | result |",
        "|---|---|",
        f"| claims known to be false, flagged with a failing check | {result.false_flagged} of "
        f"{result.false_claims}, {result.false_right} by the check that shows the falsehood |",
        f"| claims known to be true, flagged anyway (false alarms) | {result.true_flagged} of "
        f"{result.true_claims} ({rate}) |",
        f"| claims where no check could run | {result.no_check} of {result.claims}, "
        f"{result.no_check_bare} of them without a reason |",
        f"| code-checked claims whose only passing check was touches_file | "
        f"{result.code_checked_touch_only} of {result.code_checked} |",
        f"| verify wall time per repository | {timing} |",
    ]
