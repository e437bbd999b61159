"""Comparing code from documents with code in the repository, ignoring layout only.

Documents quote code re-indented, with trailing spaces, blank lines and elisions. What
:func:`normalise_code` changes, and nothing more:

1. line endings are unified (``\\r\\n`` and ``\\r`` become ``\\n``) and a leading byte-order
   mark is dropped;
2. each line loses its leading and trailing whitespace (indentation), and every inner run of
   whitespace (spaces, tabs, no-break spaces) becomes one space;
3. blank lines are dropped.

Quotes, comments, case and punctuation are kept as they are: changing them could make
different code compare equal (``'a b'`` vs ``"a b"`` is safe in Python but not in a shell
script; a comment marker can be an operator elsewhere). Whitespace inside string literals
is collapsed too, the one accepted imprecision.

:func:`code_presence` then looks for a snippet in a file. An elision line in the snippet
stands for any number of lines: ``...`` or ``…`` alone or followed by words (``... process``),
or a comment starting with an ellipsis (``# ... task logic``, ``// ...``, ``/* ... */``,
``-- ...``, ``<!-- ... -->``). The lines between elisions form segments that must each
appear as consecutive lines, in order.
Inside a line, ``...`` (as in ``Message(...)``) stands for any text on that line.
"""

from __future__ import annotations

import re

from scanners.git.command import GitError

_ELISION = re.compile(
    r"^(?:(?:#|//|--|;|/\*|<!--)\s*(?:\.\.\.|…).*|(?:\.\.\.|…)(?:\s.*)?)$",
)
_INLINE_ELLIPSIS = re.compile(r"\.\.\.|…")


def normalise_code(text: str) -> str:
    """``text`` with layout normalised as the module docstring lists, lines joined by \\n."""
    return "\n".join(_normal_lines(text))


def code_presence(file_text: str, snippet: str) -> bool:
    """Whether ``snippet`` occurs in ``file_text`` once layout is normalised, honouring
    elisions (see the module docstring). Raises :class:`GitError` when the snippet has no
    code lines at all, since nothing can then be said about presence."""
    segments = _segments(snippet)
    lines = _normal_lines(file_text)
    position = 0
    for segment in segments:
        found = _find_segment(lines, segment, position)
        if found < 0:
            return False
        position = found + len(segment)
    return True


def _normal_lines(text: str) -> list[str]:
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return [line for line in lines if line]


def _segments(snippet: str) -> list[list[re.Pattern[str] | str]]:
    segments: list[list[re.Pattern[str] | str]] = [[]]
    for line in _normal_lines(snippet):
        if _ELISION.match(line):
            if segments[-1]:
                segments.append([])
            continue
        if _INLINE_ELLIPSIS.search(line):
            pieces = (re.escape(p) for p in _INLINE_ELLIPSIS.split(line))
            segments[-1].append(re.compile(".*".join(pieces)))
        else:
            segments[-1].append(line)
    segments = [s for s in segments if s]
    if not segments:
        raise GitError("the code snippet has no code lines (only blank lines or elisions)")
    return segments


def _find_segment(lines: list[str], segment: list[re.Pattern[str] | str], start: int) -> int:
    """Index of the first place at or after ``start`` where ``segment`` matches, or -1."""
    for i in range(start, len(lines) - len(segment) + 1):
        if all(_line_matches(lines[i + k], want) for k, want in enumerate(segment)):
            return i
    return -1


def _line_matches(line: str, want: re.Pattern[str] | str) -> bool:
    return line == want if isinstance(want, str) else want.fullmatch(line) is not None
