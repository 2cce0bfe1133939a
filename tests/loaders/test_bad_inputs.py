"""Security round 2, input side (issue 18): hostile files that used to load, hang, crash or drop rows.

Each test plants one attack from the review and checks the loader's answer: the row is rejected with
file, line, field and reason, or the file is refused with one line naming it; nothing hangs.
"""

from __future__ import annotations

import io
import math
from datetime import date

import pytest

from loaders import council, defra, fixmystreet, plausible, police
from loaders.report import LoadError
from tests.loaders.test_loader_fuzz import (
    COUNCIL_HEADER,
    COUNCIL_ROW,
    DEFRA_HEADER,
    DEFRA_ROW,
    FMS_ROW,
    LOADERS,
    MAP_A,
    _csv,
)

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

TODAY = date(2026, 1, 15)
POLICE_HEADER, POLICE_ROW, _ = LOADERS["police"]
DEFRA_FULL_ROW = DEFRA_ROW[:4] + ["1"] * (len(DEFRA_HEADER.split(",")) - 4)


def _police_rows(months: list[str]) -> bytes:
    rows = []
    for i, m in enumerate(months):
        r = list(POLICE_ROW)
        r[0], r[1] = f"id{i}", m
        rows.append(r)
    return _csv(POLICE_HEADER, rows).encode()


# ------------------------------------------------------------------ plausible months (HIGH)
def test_the_plausible_range_is_one_rule_with_a_floor_per_source():
    assert plausible.FIRST_MONTH == {
        "police.uk": "2010-12",
        "police.uk-stops": "2010-12",
        "fixmystreet": "2007-02",
        "council": "2000-01",
        "defra": "2012-04",
    }
    assert plausible.bounds("police.uk", TODAY) == ("2010-12", "2025-12")  # published from the 15th after
    assert plausible.bounds("council-flytipping", TODAY) == ("2000-01", "2026-01")  # the council's own log
    assert plausible.month_problem("police.uk", "2010-12", TODAY) is None
    assert plausible.month_problem("police.uk", "2025-12", TODAY) is None
    assert "before police.uk began (2010-12)" in plausible.month_problem("police.uk", "2010-11", TODAY)
    assert "after the current month (2026-01)" in plausible.month_problem("police.uk", "2026-02", TODAY)
    assert plausible.month_problem("fixmystreet", "0000-01", TODAY)


def test_a_month_is_plausible_only_once_its_source_can_have_published_it():
    """Issue 24, high 2: a police.uk or FixMyStreet row dated the current month (which cannot have been
    published) was accepted, and the Meeting page then read "Data to <this month>"."""
    for source in ("police.uk", "police.uk-stops", "fixmystreet"):
        reason = plausible.month_problem(source, "2026-01", TODAY)
        assert reason and "cannot be published yet" in reason, source
    # police.uk: the month before, until the 15th of this month
    assert plausible.bounds("police.uk", date(2026, 1, 14))[1] == "2025-11"
    assert "latest: 2025-11" in plausible.month_problem("police.uk", "2025-12", date(2026, 1, 14))
    assert plausible.bounds("police.uk", date(2026, 1, 15))[1] == "2025-12"
    assert plausible.bounds("fixmystreet", date(2026, 1, 1))[1] == "2025-12"
    assert plausible.bounds("council-incidents", date(2026, 1, 1))[1] == "2026-01"


@pytest.mark.parametrize("month", ["0000-01", "0001-01", "1900-01", "2010-11", "9999-12"])
def test_police_rejects_months_outside_the_plausible_range(month):
    table, report = police.parse("2021-05-x-street.csv", _police_rows(["2021-05", month]))
    assert report.rows_loaded == 1 and table["month"][0].as_py() == date(2021, 5, 1)
    (rej,) = report.rejected
    assert (rej.file, rej.line, rej.field) == ("2021-05-x-street.csv", 3, "Month")
    assert month in rej.reason and ("before police.uk began" in rej.reason or "after the current month" in rej.reason)


def test_police_rejects_the_current_month_and_later(monkeypatch):
    monkeypatch.setattr(plausible, "today", lambda: TODAY)
    _, report = police.parse("x.csv", _police_rows(["2025-12", "2026-01", "2026-02"]))
    assert report.rows_loaded == 1 and [r.line for r in report.rejected] == [3, 4]
    assert "cannot be published yet" in report.rejected[0].reason


