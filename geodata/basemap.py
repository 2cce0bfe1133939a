"""The district's offline base map: roads with names and classes, railways, rivers, water and built-up
areas, and place names, from OpenStreetMap (© OpenStreetMap contributors, ODbL 1.0), so maps can be read
against streets with no tile server and no network.

One gzipped JSON file per district (``geodata/bundled/st_albans/basemap/basemap.json.gz``, its
``SOURCE.md`` beside it) in EPSG:27700 whole metres. :func:`build` makes it from the OpenStreetMap
GeoJSON extract described in ``docs/another-district.md`` (roads, railways, waterways, water areas,
built-up areas, places, WGS84): only the classes the maps draw (:data:`ROAD_CLASSES`; no service
roads, paths or buildings), lines simplified by :data:`SIMPLIFY_M` (default 3 m) and clipped to the
district's box plus :data:`MARGIN_M`. :func:`load` reads it as a :class:`Basemap`.

Drawing rule (:meth:`Basemap.shapes`, used by :mod:`dashboard.render.staticmap`): by scale, as the
interactive map does by zoom: at a district scale motorways to secondary roads, rail and rivers; on a
zone map (more than :data:`STREETS_AT` output units per km) every road class, water and built-up areas,
with street names along the busiest roads left to the map's own labels.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from geodata.bundled import ST_ALBANS

#: The attribution every map drawing the base map shows (ODbL 1.0 requires it).
ATTRIBUTION = "© OpenStreetMap contributors"
#: Road classes kept (OpenMapTiles ``transportation`` classes), most important first.
ROAD_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "minor", "pedestrian")
#: Lines and outlines simplified by this many metres (Douglas-Peucker), and the margin kept round the area.
SIMPLIFY_M, MARGIN_M = 3.0, 500.0
#: Output units per kilometre from which a map draws minor roads, water and built-up areas.
STREETS_AT = 60.0
BUNDLED = ST_ALBANS / "basemap" / "basemap.json.gz"
#: Road line width (output units at a zone scale) and colour by class.
_ROAD_STYLE = {
    "motorway": (3.2, "#e8a33d"),
    "trunk": (3.0, "#f2c27a"),
    "primary": (2.6, "#f6d59b"),
    "secondary": (2.2, "#f9e6b8"),
    "tertiary": (1.8, "#ffffff"),
    "minor": (1.2, "#ffffff"),
    "pedestrian": (1.0, "#f1f1f1"),
}
_FILES = {
    "roads": "roads",
    "rail": "railways",
    "waterways": "waterways",
    "water": "water_areas",
    "builtup": "builtup",
    "places": "places",
}


@dataclass(frozen=True)
class Basemap:
    """Base map layers in EPSG:27700: ``roads`` (class, name, LineString), ``rail`` and ``waterways``
    (class, name, LineString), ``water`` and ``builtup`` (class, Polygon), ``places`` (class, name, Point)."""

    roads: list
    rail: list
    waterways: list
    water: list
    builtup: list
    places: list
    attribution: str = ATTRIBUTION

    def shapes(self, view, to_out, scale: float) -> list:
        """What :func:`dashboard.render.staticmap.draw` draws of the base map in ``view`` (a box in
        EPSG:27700), transformed by ``to_out`` at ``scale`` output units per metre (module docstring)."""
        streets = scale * 1000 >= STREETS_AT
        k = min(1.0, scale * 1000 / 200)  # line widths as at a zone map, thinner when zoomed out
        out: list = []

        def polys(items, fill):
            for _, g in items:
                part = shapely.intersection(g, view)
                if part.is_empty:
                    continue
                rings = []
                for p in getattr(part, "geoms", [part]):
                    if p.geom_type == "Polygon":
                        rings += [np.asarray(to_out(r).coords)[:, :2] for r in [p.exterior, *p.interiors]]
                if rings:
                    out.append(("poly", rings, fill, None, 0, None, "", "basemap"))

        def lines(geom, colour, width, cls, dash=None):
            part = shapely.intersection(geom, view)
            for seg in getattr(part, "geoms", [part]):
                if seg.geom_type == "LineString" and not seg.is_empty:
                    out.append(("line", list(to_out(seg).coords), colour, width, dash, cls))

        if streets:
            polys(self.builtup, "#e9e4dc")
            polys(self.water, "#a9cce3")
        for cls, _name, g in self.waterways:
            if streets or cls in ("river", "canal"):
                lines(g, "#7fb2d6", 1.2 * k, "basemap")
        shown = ROAD_CLASSES if streets else ROAD_CLASSES[:4]
        for cls in reversed(shown):  # casings then fills, minor roads under major ones
            width, colour = _ROAD_STYLE[cls]
            for c, _name, g in self.roads:
                if c == cls:
                    lines(g, "#9a9a9a", (width + 1.0) * k, "basemap")
                    lines(g, colour, width * k, "road")
        for _cls, _name, g in self.rail:
            lines(g, "#555555", 1.6 * k, "basemap")
            lines(g, "#ffffff", 0.8 * k, "basemap", (3.0, 3.0))
        return out


def load(path: str | Path = BUNDLED) -> Basemap:
    """The base map in ``path`` (default the bundled district's), as :func:`build` wrote it."""
    raw = json.loads(gzip.decompress(Path(path).read_bytes()))

    def line(coords):
        return shapely.LineString(np.asarray(coords, dtype=float).reshape(-1, 2))

    def poly(rings):
        shell, *holes = (np.asarray(r, dtype=float).reshape(-1, 2) for r in rings)
        return shapely.Polygon(shell, holes)

    layers = raw["layers"]
    return Basemap(
        roads=[(c, n, line(g)) for c, n, g in layers["roads"]],
        rail=[(c, n, line(g)) for c, n, g in layers["rail"]],
        waterways=[(c, n, line(g)) for c, n, g in layers["waterways"]],
        water=[(c, poly(g)) for c, g in layers["water"]],
        builtup=[(c, poly(g)) for c, g in layers["builtup"]],
        places=[(c, n, shapely.Point(x, y)) for c, n, x, y in layers["places"]],
        attribution=raw["attribution"],
    )


def wgs84_json(path: str | Path) -> bytes:
    """The base map in ``path`` for the interactive map, gzipped JSON in WGS84 (5 decimal places, about
    1 m): ``{"attribution", "roads": [[class, name, [lat, lon, lat, lon, ...]], ...], "rail", "waterways":
    [[class, name, [...]]], "water": [[lat, lon, ...] outer rings]}`` (built-up areas and places are
    left to the static maps)."""
    from loaders.coords import bng_to_wgs84_many

    raw = json.loads(gzip.decompress(Path(path).read_bytes()))
    layers = raw["layers"]
    lines = {k: layers[k] for k in ("roads", "rail", "waterways")}
    flats = [g for k in lines for _, _, g in lines[k]] + [rings[0] for _, rings in layers["water"]]
    # every coordinate in one transform (one call per feature cost 0.4 s of a server's start; issue 23)
    xy = np.asarray([v for flat in flats for v in flat], dtype=float).reshape(-1, 2)
    lon, lat = bng_to_wgs84_many(xy[:, 0], xy[:, 1])
    out = np.round(np.column_stack([lat, lon]), 5).ravel().tolist()
    ends = np.cumsum([len(flat) for flat in flats]).tolist()
    shapes = iter([out[a:b] for a, b in zip([0, *ends], ends)])
    doc = {
        "attribution": ATTRIBUTION,
        **{k: [[c, n, next(shapes)] for c, n, _ in lines[k]] for k in lines},
        "water": [next(shapes) for _ in layers["water"]],
    }
    return gzip.compress(json.dumps(doc, separators=(",", ":")).encode("utf-8"), 6, mtime=0)


def build(source: str | Path, area_bounds: tuple[float, float, float, float], out: str | Path) -> dict[str, int]:
    """Write the base map of ``area_bounds`` (EPSG:27700 x0, y0, x1, y1) to ``out`` from the OpenStreetMap
    GeoJSON extract in the folder ``source`` (files ``*_roads_*.geojson``, ``*_railways_*``,
    ``*_waterways_*``, ``*_water_areas_*``, ``*_builtup_*``, ``*_places_*``; WGS84). Returns the features
    kept per layer. A missing file raises FileNotFoundError naming it."""
    import geopandas

    source = Path(source)
    x0, y0, x1, y1 = area_bounds
    box = shapely.box(x0 - MARGIN_M, y0 - MARGIN_M, x1 + MARGIN_M, y1 + MARGIN_M)

    def read(kind: str):
        found = sorted(source.glob(f"*_{_FILES[kind]}_*.geojson"))
        if not found:
            raise FileNotFoundError(f"{source}: no *_{_FILES[kind]}_*.geojson file for the {kind} layer")
        frame = geopandas.read_file(found[0]).to_crs("EPSG:27700")
        frame["geometry"] = shapely.intersection(frame.geometry.to_numpy(), box)
        return frame[~frame.geometry.is_empty].rename(columns={"class": "kind"})

    def coords(g) -> list[int]:
        return np.rint(np.asarray(g.coords)[:, :2]).astype(int).ravel().tolist()

    def lines(frame, keep=None) -> list:
        out = []
        for r in frame.itertuples():
            if keep is not None and r.kind not in keep:
                continue
            g = shapely.simplify(r.geometry, SIMPLIFY_M)
            name = getattr(r, "name", None)
            name = name if isinstance(name, str) else ""
            for part in getattr(g, "geoms", [g]):
                if part.geom_type == "LineString" and part.length >= SIMPLIFY_M:
                    out.append([r.kind, name, coords(part)])
        return out

    def polygons(frame, min_area: float) -> list:
        out = []
        for r in frame.itertuples():
            g = shapely.simplify(r.geometry, SIMPLIFY_M, preserve_topology=True)
            for part in getattr(g, "geoms", [g]):
                if part.geom_type == "Polygon" and part.area >= min_area:
                    out.append([r.kind, [coords(x) for x in [part.exterior, *part.interiors]]])
        return out

    places, rail = read("places"), read("rail")
    if "service" in rail:  # running lines only: no sidings or yards
        rail = rail[rail["service"].isna()]
    layers = {
        "roads": lines(read("roads"), set(ROAD_CLASSES)),
        "rail": lines(rail),
        "waterways": lines(read("waterways")),
        "water": polygons(read("water"), 200.0),
        "builtup": polygons(read("builtup"), 2000.0),
        "places": [[r.kind, r.name, round(r.geometry.x), round(r.geometry.y)] for r in places.itertuples()],
    }
    doc = {"attribution": ATTRIBUTION + " (ODbL 1.0)", "crs": "EPSG:27700", "layers": layers}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(gzip.compress(json.dumps(doc, separators=(",", ":")).encode("utf-8"), 9, mtime=0))
    return {k: len(v) for k, v in layers.items()}
