"""Linking a project to a repository: which remotes are acceptable, cloning, fetching.

Clone URLs come from users, so they are untrusted. :func:`validate_remote` accepts only
``https://`` URLs, ``ssh://`` URLs, scp-style ``[user@]host:path`` and local paths under a
directory an administrator allowed; everything else is refused with a message saying what
and why. :func:`clone` and :func:`fetch` validate again themselves and run git through the
hardened helper (no hooks, no prompts, time-limited).

auditdash's clones are bare: nothing is ever checked out, so no work-tree code (filters,
checkout hooks, fsmonitor) is ever involved. Fetching mirrors branches and tags with force,
so a force-pushed branch moves here too; the commits it dropped stay readable in the object
store (until git's own expiry), which is how a claim can be shown to cite a commit that is
no longer on the branch.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from scanners.git.command import DEFAULT_TIMEOUT, GitError, Repository, open_repo, run_git

# The default refspecs of a bare mirror of branches and tags (not pull-request refs, notes...).
_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")

# Host names as DNS spells them, or a bracketed IPv6 literal.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])"
_SCP = re.compile(rf"^(?:(?P<user>[A-Za-z0-9._~+-]+)@)?(?P<host>{_HOST}):(?P<path>[^/].*|/.+)$")
# git reads "<transport>::<address>" as "run git-remote-<transport>".
_HELPER = re.compile(r"^[A-Za-z0-9+._-]*::")
_USER = re.compile(r"^[A-Za-z0-9._~+-]+$")
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):")
# Words that only make sense as git options smuggled into a URL.
_OPTION_WORDS = ("upload-pack", "receive-pack", "--config", "--exec", "--template")


@dataclass(frozen=True, slots=True)
class RefChange:
    """One ref a fetch moved. ``forced`` is True when ``old`` is not an ancestor of ``new``
    (history was rewritten); ``new`` is empty when the ref was deleted, ``old`` when created."""

    ref: str
    old: str
    new: str
    forced: bool


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a fetch changed, in ref-name order; empty when the remote had nothing new."""

    changes: tuple[RefChange, ...]


def validate_remote(url: str, *, allowed_local_roots: Sequence[Path]) -> str:
    """Return ``url`` in the form auditdash will hand to git, or raise :class:`GitError`.

    Accepted: ``https://host[:port]/path`` without credentials; ``ssh://[user@]host[:port]/path``
    without a password; scp-style ``[user@]host:path``; an absolute local path (or
    ``file://`` URL) that, with every symlink resolved, lies inside one of
    ``allowed_local_roots`` (returned as that resolved absolute path). Refused, each with its
    reason: other schemes (``http``, ``git``, ``ftp``), transport helpers (``ext::``, ``fd::``,
    any ``<transport>::``), whitespace or control characters (also percent-encoded), any
    component starting with ``-``, option words such as ``--upload-pack``, credentials in the
    URL, ``..`` in local paths, and relative paths.
    """
    if not isinstance(url, str) or not url:
        raise GitError("repository URL is empty")
    shown = _printable(url)
    _refuse_hostile_text(url, shown)
    decoded = unquote(url)
    if decoded != url:
        _refuse_hostile_text(decoded, shown, encoded=True)
    if _HELPER.match(url):
        raise GitError(
            f"repository URL {shown!r} refused: '<transport>::' remote helpers (such as ext:: "
            "or fd::) can run arbitrary commands"
        )
    if url.startswith("/"):
        return _validate_local(Path(url), shown, allowed_local_roots)
    scheme = _SCHEME.match(url)
    if scheme and url[scheme.end() :].startswith("//"):
        name = scheme["scheme"].lower()
        if name == "https":
            return _validate_https(url, shown)
        if name == "ssh":
            return _validate_ssh(url, shown)
        if name == "file":
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise GitError(f"repository URL {shown!r} refused: file:// URLs must be local")
            return _validate_local(Path(unquote(parts.path)), shown, allowed_local_roots)
        raise GitError(
            f"repository URL {shown!r} refused: the {name}:// scheme is not allowed "
            "(use https://, ssh://, user@host:path, or an allowed local path)"
        )
    scp = _SCP.match(url)
    if scp and "/" not in url.split(":", 1)[0]:
        return url
    raise GitError(
        f"repository URL {shown!r} refused: not an https:// or ssh:// URL, not user@host:path, "
        "and not an absolute local path"
    )


