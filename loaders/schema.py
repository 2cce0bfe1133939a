"""The canonical incident schema: the columns every source is mapped onto.

Every loader returns a table with exactly the columns of :data:`COLUMNS`, in
that order, with these dtypes; the store keeps them unchanged, and the
dashboard and the hotspot engine read nothing else. Coordinates are British
National Grid (EPSG:27700) metres; the GeoDataFrame form adds a point
``geometry`` column in that CRS (``None`` where the source gives no location).

Source-specific attributes are nullable columns of the same table (listed in
:data:`COLUMNS` with the source that fills them); a source that does not know
one leaves it null.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

#: Coordinate reference system of ``x``, ``y`` and ``geometry``.
CRS = "EPSG:27700"


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, pandas dtype, SQL type and meaning."""

    name: str
    type: pa.DataType
    sql: str
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column("source", pa.string(), "VARCHAR NOT NULL", "Where the record came from, e.g. 'police.uk'."),
    Column(
        "dataset",
        pa.string(),
        "VARCHAR NOT NULL",
        "The publisher's unit that is republished whole: for police.uk the force slug "
        "('hertfordshire'). Ingest replaces a (source, dataset, month) as a whole.",
    ),
    Column(
        "record_id",
        pa.string(),
        "VARCHAR NOT NULL",
        "The source's id (police.uk 'Crime ID'); for rows without one (police.uk anti-social "
        "behaviour) a stable id derived from the row's content, see loaders.police.",
    ),
    Column("month", pa.date32(), "DATE NOT NULL", "First day of the month the incident is recorded in."),
    Column("date", pa.date32(), "DATE", "Day of the incident when the source publishes it (police.uk does not: null)."),
    Column(
        "category",
        pa.string(),
        "VARCHAR NOT NULL",
        "Top-level category (police.uk 'Crime type', e.g. 'Vehicle crime').",
    ),
    Column("subcategory", pa.string(), "VARCHAR", "Finer category when the source has one (police.uk: null)."),
    Column(
        "location_text",
        pa.string(),
        "VARCHAR",
        "Street or place name (police.uk 'Location' without its 'On or near ' prefix); null for 'No Location'.",
    ),
    Column("outcome", pa.string(), "VARCHAR", "Latest outcome when published (police.uk 'Last outcome category')."),
    Column(
        "lsoa_code",
        pa.string(),
        "VARCHAR",
        "LSOA of the configured area containing the point (point-in-polygon); null when the "
        "point is outside the area or has no location.",
    ),
    Column(
        "ward_code",
        pa.string(),
        "VARCHAR",
        "Ward of the configured area containing the point (point-in-polygon, one ward per "
        "point, see geodata.assign); null when outside the area or without location.",
    ),
    Column("x", pa.float64(), "DOUBLE", "Easting, EPSG:27700 metres; null without location."),
    Column("y", pa.float64(), "DOUBLE", "Northing, EPSG:27700 metres; null without location."),
    Column("longitude", pa.float64(), "DOUBLE", "WGS84 longitude as published (police.uk: snapped)."),
    Column("latitude", pa.float64(), "DOUBLE", "WGS84 latitude as published (police.uk: snapped)."),
    Column("reported_by", pa.string(), "VARCHAR", "police.uk 'Reported by' (force)."),
    Column("falls_within", pa.string(), "VARCHAR", "police.uk 'Falls within' (force area)."),
    Column(
        "source_lsoa_code",
        pa.string(),
        "VARCHAR",
        "LSOA code as published by the source (police.uk assigns it before snapping).",
    ),
    Column("source_lsoa_name", pa.string(), "VARCHAR", "LSOA name as published by the source."),
    Column("context", pa.string(), "VARCHAR", "police.uk 'Context' free text (almost always empty)."),
    Column(
        "size_band",
        pa.string(),
        "VARCHAR",
        "Fly-tipping: DEFRA Flycapture size band ('Single black bag' .. 'Significant / multiple loads'), "
        "see loaders.council.SIZE_BANDS.",
    ),
    Column("land_type", pa.string(), "VARCHAR", "Fly-tipping: DEFRA Flycapture land type (e.g. 'Highway')."),
    Column(
        "cost_gbp",
        pa.float64(),
        "DOUBLE",
        "Fly-tipping: estimated clearance cost in pounds from DEFRA's unit cost of the size band "
        "(null where DEFRA costs the band at actual cost).",
    ),
    Column(
        "flags",
        pa.string(),
        "VARCHAR",
        "Council incidents: the record's flags (e.g. 'mental-health;youth'), sorted, ';'-joined.",
    ),
    Column(
        "sensitive",
        pa.bool_(),
        "BOOLEAN",
        "Council incidents: the record is marked sensitive; shown only aggregated to wards.",
    ),
    Column(
        "synthetic",
        pa.bool_(),
        "BOOLEAN",
        "True for generated (synthetic) records, which are never real incidents; every figure that "
        "counts one is marked synthetic.",
    ),
)

NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)

#: The Arrow schema of a canonical table (nullable where the SQL type allows NULL).
ARROW_SCHEMA = pa.schema([pa.field(c.name, c.type, nullable="NOT NULL" not in c.sql) for c in COLUMNS])


def conform(columns: dict, num_rows: int) -> pa.Table:
    """Build a canonical Arrow table from ``columns`` (name -> array-like).

    Columns not given are filled with nulls; a missing required column
    (``NOT NULL`` in :data:`COLUMNS`) or a null in one raises ``ValueError``.
    """
    arrays = []
    for col in COLUMNS:
        if col.name in columns:
            values = columns[col.name]
            if isinstance(values, np.ndarray) and values.dtype.kind == "f":
                arr = pa.array(values, col.type, from_pandas=True)  # NaN -> null
            else:
                arr = (
                    pa.array(values, col.type)
                    if not isinstance(values, (pa.Array, pa.ChunkedArray))
                    else values.cast(col.type)
                )
        elif "NOT NULL" in col.sql:
            raise ValueError(f"canonical column {col.name!r} is missing")
        else:
            arr = pa.nulls(num_rows, col.type)
        if "NOT NULL" in col.sql and arr.null_count:
            raise ValueError(f"canonical column {col.name!r} has {arr.null_count} null value(s)")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)


def empty_table() -> pa.Table:
    """An empty canonical table."""
    return ARROW_SCHEMA.empty_table()


def to_geodataframe(table: pa.Table):
    """Return a canonical table as a GeoDataFrame with point geometry in EPSG:27700.

    Rows without a location get a missing (``None``) geometry, never POINT EMPTY.
    """
    import geopandas
    import shapely

    frame = table.to_pandas(date_as_object=False)
    x, y = frame["x"].to_numpy(dtype="float64"), frame["y"].to_numpy(dtype="float64")
    points = shapely.points(x, y)
    points[np.isnan(x) | np.isnan(y)] = None
    return geopandas.GeoDataFrame(frame, geometry=points, crs=CRS)
