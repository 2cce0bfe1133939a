"""Leaflet maps described as data: no text from data ever reaches a template engine.

A map is a plain JSON-able dict (a *map spec*): its bounds, optional tiles, its layers (areas
coloured by class, outlines with name labels, merged class shapes, clustered point markers), a
legend and the layer switch. The map component (``dashboard/render/mapview/index.html``) draws it with
Leaflet, setting every name, label and tooltip with ``textContent`` (never as HTML). Why not
folium: folium and branca render each element's output and wrap it in a new Jinja template that
is rendered again, so ``{{ ... }}`` inside a ward name or a police.uk location was evaluated on the
server (issue 18: a ward named ``{{7*7}}`` showed 49; a crafted name created a folder). Here no
string from data or config is ever compiled: it travels as a JSON value and is drawn as text.

* Every JavaScript and CSS file is served by the app itself (Streamlit static serving of
  ``dashboard/static``), so no request leaves the machine. Base tiles only when the config names
  a tile server (``[map] tiles``); without them the ward outlines and labels are the base map.
* Gi* and density cells are drawn as one merged shape per class, never thousands of styled
  features (40k cells: 14 s to paint per feature, 0.9 s as merged class shapes; shared/reference).
  Ward outlines are simplified to 20 m. Snap points go into a marker cluster, at most 2,000.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from dashboard.basemap import STREETS_URL
from dashboard.basemap import URL as BASEMAP_URL
from dashboard.render.staticmap import pole
from geodata import places
from geodata.basemap import ATTRIBUTION as OSM
from geodata.classes import classify

#: Closest zoom (Leaflet's level 19: a street at about 0.3 m per pixel).
MAX_ZOOM = 19


@functools.cache
def _to_wgs84() -> Transformer:
    """EPSG:27700 -> WGS84 (lon, lat), made when first needed: no work at import time."""
    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """EPSG:27700 shapely geometries -> WGS84 (lon, lat)."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_to_wgs84().transform(xy[:, 0], xy[:, 1])))


def wgs84_bounds(bounds_27700) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of EPSG:27700 bounds (minx, miny, maxx, maxy)."""
    (x0, x1), (y0, y1) = _to_wgs84().transform([bounds_27700[0], bounds_27700[2]], [bounds_27700[1], bounds_27700[3]])
    return x0, y0, x1, y1


def base_map(
    bounds: tuple[float, float, float, float],
    tiles: str | None = None,
    attribution: str | None = None,
    basemap: bool = False,
    streets: bool = False,
) -> dict:
    """An empty map spec fitted to ``bounds`` (:func:`wgs84_bounds`), zooming in to
    :data:`MAX_ZOOM`, with the tile server ``tiles`` (a URL template) when one is configured, or
    with ``basemap`` the config's local PMTiles file, served by the app at
    :data:`dashboard.basemap.URL` and drawn with protomaps-leaflet; ``attribution`` is shown as text.
    Neither by default: the ward outlines and names are the base map, and nothing is requested.
    ``streets``: the config's offline OpenStreetMap roads, rail and water (``[map] streets``), served by
    the app at :data:`dashboard.basemap.STREETS_URL` and drawn under the areas by zoom (main roads from
    zoom 12, every road from 14), with "© OpenStreetMap contributors" shown."""
    x0, y0, x1, y1 = bounds
    credit = str(attribution or "map data")
    return {
        "bounds": [[y0, x0], [y1, x1]],
        "maxZoom": MAX_ZOOM,
        "tiles": {"url": str(tiles), "attribution": credit} if tiles else None,
        "basemap": {"url": BASEMAP_URL, "attribution": credit} if basemap and not tiles else None,
        "streets": {"url": STREETS_URL, "attribution": OSM} if streets and not tiles else None,
        "layers": [],
        "legend": None,
    }


def prepare(geoms: np.ndarray, simplify: float = 0.0) -> list[dict]:
    """EPSG:27700 geometries as GeoJSON geometry dicts in WGS84, simplified by ``simplify`` metres
    first, coordinates rounded to 1e-5 degrees (about 1 m). Pages cache these for fixed areas."""
    if simplify:
        geoms = shapely.simplify(geoms, simplify)
    return [json.loads(shapely.to_geojson(g)) for g in shapely.set_precision(to_wgs84(geoms), 1e-5)]


def label_points(geoms: np.ndarray) -> list[list[float]]:
    """Each EPSG:27700 geometry's pole of inaccessibility (:func:`dashboard.render.staticmap.pole`, the
    static maps' own: the point inside farthest from the edge, of the largest part), as WGS84 [lat, lon]:
    where an area's name label is drawn, or from where it is led out."""
    pts = to_wgs84(np.array([pole(g) for g in np.asarray(geoms)], dtype=object))
    return [[round(p.y, 5), round(p.x, 5)] for p in pts]


