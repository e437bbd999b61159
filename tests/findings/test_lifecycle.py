"""The lifecycle table, without a database."""

import pytest

from findings import lifecycle
from findings.lifecycle import Event, IllegalTransition, Status, next_state


def test_a_scan_that_no_longer_reports_an_open_finding_verifies_it():
    assert next_state(Status.OPEN, Event.MISSING) == Status.VERIFIED
    assert next_state(Status.REGRESSED, Event.MISSING) == Status.VERIFIED
    assert next_state(Status.CLAIMED, Event.MISSING) == Status.VERIFIED


@pytest.mark.parametrize("fixed", [Status.CLAIMED, Status.VERIFIED, Status.SIGNED_OFF])
def test_a_fixed_finding_seen_again_is_regressed(fixed):
    assert next_state(fixed, Event.SEEN) == Status.REGRESSED


def test_the_full_happy_path_ends_signed_off():
    status = Status.OPEN
    for event in (Event.CLAIM, Event.VERIFY, Event.SIGN_OFF):
        status = next_state(status, event)
    assert status == Status.SIGNED_OFF


@pytest.mark.parametrize("triaged", [Status.ACCEPTED_RISK, Status.FALSE_POSITIVE, Status.WONT_FIX])
def test_scans_leave_triaged_findings_alone(triaged):
    assert next_state(triaged, Event.SEEN) == triaged
    assert next_state(triaged, Event.MISSING) == triaged


def test_an_open_finding_cannot_be_signed_off_without_a_claim():
    with pytest.raises(IllegalTransition, match="'open' cannot take the event 'sign_off'"):
        next_state(Status.OPEN, Event.SIGN_OFF)


def test_unknown_statuses_and_events_are_illegal_not_crashes():
    with pytest.raises(IllegalTransition):
        next_state("nonsense", Event.SEEN)
    with pytest.raises(IllegalTransition):
        next_state(Status.OPEN, "explode")


def test_changes_lists_only_real_moves():
    moves = lifecycle.changes(Event.SEEN)
    assert moves == {
        Status.CLAIMED: Status.REGRESSED,
        Status.VERIFIED: Status.REGRESSED,
        Status.SIGNED_OFF: Status.REGRESSED,
        Status.SUPPRESSED: Status.OPEN,
    }
    assert Status.OPEN not in lifecycle.changes(Event.MISSING).values()


def test_every_status_has_a_row_and_people_cannot_fire_scan_events():
    assert set(lifecycle.TRANSITIONS) == set(Status)
    for status in Status:
        assert Event.SEEN not in lifecycle.allowed_events(status)
        assert Event.MISSING not in lifecycle.allowed_events(status)
