"""The finding lifecycle as a pure state machine: states, events and what may follow what.

No ORM here. ``services`` and the ingestion merge ask this table what a status becomes, so
the rules live in one place; the bulk merge turns :func:`changes` into SQL ``CASE`` updates.

    open --claim--> claimed --verify--> verified --sign_off--> signed_off
      ^                |                    |                       |
      +----reject------+--------reject------+        seen again: regressed (open-like, loud)

The three words every page, report and the API use for "fixed" are defined here, once
(:data:`FIX_WORDS`): *claimed fixed*, *verified* and *signed off*. Each is one status, so a
finding is counted under at most one of them, and a claim is never counted as fixed.

A scan that no longer reports an open-like finding moves it to ``verified`` on its own.
Triage ends (accepted_risk, false_positive, wont_fix) and ``suppressed`` (the tool's own
suppression) are left alone by scans; ``reopen`` brings them back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Status(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed fixed"
    VERIFIED = "verified", "Verified"
    SIGNED_OFF = "signed_off", "Signed off"
    REGRESSED = "regressed", "Regressed"
    ACCEPTED_RISK = "accepted_risk", "Accepted risk"
    FALSE_POSITIVE = "false_positive", "False positive"
    WONT_FIX = "wont_fix", "Won't fix"
    SUPPRESSED = "suppressed", "Suppressed"


class Event(models.TextChoices):
    SEEN = "seen", "Reported by a scan"
    SEEN_SUPPRESSED = "seen_suppressed", "Reported by a scan as suppressed"
    MISSING = "missing", "No longer reported by a scan"
    CLAIM = "claim", "Claimed fixed"
    VERIFY = "verify", "Verified by evidence"
    VERIFY_BY_DECISION = "verify_by_decision", "Verified by a reviewer's decision"
    SIGN_OFF = "sign_off", "Signed off by a reviewer"
    REJECT = "reject", "Fix rejected"
    REOPEN = "reopen", "Reopened"
    ACCEPT_RISK = "accept_risk", "Risk accepted"
    MARK_FALSE_POSITIVE = "mark_false_positive", "Marked false positive"
    WONT_FIX = "wont_fix", "Marked won't fix"
    RISK_EXPIRED = "risk_expired", "Risk acceptance expired"


class IllegalTransition(Exception):
    def __init__(self, current: str, event: str) -> None:
        self.current = current
        self.event = event
        super().__init__(f"a finding that is {str(current)!r} cannot take the event {str(event)!r}")


S, E = Status, Event

OPEN_LIKE = frozenset({S.OPEN, S.REGRESSED, S.CLAIMED})
"""Statuses that still count as a live problem (claims are not proof)."""

FIXED_LIKE = frozenset({S.CLAIMED, S.VERIFIED, S.SIGNED_OFF})
"""Statuses that say "fixed": seeing the finding again after one of these is a regression."""

TRIAGED = frozenset({S.ACCEPTED_RISK, S.FALSE_POSITIVE, S.WONT_FIX, S.SUPPRESSED})
"""Statuses behind the board's triage toggle: triaged away by a person, or by the tool."""

DONE = frozenset({S.VERIFIED, S.SIGNED_OFF}) | TRIAGED
"""Statuses whose problem needs no more work (planning progress, burn-down); a claim is not."""

REVIEWABLE = (S.VERIFIED, S.CLAIMED)
"""Statuses a reviewer may sign off or reject, strongest first (a scan's silence beats a
claim): not before a fix is claimed, and not after sign-off."""


@dataclass(frozen=True)
class FixWord:
    """One of the three words for "fixed", with what it means and the status that holds it."""

    key: str
    label: str
    meaning: str
    statuses: frozenset[Status]


CLAIMED_FIXED = FixWord(
    "claimed_fixed",
    "Claimed fixed",
    "a person or a document says it is fixed; no evidence yet, so it still counts as open",
    frozenset({S.CLAIMED}),
)
VERIFIED = FixWord(
    "verified",
    "Verified",
    "evidence says it is fixed: a later scan no longer reports it, or a code check passed "
    "(or, without evidence, a reviewer decided so, and the audit log says that)",
    frozenset({S.VERIFIED}),
)
SIGNED_OFF = FixWord(
    "signed_off", "Signed off", "a reviewer approved the fix", frozenset({S.SIGNED_OFF})
)
FIX_WORDS = (CLAIMED_FIXED, VERIFIED, SIGNED_OFF)
"""The words for "fixed", weakest first. Every count of fixes on a page, in a report or in the
API is one of these (``findings.selectors.fixes``); "fixed" alone means verified or signed off."""

