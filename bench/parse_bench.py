"""Directive parser throughput on the 25 KB Lai Châu plan, one core.

    .venv/bin/python bench/parse_bench.py [--seconds 5] [FILE]

Prints documents per second (and KB/s); not a test, a number to compare.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from app.parsing import parse_directive

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "laichau-2020-20-KH-SYT.txt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    text = args.file.read_text(encoding="utf-8")
    for _ in range(20):  # warm up: regex caches, holidays tables
        parse_directive(text)
    count = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < args.seconds:
        parse_directive(text)
        count += 1
        elapsed = time.perf_counter() - started
    per_second = count / elapsed
    size_kb = len(text.encode("utf-8")) / 1024
    print(f"{args.file.name}: {size_kb:.1f} KB, {count} parses in {elapsed:.2f} s")
    print(f"{per_second:.0f} documents/s  ({per_second * size_kb / 1024:.1f} MB/s, {1000 / per_second:.2f} ms/doc)")


if __name__ == "__main__":
    main()
