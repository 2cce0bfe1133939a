"""Storing rejected rows: the store's one Arrow insert against DuckDB's row-by-row ``executemany``.

Issue 18: rejections were stored one ``executemany`` row at a time (0.43 ms each), so a million bad
rows held the store's lock past 300 s. Prints the time to store N rejections both ways (the peer,
row by row, on a tenth of N and scaled, as it is linear) in an in-memory DuckDB.

Usage: ``python benchmarks/bench_rejections.py [N]`` (default 100,000).
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from geodata.store.writes import record_load  # noqa: E402
from loaders.report import LoadReport, Rejection  # noqa: E402


def main(n: int) -> None:
    report = LoadReport("police.uk", rows_read=n)
    report.rejected = [
        Rejection(f"file-{i // 1000}.csv", i % 1000 + 2, "Crime type", f"unknown crime type 'x{i}'") for i in range(n)
    ]
    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE loads (load_id BIGINT, source VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, "
        "inputs VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, no_location BIGINT, "
        "outside_area BIGINT)"
    )
    con.execute("CREATE TABLE rejections (load_id BIGINT, file VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR)")
    t = time.perf_counter()
    record_load(con, 1, "police.uk", datetime.now(), [], report)
    bulk = time.perf_counter() - t
    tenth = report.rejected[: n // 10]
    t = time.perf_counter()
    con.executemany(
        "INSERT INTO rejections VALUES (?, ?, ?, ?, ?)", [(2, r.file, r.line, r.field, r.reason) for r in tenth]
    )
    naive = (time.perf_counter() - t) * n / len(tenth)
    assert con.execute("SELECT count(*) FROM rejections").fetchall()[0][0] == n + len(tenth)
    print(
        f"{n:,} rejections: store (one Arrow insert) {bulk:.2f} s ({1e3 * bulk / n:.4f} ms each); "
        f"peer, executemany row by row: {naive:.1f} s ({1e3 * naive / n:.3f} ms each)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