@pytest.mark.parametrize("month", ["0000-01", "1900-01", "2010-11", "9999-12", "2026-01", "2026-13", "26-01"])
def test_outcomes_reject_months_outside_the_plausible_range(month, monkeypatch):
    """Issue 24, high 2: the outcomes loader accepted 9999-12 and 1900-01, and 0000-01 gave a traceback."""
    from loaders import outcomes

    monkeypatch.setattr(plausible, "today", lambda: TODAY)
    good = ["id1", "2025-11", "Hertfordshire Constabulary", "Hertfordshire Constabulary", "-0.33", "51.75",
            "On or near X", "E01023700", "St Albans 001A", "Investigation complete; no suspect identified"]  # fmt: skip
    data = _csv(",".join(outcomes.HEADER), [good, ["id2", month, *good[2:]]]).encode()
    table, report = outcomes.parse("2025-11-x-outcomes.csv", data)
    assert report.rows_loaded == table.num_rows == 1 and table["record_id"].to_pylist() == ["id1"]
    (rej,) = report.rejected
    assert (rej.file, rej.line, rej.field) == ("2025-11-x-outcomes.csv", 3, "Month") and month in rej.reason


def test_fixmystreet_far_months_are_rejected_and_the_span_stays_small():
    # the review's 3-line file from 0001-01 to 9999-12 built ~120,000 covered months and ran past 300 s
    data = _csv(
        ",".join(fixmystreet.HEADER),
        [["0001-01"] + FMS_ROW[1:], ["2006-12"] + FMS_ROW[1:], FMS_ROW, ["9999-12"] + FMS_ROW[1:]],
    ).encode()
    table, report, months = fixmystreet.parse("fms.csv", data)
    assert months == ["2019-05"] and report.rows_loaded == 1
    assert [(r.line, r.field) for r in report.rejected] == [(2, "month"), (3, "month"), (5, "month")]
    assert "before fixmystreet began (2007-02)" in report.rejected[1].reason


@pytest.mark.parametrize("count", [str(10**30), "1000001"])
def test_fixmystreet_huge_count_is_rejected_not_a_crash(count):
    data = _csv(",".join(fixmystreet.HEADER), [FMS_ROW, FMS_ROW[:4] + [count, "1"]]).encode()
    table, report, _ = fixmystreet.parse("fms.csv", data)
    assert report.rows_loaded == 1 and [(r.line, r.field) for r in report.rejected] == [(3, "reports")]


@pytest.mark.parametrize("day", ["01/01/0001", "01/01/1900", "31/12/1999"])
def test_council_dates_before_the_floor_are_rejected(day):
    row = list(COUNCIL_ROW)
    row[1] = day
    data = _csv(",".join(COUNCIL_HEADER), [COUNCIL_ROW, ["R2"] + row[1:]]).encode()
    table, report, _ = council.parse("c.csv", data, MAP_A, today=TODAY)
    assert report.rows_loaded == 1
    (rej,) = report.rejected
    assert (rej.line, rej.field) == (3, "Date Reported") and "before council records began (2000-01)" in rej.reason


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "-3", "1e400"])
def test_defra_rejects_values_that_are_not_counts(value):
    bad = list(DEFRA_FULL_ROW)
    bad[1], bad[6] = "E07000241", value
    table, report = defra.parse("d.csv", _csv(DEFRA_HEADER, [DEFRA_FULL_ROW, bad]).encode())
    assert report.rows_loaded == 1
    (rej,) = report.rejected
    assert rej.line == 3 and rej.field == DEFRA_HEADER.split(",")[6]
    values = table["value"].to_pylist()
    assert all(v is None or (math.isfinite(v) and v >= 0) for v in values)


@pytest.mark.parametrize("year", ["2011-12", "1999-00", "9998-99", "2025-26"])
def test_defra_rejects_years_outside_the_plausible_range(year, monkeypatch):
    # 2025-26 on 2026-01-15: a year that has not ended (issue 24) has no figures yet
    monkeypatch.setattr(plausible, "today", lambda: TODAY)
    bad = list(DEFRA_FULL_ROW)
    bad[0], bad[1] = year, "E07000241"
    _, report = defra.parse("d.csv", _csv(DEFRA_HEADER, [DEFRA_FULL_ROW, bad]).encode())
    assert report.rows_loaded == 1 and [(r.line, r.field) for r in report.rejected] == [(3, "Year")]


