"""Checked access to SARIF values: the right JSON type, or a ParseError naming the place.

SARIF-defined properties are checked strictly (``startLine: "ten"`` is an error). Property
bags (``properties``) belong to each tool, so readers of them are lenient and simply ignore
what they cannot use.
"""

from __future__ import annotations

import re
from typing import Any

from scanners.base import MAX_POSITION, ParseError

LEVELS = ("error", "warning", "note", "none")
LEVEL_SEVERITY = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
SEVERITY_WORDS = {
    "critical": "critical",
    "high": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "info": "info",
    "informational": "info",
    "none": "info",
}
_CWE = re.compile(r"(?i)\bcwe[-_/ :]*0*(\d+)")


def json_kind(value: Any) -> str:
    """How a JSON value reads in an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {_short(value)!r}"
    return f"the number {value!r}"


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


class Checker:
    """Type checks that raise :class:`ParseError` for one report (``source``)."""

    __slots__ = ("source",)

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> ParseError:
        return ParseError(message, where=where, source=self.source)

    def wrong(self, where: str, value: Any, expected: str) -> ParseError:
        return self.fail(
            where, f"{where.rsplit('.', 1)[-1]} is {json_kind(value)}; expected {expected}"
        )

    def obj(self, value: Any, where: str) -> dict:
        """``value`` as an object; null or absent reads as empty."""
        if value is None:
            return {}
        if type(value) is not dict:
            raise self.wrong(where, value, "an object")
        return value

    def array(self, value: Any, where: str) -> list:
        if value is None:
            return []
        if type(value) is not list:
            raise self.wrong(where, value, "a list")
        return value

    def text(self, value: Any, where: str) -> str | None:
        if value is None or type(value) is str:
            return value
        raise self.wrong(where, value, "a string")

    def integer(self, value: Any, where: str, *, minimum: int = 0) -> int | None:
        if value is None:
            return None
        if type(value) is not int:
            raise self.wrong(where, value, f"a whole number (at least {minimum})")
        if not minimum <= value <= MAX_POSITION:
            raise self.fail(
                where,
                f"{where.rsplit('.', 1)[-1]} is {value}; expected {minimum} to {MAX_POSITION:,}",
            )
        return value

    def level(self, value: Any, where: str) -> str | None:
        if value is None or (type(value) is str and value in LEVEL_SEVERITY):
            return value
        raise self.wrong(where, value, "one of " + ", ".join(LEVELS))

    def message_text(self, value: Any, where: str) -> str:
        """The plain text of a message or multiformatMessageString (Markdown only as a
        fallback); empty when there is none."""
        message = self.obj(value, where)
        text = self.text(message.get("text"), f"{where}.text")
        if text is None:
            text = self.text(message.get("markdown"), f"{where}.markdown")
        return text or ""


def score_severity(value: Any) -> str | None:
    """Severity from a CVSS-like ``security-severity`` (a number or a numeric string).

    Some tools write a word ("MEDIUM") instead; those are mapped too. Anything else is
    ignored, since property bags are the tool's own business.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in SEVERITY_WORDS:
            return SEVERITY_WORDS[word]
        try:
            score = float(word)
        except ValueError:
            return None
    elif isinstance(value, int | float):
        score = float(value)
    else:
        return None
    if score != score or score < 0:  # NaN or negative: not a score
        return None
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "info"


def cwes_in(*values: Any) -> list[str]:
    """CWE ids (``CWE-79``) named in tags or ``cwe`` properties, in order, without repeats.

    Accepts ``external/cwe/cwe-079``, ``CWE-79``, ``CWE-327: Use of a Broken...``, and lists
    of those; ignores everything else.
    """
    found: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str):
                continue
            for number in _CWE.findall(item):
                cwe = f"CWE-{int(number)}"
                if cwe not in found:
                    found.append(cwe)
    return found


FLATTEN_DEPTH = 16
"""How deeply a fingerprint's value may nest: tools nest one or two levels at most."""


def flatten(prefix: str, value: Any, into: list[tuple[str, str]], depth: int = 0) -> None:
    """Nested fingerprint values as ``key.sub=value`` pairs (some tools nest objects).
    ValueError past :data:`FLATTEN_DEPTH` levels (the caller names the place)."""
    if isinstance(value, dict | list) and depth >= FLATTEN_DEPTH:
        raise ValueError(f"a fingerprint nested more than {FLATTEN_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(f"{prefix}.{key}", item, into, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            flatten(f"{prefix}[{index}]", item, into, depth + 1)
    elif isinstance(value, bool):
        into.append((prefix, "true" if value else "false"))
    elif value is not None:
        into.append((prefix, str(value)))
