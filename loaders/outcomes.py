"""data.police.uk outcomes files -> canonical outcome rows.

A data.police.uk download holds, for each month, the street-level crimes
(:mod:`loaders.police`), the **outcomes** recorded that month
(``YYYY-MM/YYYY-MM-<force>-outcomes.csv``) and, if ticked, stop and search
records, side by side. An outcome row says that a crime (by its ``Crime ID``,
the street files' id, possibly of an earlier month) reached ``Outcome type`` in
``Month``. Files are found as :func:`loaders.police.list_files` finds street
files (a CSV, a folder searched recursively, or a zip read in memory).

Row rules (each rejected row is reported with file, line, field and reason):

* ``Crime ID`` must be present (an outcome without one cannot be linked to a crime);
* ``Month`` must be ``YYYY-MM`` within police.uk's plausible months (:func:`loaders.police.month_checks`:
  from 2010-12 to the latest month data.police.uk can have published); ``Outcome type`` and
  ``Falls within`` must be present;
* ``Longitude``/``Latitude``: both empty is kept with no location (counted in
  ``LoadReport.no_location``); otherwise both numbers inside Great Britain;
* a line with more or fewer fields than the header, or bytes that are not UTF-8, is rejected.

Outcome types are not checked against a list: police.uk adds new ones; how each
is grouped is :mod:`geodata.methods.outcomes`. The canonical columns are
:data:`COLUMNS`; the store keeps them in its ``outcomes`` table, and a crime's
latest outcome is the one of the latest month (``Store.latest_outcomes``).

Reference: data.police.uk/about ("Outcomes" files).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders import police
from loaders.coords import wgs84_to_bng
from loaders.report import LoadReport, Rejection
from loaders.schema import Column

SOURCE = "police.uk"
#: The kind of file, as the store's load history names it.
KIND = "police.uk outcomes"

#: The columns of an outcomes file, verbatim, in the published order.
HEADER = (*police.LOCATED, "Outcome type")

#: The canonical outcome columns (the store's ``outcomes`` table, plus its ``load_id``).
COLUMNS: tuple[Column, ...] = (
    Column("source", pa.string(), "VARCHAR NOT NULL", "'police.uk'."),
    Column("dataset", pa.string(), "VARCHAR NOT NULL", "Force slug ('hertfordshire'), as for incidents."),
    Column("record_id", pa.string(), "VARCHAR NOT NULL", "The crime's 'Crime ID' (the incidents' record_id)."),
    Column("month", pa.date32(), "DATE NOT NULL", "First day of the month the outcome was recorded in."),
    Column("outcome", pa.string(), "VARCHAR NOT NULL", "'Outcome type' as published."),
    Column("location_text", pa.string(), "VARCHAR", "'Location' without 'On or near '; null for 'No location'."),
    Column("longitude", pa.float64(), "DOUBLE", "WGS84 longitude as published (snapped)."),
    Column("latitude", pa.float64(), "DOUBLE", "WGS84 latitude as published (snapped)."),
    Column("x", pa.float64(), "DOUBLE", "Easting, EPSG:27700 metres; null without location."),
    Column("y", pa.float64(), "DOUBLE", "Northing, EPSG:27700 metres; null without location."),
    Column("source_lsoa_code", pa.string(), "VARCHAR", "LSOA code as published."),
    Column("source_lsoa_name", pa.string(), "VARCHAR", "LSOA name as published."),
    Column("reported_by", pa.string(), "VARCHAR", "'Reported by' (force)."),
    Column("falls_within", pa.string(), "VARCHAR NOT NULL", "'Falls within' (force area)."),
    Column("file", pa.string(), "VARCHAR NOT NULL", "The file the row came from."),
    Column("line", pa.int64(), "BIGINT NOT NULL", "Its 1-based line in that file."),
)
NAMES = tuple(c.name for c in COLUMNS)
ARROW_SCHEMA = pa.schema([pa.field(c.name, c.type, nullable="NOT NULL" not in c.sql) for c in COLUMNS])


def parse(name: str, data: bytes) -> tuple[pa.Table, LoadReport]:
    """Parse one outcomes CSV into canonical rows (:data:`COLUMNS`) and its report."""
    raw, rejected = police._split_rows(name, data, HEADER, "outcomes")
    report = LoadReport(KIND, files=[name], rows_read=raw.num_rows + len(rejected))
    trimmed = {
        c: pc.utf8_trim_whitespace(raw[c])
        for c in ("Crime ID", "Outcome type", "Falls within", "Longitude", "Latitude")
    }
    no_loc, lon, lat, place_checks = police.location_checks(raw)
    checks = [  # (mask of bad rows, field, reason for one row)
        (
            police._np(pc.equal(trimmed["Crime ID"], "")),
            "Crime ID",
            lambda r: "no Crime ID: the outcome cannot be linked to a crime",
        ),
        *police.month_checks(raw),
        (police._np(pc.equal(trimmed["Outcome type"], "")), "Outcome type", lambda r: "no outcome type"),
        *place_checks,
    ]
    bad = np.zeros(raw.num_rows, dtype=bool)
    for mask, field, reason in checks:
        new = mask & ~bad
        if new.any():
            for r in raw.filter(pa.array(new)).to_pylist():
                rejected.append(Rejection(name, r["_line"], field, reason(r)))
            bad |= new
    report.rejected = sorted(rejected, key=lambda r: r.line)
    if bad.any():
        keep = ~bad
        raw, lon, lat, no_loc = raw.filter(pa.array(keep)), lon[keep], lat[keep], no_loc[keep]
        trimmed = {c: v.filter(pa.array(keep)) for c, v in trimmed.items()}
    report.rows_loaded = raw.num_rows
    report.no_location = int(no_loc.sum())
    x, y = wgs84_to_bng(lon, lat)
    location = pc.utf8_trim_whitespace(raw["Location"])
    no_place = pc.or_(pc.equal(location, ""), pc.equal(pc.utf8_lower(location), "no location"))
    location = pc.if_else(
        no_place, pa.scalar(None, pa.string()), pc.replace_substring_regex(location, "^On or near ", "")
    )
    month = pc.strptime(pc.binary_join_element_wise(raw["Month"], "01", "-"), "%Y-%m-%d", "s")
    columns = {
        "source": pa.array([SOURCE] * raw.num_rows, pa.string()),
        "dataset": police._slug(raw["Falls within"]),
        "record_id": trimmed["Crime ID"],
        "month": pc.cast(month, pa.date32()),
        "outcome": trimmed["Outcome type"],
        "location_text": location,
        "longitude": pa.array(lon, pa.float64(), from_pandas=True),
        "latitude": pa.array(lat, pa.float64(), from_pandas=True),
        "x": pa.array(x, pa.float64(), from_pandas=True),
        "y": pa.array(y, pa.float64(), from_pandas=True),
        "source_lsoa_code": police._blank_to_null(raw["LSOA code"]),
        "source_lsoa_name": police._blank_to_null(raw["LSOA name"]),
        "reported_by": police._blank_to_null(raw["Reported by"]),
        "falls_within": raw["Falls within"],
        "file": pa.array([name] * raw.num_rows, pa.string()),
        "line": raw["_line"],
    }
    return pa.table({c.name: columns[c.name] for c in COLUMNS}).cast(ARROW_SCHEMA), report


def read(paths: Iterable[str | Path] | str | Path) -> tuple[pa.Table, LoadReport]:
    """Load outcomes files (a CSV, folder or zip, or a list of them) into one canonical table and a report."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    tables, report = [ARROW_SCHEMA.empty_table()], LoadReport(KIND)
    for name, data in police.iter_files(paths, police.OUTCOMES):
        table, file_report = parse(name, data)
        tables.append(table)
        report.add(file_report)
    return pa.concat_tables(tables), report
