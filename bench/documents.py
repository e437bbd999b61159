"""Time remediation-document extraction: per document over a folder, and on large inputs.

    .venv/bin/python bench/documents.py                      # the documents in tests/samples
    .venv/bin/python bench/documents.py PATH/TO/DOCUMENTS    # any folder of .md / .txt files

Prints each document's size and its median extraction time (pure: no database), then the
time for a 40 KB document built from the samples (the target is under 0.1 s) and for
pathological inputs (many headings, one long line, a wide table, binary after a Markdown
start). It is a benchmark, not a test: no figure fails anything.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanners.base import ParseError  # noqa: E402
from scanners.documents import extract  # noqa: E402

SAMPLES = ROOT / "tests" / "samples" / "documents"
REPEAT = 5


def median_seconds(data: bytes, name: str, repeat: int = REPEAT) -> tuple[float, str]:
    """The median time of ``repeat`` extractions, and how the last one ended."""
    times = []
    outcome = ""
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            result = extract(data, source=name)
            outcome = f"{len(result.findings)} findings, {len(result.health)} health"
        except ParseError as error:
            outcome = f"refused: {str(error)[:60]}"
        times.append(time.perf_counter() - start)
    return statistics.median(times), outcome


def folder(path: Path) -> list[float]:
    files = sorted(p for p in path.iterdir() if p.suffix in {".md", ".txt"})
    print(f"documents in {path} ({len(files)}), median of {REPEAT} runs each")
    seconds = []
    for file in files:
        data = file.read_bytes()
        took, outcome = median_seconds(data, file.name)
        seconds.append(took)
        print(f"  {file.name[:48]:<48} {len(data) / 1024:7.1f} KB {took * 1000:8.1f} ms  {outcome}")
    if seconds:
        print(
            f"  all: median {statistics.median(seconds) * 1000:.1f} ms, "
            f"worst {max(seconds) * 1000:.1f} ms, total {sum(seconds):.2f} s"
        )
    return seconds


def forty_kb() -> bytes:
    """About 40 KB of real structure: the sample documents one after another."""
    parts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("own_*.md"))]
    body = "\n\n".join(parts)
    text = "# Big\n\n" + body * (40_000 // max(1, len(body)) + 1)
    return text[:40_000].encode()


PATHOLOGICAL: dict[str, Callable[[], bytes]] = {
    "100k headings": lambda: "".join(f"## Fix {i}\n" for i in range(100_000)).encode(),
    "5 MB single line": lambda: ("# Doc\n" + "word " * 1_000_000).encode(),
    "10,000-column table": lambda: (
        "# Doc\n\n| "
        + " | ".join(f"c{i}" for i in range(10_000))
        + " |\n|"
        + "---|" * 10_000
        + "\n| "
        + " | ".join("x" for _ in range(10_000))
        + " |\n"
    ).encode(),
    "tables in lists in tables": lambda: (
        "# Doc\n\n" + "- | a | b |\n  |---|---|\n  | - x | y |\n" * 5_000
    ).encode(),
    "binary after a Markdown start": lambda: b"# Doc\n\n" + bytes(range(256)) * 4_000,
}


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLES
    folder(target)
    took, outcome = median_seconds(forty_kb(), "forty.md")
    print(f"40 KB document: {took * 1000:.1f} ms (target < 100 ms)  {outcome}")
    print("pathological inputs, one run each")
    for name, make in PATHOLOGICAL.items():
        data = make()
        took, outcome = median_seconds(data, "bad.md", repeat=1)
        print(f"  {name:<32} {len(data) / 1024:9.0f} KB {took:8.2f} s  {outcome}")


if __name__ == "__main__":
    main()
