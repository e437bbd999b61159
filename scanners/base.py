"""The contract between scanner-format parsers and the ingestion pipeline.

A parser module (``scanners/formats/<key>.py``) exposes:

* ``FORMAT``: its format key (snake case, e.g. ``"pip_audit"``);
* ``sniff(head: bytes) -> bool``: whether the first bytes of a report look like this format;
* ``parse(stream: ByteStream, *, source: str) -> Iterator[RawFinding | ReportMeta]``.

``parse`` is pure: bytes in, values out. It never touches the database and never decides a
lifecycle. It yields one :class:`ReportMeta` (at any point; the pipeline merges every one it
receives) and one :class:`RawFinding` per result, as it reads, so memory stays flat however
large the report is. Paths are yielded as the tool wrote them; the pipeline normalises them.
Bad input raises :class:`ParseError` naming the place and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

SEVERITIES = ("critical", "high", "medium", "low", "info")


MAX_POSITION = 2**31 - 1
"""The largest line, column or index a report may name: what the database stores as an integer
everywhere. A larger one is a broken report, said so, never an overflow."""


class ParseError(Exception):
    """A report could not be read. ``where`` is a JSON path (``runs[0].results[3]``) or a line."""

    def __init__(self, message: str, *, where: str = "", source: str = "") -> None:
        self.message = message
        self.where = where
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.where) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass(slots=True)
class RawFinding:
    """One result as a tool reported it, before normalisation and fingerprinting.

    ``scope`` distinguishes independent analyses of one tool inside a report (SARIF
    ``automationDetails.id`` / run category); findings of one scope are closed only by a later
    report of the same scope. ``fingerprint`` is the tool's own stable identifier when it gives
    one. ``snippet`` is the flagged source text when the report carries it; it must already be
    free of secrets. ``extra`` holds format-specific facts worth showing (package, versions,
    advisory ids, CWE list, help URL), JSON-serialisable. ``rule_details`` is what the report
    says of the rule itself (name, help link, tags...), the same for all of the rule's
    findings: parsers may share one dict between them, and nobody changes it.
    """

    tool: str
    rule_id: str
    title: str
    severity: str
    path: str = ""
    start_line: int | None = None
    end_line: int | None = None
    start_column: int | None = None
    message: str = ""
    snippet: str = ""
    cwe: str = ""
    scope: str = ""
    fingerprint: str = ""
    uri_base_id: str = ""
    suppressed: bool = False
    suppression_reason: str = ""
    extra: dict = field(default_factory=dict)
    rule_details: dict = field(default_factory=dict)


@dataclass(slots=True)
class ReportMeta:
    """Facts about the report as a whole.

    ``base_uris`` maps SARIF ``uriBaseId`` names to absolute URIs (``originalUriBaseIds``).
    ``root`` is the directory the tool scanned, when the report says so. ``generated_at`` is
    an ISO-8601 timestamp from the report itself. ``scanned_paths``, when not None, is every
    file the tool looked at; ``failed_paths`` the files it tried and could not read (a
    syntax error): their findings are neither seen nor fixed by this report.
    """

    tool: str = ""
    tool_version: str = ""
    commit: str = ""
    branch: str = ""
    root: str = ""
    base_uris: dict[str, str] = field(default_factory=dict)
    generated_at: str = ""
    scanned_paths: list[str] | None = None
    failed_paths: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class ByteStream(Protocol):
    """What a parser may ask of its input: an open binary file, a ``BytesIO``, or the
    pipeline's window on a report (which is a raw stream, not a ``BinaryIO``). A stream that
    cannot seek says so through ``seekable()``."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seekable(self) -> bool: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...


class Parser(Protocol):
    FORMAT: str

    def sniff(self, head: bytes) -> bool: ...

    def parse(self, stream: ByteStream, *, source: str) -> Iterator[RawFinding | ReportMeta]: ...
