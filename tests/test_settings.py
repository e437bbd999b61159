"""Settings read from the environment: a bad integer stops start-up, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from auditdash.settings import _env_float, _env_int

ROOT = Path(__file__).resolve().parent.parent


def test_env_int_reads_the_variable_and_falls_back_to_the_default_when_unset(monkeypatch):
    monkeypatch.setenv("AUDITDASH_TEST_NUMBER", "42")
    assert _env_int("AUDITDASH_TEST_NUMBER", 7) == 42
    monkeypatch.delenv("AUDITDASH_TEST_NUMBER")
    assert _env_int("AUDITDASH_TEST_NUMBER", 7) == 7


@pytest.mark.parametrize("value", ["five", "", "1.5", "10s"])
def test_env_int_names_the_variable_and_the_bad_value(monkeypatch, value):
    monkeypatch.setenv("AUDITDASH_TEST_NUMBER", value)
    with pytest.raises(ImproperlyConfigured) as error:
        _env_int("AUDITDASH_TEST_NUMBER", 7)
    assert str(error.value) == f"AUDITDASH_TEST_NUMBER must be an integer, not {value!r}"


def test_a_bad_integer_in_the_environment_stops_start_up(tmp_path):
    env = {**os.environ, "AXES_FAILURE_LIMIT": "five", "AUDITDASH_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import auditdash.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: AXES_FAILURE_LIMIT must be an integer, not 'five'" in (
        result.stderr
    )


def test_a_bad_number_of_seconds_names_the_variable(monkeypatch):
    monkeypatch.setenv("AUDITDASH_GIT_TIMEOUT", "two minutes")
    with pytest.raises(ImproperlyConfigured) as error:
        _env_float("AUDITDASH_GIT_TIMEOUT", 120)
    assert str(error.value) == "AUDITDASH_GIT_TIMEOUT must be a number, not 'two minutes'"
    monkeypatch.setenv("AUDITDASH_GIT_TIMEOUT", "2.5")
    assert _env_float("AUDITDASH_GIT_TIMEOUT", 120) == 2.5