def test_data_page_never_builds_months_outside_the_plausible_range(tmp_path, monkeypatch, bundled_store):
    # a store written before the rule, holding a partition dated 9999-12 (the review: 95,914 columns)
    import shutil

    import duckdb
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO, open_page, write_config

    cfg = write_config(tmp_path)
    shutil.copy(bundled_store.path, tmp_path / "s.duckdb")
    with duckdb.connect(str(tmp_path / "s.duckdb")) as con:
        con.execute("INSERT INTO partitions VALUES ('police.uk', 'hertfordshire', DATE '9999-12-01', 1, 1, now())")
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(cfg))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=120)
    open_page(at, "data").run()
    assert not at.exception, at.exception
    police = at.dataframe[0].value["Month"]  # police.uk by month, latest first: plausible months only
    assert police.iloc[0] == "2025-06" and len(police) == 81
    columns = list(at.dataframe[1].value.columns)
    loaded = bundled_store.loaded_months()
    assert (columns[0], columns[-1]) == (loaded[0], loaded[-1]) and columns[-1] < "9999-12"
    assert any("9999-12" in w.value and "plausible" in w.value for w in at.warning)


def test_refresh_ignores_months_the_api_lists_outside_the_plausible_range(bundled_store):
    from geodata.pipeline.refresh import months_to_fetch

    class Api:  # an API (or a man in the middle) listing months from year 1 to 9999
        def street_dates(self):
            return ["0001-01", "2022-01", "2022-02", "2022-04", "9999-12"]

        def last_updated(self):
            return "2022-05-01"

    wanted, gaps, _ = months_to_fetch(bundled_store, Api(), "hertfordshire")
    assert wanted == ["2022-02", "2022-04"] and gaps == ["2022-03"]


# ------------------------------------------------------------------ rejections: a cap per file, stored in bulk (MEDIUM)
def _bad_rows(kind: str, n: int) -> bytes:
    """A file of ``kind`` with one good row and ``n`` rows each rejected for a bad field."""
    if kind == "police":
        return _csv(POLICE_HEADER, [POLICE_ROW] + [POLICE_ROW[:9] + ["Nonsense"] + POLICE_ROW[10:]] * n).encode()
    if kind == "fixmystreet":
        return _csv(",".join(fixmystreet.HEADER), [FMS_ROW] + [FMS_ROW[:4] + ["x", "1"]] * n).encode()
    if kind == "defra":
        return _csv(DEFRA_HEADER, [DEFRA_FULL_ROW] + [DEFRA_FULL_ROW[:6] + ["x"] + DEFRA_FULL_ROW[7:]] * n).encode()
    return _csv(
        ",".join(COUNCIL_HEADER), [COUNCIL_ROW] + [[f"B{i}", "not a date"] + COUNCIL_ROW[2:] for i in range(n)]
    ).encode()


def _parse(kind: str, data: bytes):
    return LOADERS[kind][2](f"f.{kind}.csv", data)


@pytest.mark.parametrize("kind", list(LOADERS))
def test_a_file_stops_after_the_stated_number_of_rejections(kind):
    from loaders.report import MAX_REJECTED

    assert MAX_REJECTED == 1_000
    report = _parse(kind, _bad_rows(kind, MAX_REJECTED))[-1]
    assert len(report.rejected) == MAX_REJECTED and report.rows_loaded == 1
    with pytest.raises(LoadError) as err:
        _parse(kind, _bad_rows(kind, MAX_REJECTED + 1))
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"f.{kind}.csv")
    assert "more than 1,000 rows rejected" in message and "line 3" in message