FIXED = VERIFIED.statuses | SIGNED_OFF.statuses
"""Fixed, as a total: verified or signed off. Never a mere claim."""

_TRIAGE_EXITS = {
    E.ACCEPT_RISK: S.ACCEPTED_RISK,
    E.MARK_FALSE_POSITIVE: S.FALSE_POSITIVE,
    E.WONT_FIX: S.WONT_FIX,
    E.SEEN_SUPPRESSED: S.SUPPRESSED,
}

TRANSITIONS: dict[Status, dict[Event, Status]] = {
    S.OPEN: {E.SEEN: S.OPEN, E.MISSING: S.VERIFIED, E.CLAIM: S.CLAIMED, **_TRIAGE_EXITS},
    S.REGRESSED: {
        E.SEEN: S.REGRESSED,
        E.MISSING: S.VERIFIED,
        E.CLAIM: S.CLAIMED,
        **_TRIAGE_EXITS,
    },
    S.CLAIMED: {
        E.SEEN: S.REGRESSED,
        E.SEEN_SUPPRESSED: S.SUPPRESSED,
        E.MISSING: S.VERIFIED,
        E.VERIFY: S.VERIFIED,
        E.VERIFY_BY_DECISION: S.VERIFIED,
        E.SIGN_OFF: S.SIGNED_OFF,
        E.REJECT: S.OPEN,
        E.CLAIM: S.CLAIMED,
    },
    S.VERIFIED: {
        E.SEEN: S.REGRESSED,
        E.SEEN_SUPPRESSED: S.SUPPRESSED,
        E.MISSING: S.VERIFIED,
        E.VERIFY: S.VERIFIED,
        E.CLAIM: S.VERIFIED,
        E.SIGN_OFF: S.SIGNED_OFF,
        E.REJECT: S.OPEN,
        E.REOPEN: S.OPEN,
    },
    S.SIGNED_OFF: {
        E.SEEN: S.REGRESSED,
        E.SEEN_SUPPRESSED: S.SUPPRESSED,
        E.MISSING: S.SIGNED_OFF,
        E.VERIFY: S.SIGNED_OFF,
        E.CLAIM: S.SIGNED_OFF,
        E.REOPEN: S.REGRESSED,
    },
    S.ACCEPTED_RISK: {
        E.SEEN: S.ACCEPTED_RISK,
        E.SEEN_SUPPRESSED: S.ACCEPTED_RISK,
        E.MISSING: S.ACCEPTED_RISK,
        E.RISK_EXPIRED: S.OPEN,
        E.REOPEN: S.OPEN,
    },
    S.FALSE_POSITIVE: {
        E.SEEN: S.FALSE_POSITIVE,
        E.SEEN_SUPPRESSED: S.FALSE_POSITIVE,
        E.MISSING: S.FALSE_POSITIVE,
        E.REOPEN: S.OPEN,
    },
    S.WONT_FIX: {
        E.SEEN: S.WONT_FIX,
        E.SEEN_SUPPRESSED: S.WONT_FIX,
        E.MISSING: S.WONT_FIX,
        E.REOPEN: S.OPEN,
    },
    S.SUPPRESSED: {
        E.SEEN: S.OPEN,
        E.SEEN_SUPPRESSED: S.SUPPRESSED,
        E.MISSING: S.SUPPRESSED,
        E.REOPEN: S.OPEN,
        E.MARK_FALSE_POSITIVE: S.FALSE_POSITIVE,
        E.ACCEPT_RISK: S.ACCEPTED_RISK,
    },
}

REQUIRES_REASON = frozenset(
    {E.ACCEPT_RISK, E.MARK_FALSE_POSITIVE, E.WONT_FIX, E.REJECT, E.VERIFY_BY_DECISION}
)
"""Events a person may only apply with a written reason."""


def next_state(current: str, event: str) -> Status:
    """The status a finding in ``current`` takes on ``event``; raises IllegalTransition."""
    try:
        return TRANSITIONS[Status(current)][Event(event)]
    except (KeyError, ValueError):
        raise IllegalTransition(current, event) from None


def changes(event: str) -> dict[Status, Status]:
    """Every status that ``event`` actually changes, mapped to what it becomes."""
    event = Event(event)
    return {
        current: moves[event]
        for current, moves in TRANSITIONS.items()
        if event in moves and moves[event] != current
    }


def allowed_events(current: str) -> list[Event]:
    """The events a person may apply by hand to a finding in ``current`` (scan events excluded)."""
    automatic = {E.SEEN, E.SEEN_SUPPRESSED, E.MISSING, E.RISK_EXPIRED}
    return [event for event in TRANSITIONS[Status(current)] if event not in automatic]
