"""Files for analysts and officers to take away: spreadsheet-safe CSV, multi-layer GeoPackages, GPX."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from loaders.report import FORMULA_STARTS


def _safe(v):
    return f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cannot run as a spreadsheet formula: a text cell, column name or index label
    starting with ``= + - @``, a tab or a carriage return gets a leading apostrophe. Numbers are left
    as they are.

    >>> csv_safe(pd.DataFrame({"=name": ["=1+1", "-2", "ok"], "n": [-1, 2, 3]})).to_dict("list")
    {"'=name": ["'=1+1", "'-2", 'ok'], 'n': [-1, 2, 3]}
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(_safe)
        elif str(out[col].dtype) in ("str", "string"):  # one vectorised test, not a Python call per cell
            risky = out[col].str.startswith(FORMULA_STARTS, na=False).to_numpy(dtype=bool)
            if risky.any():
                out[col] = out[col].where(~risky, "'" + out[col])
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


#: Characters XML 1.0 does not allow in a document (C0 controls but tab, LF, CR; surrogates; U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value) -> str:
    """``value`` as XML character data: characters XML 1.0 forbids removed, ``& < > "`` escaped."""
    return escape(_NOT_XML.sub("", str(value)), {'"': "&quot;"})


#: Waypoints a zone gets in the GPX at most (its busiest streets and places): a phone's list stays short.
WAYPOINTS_PER_ZONE = 10


def patrol_gpx(
    zones, name: str = "CSP Hotspots patrol zones", desc: str = "", per_zone: int = WAYPOINTS_PER_ZONE
) -> bytes:
    """GPX 1.1 of patrol ``zones`` (:func:`geodata.methods.zones.patrol_zones`, EPSG:27700) for phones and
    car terminals: per zone, its ``per_zone`` (default :data:`WAYPOINTS_PER_ZONE`, 10) busiest named
    streets and place labels as waypoints (most incidents first; ties: streets first, then by name),
    each named from its zone ("Z1 High Street"; a place "Z1 Supermarket near High Street", the flag in
    ``cmt``) at its busiest map point in the zone, ``type`` "street" or "place"; then each zone's
    outline as a track ("Z1 outline", one segment per ring). ``desc`` goes in the metadata (say there
    that police.uk gives no day or time). WGS84 to 6 decimals (about 0.1 m); text from the data is
    escaped and stripped of characters XML does not allow."""
    from loaders.coords import bng_to_wgs84_many

    def point(x, y):
        lon, lat = bng_to_wgs84_many(np.array([x]), np.array([y]))
        return f'lat="{lat[0]:.6f}" lon="{lon[0]:.6f}"'

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gpx version="1.1" creator="CSP Hotspots" xmlns="http://www.topografix.com/GPX/1/1">',
        f"<metadata><name>{xml_text(name)}</name>" + (f"<desc>{xml_text(desc)}</desc>" if desc else "") + "</metadata>",
    ]
    for _, z in zones.iterrows():
        zone = int(z["zone"])
        stops = [
            (-n, 0, street, x, y, f"{n} incidents on or near {street}", "", "street")
            for street, n, x, y in z["streets"]
        ]
        stops += [
            (
                -n,
                1,
                f"{label} near {near}" if near else label,
                x,
                y,
                f"{n} incidents at a police.uk {label} map point",
                flag,
                "place",
            )
            for label, n, x, y, near, _metres, flag in z["places"]
        ]
        for _, _, title, x, y, what, flag, kind in sorted(stops, key=lambda s: s[:3])[:per_zone]:
            out.append(
                f"<wpt {point(x, y)}><name>{xml_text(f'Z{zone} {title}')}</name>"
                + (f"<cmt>{xml_text(flag)}</cmt>" if flag else "")
                + f"<desc>{xml_text(f'Zone {zone}: {what}')}</desc><type>{kind}</type></wpt>"
            )
    for _, z in zones.to_crs(4326).iterrows():
        out.append(
            f"<trk><name>Z{int(z['zone'])} outline</name>"
            f"<desc>{xml_text(f'Zone {int(z.zone)}: {int(z.incidents)} incidents, {z.area_km2:.2f} km²')}</desc>"
        )
        for poly in getattr(z.geometry, "geoms", [z.geometry]):
            for ring in [poly.exterior, *poly.interiors]:
                pts = "".join(f'<trkpt lat="{y:.6f}" lon="{x:.6f}"/>' for x, y in ring.coords)
                out.append(f"<trkseg>{pts}</trkseg>")
        out.append("</trk>")
    out.append("</gpx>")
    return "\n".join(out).encode("utf-8")
