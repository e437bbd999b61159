"""The git engine's cache: owned by the caller, carried by a repository handle, never
installed in the engine."""

from __future__ import annotations

import pytest

from scanners import git
from scanners.git import command


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    started: list[str] = []
    real = command.run_git
    monkeypatch.setattr(
        command, "run_git", lambda args, **kw: started.append(args[0]) or real(args, **kw)
    )
    return started


def test_a_cached_handle_asks_git_a_repeated_question_once(git_repo, counted) -> None:
    git_repo.write("app.py", "print('hi')\n")
    git_repo.commit("Add the app")
    cache = git.GitCache()
    handle = git.open_repo(git_repo.path).cached(cache)
    counted.clear()

    first = git.resolve(handle, "main")
    asked = len(counted)
    again = git.resolve(handle, "main")

    assert again == first and len(counted) == asked
    assert cache.hits >= 1 and cache.misses == asked


def test_a_handle_without_the_cache_runs_git_every_time(git_repo, counted) -> None:
    git_repo.write("app.py", "print('hi')\n")
    git_repo.commit("Add the app")
    plain = git.open_repo(git_repo.path)
    cached = plain.cached(git.GitCache())
    counted.clear()

    git.resolve(cached, "main")
    once = len(counted)
    git.resolve(plain, "main")
    git.resolve(plain, "main")

    assert once > 0 and len(counted) == 3 * once
    assert cached == plain  # the cache takes no part in comparing handles


def test_a_cache_without_room_keeps_nothing(git_repo, counted) -> None:
    git_repo.write("app.py", "print('hi')\n")
    git_repo.commit("Add the app")
    cache = git.GitCache(limit=0)
    handle = git.open_repo(git_repo.path).cached(cache)
    counted.clear()

    git.resolve(handle, "main")
    once = len(counted)
    git.resolve(handle, "main")

    assert len(counted) == 2 * once and cache.hits == 0 and cache.size == 0