def clone(
    url: str,
    dest: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    allowed_local_roots: Sequence[Path] = (),
) -> Repository:
    """Clone ``url`` as a bare repository at ``dest`` and return it opened.

    ``url`` is validated first (see :func:`validate_remote`). ``dest`` must not exist yet; its
    parent must. The clone is made beside ``dest`` and renamed into place only when complete,
    so a failed or timed-out clone leaves nothing behind. No hooks or templates are used.
    """
    remote = validate_remote(url, allowed_local_roots=allowed_local_roots)
    dest = Path(dest)
    if dest.exists():
        raise GitError(f"cannot clone into {dest}: it already exists")
    if not dest.parent.is_dir():
        raise GitError(f"cannot clone into {dest}: the folder {dest.parent} does not exist")
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    target = staging / "repo.git"
    try:
        run_git(
            ["clone", "--bare", "--template=", "--no-local", "--", remote, str(target)],
            timeout=timeout,
            cwd=dest.parent,
            allow_file_protocol=remote.startswith("/"),
            what=f"cloning {_printable(url)}",
            doing="cloning the repository",
        )
        target.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return open_repo(dest, timeout=timeout)


def fetch(
    repo_dir: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    allowed_local_roots: Sequence[Path] = (),
) -> FetchResult:
    """Bring auditdash's clone at ``repo_dir`` up to date with its ``origin``.

    Branches and tags are mirrored with force and pruned, so a force-push upstream moves the
    branch here too; the result lists every ref that moved and whether the move rewrote
    history. The stored origin URL is validated again before use, so an edited config cannot
    turn a fetch into something else.
    """
    repo = open_repo(repo_dir, timeout=timeout)
    _, raw, _ = run_git(
        ["config", "--get", "remote.origin.url"],
        git_dir=repo.git_dir,
        timeout=timeout,
        ok_statuses=(0, 1),
        what=f"reading the origin of {repo.name}",
    )
    origin = raw.decode("utf-8", "replace").strip()
    if not origin:
        raise GitError(
            f"cannot fetch {repo.name}: it has no origin remote (was it cloned here?)",
            plain="the linked repository has no origin to fetch from (was it cloned here?)",
        )
    try:
        remote = validate_remote(origin, allowed_local_roots=allowed_local_roots)
    except GitError as error:
        raise GitError(
            str(error),
            plain="the origin of the linked repository no longer exists or is no longer allowed",
        ) from None
    before = _ref_tips(repo)
    run_git(
        ["fetch", "--prune", "--no-recurse-submodules", "--no-write-fetch-head", "--quiet"]
        + ["--", remote, *_REFSPECS],
        git_dir=repo.git_dir,
        timeout=timeout,
        allow_file_protocol=remote.startswith("/"),
        what=f"fetching {_printable(origin)} into {repo.name}",
        doing="fetching the linked repository from its origin",
    )
    after = _ref_tips(repo)
    changes = []
    for ref in sorted(set(before) | set(after)):
        old, new = before.get(ref, ""), after.get(ref, "")
        if old != new:
            forced = bool(old and new) and not _is_ancestor(repo, old, new)
            changes.append(RefChange(ref=ref, old=old, new=new, forced=forced))
    return FetchResult(changes=tuple(changes))


def _ref_tips(repo: Repository) -> dict[str, str]:
    _, out, _ = run_git(
        ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags"],
        git_dir=repo.git_dir,
        timeout=repo.timeout,
        what=f"listing the branches of {repo.name}",
    )
    tips = {}
    for line in out.decode("utf-8", "replace").splitlines():
        sha, _, ref = line.partition(" ")
        tips[ref] = sha
    return tips


def _is_ancestor(repo: Repository, old: str, new: str) -> bool:
    status, _, _ = run_git(
        ["merge-base", "--is-ancestor", old, new],
        git_dir=repo.git_dir,
        timeout=repo.timeout,
        ok_statuses=(0, 1),
        what=f"comparing {old[:12]} with {new[:12]}",
    )
    return status == 0


