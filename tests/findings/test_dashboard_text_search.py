"""The board's text filter: what it matches, through the project's rule titles."""

from __future__ import annotations

import importlib

import pytest
from django.db import DatabaseError, connection

from findings.models import Finding, RuleTitle
from findings.selectors.board import BoardFilter, board_column
from tests.findings.test_dashboard_board import make_findings

pytestmark = pytest.mark.django_db

text_search = importlib.import_module("findings.migrations.0040_text_search")
title_trigrams = importlib.import_module("findings.migrations.0044_rule_title_trigrams")


def titles(project, q: str, status: str = "open") -> list[str]:
    column = board_column(project=project, status=status, filters=BoardFilter(q=q))
    return sorted(card["title"] for card in column.cards)


def test_the_text_filter_matches_titles_whatever_their_case(acme):
    make_findings(acme, 2, title="Hard-coded PASSWORD")
    make_findings(acme, 1, title="Use of eval")
    assert titles(acme, "password") == ["Hard-coded PASSWORD 1", "Hard-coded PASSWORD 2"]


def test_the_text_filter_finds_a_finding_by_its_rule(acme):
    make_findings(acme, 1, title="Use of eval")
    Finding.objects.filter(project=acme).update(rule_id="python.lang.security.eval-use")
    assert titles(acme, "EVAL-USE") == ["Use of eval 1"]


def test_percent_and_underscore_in_the_text_are_literal_not_wildcards(acme):
    make_findings(acme, 1, title="Coverage at 100% here")
    make_findings(acme, 1, title="Coverage at 1000 there")
    assert titles(acme, "100%") == ["Coverage at 100% here 1"]
    assert titles(acme, "at_1") == []


def test_the_text_filter_counts_only_matching_cards_in_each_column(owner_client, acme):
    make_findings(acme, 3, title="Weak hash", status="claimed")
    make_findings(acme, 4, title="Use of eval", status="claimed")
    page = owner_client.get("/p/ACME/?q=weak+hash", HTTP_HX_REQUEST="true").content.decode()
    assert "3 findings match" in page and "Use of eval" not in page


def test_a_renamed_title_is_found_by_its_new_words_and_no_longer_by_the_old(acme):
    make_findings(acme, 1, title="Weak hash")
    Finding.objects.filter(project=acme).update(title="Broken cipher")
    assert titles(acme, "cipher") == ["Broken cipher"]
    assert titles(acme, "weak") == []


def test_rule_titles_follow_findings_however_they_are_written(acme):
    make_findings(acme, 2, title="Use of eval")
    Finding.objects.filter(project=acme, number=1).update(rule_id="B999", tool="semgrep")
    pairs = list(RuleTitle.objects.filter(project=acme).values_list("tool", "rule_id", "title"))
    assert ("bandit", "B307", "Use of eval 2") in pairs
    assert ("semgrep", "B999", "Use of eval 1") in pairs
    assert len(pairs) == len(set(pairs))
    assert titles(acme, "b999") == ["Use of eval 1"]


def test_a_word_in_more_titles_than_the_cap_still_finds_every_match(acme, monkeypatch):
    monkeypatch.setattr("findings.selectors.board.TEXT_PAIRS_CAP", 2)
    make_findings(acme, 4, title="Use of eval")
    assert len(titles(acme, "eval")) == 4


def test_past_the_cap_the_words_stay_literal_and_any_case(acme, monkeypatch):
    monkeypatch.setattr("findings.selectors.board.TEXT_PAIRS_CAP", 1)
    make_findings(acme, 2, title="Coverage AT 100% here")
    make_findings(acme, 2, title="Coverage at 1000 there")
    assert titles(acme, "at 100%") == ["Coverage AT 100% here 1", "Coverage AT 100% here 2"]
    assert titles(acme, "at_1") == []


def test_a_project_with_more_rules_than_can_be_listed_is_searched_by_rule_in_sql(acme, monkeypatch):
    monkeypatch.setattr("findings.selectors.board.RULES_CAP", 1)
    make_findings(acme, 2, title="Use of eval")
    Finding.objects.filter(project=acme, number=1).update(rule_id="python.eval-use")
    Finding.objects.filter(project=acme, number=2).update(rule_id="python.exec-use")
    assert titles(acme, "EVAL-use") == ["Use of eval 1"]
    monkeypatch.setattr("findings.selectors.board.RULES_CAP", 5000)
    assert titles(acme, "EVAL-use") == ["Use of eval 1"]


@pytest.mark.postgres
def test_on_postgresql_rule_titles_carry_trigram_indexes():
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'findings_ruletitle'")
        indexes = {name for (name,) in cursor.fetchall()}
    assert set(title_trigrams.INDEXES) <= indexes


@pytest.mark.postgres
def test_on_postgresql_the_old_trigram_indexes_are_gone():
    if connection.vendor != "postgresql":
        pytest.skip("the trigram indexes existed on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'findings_finding'")
        indexes = {name for (name,) in cursor.fetchall()}
    assert "finding_rule" in indexes and not indexes & set(text_search.INDEXES)


def test_the_migration_changes_nothing_on_sqlite(capsys):
    class Editor:
        connection = type("Conn", (), {"vendor": "sqlite"})()

        def execute(self, sql):  # pragma: no cover - reached only if the guard broke
            raise AssertionError(f"ran {sql} on SQLite")

    text_search.create_indexes(None, Editor())
    text_search.drop_indexes(None, Editor())
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("migration", [text_search, title_trigrams], ids=["findings", "rules"])
def test_without_the_right_to_create_pg_trgm_the_migration_says_so_and_goes_on(capsys, migration):
    ran: list[str] = []

    class Editor:
        connection = type("Conn", (), {"vendor": "postgresql", "alias": "default"})()

        def execute(self, sql: str) -> None:
            ran.append(sql)
            if "EXTENSION" in sql:
                raise DatabaseError("permission denied to create extension pg_trgm")

    migration.create_indexes(None, Editor())
    out = capsys.readouterr().out
    assert "skipped the trigram indexes" in out and "permission denied" in out
    assert "still works" in out
    assert ran == ["CREATE EXTENSION IF NOT EXISTS pg_trgm"]


def test_words_in_more_rule_ids_than_the_cap_still_find_every_match(acme, monkeypatch):
    monkeypatch.setattr("findings.selectors.board.TEXT_PAIRS_CAP", 2)
    make_findings(acme, 3, title="Use of eval")
    for number in (1, 2, 3):
        Finding.objects.filter(project=acme, number=number).update(rule_id=f"eval-{number}")
    assert titles(acme, "EVAL-") == ["Use of eval 1", "Use of eval 2", "Use of eval 3"]
