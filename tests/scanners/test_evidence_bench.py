"""The real-repository evidence benchmark scores claims the way its expectations say, and
skips cleanly where the corpus or its mirrors are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import evidence_real
from bench import evidence_score as es
from scanners.git import CheckKind


def check(name: str, result: str, reason: str = "because") -> dict:
    return {"name": name, "result": result, "reason": reason, "commit": ""}


def row(title: str, *checks: dict, evidence: str = "commit-linked") -> dict:
    return {"finding": "EV-1", "claim_title": title, "evidence": evidence, "checks": list(checks)}


FALSE_FIX = es.Expectation(
    title="Margin Optimization - Mail Service Configuration (mail_type, double_sided)",
    truth="false",
    reason="the payload settings are absent at the commit",
    checks=("after_present_at_commit",),
)
TRUE_FIX = es.Expectation(
    id="C1", title="Retry Message ID Collision (not transferred on retry)", truth="true", reason="x"
)


def test_a_label_title_with_its_explanation_matches_the_extracted_title() -> None:
    rows = [
        ("Checkout Risk Modal", "F1"),
        ("Margin Optimization - Mail Service Configuration", "F2"),
    ]

    assert es.match([FALSE_FIX], rows) == {1: 0}


def test_the_documents_own_id_matches_whatever_the_title_says() -> None:
    assert es.match([TRUE_FIX], [("Something else entirely", "C1")]) == {0: 0}


def test_each_expectation_matches_one_claim_at_most() -> None:
    rows = [("Retry Message ID Collision", "F1"), ("Retry Message ID Collision", "F2")]

    assert es.match([TRUE_FIX], rows) == {0: 0}


def test_an_unrelated_title_is_not_matched() -> None:
    assert es.match([FALSE_FIX], [("Webhook signature validation bypass", "F9")]) == {}


def test_a_false_claim_is_caught_by_the_right_check_or_another() -> None:
    right = row("t", check("touches_file", "pass"), check("after_present_at_commit", "fail"))
    other = row("t", check("touches_file", "fail"), check("after_present_at_commit", "pass"))
    silent = row("t", check("touches_file", "pass"), check("after_present_at_commit", "pass"))

    assert es.outcome(right, FALSE_FIX) == es.RIGHT
    assert es.outcome(other, FALSE_FIX) == es.OTHER
    assert es.outcome(silent, FALSE_FIX) == es.MISSED


def test_a_true_claim_with_a_failing_check_is_a_false_alarm() -> None:
    flagged = row("t", check("touches_file", "pass"), check("after_present_at_head", "fail"))

    assert es.outcome(flagged, TRUE_FIX) == es.FALSE_ALARM
    assert es.outcome(row("t", check("touches_file", "pass")), TRUE_FIX) == es.HELD


def test_a_claim_no_check_ran_for_needs_a_reason_for_each_check_that_could_not() -> None:
    reasoned = row("t", check("document_commit", "pass"), check("touches_file", "cannot-check"))
    bare = row("t", check("document_commit", "pass"))
    blank = row("t", check("commit_exists", "cannot-check", reason=" "))

    assert es.outcome(reasoned, TRUE_FIX) == es.NO_CHECK_REASON
    assert es.outcome(bare, TRUE_FIX) == es.NO_CHECK_BARE
    assert es.outcome(blank, FALSE_FIX) == es.NO_CHECK_BARE


def test_the_totals_count_false_alarms_and_code_checked_claims_resting_on_touches_file() -> None:
    touched = row(
        "Retry Message ID Collision",
        check("document_commit", "pass"),
        check("touches_file", "pass"),
        evidence="code-checked",
    )
    alarm = row("Margin Optimization", check("after_present_at_commit", "fail"))
    unknown = row("Nobody knows", check("touches_file", "cannot-check"))

    scored, unmatched = es.score([touched, alarm, unknown], ["C1", "F2", "F3"], [TRUE_FIX])
    result = es.totals(scored)

    assert not unmatched and [s.outcome for s in scored][0] == es.HELD
    assert (result.true_claims, result.true_flagged) == (1, 0)
    assert (result.code_checked, result.code_checked_touch_only) == (1, 1)
    assert (result.no_check, result.no_check_bare) == (1, 0)
    assert "| claims where no check could run | 1 of 3, 0 of them without a reason |" in es.table(
        result, {"owner/repo": 0.5}
    )


def test_a_false_expectation_must_name_the_checks_that_show_it() -> None:
    with pytest.raises(ValueError, match="names the checks"):
        es.Expectation.from_dict({"title": "x", "truth": "false", "reason": "r"})


def test_every_expectation_of_the_bench_parses_and_names_real_checks() -> None:
    expectations = evidence_real.load_expectations(evidence_real.EXPECT)

    known = {kind.value for kind in CheckKind}
    named = {name for entries in expectations.values() for e in entries for name in e.checks}
    assert expectations and named and named <= known
    assert all(e.reason for entries in expectations.values() for e in entries)


def test_the_bench_skips_when_the_mirrors_are_absent(tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()

    status = evidence_real.main(["--corpus", str(corpus), "--mirrors", str(tmp_path / "none")])

    assert status == 0
    assert f"skipped: no mirrors at {tmp_path / 'none'}" in capsys.readouterr().out