def _text(v) -> str:
    """A value as display text (numbers with thousands separators, NaN as empty)."""
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else f"{v:,.1f}"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    return "" if v is None else str(v)


def _features(geoms: list[dict], props: list[dict]) -> dict:
    """A FeatureCollection of :func:`prepare`'d geometries with their properties."""
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for g, p in zip(geoms, props)],
    }


def choropleth(
    m: dict,
    geoms: list[dict],
    table: pd.DataFrame,
    value: str,
    name: str,
    label: str,
    tooltip_fields: dict[str, str],
    show: bool = True,
    css_class: str = "area",
    id_column: str | None = None,
    labels: list[list] | None = None,
):
    """Add an area choropleth layer to map spec ``m``; returns its classes
    (:class:`geodata.classes.Classes`, whose ``legend`` the caller shows).

    ``geoms``: :func:`prepare`'d geometries, one per row of ``table``; ``value``: the column
    coloured by the one classing (:func:`geodata.classes.classify`; no value = no data); ``tooltip_fields``:
    column -> label, shown as text lines on hover; ``css_class``: the SVG paths' class (tests,
    styling). ``label`` names the measure (kept for the caller's legend). With ``id_column``, a
    click on an area returns its id to the page (:func:`dashboard.render.mapview.show`); ``labels``:
    ``[lat, lon, text]`` drawn small inside the areas (e.g. LSOA names). A layer that starts hidden
    carries its own legend (``name`` and the classes), shown while it is switched on: legends list only
    what is drawn."""
    classed = classify(pd.to_numeric(table[value], errors="coerce").to_numpy(dtype="float64"))
    props = [
        {
            "fill": fill,
            "tip": [[alias, _text(row[col])] for col, alias in tooltip_fields.items()],
            **({"id": str(row[id_column])} if id_column else {}),
        }
        for (_, row), fill in zip(table.iterrows(), classed.colour_of())
    ]
    m["layers"].append(
        {
            "kind": "areas",
            "name": str(name),
            "show": show,
            "className": css_class,
            "clickable": id_column is not None,
            "data": _features(geoms, props),
            "labels": [[a, b, str(t)] for a, b, t in labels] if labels else [],
            "labelClass": "area-label",
            **({} if show else {"legend": _legend(name, classed.legend)}),
        }
    )
    return classed


def _legend(title: str, items) -> dict:
    return {"title": str(title), "items": [[str(c), str(t)] for c, t in items]}


def outline(
    m: dict, geoms: list[dict], names, points: list[list[float]] | None = None, name: str = "Ward names and outlines"
) -> None:
    """Add unfilled outlines with each area's name as tooltip and, where ``points``
    (:func:`label_points`) are given, as a permanent label: the base map when there are no tiles.
    The map component places these names after every zoom or move so that every area in view is named
    and no two names overlap: at the point, else moved within the area, else led out with a line, the
    type shrunk (to 9 px) only when the view has no free spot left (``placeLabels``)."""
    props = [{"tip": [["Ward", str(n)]]} for n in names]
    m["layers"].append(
        {
            "kind": "outline",
            "name": str(name),
            "show": True,
            "className": "ward-outline",
            "data": _features(geoms, props),
            "labels": [[p[0], p[1], str(n)] for p, n in zip(points, names)] if points else [],
            "placeLabels": True,
        }
    )


def action_outlines(placed: list, name: str = "Actions (where the partnership acts)") -> dict:
    """A layer (for a spec's ``layers``) outlining placed actions (:func:`geodata.analysis.actions.placed`:
    (action, EPSG:27700 outline) pairs), each labelled with its id, its tooltip the action, its owner
    and its status; unfilled, over every other layer."""
    geoms = np.array([g for _, g in placed], dtype=object)
    props = [
        {"tip": [["Action", f"{a.id}: {a.what}"], ["Owner", a.owner], ["Status", a.status], ["Review", str(a.review)]]}
        for a, _ in placed
    ]
    return {
        "kind": "outline",
        "name": str(name),
        "show": True,
        "className": "action-outline",
        "data": _features(prepare(geoms, simplify=5), props),
        "labels": [[p[0], p[1], str(a.id)] for p, (a, _) in zip(label_points(geoms), placed)],
    }


def class_shapes(geoms: np.ndarray, cls: np.ndarray, values) -> dict:
    """For each class value present, its cells merged into one :func:`prepare`'d geometry (the
    slow part of a class layer: pages cache it with the analysis)."""
    return {v: prepare(np.array([shapely.union_all(geoms[cls == v])]))[0] for v in values if (cls == v).any()}


