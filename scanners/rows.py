"""The staged row: one normalised, fingerprinted result, as a scan import hands it on.

:class:`scanners.normalise.RowMaker` makes them; the merge (``findings.services.scan``)
loads them into the database as they are, by ``COPY`` or ``executemany``. It is a plain
tuple underneath, its fields in the order of the merge's staging columns.
"""

from __future__ import annotations

from typing import NamedTuple


class StagedRow(NamedTuple):
    """One result, ready to store. Every text is already cut to its column's length and
    storable (no NUL, no lone surrogate); ``extra`` is JSON text; ``seq`` is the result's
    place in its report, from 0."""

    seq: int
    fingerprint: str
    tool: str
    category: str
    rule_id: str
    title: str
    message: str
    severity: int
    cwe: str
    path: str
    start_line: int | None
    end_line: int | None
    snippet: str
    suppressed: bool
    suppression_reason: str
    extra: str
    content_key: str = ""
    """:func:`scanners.normalise.content_key`: the fingerprint without path and ordinal."""


TEXT_FIELDS = (
    "tool",
    "category",
    "rule_id",
    "title",
    "message",
    "cwe",
    "path",
    "snippet",
    "suppression_reason",
)
"""The fields that hold free text from a report (what must be made storable)."""
