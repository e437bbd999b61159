"""Linking repositories: which remotes are accepted, cloning, fetching, and the hardening
that keeps hostile URLs, hooks and hanging servers harmless."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from bench.git_repo_gen import ScratchRepo, numbered
from scanners.git import (
    CheckOutcome,
    Claim,
    ClaimedFile,
    GitError,
    blame,
    clone,
    commit_info,
    diff_hunks,
    fetch,
    file_at,
    is_ancestor,
    iter_commits,
    line_history,
    open_repo,
    resolve,
    validate_remote,
    verify_claim,
)
from scanners.git.history import ResolveOutcome


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    root = tmp_path / "allowed"
    root.mkdir()
    return root


@pytest.fixture
def origin(allowed: Path) -> ScratchRepo:
    repo = ScratchRepo(allowed / "origin")
    repo.commit("Start", {"app.py": numbered(10)})
    return repo


GOOD = [
    "https://github.com/acme/lily.git",
    "https://gitlab.example.com:8443/group/sub/repo.git",
    "ssh://git@github.com/acme/lily.git",
    "ssh://git@[2001:db8::1]:2222/srv/repo.git",
    "ssh://github.com/acme/lily.git",
    "git@github.com:acme/lily.git",
    "github.com:acme/lily.git",
]


@pytest.mark.parametrize("url", GOOD)
def test_ordinary_remote_urls_are_accepted_unchanged(url: str, allowed: Path) -> None:
    assert validate_remote(url, allowed_local_roots=[allowed]) == url


HOSTILE = [
    ("http://github.com/acme/lily.git", "http:// scheme is not allowed"),
    ("git://github.com/acme/lily.git", "git:// scheme is not allowed"),
    ("ftp://example.com/lily.git", "ftp:// scheme is not allowed"),
    ("ext::git-remote-evil", "remote helpers"),
    ("fd::17", "remote helpers"),
    ("ext::sh -c touch% /tmp/pwned", "whitespace"),
    ("--upload-pack=touch", "starts with '-'"),
    ("-cprotocol.ext.allow=always", "starts with '-'"),
    ("https://github.com/acme/lily.git --upload-pack=touch", "whitespace"),
    ("https://github.com/acme/lily.git?x=--upload-pack=touch", "upload-pack"),
    ("https://github.com/acme/%2dcprotocol.ext.allow=always", "after percent-decoding"),
    ("ssh://-oProxyCommand=touch/repo", "starts with '-'"),
    ("ssh://git@-oProxyCommand=touch/repo", "starts with '-'"),
    ("-oProxyCommand=touch:repo", "starts with '-'"),
    ("git@github.com:-c/core.sshCommand=touch", "starts with '-'"),
    ("https://user:hunter2@github.com/acme/lily.git", "embeds credentials"),
    ("https://ghp_0123456789abcdef@github.com/acme/lily.git", "embeds credentials"),
    ("ssh://git:hunter2@github.com/acme/lily.git", "embeds a password"),
    ("https://github.com/acme/lily\n.git", "control character"),
    ("https://github.com/acme/lily%0a.git", "after percent-decoding"),
    ("https://github.com/acme/lily\u202e.git", "control character"),
    ("https://", "no valid host"),
    ("https://github.com", "names no repository path"),
    ("https://github.com/acme/lily.git#main", "query or fragment"),
    ("relative/path/repo", "not an absolute local path"),
    ("", "empty"),
]


@pytest.mark.parametrize(("url", "why"), HOSTILE)
def test_hostile_remote_urls_are_refused_with_the_reason(url: str, why: str, allowed: Path) -> None:
    with pytest.raises(GitError) as refused:
        validate_remote(url, allowed_local_roots=[allowed])
    assert why in str(refused.value)
    assert "refused" in str(refused.value) or "empty" in str(refused.value)


def test_refusal_messages_never_repeat_the_password(allowed: Path) -> None:
    with pytest.raises(GitError) as refused:
        validate_remote("https://ada:hunter2@github.com/a/b.git", allowed_local_roots=[allowed])
    assert "hunter2" not in str(refused.value)
    assert "***@github.com" in str(refused.value)


def test_local_path_inside_an_allowed_folder_is_accepted_resolved(
    allowed: Path, origin: ScratchRepo
) -> None:
    assert validate_remote(str(origin.path), allowed_local_roots=[allowed]) == str(
        origin.path.resolve()
    )
    as_url = "file://" + str(origin.path)
    assert validate_remote(as_url, allowed_local_roots=[allowed]) == str(origin.path.resolve())


def test_local_paths_outside_the_allowed_folders_are_refused(
    tmp_path: Path, allowed: Path, origin: ScratchRepo
) -> None:
    outside = ScratchRepo(tmp_path / "elsewhere")
    (allowed / "sneaky").symlink_to(outside.path)
    cases = {
        str(outside.path): "outside the allowed folders",
        f"{allowed}/../elsewhere": "'..' is not allowed",
        str(allowed / "sneaky"): "outside the allowed folders",
        "file:///etc": "outside the allowed folders",
        "file://evil.example.com/srv/repo": "must be local",
        str(allowed / "missing"): "does not exist",
        # Outside, existing or not, reads the same: its existence is not revealed.
        str(tmp_path / "nowhere" / "repo"): "outside the allowed folders",
        str(allowed / "sneaky" / "missing"): "outside the allowed folders",
    }
    for url, why in cases.items():
        with pytest.raises(GitError, match=why):
            validate_remote(url, allowed_local_roots=[allowed])
    with pytest.raises(GitError, match="no local folder is allowed"):
        validate_remote(str(origin.path), allowed_local_roots=[])


def test_clone_makes_a_bare_copy_whose_commits_can_be_read(
    tmp_path: Path, allowed: Path, origin: ScratchRepo
) -> None:
    (tmp_path / "data").mkdir()
    repo = clone(str(origin.path), tmp_path / "data" / "lily.git", allowed_local_roots=[allowed])
    assert repo.work_tree is None
    assert resolve(repo, "main").sha == origin.head()


def test_clone_refuses_an_existing_destination_and_a_hostile_url(
    tmp_path: Path, allowed: Path, origin: ScratchRepo
) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(GitError, match="already exists"):
        clone(str(origin.path), tmp_path / "taken", allowed_local_roots=[allowed])
    with pytest.raises(GitError, match="remote helpers"):
        clone("ext::evil", tmp_path / "new", allowed_local_roots=[allowed])
    assert not (tmp_path / "new").exists()


def test_fetch_reports_new_commits_and_a_force_push(
    tmp_path: Path, allowed: Path, origin: ScratchRepo
) -> None:
    mirror = clone(str(origin.path), tmp_path / "lily.git", allowed_local_roots=[allowed])
    added = origin.commit("Add a line", {"app.py": numbered(11)})
    first = fetch(mirror.git_dir, allowed_local_roots=[allowed])
    assert [(c.ref, c.new, c.forced) for c in first.changes] == [("refs/heads/main", added, False)]

    origin.git("reset", "-q", "--hard", "HEAD~1")
    rewritten = origin.commit("Add a different line", {"app.py": numbered(12)})
    second = fetch(mirror.git_dir, allowed_local_roots=[allowed])
    assert [(c.ref, c.old, c.new, c.forced) for c in second.changes] == [
        ("refs/heads/main", added, rewritten, True)
    ]
    # The dropped commit is still readable, but no longer on the branch.
    assert resolve(mirror, added[:10]).outcome is ResolveOutcome.FOUND
    assert not is_ancestor(mirror, added, "main")
    assert fetch(mirror.git_dir, allowed_local_roots=[allowed]).changes == ()


def _hook(folder: Path, marker: Path) -> Path:
    hooks = folder / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    for name in ("reference-transaction", "post-checkout", "post-fetch", "pre-auto-gc"):
        script = hooks / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{marker}"\n')
        script.chmod(0o755)
    return hooks


def test_hooks_planted_in_templates_config_or_the_clone_never_run(
    tmp_path: Path, allowed: Path, origin: ScratchRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "hook-ran"
    template = tmp_path / "template"
    hooks = _hook(template, marker)
    # Control: the planted template hook is real, plain git runs it on a bare clone.
    origin.git("clone", "-q", "--bare", str(origin.path), str(tmp_path / "control.git"),
               env={"GIT_TEMPLATE_DIR": str(template)})  # fmt: skip
    assert marker.read_text().startswith("reference-transaction")
    marker.unlink()

    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f"[init]\n\ttemplateDir = {template}\n[core]\n\thooksPath = {hooks}\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(template))
    mirror = clone(str(origin.path), tmp_path / "lily.git", allowed_local_roots=[allowed])
    assert not (mirror.git_dir / "hooks").exists()

    _hook(mirror.git_dir, marker)
    origin.commit("More", {"app.py": numbered(20)})
    assert fetch(mirror.git_dir, allowed_local_roots=[allowed]).changes
    assert resolve(mirror, "main").sha == origin.head()
    assert not marker.exists()


def test_a_hanging_transport_is_killed_by_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "ssh.pid"
    fake_ssh = tmp_path / "fake-ssh"
    fake_ssh.write_text(f'#!/bin/sh\necho $$ > "{pid_file}"\nexec sleep 60\n')
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh))
    started = time.monotonic()
    with pytest.raises(GitError, match=r"timed out after 1 s"):
        clone("ssh://git@example.invalid/lily.git", tmp_path / "lily.git", timeout=1)
    assert time.monotonic() - started < 10
    assert not (tmp_path / "lily.git").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
    sleeper = int(pid_file.read_text())
    for _ in range(50):
        try:
            os.kill(sleeper, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the fake ssh (pid {sleeper}) survived the timeout")


def test_opening_something_that_is_not_a_repository_says_so(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="no such directory"):
        open_repo(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(GitError, match="not a git repository"):
        open_repo(tmp_path / "plain")


def test_fetch_refuses_a_repository_whose_origin_was_edited_to_a_helper(
    tmp_path: Path, allowed: Path, origin: ScratchRepo
) -> None:
    mirror = clone(str(origin.path), tmp_path / "lily.git", allowed_local_roots=[allowed])
    origin.git(f"--git-dir={mirror.git_dir}", "config", "remote.origin.url", "ext::sh -c evil")
    with pytest.raises(GitError, match="whitespace"):
        fetch(mirror.git_dir, allowed_local_roots=[allowed])


def test_a_repositorys_own_config_cannot_make_reads_run_programs(tmp_path: Path) -> None:
    marker = tmp_path / "program-ran"
    evil = tmp_path / "evil"
    evil.write_text(f'#!/bin/sh\necho "$0 $*" >> "{marker}"\nexit 1\n')
    evil.chmod(0o755)
    scratch = ScratchRepo(tmp_path / "hostile")
    scratch.commit("Start", {"a.py": numbered(5), ".gitattributes": "*.py diff=evil\n"})
    fix = scratch.commit("Fix", {"a.py": numbered(6)})
    for key, value in [
        ("log.showSignature", "true"),
        ("gpg.program", str(evil)),
        ("diff.external", str(evil)),
        ("diff.evil.textconv", str(evil)),
        ("diff.evil.command", str(evil)),
        ("core.fsmonitor", str(evil)),
        ("core.pager", str(evil)),
    ]:
        scratch.git("config", key, value)
    _hook(scratch.path / ".git", marker)
    # Control: plain git in this repository does run the planted program.
    subprocess.run(["git", "log", "-p", "-1"], cwd=scratch.path, capture_output=True, check=False)
    assert marker.exists()
    marker.unlink()

    repo = open_repo(scratch.path)
    commit_info(repo, fix)
    list(iter_commits(repo, branch="main"))
    assert diff_hunks(repo, fix, "a.py").hunks
    line_history(repo, "a.py", 1, 6)
    blame(repo, "a.py", 1, 6, fix)
    assert file_at(repo, fix, "a.py") == numbered(6)
    claim = Claim(fix, (ClaimedFile("a.py", ((6, 6),), after="line 6"),))
    assert verify_claim(repo, claim, branch="main").outcome is CheckOutcome.PASS
    assert not marker.exists()