def test_rejections_are_stored_whole_and_in_order(empty_store, tmp_path):
    from geodata.pipeline.ingest import ingest_police

    paths = []
    for k in range(3):
        rows = [POLICE_ROW[:9] + ["Nonsense"] + POLICE_ROW[10:]] * 900 + [[f"ok{k}"] + POLICE_ROW[1:]]
        paths.append(tmp_path / f"2021-0{k + 1}-x-street.csv")
        paths[-1].write_text(_csv(POLICE_HEADER, rows))
    report = ingest_police(empty_store, paths)
    assert report.rows_loaded == 3 and len(report.rejected) == 2_700
    stored = empty_store.rejections()
    assert len(stored) == 2_700 and (stored.groupby("file")["line"].agg(["min", "max"]).values == [2, 901]).all()
    assert set(stored["field"]) == {"Crime type"} and int(empty_store.loads()["rows_rejected"].iloc[0]) == 2_700


# ------------------------------------------------------------------ a partition that shrinks sharply (MEDIUM)
def _police_month(tmp_path, n: int, name: str = "2021-05-x-street.csv", month: str = "2021-05"):
    path = tmp_path / name
    path.write_text(_csv(POLICE_HEADER, [[f"id{i}", month] + POLICE_ROW[2:] for i in range(n)]))
    return path


def test_a_truncated_police_month_does_not_replace_the_full_one(empty_store, tmp_path):
    from geodata.pipeline.ingest import ingest_police
    from geodata.store import SHRINK_LIMIT, StoreError

    assert SHRINK_LIMIT == 0.5
    ingest_police(empty_store, [_police_month(tmp_path, 1012)])
    ingest_police(empty_store, [_police_month(tmp_path, 506)])  # half: allowed
    with pytest.raises(StoreError) as err:
        ingest_police(empty_store, [_police_month(tmp_path, 252)])
    message = str(err.value)
    assert "\n" not in message and "police.uk hertfordshire 2021-05" in message
    assert "252" in message and "506" in message and "--replace-smaller" in message
    assert empty_store.partitions()["rows"].tolist() == [506] and len(empty_store.loads()) == 2
    ingest_police(empty_store, [_police_month(tmp_path, 252)], replace_smaller=True)
    assert empty_store.partitions()["rows"].tolist() == [252]


def test_a_shrinking_fixmystreet_month_and_defra_year_are_refused(empty_store):
    from geodata.store import StoreError

    fms = fixmystreet.parse(
        "f.csv",
        _csv(
            ",".join(fixmystreet.HEADER), [FMS_ROW[:1] + [f"E0102{3700 + i}"] + FMS_ROW[2:] for i in range(10)]
        ).encode(),
    )
    empty_store.ingest_area_counts(fms[0], fms[1], fms[2], ["f.csv"])
    short = fixmystreet.parse("f.csv", _csv(",".join(fixmystreet.HEADER), [FMS_ROW]).encode())
    with pytest.raises(StoreError, match="fixmystreet fms-lsoa-month 2019-05: the new load has 1 row"):
        empty_store.ingest_area_counts(short[0], short[1], short[2], ["f.csv"])
    empty_store.ingest_area_counts(short[0], short[1], short[2], ["f.csv"], replace_smaller=True)

    rows = [DEFRA_FULL_ROW[:1] + [f"E0700024{i}"] + DEFRA_FULL_ROW[2:] for i in range(4)]
    empty_store.ingest_district_stats(*defra.parse("d.csv", _csv(DEFRA_HEADER, rows).encode()), ["d.csv"])
    with pytest.raises(StoreError, match="defra actions 2021-22: the new load has"):
        empty_store.ingest_district_stats(*defra.parse("d.csv", _csv(DEFRA_HEADER, rows[:1]).encode()), ["d.csv"])
    assert len(empty_store.district_stats(dataset="actions")["area_code"].unique()) == 4


def test_cli_refuses_a_shrinking_month_in_one_line_unless_told(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO, write_config

    cfg = write_config(tmp_path)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "dashboard.cli", "ingest", "police", *map(str, args), "--config", str(cfg)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=300,
        )

    full = tmp_path / "full"
    full.mkdir()
    assert run(_police_month(full, 40, "2023-01-hertfordshire-street.csv", "2023-01")).returncode == 0
    part = tmp_path / "part"
    part.mkdir()
    short = _police_month(part, 3, "2023-01-hertfordshire-street.csv", "2023-01")
    out = run(short)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    line = out.stderr.strip().splitlines()[-1]  # after the progress bar
    assert line.startswith("csp-hotspots: error:") and "--replace-smaller" in line
    assert run(short, "--replace-smaller").returncode == 0