def _refuse_hostile_text(text: str, shown: str, *, encoded: bool = False) -> None:
    how = " (after percent-decoding)" if encoded else ""
    for char in text:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise GitError(
                f"repository URL {shown!r} refused: it contains whitespace or a control "
                f"character{how} (U+{ord(char):04X})"
            )
    if text.startswith("-"):
        raise GitError(
            f"repository URL {shown!r} refused: it starts with '-', which git would read as an "
            f"option{how}"
        )
    lowered = text.lower()
    for word in _OPTION_WORDS:
        if word in lowered:
            raise GitError(
                f"repository URL {shown!r} refused: it contains {word!r}, a git option that "
                f"could run commands{how}"
            )
    # A component after a separator that starts with '-' can reach ssh or a helper as an
    # option (ssh://-oProxyCommand=..., host:-c...).
    if re.search(r"[/:@=]-", text):
        raise GitError(
            f"repository URL {shown!r} refused: a part of it starts with '-', which could be "
            f"read as an option{how}"
        )


def _validate_https(url: str, shown: str) -> str:
    parts = _split(url, shown)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise GitError(
            f"repository URL {_redact(url)!r} refused: it embeds credentials; configure a "
            "credential for auditdash instead of putting it in the URL"
        )
    if not re.fullmatch(_HOST, _host_of(parts)):
        raise GitError(f"repository URL {shown!r} refused: it has no valid host name")
    if not parts.path.strip("/"):
        raise GitError(f"repository URL {shown!r} refused: it names no repository path")
    return url


def _validate_ssh(url: str, shown: str) -> str:
    parts = _split(url, shown)
    if parts.password is not None:
        raise GitError(
            f"repository URL {_redact(url)!r} refused: it embeds a password; use an SSH key"
        )
    if parts.username is not None and not _USER.fullmatch(parts.username):
        raise GitError(f"repository URL {shown!r} refused: the user name is not plain")
    if not re.fullmatch(_HOST, _host_of(parts)):
        raise GitError(f"repository URL {shown!r} refused: it has no valid host name")
    if not parts.path.strip("/"):
        raise GitError(f"repository URL {shown!r} refused: it names no repository path")
    return url


def _host_of(parts: SplitResult) -> str:
    """The host exactly as written (``parts.hostname`` lower-cases and unbrackets it)."""
    host = parts.netloc.rsplit("@", 1)[-1]
    if re.search(r":\d*$", host):
        host = host.rsplit(":", 1)[0]
    return host


def _split(url: str, shown: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise GitError(f"repository URL {shown!r} refused: malformed ({exc})") from exc
    if parts.query or parts.fragment:
        raise GitError(f"repository URL {shown!r} refused: a query or fragment has no meaning")
    return parts


def _validate_local(path: Path, shown: str, roots: Sequence[Path]) -> str:
    if not path.is_absolute():
        raise GitError(f"repository path {shown!r} refused: local paths must be absolute")
    if ".." in path.parts:
        raise GitError(f"repository path {shown!r} refused: '..' is not allowed in local paths")
    if not roots:
        raise GitError(
            f"repository path {shown!r} refused: no local folder is allowed for repositories "
            "(an administrator must list one)"
        )
    # Containment first: whether a path outside the allowed folders exists is not ours to say.
    outside = _outside_roots(path.resolve(strict=False), roots)
    if outside:
        raise GitError(f"repository path {shown!r} refused: {outside}")
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise GitError(f"repository path {shown!r} refused: it does not exist") from exc
    outside = _outside_roots(resolved, roots)
    if outside:
        raise GitError(f"repository path {shown!r} refused: {outside}")
    return str(resolved)


def _outside_roots(resolved: Path, roots: Sequence[Path]) -> str:
    """Why ``resolved`` (symlinks followed) lies outside every allowed root, or "" if inside."""
    for root in roots:
        try:
            root_resolved = Path(root).resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if resolved.is_relative_to(root_resolved):
            return ""
    allowed = ", ".join(str(r) for r in roots)
    return f"it resolves to {resolved}, which is outside the allowed folders ({allowed})"


def _printable(text: str) -> str:
    """``text`` safe to show in a message: credentials hidden, control characters escaped."""
    return _redact(text).encode("unicode_escape").decode("ascii")


def _redact(text: str) -> str:
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1***@", text)
