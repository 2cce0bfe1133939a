"""Files for analysts and officers to take away: spreadsheet-safe CSV, multi-layer GeoPackages, GPX."""
from __future__ import annotations

import tempfile
from xml.sax.saxutils import escape
from pathlib import Path

import pandas as pd

#: A cell starting with one of these is run as a formula by Excel and LibreOffice (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(v):
    return f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cannot run as a spreadsheet formula: a text cell, column name or index label
    starting with ``= + - @``, a tab or a carriage return gets a leading apostrophe. Numbers are left
    as they are."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("str", "string"):
            out[col] = out[col].map(_safe)
    out.columns = out.columns.map(_safe) if out.columns.nlevels == 1 else out.columns
    out.index = out.index.map(_safe) if out.index.nlevels == 1 else out.index.map(lambda t: tuple(map(_safe, t)))
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index, "\\n" line ends) after :func:`csv_safe`: the one way a CSV leaves
    the app (downloads and the command line)."""
    return csv_safe(frame).to_csv(index=False, lineterminator="\n")


def geopackage_bytes(layers: dict) -> bytes:
    """A GeoPackage (opens in QGIS) holding each non-empty GeoDataFrame of ``layers`` as a named layer."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.gpkg"
        for name, frame in layers.items():
            if len(frame):
                frame.to_file(path, layer=name, driver="GPKG")
        if not path.exists():
            raise ValueError("nothing to export: every layer is empty")
        return path.read_bytes()


def gpx_bytes(zones, name: str = "CSP Hotspots patrol zones") -> bytes:
    """GPX 1.1 (phones, car terminals) of polygon ``zones`` (a GeoDataFrame with ``zone``,
    ``incidents`` and ``streets``): each zone's outline as a track and its centre as a waypoint.
    Coordinates WGS84 to 6 decimals (about 0.1 m)."""
    wgs = zones.to_crs(4326)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<gpx version="1.1" creator="CSP Hotspots" xmlns="http://www.topografix.com/GPX/1/1">',
           f"<metadata><name>{escape(name)}</name></metadata>"]
    for _, z in wgs.iterrows():
        centre = z.geometry.representative_point()
        streets = ", ".join(s for s, _ in z["streets"][:3])
        out.append(f'<wpt lat="{centre.y:.6f}" lon="{centre.x:.6f}"><name>Zone {int(z["zone"])}</name>'
                   f"<desc>{escape(f'{int(z.incidents)} incidents; {streets}')}</desc></wpt>")
    for _, z in wgs.iterrows():
        out.append(f"<trk><name>Zone {int(z['zone'])}</name>")
        for ring in [p.exterior for p in getattr(z.geometry, "geoms", [z.geometry])]:
            pts = "".join(f'<trkpt lat="{y:.6f}" lon="{x:.6f}"/>' for x, y in ring.coords)
            out.append(f"<trkseg>{pts}</trkseg>")
        out.append("</trk>")
    out.append("</gpx>")
    return "\n".join(out).encode("utf-8")
