"""What a repository's own configuration may not do: run a program.

git reads a repository's ``config`` (and the files it includes) on every call, and some of its
keys name programs that git then runs: filter drivers at checkout (``filter.<driver>.clean``,
``smudge``, ``process``), diff drivers (``diff.<driver>.textconv``, ``command``), merge
drivers, a remote's ``uploadpack``/``receivepack``/``vcs``, trailer commands, hooks, the
fsmonitor, the pager, ssh, gpg, editors, credential helpers, the askpass, the alternate refs
command. Global and system configuration are switched off (see :mod:`scanners.git.command`);
the repository's own cannot be, so every such key is overridden for every call, through
``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_<n>``/``GIT_CONFIG_VALUE_<n>`` (the command-line scope,
which wins over every file).

Fixed keys are overridden by name. Driver keys carry a name chosen by the repository, so the
repository's configuration files are read first (with every file they include, whatever the
include's condition: naming too many drivers costs nothing) and each driver found is
neutralised: its commands emptied (an empty filter or external diff is none at all) and its
filter no longer required; a textconv becomes ``cat``, which changes nothing (an empty one
would fail the diff).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

FIXED = (
    ("core.hooksPath", os.devnull),
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("core.askPass", "true"),
    ("core.sshCommand", "ssh"),
    ("core.editor", "false"),
    ("sequence.editor", "false"),
    ("core.alternateRefsCommand", "true"),
    ("credential.helper", ""),
    ("diff.external", ""),
    ("gpg.program", "false"),
    ("gpg.openpgp.program", "false"),
    ("gpg.x509.program", "false"),
    ("gpg.ssh.program", "false"),
    ("gpg.ssh.defaultKeyCommand", "false"),
)
"""Keys that name a program, by name: overridden for every git call."""

DRIVERS = {
    "filter": (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false")),
    "diff": (("textconv", "cat"), ("command", "")),
    "merge": (("driver", ""),),
    "remote": (("uploadpack", "git-upload-pack"), ("receivepack", "git-receive-pack"), ("vcs", "")),
    "trailer": (("command", ""), ("cmd", "")),
}
"""Sections whose subsections (named by the repository) hold program keys: what each becomes."""

# ``[filter "name"]`` (the name quoted, with \" and \\ escapes) or the old ``[filter.name]``;
# a key may follow on the same line, and a header may be indented.
_HEADER = re.compile(r'^\s*\[\s*([A-Za-z0-9.-]+?)\s*(?:"((?:[^"\\\n]|\\.)*)")?\s*\]', re.MULTILINE)
_INCLUDE_PATH = re.compile(r"^\s*path\s*=\s*(.*?)\s*$", re.IGNORECASE)
_MAX_FILES = 20
_MAX_BYTES = 1 << 20


def overrides(git_dir: Path | None) -> list[tuple[str, str]]:
    """Every (key, value) that stops ``git_dir``'s configuration from running a program."""
    pairs = list(FIXED)
    if git_dir is None:
        return pairs
    for section, name in sorted(_driver_names(git_dir)):
        pairs += [(f"{section}.{name}.{key}", value) for key, value in DRIVERS[section]]
    return pairs


def environment(git_dir: Path | None) -> dict[str, str]:
    """The ``GIT_CONFIG_COUNT``/``KEY``/``VALUE`` variables carrying :func:`overrides`."""
    pairs = overrides(git_dir)
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for index, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def _driver_names(git_dir: Path) -> set[tuple[str, str]]:
    """(section, name) of every driver-like subsection in the repository's configuration."""
    found: set[tuple[str, str]] = set()
    pending = [git_dir / "config", git_dir / "config.worktree"]
    common = git_dir / "commondir"
    if common.is_file():
        shared = Path(os.path.join(git_dir, common.read_text(errors="replace").strip()))
        pending.append(shared / "config")
    seen: set[Path] = set()
    while pending and len(seen) < _MAX_FILES:
        path = pending.pop()
        try:
            path = path.resolve()
            if path in seen or not path.is_file():
                continue
            seen.add(path)
            with path.open("rb") as handle:
                text = handle.read(_MAX_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        found |= _drivers_in(text)
        pending += _includes_in(text, path.parent)
    return found


def _drivers_in(text: str) -> set[tuple[str, str]]:
    found = set()
    for match in _HEADER.finditer(text):
        section, quoted = match.group(1), match.group(2)
        if quoted is not None:
            section, name = section.lower(), re.sub(r"\\(.)", r"\1", quoted)
        elif "." in section:
            # The old form: the subsection after the first dot, lowercased by git.
            section, name = section.split(".", 1)
            section, name = section.lower(), name.lower()
        else:
            continue
        if section in DRIVERS and name:
            found.add((section, name))
    return found


def _includes_in(text: str, folder: Path) -> list[Path]:
    """Files named by ``[include]``/``[includeIf "..."]`` ``path`` keys, whatever the
    condition (relative to the including file, ``~/`` from HOME)."""
    paths = []
    section = ""
    for line in text.splitlines():
        if header := _HEADER.match(line):
            section = header.group(1).lower()
            line = line[header.end() :]
        if section not in ("include", "includeif"):
            continue
        if value := _INCLUDE_PATH.match(line):
            raw = value.group(1).split(" #")[0].split(" ;")[0].strip().strip('"')
            if raw:
                target = Path(os.path.expanduser(raw))
                paths.append(target if target.is_absolute() else folder / target)
    return paths