# ------------------------------------------------------------------ workbooks and zips
def _xlsx(rows: int, pad: int = 0) -> bytes:
    """A council A export as XLSX with ``rows`` records (numbers as number cells); ``pad`` bytes of
    blanks inside the sheet's XML (a decompression bomb)."""
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(COUNCIL_HEADER)
    for i in range(rows):
        ws.append(
            [
                f"R{i}",
                "03/02/2021",
                515000 + i,
                207000,
                "High St",
                "Builders rubble",
                "Small van",
                "Road",
                "Cleared",
                "SYNTHETIC",
            ]
        )
    buf = io.BytesIO()
    book.save(buf)
    if not pad:
        return buf.getvalue()
    return _rewrite(
        buf.getvalue(),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + b" " * pad, 1),
    )


def _rewrite(data: bytes, member: str, change, compression: int = 8) -> bytes:
    """A copy of zip ``data`` with ``member``'s bytes passed through ``change`` (8: deflated, 0: stored)."""
    import zipfile

    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info.filename, change(body) if info.filename == member else body)
    return out.getvalue()


def test_xlsx_whose_dimension_understates_its_size_loads_every_row():
    import re
    import zipfile

    data = _rewrite(
        _xlsx(1000),
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'<dimension ref="A1:J1001"\s*/>', b'<dimension ref="A1:J2"/>', xml),
    )
    assert b'<dimension ref="A1:J2"/>' in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    table, report, _ = council.parse("lying.xlsx", data, MAP_A, today=TODAY)
    assert report.rows_read == 1000 and report.rows_loaded == 1000 and table.num_rows == 1000


def test_xlsx_decompression_bomb_is_refused_before_openpyxl_opens_it():
    data = _xlsx(2, pad=30_000_000)
    assert len(data) < 200_000
    with pytest.raises(LoadError, match=r"bomb\.xlsx: .*unpacks .* times larger than packed") as err:
        council.parse("bomb.xlsx", data, MAP_A, today=TODAY)
    assert "\n" not in str(err.value)


def _flip_stored(data: bytes, old: bytes, new: bytes) -> bytes:
    """Change bytes inside a stored (uncompressed) zip member without fixing its CRC."""
    assert len(old) == len(new) and data.count(old) >= 1
    return data.replace(old, new, 1)


def test_xlsx_with_a_bad_checksum_is_one_line():
    import zipfile

    stored = _rewrite(_xlsx(3), "", lambda b: b, compression=zipfile.ZIP_STORED)
    data = _flip_stored(stored, b"<v>515001</v>", b"<v>515009</v>")
    with pytest.raises(LoadError, match=r"^bad\.xlsx: .*(CRC|checksum)") as err:
        council.parse("bad.xlsx", data, MAP_A, today=TODAY)
    assert "\n" not in str(err.value)