def class_layers(
    m: dict, shapes: dict, colours: dict, labels: dict, group: str, show: bool = True, outline: bool = False
) -> None:
    """Add one layer named ``group`` holding one merged shape per class in ``shapes``
    (:func:`class_shapes`), coloured from ``colours``, with the class label as tooltip; ``outline``: drawn
    as a thick outline with a light tint (hot spots over the ward colours), else filled. Hidden at first
    (``show`` False), it carries its own legend, shown while it is switched on."""
    present = [v for v in colours if v in shapes]
    if not present:
        return
    props = [{"fill": colours[v], "tip": [["", str(labels[v])]]} for v in present]
    m["layers"].append(
        {
            "kind": "classes",
            "name": str(group),
            "show": show,
            "outline": outline,
            "className": "class-shape",
            "data": _features([shapes[v] for v in present], props),
            **({} if show else {"legend": _legend(group, [(colours[v], labels[v]) for v in present])}),
        }
    )


def snap_rows(points: pd.DataFrame, limit: int = 2000) -> list[list]:
    """Marker rows ``[lat, lon, text, radius, colour]`` for snap points (x, y, count,
    location_text, artefact): at most ``limit``, the busiest."""
    top = points.nlargest(limit, "count")
    lon, lat = _to_wgs84().transform(top["x"].to_numpy(), top["y"].to_numpy())
    rows = []
    for lo, la, (_, row) in zip(lon, lat, top.iterrows()):
        text = f"{row['location_text'] or 'No name'}: {int(row['count'])} incidents"
        flagged = bool(row.get("artefact", False))
        if flagged:
            text += " (likely a snapping artefact)"
        rows.append(
            [
                round(la, 5),
                round(lo, 5),
                str(text),
                round(4 + min(10, float(np.sqrt(row["count"]))), 1),
                "#999999" if flagged else "#e66101",
            ]
        )
    return rows


def snap_clusters(
    m: dict, rows: list[list], name: str = "Incidents at snap points (clustered)", show: bool = True
) -> None:
    """Add snap point rows (:func:`snap_rows`) as clustered circle markers."""
    m["layers"].append({"kind": "cluster", "name": str(name), "show": show, "rows": rows})


def street_rows(points: pd.DataFrame, limit: int = 3000) -> list[list]:
    """Name rows ``[lat, lon, name, count]`` for police.uk map points (x, y, count, location_text),
    busiest first, named as :func:`geodata.places.bare` gives them (no "On or near "), unnamed points
    left out."""
    names = points["location_text"].map(places.bare)
    top = points.assign(name=names)[names != ""].nlargest(limit, "count")
    lon, lat = _to_wgs84().transform(top["x"].to_numpy(), top["y"].to_numpy())
    return [[round(la, 5), round(lo, 5), n, int(c)] for la, lo, n, c in zip(lat, lon, top["name"], top["count"])]


def streets(m: dict, rows: list[list], min_zoom: int = 15, name: str = "Street and place names") -> None:
    """Add street and place names (:func:`street_rows`) drawn from zoom ``min_zoom`` (default 15,
    about 5 m a pixel: a city-centre street) where they collide with no busier name."""
    m["layers"].append({"kind": "streets", "name": str(name), "show": True, "minZoom": int(min_zoom), "rows": rows})


def zones(m: dict, numbers, geoms: np.ndarray, tips: list[list[list[str]]], name: str = "Patrol zones") -> None:
    """Add patrol zones (EPSG:27700 outlines ``geoms``, numbered ``numbers``; ``tips``: each zone's tooltip lines,
    [label, text]) filled dark red, each number placed as the ward names are (at the zone, else moved or led out
    with a line, no two overlapping: ``placeLabels``)."""
    props = [{"fill": "#b2182b", "tip": [[str(a), str(b)] for a, b in tip]} for tip in tips]
    points = label_points(geoms)
    m["layers"].append(
        {
            "kind": "areas",
            "name": str(name),
            "show": True,
            "className": "patrol-zone",
            "clickable": False,
            "data": _features(prepare(np.asarray(geoms, dtype=object)), props),
            "labels": [[p[0], p[1], f"Z{int(n)}"] for p, n in zip(points, numbers)],
            "placeLabels": True,
        }
    )


def focus(m: dict, geom, pad: float = 0.0, outline: bool = True) -> None:
    """Zoom the map's first view to EPSG:27700 geometry ``geom`` widened by ``pad`` metres (default 0), outlined
    (default: a chosen ward) or not (patrol zones, drawn themselves)."""
    x0, y0, x1, y1 = wgs84_bounds(shapely.bounds(shapely.buffer(geom, pad) if pad else geom))
    m["focus"] = [[y0, x0], [y1, x1]]
    if outline:
        m["highlight"] = prepare(np.array([geom]))[0]


def legend(m: dict, title: str, items: list[tuple[str, str]]) -> None:
    """Set the map's legend: a title and (colour, label) swatches, drawn as text."""
    m["legend"] = _legend(title, items)
