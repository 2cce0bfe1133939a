"""police.uk loader on the real bundled and county files, and on hostile files."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pytest

from loaders import police
from loaders.report import LoadError
from tests.conftest import BUNDLED_MONTHS, BUNDLED_POLICE, BUNDLED_ROWS

HEADER = ",".join(police.HEADER)
ROW = (
    "abc123,2021-03,Hertfordshire Constabulary,Hertfordshire Constabulary,-0.336,51.752,"
    "On or near High Street,E01023700,St Albans 010B,Burglary,Under investigation,"
)
ASB = (
    ",2021-03,Hertfordshire Constabulary,Hertfordshire Constabulary,-0.336,51.752,"
    "On or near High Street,E01023700,St Albans 010B,Anti-social behaviour,,"
)


def _csv(tmp_path, text: str | bytes, name="2021-03-hertfordshire-street.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_bundled_zip_every_row_loaded_with_counts():
    gdf, report = police.read(BUNDLED_POLICE)
    assert report.rows_read == BUNDLED_ROWS == report.rows_loaded + len(report.rejected)
    assert len(gdf) == report.rows_loaded
    assert len(report.files) == BUNDLED_MONTHS
    assert gdf.crs.to_epsg() == 27700
    # St Albans lies around E 515,000 N 207,000
    assert gdf["x"].between(505_000, 530_000).all() and gdf["y"].between(195_000, 220_000).all()
    assert set(gdf["category"]) <= police.CRIME_TYPES
    assert gdf["month"].min().strftime("%Y-%m") == "2018-10" and gdf["month"].max().strftime("%Y-%m") == "2025-06"


def test_county_rows_read_equal_loaded_plus_rejected_and_no_location_kept(county_police):
    gdf, report = police.read(county_police)
    assert report.rows_read == 108_465
    assert report.rows_loaded + len(report.rejected) == report.rows_read
    no_loc = gdf["x"].isna()
    assert report.no_location == int(no_loc.sum()) > 0
    assert gdf.loc[no_loc, "geometry"].isna().all()
    raw = sum(
        1
        for p in county_police.rglob("*-street.csv")
        for row in csv.DictReader(p.open())
        if row["Longitude"] == "" and row["Latitude"] == ""
    )
    assert raw == report.no_location


def test_projection_matches_geopandas(county_police):
    import geopandas

    gdf, _ = police.read(county_police / "2021-01")
    located = gdf[gdf["x"].notna()]
    ref = geopandas.GeoSeries(geopandas.points_from_xy(located["longitude"], located["latitude"]), crs=4326).to_crs(
        27700
    )
    assert np.allclose(ref.x, located["x"], atol=1e-6) and np.allclose(ref.y, located["y"], atol=1e-6)


def test_asb_rows_get_stable_distinct_ids(tmp_path):
    text = "\n".join([HEADER, ASB, ASB, ROW]) + "\n"
    first, _ = police.read(_csv(tmp_path, text))
    again, _ = police.read(_csv(tmp_path, "\n".join([HEADER, ROW, ASB, ASB]) + "\n", "b-street.csv"))
    ids = sorted(first.loc[first.category == "Anti-social behaviour", "record_id"])
    assert len(set(ids)) == 2 and all(i.startswith("anon-") for i in ids)
    assert ids == sorted(again.loc[again.category == "Anti-social behaviour", "record_id"])


def test_canonical_fields(tmp_path):
    gdf, report = police.read(_csv(tmp_path, f"{HEADER}\n{ROW}\n"))
    row = gdf.iloc[0]
    assert (row.source, row.dataset, row.record_id, row.category) == (
        "police.uk",
        "hertfordshire",
        "abc123",
        "Burglary",
    )
    assert row.month.strftime("%Y-%m-%d") == "2021-03-01"
    assert row.location_text == "High Street"
    assert row.source_lsoa_code == "E01023700" and row.outcome == "Under investigation"


@pytest.mark.parametrize(
    "bad_row, field, reason",
    [
        (ROW.replace("2021-03", "March 2021"), "Month", "unparseable month"),
        (ROW.replace("Burglary", "Fraud"), "Crime type", "unknown crime type 'Fraud'"),
        (ROW.replace("-0.336,51.752", "-30.0,51.752"), "Longitude/Latitude", "outside Great Britain"),
        (ROW.replace("-0.336,51.752", "abc,51.752"), "Longitude/Latitude", "unparseable coordinates"),
        (ROW.replace("-0.336,51.752", "-0.336,"), "Longitude/Latitude", "unparseable coordinates"),
        (ROW.replace("Hertfordshire Constabulary,Hertfordshire Constabulary", "Herts,"), "Falls within", "no force"),
        (ROW + ",extra", "(row)", "13 fields"),
        (ROW[:40], "(row)", "fields, the header has 12"),
    ],
)
def test_bad_rows_rejected_with_line_field_reason(tmp_path, bad_row, field, reason):
    path = _csv(tmp_path, "\n".join([HEADER, ROW, bad_row, ROW]) + "\n")
    gdf, report = police.read(path)
    assert report.rows_read == 3 and report.rows_loaded == 2 and len(gdf) == 2
    (rej,) = report.rejected
    assert (rej.file, rej.line, rej.field) == (str(path), 3, field)
    assert reason in rej.reason


def test_no_location_rows_are_kept(tmp_path):
    row = ROW.replace("-0.336,51.752,On or near High Street", ",,No Location")
    gdf, report = police.read(_csv(tmp_path, f"{HEADER}\n{row}\n"))
    assert report.no_location == 1 and len(gdf) == 1 and gdf.geometry.isna().all()
    assert gdf.location_text.isna().all()


def test_bom_and_crlf_are_read(tmp_path):
    gdf, report = police.read(_csv(tmp_path, b"\xef\xbb\xbf" + f"{HEADER}\r\n{ROW}\r\n{ROW}\r\n".encode()))
    assert report.rows_loaded == 2 and gdf.iloc[0].record_id == "abc123"


def test_latin1_bytes_reject_the_row_and_name_the_field(tmp_path):
    bad = ROW.replace("High Street", "Caf\xe9 Street").encode("latin-1")
    path = _csv(tmp_path, f"{HEADER}\n{ROW}\n".encode() + bad + b"\n")
    gdf, report = police.read(path)
    assert report.rows_loaded == 1
    (rej,) = report.rejected
    assert (rej.line, rej.field) == (3, "Location") and "UTF-8" in rej.reason


def test_quoted_fields_and_blank_lines_keep_true_line_numbers(tmp_path):
    quoted = ROW.replace("On or near High Street", '"On or near High Street, North"')
    path = _csv(tmp_path, "\n".join([HEADER, quoted, "", ROW.replace("Burglary", "Nope"), quoted]) + "\n")
    gdf, report = police.read(path)
    assert report.rows_read == 3 and report.rows_loaded == 2
    assert gdf.iloc[0].location_text == "High Street, North"
    assert [(r.line, r.field) for r in report.rejected] == [(4, "Crime type")]


def test_truncated_file_rejects_the_cut_row(tmp_path):
    data = BUNDLED_POLICE.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        month = z.read(sorted(z.namelist())[0])
    cut = month[: len(month) // 2]
    gdf, report = police.read(_csv(tmp_path, cut))
    assert report.rows_read == report.rows_loaded + len(report.rejected)
    assert len(report.rejected) <= 1 and report.rows_loaded > 100


def test_unterminated_quote_is_reported_not_crashed(tmp_path):
    path = _csv(tmp_path, f"{HEADER}\n{ROW}\n{ROW.replace('On or near', chr(34) + 'On or near')}")
    gdf, report = police.read(path)
    assert report.rows_read == report.rows_loaded + len(report.rejected) == 2
    assert report.rejected[0].line == 3


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "file is empty"),
        (b"   \n\n", "file is empty"),
        (b"name,age\nBob,4\n", "not a data.police.uk street-level crime file"),
        (("Crime ID,Month,Month" + HEADER[14:] + "\n").encode(), "header names a column twice"),
    ],
)
def test_unusable_files_raise_one_clear_error(tmp_path, content, message):
    path = _csv(tmp_path, content)
    with pytest.raises(LoadError) as err:
        police.read(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_zip_with_parent_paths_is_refused(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("../../etc/2021-01-x-street.csv", f"{HEADER}\n{ROW}\n")
    with pytest.raises(LoadError, match="unsafe path"):
        police.read(path)


def test_folder_of_months_and_single_file_agree(tmp_path):
    with zipfile.ZipFile(BUNDLED_POLICE) as z:
        z.extractall(tmp_path)
    from_folder, r1 = police.read(tmp_path)
    from_zip, r2 = police.read(BUNDLED_POLICE)
    assert r1.rows_loaded == r2.rows_loaded == BUNDLED_ROWS
    assert from_folder["record_id"].tolist() == from_zip["record_id"].tolist()
    one, r3 = police.read(tmp_path / "2021-05" / "2021-05-hertfordshire-street.csv")
    assert r3.rows_loaded == int((from_zip["month"].dt.strftime("%Y-%m") == "2021-05").sum())


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        police.read(tmp_path / "nope.csv")
    with pytest.raises(LoadError, match="no \\*-street.csv"):
        police.read(tmp_path)
