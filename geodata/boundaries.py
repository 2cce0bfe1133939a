"""Boundary layers (wards, LSOAs) read from GeoJSON, GeoPackage or Shapefile.

Geometries are projected to British National Grid (EPSG:27700), in which all
assignment and statistics are done. Read through pyogrio's raw reader (GDAL),
so the ingest path does not import geopandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from geodata.config import BoundarySpec
from loaders.errors import InputError
from loaders.report import not_regular

CRS = "EPSG:27700"


class BoundaryError(InputError):
    """A boundary file that cannot be used; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Areas:
    """A set of areas: codes, names and polygons in EPSG:27700, sorted by code."""

    codes: np.ndarray
    names: np.ndarray
    geometries: np.ndarray

    def to_geodataframe(self):
        """The areas as a GeoDataFrame with columns ``code``, ``name``, ``geometry``."""
        import geopandas

        return geopandas.GeoDataFrame({"code": self.codes, "name": self.names}, geometry=self.geometries, crs=CRS)


def read(spec: BoundarySpec) -> Areas:
    """Read a boundary layer; check fields, codes and geometries; project to EPSG:27700."""
    import pyogrio
    from pyproj import CRS as ProjCRS
    from pyproj import Transformer

    where = str(spec.file)
    if (reason := not_regular(spec.file)) and not Path(spec.file).is_dir():  # a folder: a shapefile's, a .gdb
        raise BoundaryError(f"{where}: cannot read boundary file ({reason})")  # a FIFO: GDAL waited for ever
    try:
        meta, _, wkb, fields = pyogrio.raw.read(spec.file, layer=spec.layer)
    except Exception as exc:  # noqa: BLE001  GDAL raises several types; all mean "cannot read this file"
        raise BoundaryError(f"{where}: cannot read boundary file ({exc})") from None
    names = list(meta["fields"])
    for key in ("code_field", "name_field"):
        if getattr(spec, key) not in names:
            raise BoundaryError(
                f"{where}: field {getattr(spec, key)!r} ({key}) not found; fields are {', '.join(names)}"
            )
    codes = np.asarray(fields[names.index(spec.code_field)]).astype(object)
    labels = np.asarray(fields[names.index(spec.name_field)]).astype(object)
    geoms = shapely.from_wkb(wkb)
    for i, (code, geom) in enumerate(zip(codes, geoms)):
        if code is None or str(code).strip() == "":
            raise BoundaryError(f"{where}: feature {i + 1} has an empty {spec.code_field}")
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise BoundaryError(f"{where}: feature {i + 1} ({code}) has no polygon geometry")
    codes = codes.astype(str)
    dup = sorted({c for c in codes if (codes == c).sum() > 1})
    if dup:
        raise BoundaryError(f"{where}: codes appear more than once: {', '.join(dup[:5])}")
    if not meta["crs"]:
        raise BoundaryError(f"{where}: the file declares no coordinate reference system")
    source = ProjCRS.from_user_input(meta["crs"])
    if not source.equals(ProjCRS.from_epsg(27700)):
        transformer = Transformer.from_crs(source, CRS, always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    if not (np.isfinite([x0, y0, x1, y1]).all() and 0 <= x0 and x1 <= 700_000 and 0 <= y0 and y1 <= 1_300_000):
        raise BoundaryError(
            f"{where}: the coordinates do not lie in Great Britain in the declared CRS "
            f"({meta['crs']}); is the file's CRS wrong?"
        )
    geoms = shapely.make_valid(geoms)
    order = np.argsort(codes, kind="stable")
    return Areas(codes[order], labels[order].astype(str), geoms[order])
