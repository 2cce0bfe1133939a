"""Files for analysts to take away: spreadsheet-safe CSV and multi-layer GeoPackages."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

#: A cell starting with one of these is run as a formula by Excel and LibreOffice (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas: a leading ``= + - @`` tab or
    carriage return gets a leading apostrophe. Numbers are left as they are."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("str", "string"):
            out[col] = out[col].map(lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v)
    return out


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
