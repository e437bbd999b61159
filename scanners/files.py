"""Reading a report file safely: its size, its hash, its encoding, a seekable window on it."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import shutil
from pathlib import Path

_SURROGATE = re.compile("[\ud800-\udfff]")


class IngestError(Exception):
    """An import that did not happen, with the message a user should read.

    The message may quote the report (a version, a key): a NUL or a lone surrogate in it is
    shown as U+FFFD, so that the message can be stored with the failed report."""

    def __init__(self, message: str = "") -> None:
        if not message.isascii() or "\x00" in message:
            message = _SURROGATE.sub("\ufffd", message.replace("\x00", "\ufffd"))
        super().__init__(message)


class ReportTooLarge(IngestError):
    """A report over ``MAX_REPORT_BYTES`` (the API answers it with 413)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def check_size(size: int, name: str, *, limit: int) -> None:
    """Refuse an empty report and one over ``limit`` bytes (the caller's setting,
    ``AUDITDASH_MAX_REPORT_BYTES``, which the message names)."""
    if size == 0:
        raise IngestError(f"{name}: the file is empty; expected a scanner report")
    if size > limit:
        raise ReportTooLarge(
            f"{name}: {size:,} bytes is over the limit of {limit:,} bytes "
            "(AUDITDASH_MAX_REPORT_BYTES)"
        )


class ReportWindow(io.RawIOBase):
    """A read-only, seekable view of a file from ``start`` on, counting how far it was read."""

    def __init__(self, handle, start: int) -> None:
        self.handle = handle
        self.start = start
        self.furthest = 0
        handle.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.furthest = max(self.furthest, self.handle.tell() - self.start)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            return self.handle.seek(self.start + offset) - self.start
        return self.handle.seek(offset, whence) - self.start

    def tell(self) -> int:
        return self.handle.tell() - self.start


def utf8_source(path: Path, name: str, workdir: Path) -> tuple[Path, int]:
    """The file to parse and where its content starts: a UTF-8 BOM skipped, UTF-16/32 re-encoded."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(b"\xef\xbb\xbf"):
        return path, 3
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "utf-32"
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif len(head) >= 2 and head[0] in b"{[" and head[1] == 0:
        encoding = "utf-16-le"
    elif len(head) >= 2 and head[0] == 0 and head[1] in b"{[":
        encoding = "utf-16-be"
    else:
        return path, 0
    target = workdir / "utf8"
    try:
        with path.open(encoding=encoding) as src, target.open("w", encoding="utf-8") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
    except UnicodeError as error:
        raise IngestError(
            f"{name}: the file looks {encoding.upper()}-encoded but is not valid {encoding}; "
            "expected a UTF-8 report"
        ) from error
    return target, 0


KEPT_SUFFIX = ".gz"
"""The name ending of a kept (gzip-compressed) report."""


def read_kept(path: Path) -> bytes:
    """The bytes of a kept report: inflated when it was kept compressed (its name ends with
    :data:`KEPT_SUFFIX`), as they are otherwise (reports kept before compression)."""
    if path.name.endswith(KEPT_SUFFIX):
        with gzip.open(path, "rb") as handle:
            return handle.read()
    return path.read_bytes()


def describe_head(head: bytes) -> str:
    text = head.lstrip()[:40].decode("utf-8", "replace")
    return repr(text) if text else "only whitespace"
