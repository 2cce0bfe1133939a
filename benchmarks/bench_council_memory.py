"""Peak memory of the council loader on large exports (issue 18: 1.33 GB for a 43 MB file; issue 24:
still 323 MB, until the loader streamed the file in chunks).

For each size in ``--mb`` (default 43 and 170 megabytes), writes a council A-shaped fly-tipping CSV
(the mapped columns plus the personal and narrative columns a real export carries, which the
loader never reads), then, each in a fresh Python process that has imported ``loaders.council``,
prints that process's peak resident set size (``VmHWM`` of ``/proc/self/status``: ``ru_maxrss``
can carry the forking parent's) for: ``loaders.council.read`` (the whole canonical table kept, as
the ingest uses it); the loader's chunks alone (``council.batches``, each table dropped once made:
the loader's own working set); and the peer, reading the file's bytes and decoding them, which a
loader that reads the file whole must do.

With ``--xlsx``, the same rows are also written as a workbook (openpyxl, write-only) and parsed.

Usage: ``python benchmarks/bench_council_memory.py [--mb 43 170] [--xlsx]``.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from geodata.pipeline.synthetic import HEADER_A  # noqa: E402  (council A's export columns)


def write(path: Path, mb: float) -> int:
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER_A)
        while fh.tell() < mb * 1e6:
            for _ in range(1000):
                w.writerow(
                    [
                        f"R{rows}",
                        f"{rows % 28 + 1:02d}/{rows % 12 + 1:02d}/2021",
                        "10:15",
                        515000 + rows % 5000,
                        207000 + rows % 4000,
                        "High Street",
                        "Builders rubble",
                        "Small van",
                        "Road",
                        "Cleared",
                        "A Person",
                        "07700 900000",
                        "Narrative text about the incident, " * 3,
                        "SYNTHETIC",
                    ]
                )
                rows += 1
    return rows


CHILD = """
import sys
sys.path.insert(0, {repo!r})
from datetime import date
from loaders import council
from loaders.report import LoadReport
path, mode = {path!r}, {mode!r}
if mode == "peer":
    data = open(path, 'rb').read()
    text = data.decode('utf-8')
    print(len(text))
elif mode == "chunks":
    mapping = council.read_mapping({mapping!r})
    report = LoadReport(mapping.source)
    with open(path, 'rb') as fh:
        for table, lines in council.batches(path, fh, mapping, report, today=date(2026, 1, 1)):
            pass
    print(report.rows_loaded)
else:
    mapping = council.read_mapping({mapping!r})
    table, report, _ = council.read(path, mapping, today=date(2026, 1, 1))
    print(report.rows_loaded)
print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')))
"""


def to_xlsx(csv_path: Path, path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet()
    with csv_path.open(newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            ws.append(row)
    book.save(path)


def peak(path: Path, mode: str) -> tuple[int, float]:
    mapping = REPO / "geodata" / "bundled" / "st_albans" / "council" / "mapping-council-a.toml"
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(repo=str(REPO), path=str(path), mode=mode, mapping=str(mapping))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), int(out[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, nargs="+", default=[43, 170], help="export sizes (MB)")
    parser.add_argument("--xlsx", action="store_true", help="also measure the same rows as a workbook")
    args = parser.parse_args()
    for mb in args.mb:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "export.csv"
            rows = write(path, mb)
            size = path.stat().st_size / 1e6
            loaded, mine = peak(path, "read")
            _, chunks = peak(path, "chunks")
            _, peer = peak(path, "peer")
            print(
                f"council CSV of {size:.0f} MB, {rows:,} rows ({loaded:,} loaded): peak RSS {mine:,.0f} MB "
                f"(the loader's chunks alone: {chunks:,.0f} MB); peer (read and decode the file only): {peer:,.0f} MB"
            )
            if args.xlsx:
                book = Path(tmp) / "export.xlsx"
                to_xlsx(path, book)
                loaded, mine = peak(book, "read")
                print(
                    f"the same rows as XLSX ({book.stat().st_size / 1e6:.0f} MB): {loaded:,} loaded, "
                    f"peak RSS {mine:,.0f} MB"
                )


if __name__ == "__main__":
    main()