def test_police_zip_with_a_bad_checksum_is_one_line(tmp_path):
    import zipfile

    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("2021-05-x-street.csv", _police_rows(["2021-05"]))
    path.write_bytes(_flip_stored(path.read_bytes(), b"High Street", b"High Streex"))
    with pytest.raises(LoadError, match=r"bad\.zip.*(CRC|checksum)") as err:
        police.read(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kind", list(LOADERS))
def test_a_very_wide_header_is_refused_first_in_one_line(kind):
    # the review's 100,000-column CSV took 84 s to refuse (council: a quadratic duplicate check)
    header = LOADERS[kind][0] + "".join(f",extra{i}" for i in range(100_000))
    with pytest.raises(LoadError, match=r"line 1: the header has 100,\d{3} columns, over the 1,000") as err:
        _parse(kind, (header + "\n" + header + "\n").encode())
    assert "\n" not in str(err.value)


# ------------------------------------------------------------------ a duplicated DEFRA line (MEDIUM)
def test_defra_duplicate_line_is_rejected_at_load():
    other = DEFRA_FULL_ROW[:1] + ["E07000241"] + DEFRA_FULL_ROW[2:]
    total = ["2021-22", "*Total", "", "East"] + DEFRA_FULL_ROW[4:]
    table, report = defra.parse(
        "d.csv", _csv(DEFRA_HEADER, [DEFRA_FULL_ROW, other, DEFRA_FULL_ROW, total, total]).encode()
    )
    assert report.rows_loaded == 3
    assert [(r.line, r.field) for r in report.rejected] == [(4, "ONS Code"), (6, "ONS Code")]
    assert "2021-22 E07000240 repeats line 2" in report.rejected[0].reason
    assert "repeats line 5" in report.rejected[1].reason


def test_flytipping_context_survives_duplicates_a_store_holds(tmp_path, bundled_store):
    # a store written before the duplicate check: the same DEFRA record twice, once with another value
    import shutil

    import duckdb

    from geodata.analysis import flytipping_context as context
    from geodata.pipeline.build import open_store
    from tests.conftest import config_with_store

    shutil.copy(bundled_store.path, tmp_path / "store.duckdb")
    with duckdb.connect(str(tmp_path / "store.duckdb")) as con:
        con.execute("""INSERT INTO district_stats SELECT * FROM district_stats
                       WHERE area_code = 'E07000240'
                         AND measure IN ('Total Incidents', 'Incidents per 1,000 people')""")
        con.execute("""INSERT INTO district_stats SELECT source, dataset, year, area_code, area_name, region, measure,
                              value + 1, note, load_id FROM district_stats
                       WHERE area_code = 'E07000240' AND measure = 'Total Incidents' AND year = '2021-22' LIMIT 1""")
    store = open_store(config_with_store(tmp_path))
    before = context.series(bundled_store, "E07000240")
    after = context.series(store, "E07000240").set_index("year")
    assert after.loc["2020-21", context.TOTAL] == before.set_index("year").loc["2020-21", context.TOTAL]
    assert math.isnan(after.loc["2021-22", context.TOTAL])  # two different values: not available, never a guess
    table = context.neighbours(store)
    assert table["area_code"].is_unique and "E07000240" in set(table["area_code"])


# ------------------------------------------------------------------ staging copies, odd paths, odd files (LOW)
def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_ingests_staging_copy_is_removed_on_the_next_open(tmp_path):
    import os

    from geodata.pipeline.build import open_store
    from tests.conftest import config_with_store

    cfg = config_with_store(tmp_path, bundled=False)
    open_store(cfg)
    stale = tmp_path / f".store.duckdb.ingest-{_dead_pid()}-x1"
    live = tmp_path / f".store.duckdb.ingest-{os.getpid()}-x2"  # an ingest still running (this process)
    for folder in (stale, live):
        folder.mkdir()
        (folder / "batch-2.parquet").write_bytes(b"rows of the store")
    open_store(cfg)
    assert not stale.exists() and live.exists()


def test_staging_copies_are_private_and_a_store_path_may_hold_an_apostrophe(tmp_path, monkeypatch):
    import stat

    from geodata.pipeline.build import open_store
    from geodata.pipeline.ingest import ingest_police
    from geodata.store.connection import Staging
    from tests.conftest import config_with_store

    folder = tmp_path / "o'brien's data"
    folder.mkdir()
    store = open_store(config_with_store(folder, bundled=False))
    seen = []
    monkeypatch.setattr(Staging, "close", lambda self: seen.append(self.tmp))
    # two files of one month: the second replaces the first through a staged (Parquet) batch
    first = _police_month(tmp_path, 5, "2021-05-a-street.csv")
    (tmp_path / "b").mkdir()
    second = _police_month(tmp_path / "b", 6, "2021-05-a-street.csv")
    report = ingest_police(store, [first, second])
    assert report.rows_loaded == 11 and store.partitions()["rows"].tolist() == [6]
    (staged,) = [p for p in seen if p is not None]
    assert stat.S_IMODE(staged.stat().st_mode) == 0o700
    files = list(staged.iterdir())
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def test_control_characters_in_street_names_make_valid_gpx():
    import xml.etree.ElementTree as ET

    import geopandas
    import shapely

    from geodata.export import patrol_gpx

    zones = geopandas.GeoDataFrame(
        {
            "zone": [1],
            "incidents": [3],
            "area_km2": [0.04],
            "streets": [[("High\x00 St\x0b\x1b[31m", 2, 515100.0, 207100.0), ('A & <B> "q"', 1, 515050.0, 207050.0)]],
            "places": [[("Supermarket\ufffe", 1, 515150.0, 207150.0, "Mill \ud800Lane", 20.0, "flag\x07")]],
        },
        geometry=[shapely.box(515000, 207000, 515200, 207200)],
        crs=27700,
    )
    gpx = patrol_gpx(zones, name="Zones \x07", desc="no day or time\x1f")
    root = ET.fromstring(gpx)  # "not well-formed (invalid token)" with a control character in a name
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    names = [w.find("g:name", ns).text for w in root.findall("g:wpt", ns)]
    assert names == ["Z1 High St[31m", 'Z1 A & <B> "q"', "Z1 Supermarket near Mill Lane"]
    assert len(root.findall("g:trk/g:trkseg/g:trkpt", ns)) == 5


def test_a_fifo_in_an_ingest_folder_is_skipped_with_a_reason(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO, write_config

    folder = tmp_path / "months"
    folder.mkdir()
    _police_month(folder, 3, "2023-01-hertfordshire-street.csv", "2023-01")
    os.mkfifo(folder / "2023-02-hertfordshire-street.csv")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard.cli",
            "ingest",
            "police",
            str(folder),
            "--config",
            str(write_config(tmp_path)),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=240,
    )  # hung for ever before
    assert out.returncode == 0, out.stderr
    assert "3 loaded" in out.stdout
    assert "skipped" in out.stdout and "2023-02-hertfordshire-street.csv: not a regular file" in out.stdout
    with pytest.raises(LoadError, match="not a regular file"):
        from loaders.report import read_file

        read_file(folder / "2023-02-hertfordshire-street.csv")


def test_deeply_nested_mapping_toml_is_one_line(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("kind = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(council.MappingError, match=r"deep\.toml: ") as err:
        council.read_mapping(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kept", [0.5, 0.8, 0.95])
def test_a_truncated_store_is_one_clear_line(tmp_path, bundled_store, kept):
    # the review: opening passed, then every query (summary, hotspots, ingest) was a DuckDB traceback
    import subprocess
    import sys

    from geodata.pipeline.build import open_store
    from geodata.store import StoreError
    from tests.conftest import REPO, config_with_store, write_config

    data = bundled_store.path.read_bytes()
    (tmp_path / "store.duckdb").write_bytes(data[: int(len(data) * kept)])
    with pytest.raises(StoreError, match="cut short") as err:
        open_store(config_with_store(tmp_path))
    assert "\n" not in str(err.value) and str(tmp_path / "store.duckdb") in str(err.value)
    (tmp_path / "s.duckdb").write_bytes(data[: int(len(data) * kept)])
    out = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "hotspots", "--config", str(write_config(tmp_path))],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=240,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr and "cut short" in out.stderr


def test_a_store_whose_free_blocks_were_truncated_opens(tmp_path, bundled_store):
    # CI: after an ingest replaced the county months, the check called the sound store "cut short"
    # (DuckDB counts the free blocks a checkpoint cut from the end of the file in total_blocks)
    import duckdb

    from geodata.pipeline.build import open_store
    from tests.conftest import config_with_store

    path = tmp_path / "store.duckdb"
    path.write_bytes(bundled_store.path.read_bytes())
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE scratch AS SELECT range AS x, md5(range::VARCHAR) AS y FROM range(2000000)")
    con.execute("CHECKPOINT")
    con.execute("DROP TABLE scratch")
    con.execute("CHECKPOINT")
    con.close()
    con = duckdb.connect(str(path), read_only=True)
    total, block = con.execute("SELECT total_blocks, block_size FROM pragma_database_size()").fetchone()
    con.close()
    assert path.stat().st_size < total * block  # the case: total_blocks runs past the end of the file
    store = open_store(config_with_store(tmp_path))
    assert store.counts(by=("source",))["incidents"].sum() == bundled_store.counts(by=("source",))["incidents"].sum()


def test_month_0000_01_is_one_line_naming_the_value(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO, write_config

    cfg = write_config(tmp_path)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "dashboard.cli", *map(str, args), "--config", str(cfg)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=240,
        )

    for args in (
        ["summary", "--from", "0000-01"],
        ["report", "--from", "0000-01", "--to", "0000-02", "--out", tmp_path / "p.pdf"],
    ):
        out = run(*args)
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert out.stderr.startswith("csp-hotspots: error:") and "'0000-01'" in out.stderr, out.stderr
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "2023-01-x-street.csv").write_bytes(_police_rows(["2023-01", "0000-01"]))
    out = run("ingest", "police", folder)
    assert out.returncode == 0 and "1 loaded, 1 rejected" in out.stdout
    assert "line 3, field 'Month': month 0000-01 is before police.uk began (2010-12)" in out.stdout


def test_stop_and_search_dates_outside_the_plausible_range_are_rejected():
    from loaders.policeapi import stops_table

    stop = {
        "location": {"longitude": "-0.336", "latitude": "51.752", "street": {"name": "On or near High St"}},
        "type": "Person search",
        "outcome": "A no further action disposal",
    }
    stamps = ["2021-05-03T10:00:00+00:00", "0000-01-01T00:00:00", "2021-13-45T00:00:00", "9999-12-01T00:00:00"]
    table, report = stops_table([dict(stop, datetime=s) for s in stamps], "hertfordshire", "Hertfordshire", "api")
    assert report.rows_loaded == 1 and table["month"][0].as_py() == date(2021, 5, 1)
    assert [(r.line, r.field) for r in report.rejected] == [(2, "datetime"), (3, "datetime"), (4, "datetime")]


# ------------------------------------------------------------------ a file with no location at all (issue 24)
def test_a_police_file_in_which_no_row_has_a_location_loads_every_row(tmp_path, empty_store):
    """Issue 24, medium 7: a file where no row had a location crashed the ingest (IndexError in assign)."""
    from geodata.pipeline.ingest import ingest_police

    hdr = POLICE_HEADER.split(",")
    rows = []
    for i in range(3):
        r = list(POLICE_ROW)
        r[0], r[hdr.index("Longitude")], r[hdr.index("Latitude")] = f"id{i}", "", ""
        rows.append(r)
    path = tmp_path / "2021-05-x-street.csv"
    path.write_text(_csv(POLICE_HEADER, rows))
    report = ingest_police(empty_store, [path])
    assert (report.rows_read, report.rows_loaded, report.no_location, report.rejected) == (3, 3, 3, [])
    stored = empty_store.incidents(start="2021-05", end="2021-05", inside=False)  # kept, in no ward
    assert len(stored) == 3 and stored["ward_code"].isna().all()


def test_a_council_export_without_coordinates_loads_with_its_rows_kept(tmp_path, empty_store):
    """Issue 24, medium 7: an export with no coordinate columns (its mapping names none) is loaded, every row
    kept without a location and counted, as the mapping reference says; so is one whose coordinates are
    all blank."""
    from geodata.bundled import ST_ALBANS
    from geodata.pipeline.ingest import ingest_council

    map_a = ST_ALBANS / "council/mapping-council-a.toml"
    mapping = map_a.read_text().replace('easting = "Easting"\nnorthing = "Northing"\n', "")
    assert "Easting" not in mapping
    (tmp_path / "map.toml").write_text(mapping)
    keep = [i for i, h in enumerate(COUNCIL_HEADER) if h not in ("Easting", "Northing")]
    rows = [[f"R{i}"] + [COUNCIL_ROW[j] for j in keep[1:]] for i in range(4)]
    (tmp_path / "export.csv").write_text(_csv(",".join(COUNCIL_HEADER[j] for j in keep), rows))
    report = ingest_council(empty_store, tmp_path / "export.csv", tmp_path / "map.toml", today=TODAY)
    assert (report.rows_read, report.rows_loaded, report.no_location, report.rejected) == (4, 4, 4, [])
    blank = [list(COUNCIL_ROW) for _ in range(2)]
    for i, r in enumerate(blank):
        r[0], r[2], r[3] = f"B{i}", "", ""
    (tmp_path / "blank.csv").write_text(_csv(",".join(COUNCIL_HEADER), blank))
    report = ingest_council(empty_store, tmp_path / "blank.csv", map_a, today=TODAY, replace_smaller=True)
    assert (report.rows_loaded, report.no_location) == (2, 2)
