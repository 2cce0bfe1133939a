"""The council loader streams its export (issue 24, low: it peaked at about 13x the file size).

Constructed council A exports (the columns of ``geodata.pipeline.synthetic.HEADER_A``) whose answer is
known: Python memory traced while loading stays at one chunk of rows whatever the file's size, and
every rejected or loaded row keeps the line it starts on across chunk boundaries, also when quoted
fields hold line breaks.
"""

from __future__ import annotations

import csv
import tracemalloc
from datetime import date

import pytest

from geodata.bundled import ST_ALBANS as BUNDLE
from geodata.pipeline.synthetic import HEADER_A
from loaders import council

MAPPING = council.read_mapping(BUNDLE / "council" / "mapping-council-a.toml")
TODAY = date(2026, 1, 1)


def _row(i: int, notes: str = "", ref: str | None = None, day: str | None = None) -> list:
    return [
        ref or f"R{i}",
        day or f"{i % 28 + 1:02d}/{i % 12 + 1:02d}/2021",
        "10:15",
        515000 + i % 5000,
        207000 + i % 4000,
        "High Street",
        "Builders rubble",
        "Small van",
        "Road",
        "Cleared",
        "A Person",
        "07700 900000",
        notes,
        "SYNTHETIC",
    ]


def _write(path, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER_A)
        w.writerows(rows)


def _traced_peak(path) -> tuple[int, int]:
    """(peak bytes of Python memory traced while loading ``path``, rows loaded)."""
    tracemalloc.start()
    try:
        _, report, _ = council.read(path, MAPPING, TODAY)
        return tracemalloc.get_traced_memory()[1], report.rows_loaded
    finally:
        tracemalloc.stop()


def test_memory_stays_at_one_chunk_whatever_the_file_size(tmp_path, monkeypatch):
    monkeypatch.setattr(council, "CHUNK_ROWS", 500, raising=False)
    notes = "Narrative text a real export carries, never read by the loader. " * 16  # about 1 KB a row
    peaks, sizes = [], []
    for n in (2_000, 8_000):
        path = tmp_path / f"export-{n}.csv"
        _write(path, (_row(i, notes) for i in range(n)))
        peak, loaded = _traced_peak(path)
        assert loaded == n
        peaks.append(peak)
        sizes.append(path.stat().st_size)
    # four times the rows (9.3 MB): the traced peak stays that of one chunk (about 1 MB), not the file's
    assert peaks[1] < 1.5 * peaks[0], peaks
    assert peaks[1] < sizes[1] / 4, (peaks, sizes)


def test_lines_stay_right_across_chunk_boundaries_and_quoted_line_breaks(tmp_path, monkeypatch):
    monkeypatch.setattr(council, "CHUNK_ROWS", 2, raising=False)
    rows = [
        _row(0),  # line 2
        _row(1, "two\nlines"),  # lines 3-4
        _row(2, day="31/02/2021"),  # line 5: rejected (no such day)
        _row(3, "three\nlines\nhere"),  # lines 6-8 (a chunk boundary after it)
        _row(4, ref="R1"),  # line 9: repeats line 3, a chunk earlier
        _row(5, "x\ny", day="2021-13-01"),  # lines 10-11: rejected on its first line
        _row(6),  # line 12
        _row(7, ref="R6", notes="a\nb"),  # lines 13-14: repeats line 12 in the same chunk
        _row(8, "last\n"),  # lines 15-16
    ]
    path = tmp_path / "export.csv"
    _write(path, rows)
    table, report, lines = council.read(path, MAPPING, TODAY)
    assert [(r.line, r.field) for r in report.rejected] == [
        (5, "Date Reported"),
        (9, "Ref"),
        (10, "Date Reported"),
        (13, "Ref"),
    ]
    assert "repeats line 3" in report.rejected[1].reason and "repeats line 12" in report.rejected[3].reason
    assert list(lines) == [2, 3, 6, 12, 15]
    assert table["record_id"].to_pylist() == ["R0", "R1", "R3", "R6", "R8"]
    assert report.rows_read == 9 and report.rows_loaded == 5
    # the same file in one chunk gives the same table
    monkeypatch.setattr(council, "CHUNK_ROWS", 1_000)
    whole, whole_report, whole_lines = council.read(path, MAPPING, TODAY)
    assert whole.equals(table.combine_chunks()) and list(whole_lines) == list(lines)
    assert whole_report.rejected == report.rejected


@pytest.mark.parametrize("chunk, collide", [(1, False), (3, False), (3, True)])
def test_a_repeated_reference_many_chunks_later_is_rejected(tmp_path, monkeypatch, chunk, collide):
    monkeypatch.setattr(council, "CHUNK_ROWS", chunk, raising=False)
    if collide:  # every reference hashes alike: only the references themselves tell them apart
        monkeypatch.setattr(council, "hash", lambda text: 7, raising=False)
    path = tmp_path / "export.csv"
    _write(path, [*(_row(i) for i in range(10)), _row(10, ref="R0"), _row(11, ref="R9")])
    _, report, lines = council.read(path, MAPPING, TODAY)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (12, "reference 'R0' repeats line 2"),
        (13, "reference 'R9' repeats line 11"),
    ]
    assert list(lines) == list(range(2, 12))
