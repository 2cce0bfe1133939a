"""FixMyStreet reports per LSOA and month (mySociety's aggregation) -> area counts.

The file (``geodata/bundled/st_albans/fixmystreet/SOURCE.md``) has one row per (month,
LSOA 2011, category) with at least one report: ``month`` (YYYY-MM),
``lsoa11cd``, ``category_code``, ``category``, ``reports``, ``unique_users``.
These are counts for areas, not points: they are kept as counts
(:data:`COLUMNS`), and a (month, LSOA, category) with no row is a zero. Every
month from the file's first to its last is therefore *loaded*, with or without
rows; months outside that span are not loaded (no data, never zero).

Row rules (each rejected row is reported with file, line, field and reason):
``month`` must be YYYY-MM within the plausible range (:mod:`loaders.plausible`: 2007-02,
when FixMyStreet launched, to the current month); ``lsoa11cd`` an LSOA code (``E01`` or
``W01`` and six digits); ``category`` non-empty; ``reports`` a whole number from 1 to
:data:`MAX_REPORTS`.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pyarrow as pa

from loaders import months as months_mod
from loaders import plausible
from loaders.report import LoadError, LoadReport, Rejection, check_width, read_file, reject

SOURCE = "fixmystreet"
DATASET = "fms-lsoa-month"
HEADER = ("month", "lsoa11cd", "category_code", "category", "reports", "unique_users")
_LSOA = re.compile(r"^[EW]01\d{6}$")
#: Most reports one row may count: an LSOA holds about 1,500 residents, so a million reports of one
#: category in one month is not a count (and 10**30 would not fit the store's 64-bit integers).
MAX_REPORTS = 1_000_000

#: The area-count columns (also the store's ``area_counts`` table, with ``load_id``).
COLUMNS = (
    ("source", pa.string()),
    ("dataset", pa.string()),
    ("month", pa.date32()),
    ("lsoa_code", pa.string()),
    ("category", pa.string()),
    ("subcategory", pa.string()),
    ("count", pa.int64()),
)


def parse(name: str, data: bytes) -> tuple[pa.Table, LoadReport, list[str]]:
    """Parse one file: (area counts table, load report, every month the file covers 'YYYY-MM')."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(name, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _parse_rows(name, reader)
    except csv.Error as exc:
        raise LoadError(name, f"unreadable CSV ({exc})", line=reader.line_num) from None


def _parse_rows(name: str, reader) -> tuple[pa.Table, LoadReport, list[str]]:
    from datetime import date

    header = next(reader, None)
    if header is None:
        raise LoadError(name, "file is empty")
    check_width(name, header)
    if tuple(h.strip() for h in header) != HEADER:
        raise LoadError(
            name, f"not a FixMyStreet LSOA-month file: header is {header!r}, expected {', '.join(HEADER)}", line=1
        )
    rows: list[tuple[str, str, str, str, int]] = []
    rejected: list[Rejection] = []
    read = 0
    for row in reader:
        line = reader.line_num
        if not "".join(row).strip():
            continue
        read += 1
        if len(row) != len(HEADER):
            reject(rejected, Rejection(name, line, "(row)", f"row has {len(row)} fields, the header has {len(HEADER)}"))
            continue
        month, lsoa, code, category, reports, _ = (v.strip() for v in row)
        problem = None
        if not months_mod.PATTERN.match(month):
            problem = ("month", f"unparseable month {month!r} (expected YYYY-MM)")
        elif reason := plausible.month_problem(SOURCE, month):
            problem = ("month", reason)
        elif not _LSOA.match(lsoa):
            problem = ("lsoa11cd", f"not an LSOA code: {lsoa!r}")
        elif not category:
            problem = ("category", "empty category")
        elif not (reports.isascii() and reports.isdigit() and len(reports) <= 7 and 1 <= int(reports) <= MAX_REPORTS):
            problem = ("reports", f"not a count of reports from 1 to {MAX_REPORTS:,}: {reports[:40]!r}")
        if problem:
            reject(rejected, Rejection(name, line, *problem))
            continue
        rows.append((month, lsoa, category, code, int(reports)))
    report = LoadReport(SOURCE, files=[name], rows_read=read, rows_loaded=len(rows))
    report.rejected = rejected
    if not rows:
        return pa.table({n: pa.array([], t) for n, t in COLUMNS}), report, []
    months = sorted({r[0] for r in rows})
    first, last = months_mod.index(months[0]), months_mod.index(months[-1])
    covered = [months_mod.at(k) for k in range(first, last + 1)]
    table = pa.table(
        {
            "source": pa.array([SOURCE] * len(rows)),
            "dataset": pa.array([DATASET] * len(rows)),
            "month": pa.array([date(int(r[0][:4]), int(r[0][5:]), 1) for r in rows], pa.date32()),
            "lsoa_code": pa.array([r[1] for r in rows]),
            "category": pa.array([r[2] for r in rows]),
            "subcategory": pa.array([r[3] for r in rows]),
            "count": pa.array([r[4] for r in rows], pa.int64()),
        }
    )
    return table, report, covered


def read(path: str | Path) -> tuple[pa.Table, LoadReport, list[str]]:
    """:func:`parse` a file on disk."""
    return parse(*read_file(path))
