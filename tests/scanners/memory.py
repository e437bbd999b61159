"""The shared check that a parser streams: its peak memory does not grow with the report."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType


def assert_memory_flat(
    parser: ModuleType, write_report: Callable[[Path, int], None], tmp_path: Path
) -> None:
    """Parse reports of 500 and 10,000 results (written by ``write_report(path, count)``):
    every result plus one ReportMeta comes out, and the larger peaks under twice the smaller."""

    def peak_for(count: int) -> int:
        path = tmp_path / f"big-{count}.json"
        write_report(path, count)
        tracemalloc.start()
        with path.open("rb") as stream:
            seen = sum(1 for _ in parser.parse(stream, source=path.name))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert seen == count + 1
        return peak

    small, large = peak_for(500), peak_for(10_000)
    assert large < small * 2
